import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData
@testable import SigbookNN
@testable import SigbookAnalysis
@testable import SigbookWorkbook

#if canImport(Glibc)
  import Glibc
#endif

/// Input that used to crash, hang or exhaust memory: each is now refused with a message naming
/// what was expected and what was found, before anything large is read or allocated.
@Suite("Bad input") struct BadInputTests {
  // MARK: files that are not regular files, or too large

  /// A folder, a FIFO (whose `open` blocks until a writer comes), a device that never ends, and
  /// a 2 GiB sparse file (no disk used): refused by both file readers without reading.
  @Test func specialAndHugeFilesAreRefusedBeforeReading() throws {
    let folder = try TemporaryFolder()
    let fifo = folder.path("pipe")
    #expect(mkfifo(fifo, 0o600) == 0)
    let sparse = folder.path("huge.safetensors")
    #expect(FileManager.default.createFile(atPath: sparse, contents: nil))
    #expect(truncate(sparse, 2 << 30) == 0)

    let cases: [(path: String, model: String, data: String)] = [
      (
        folder.url.path, "cannot read '\(folder.url.path)': it is a folder",
        "cannot read '\(folder.url.path)': it is a folder"
      ),
      (
        fifo, "cannot read '\(fifo)': it is not a regular file (a device, a pipe or a socket)",
        "cannot read '\(fifo)': it is not a regular file (a device, a pipe or a socket)"
      ),
      (
        "/dev/zero",
        "cannot read '/dev/zero': it is not a regular file (a device, a pipe or a socket)",
        "cannot read '/dev/zero': it is not a regular file (a device, a pipe or a socket)"
      ),
      (
        sparse,
        "cannot read '\(sparse)': it is 2147483648 bytes; sigbook reads model files of at most 1073741824 bytes (1 GiB)",
        "'\(sparse)' is 2 GiB; sigbook reads files of at most 1 GiB"
      ),
    ]
    for c in cases {
      let model = try #require(throws: SafetensorsError.self) { try Model.load(from: c.path) }
      #expect(model.description == c.model)
      let data = try #require(throws: DataError.self) { try Dataset.csv(path: c.path) }
      #expect(data.description == c.data)
    }
  }

  // MARK: saved models with a corrupt architecture

  /// A safetensors file holding `tensors` and the architecture JSON `layers` for inputs `input`.
  static func modelFile(
    _ folder: TemporaryFolder, layers: String, input: String, classes: String = "",
    tensors: [(name: String, tensor: Tensor)] = []
  ) throws -> String {
    let path = folder.path("m\(UUID().uuidString).safetensors")
    let architecture =
      "{\"format\":1,\"inputShape\":\(input),\"layers\":\(layers),\"summary\":\"x\",\"task\":\"classification\"\(classes)}"
    try Safetensors.write(tensors, metadata: [Model.architectureKey: architecture], to: path)
    return path
  }

  static let corruptArchitectures: [(layers: String, input: String, message: String)] = [
    (
      "[{\"dense\":{\"inputs\":-5,\"outputs\":2}}]", "[2]",
      "layer 1 of its architecture, dense(-5, 2), needs positive sizes"
    ),
    (
      "[{\"dense\":{\"inputs\":4611686018427387904,\"outputs\":2}}]", "[4611686018427387904]",
      "its architecture has an input shape [4611686018427387904] whose sizes are not all between 1 and 2147483647"
    ),
    (
      "[{\"dense\":{\"inputs\":4,\"outputs\":4611686018427387904}}]", "[4]",
      "layer 1 of its architecture, dense(4, 4611686018427387904), has a size above 2147483647"
    ),
    // 900 million parameters announced by a file of a few hundred bytes
    (
      "[{\"dense\":{\"inputs\":30000,\"outputs\":30000}}]", "[30000]",
      "its architecture would have more than 150,000,000 parameters (900,030,000 up to layer 1, dense(30000, 30000)); sigbook builds models of at most 150,000,000"
    ),
    (
      "[{\"conv\":{\"inChannels\":1,\"outChannels\":2,\"kernel\":3,\"stride\":1,\"padding\":0}},{\"maxPool\":{\"size\":0}}]",
      "[1,8,8]",
      "layer 2 of its architecture, maxpool(0), needs a window of at least 1"
    ),
    (
      "[{\"conv\":{\"inChannels\":1,\"outChannels\":2,\"kernel\":3,\"stride\":0,\"padding\":0}}]",
      "[1,8,8]",
      "layer 1 of its architecture, conv(1, 2, kernel: 3, stride: 0), needs a stride of at least 1"
    ),
    (
      "[{\"conv\":{\"inChannels\":1,\"outChannels\":2,\"kernel\":0,\"stride\":1,\"padding\":0}}]",
      "[1,8,8]",
      "layer 1 of its architecture, conv(1, 2, kernel: 0), needs a kernel of at least 1"
    ),
    (
      "[{\"conv\":{\"inChannels\":1,\"outChannels\":2,\"kernel\":3,\"stride\":1,\"padding\":-1}}]",
      "[1,8,8]",
      "layer 1 of its architecture, conv(1, 2, kernel: 3, padding: -1), needs a padding of at least 0"
    ),
    (
      "[{\"conv\":{\"inChannels\":1,\"outChannels\":2,\"kernel\":5,\"stride\":2,\"padding\":0}}]",
      "[1,4,4]",
      "layer 1 of its architecture: conv(1, 2, kernel: 5, stride: 2) has a kernel larger than its 4×4 input (padded by 0)"
    ),
    (
      "[{\"dense\":{\"inputs\":3,\"outputs\":1}},{\"softmax\":{}}]", "[3]",
      "layer 2 of its architecture, softmax(), is a softmax over 1 value, which is always 1: the model cannot learn"
    ),
    ("[]", "[3]", "a model needs at least one layer"),
  ]

  @Test(arguments: corruptArchitectures)
  func corruptArchitecturesAreExplainedBeforeAnyLayerIsBuilt(
    _ c: (layers: String, input: String, message: String)
  ) throws {
    let folder = try TemporaryFolder()
    let path = try Self.modelFile(folder, layers: c.layers, input: c.input)
    let error = try #require(throws: ModelFileError.self) { try Model.load(from: path) }
    #expect(error.description == "'\(path)': \(c.message)")
  }

  @Test func classNamesMustMatchTheOutputs() throws {
    // One name for two outputs: `predict` used to index past the names and crash.
    let folder = try TemporaryFolder()
    let tensors = [
      ("0.weight", Tensor(shape: [2, 3], scalars: [1, 0, 0, 0, 0, 1])),
      ("0.bias", Tensor(zeros: [2])),
    ]
    let layers = "[{\"dense\":{\"inputs\":3,\"outputs\":2}},{\"softmax\":{}}]"
    let short = try Self.modelFile(
      folder, layers: layers, input: "[3]", classes: ",\"classNames\":[\"a\"]", tensors: tensors)
    let error = try #require(throws: ModelFileError.self) { try Model.load(from: short) }
    #expect(error.message == "its metadata names 1 class but the model has 2 outputs (2 classes)")
    let right = try Self.modelFile(
      folder, layers: layers, input: "[3]", classes: ",\"classNames\":[\"a\",\"b\"]",
      tensors: tensors)
    #expect(try Model.load(from: right).classNames == ["a", "b"])
  }

  @Test func outputsWithoutAClassOfTheDataHaveANameToPredict() throws {
    // Five outputs trained on two classes: an untrained output can win, and `predict` used to
    // index past the two class names.
    let output = try runSource(
      "d = synthetic(.two_gaussians, n: 20)\nnet = fit(mlp(2, 4, 5), d, epochs: 1, lr: 0.0001, seed: 3)\nprint(net.classes)\nprint(predict(net, d).count, confusion(net, d).count)"
    )
    #expect(output == ["[\"0\", \"1\", \"(output 2)\", \"(output 3)\", \"(output 4)\"]", "20 2"])
  }

  // MARK: compressed data that expands beyond what it announces or what is sane

  /// An IDX header claiming 5 million 28 × 28 images (3.9 billion pixels) followed by a few bytes:
  /// refused from the header alone, before the rest is inflated.
  @Test func idxHeadersClaimingHugeDimensionsAreRefused() throws {
    let folder = try TemporaryFolder()
    var header: [UInt8] = []
    for value: UInt32 in [0x803, 5_000_000, 28, 28] {
      header += [
        UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff),
        UInt8(value & 0xff),
      ]
    }
    let images = try folder.write(
      "x-images-idx3-ubyte.gz", Gzip.compress(header + [UInt8](repeating: 0, count: 1000)))
    let error = try #require(throws: DataError.self) { try IDXReader.readImages(images) }
    #expect(
      error.description
        == "'\(images)' announces 5,000,000 images of 28 × 28 pixels (3,920,000,000 values); sigbook reads at most 268,435,456 values"
    )
    // A file that keeps the promise of its header still reads, and bytes past it are not inflated.
    let small = try folder.write(
      "y-images-idx3-ubyte.gz",
      Gzip.compress([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 1] + [1, 2, 3, 4, 5, 6]))
    let read = try IDXReader.readImages(small)
    #expect(read.count == 2 && read.rows == 2 && read.columns == 1 && read.pixels == [1, 2, 3, 4])
  }

  /// Three concatenated gzip members of 1 MiB each: inflation stops at the limit.
  @Test func inflationStopsAtTheLimit() throws {
    let folder = try TemporaryFolder()
    let member = try Gzip.compress([UInt8](repeating: 48, count: 1 << 20))
    let path = try folder.write("bomb.csv.gz", member + member + member)
    let error = try #require(throws: DataError.self) { try Gzip.readFile(path, limit: 2 << 20) }
    #expect(
      error.description
        == "'\(path)' decompresses to more than 2 MiB; sigbook reads files of at most 2 MiB once decompressed"
    )
    #expect(try Gzip.readFile(path, limit: 3 << 20).count == 3 << 20)
    #expect(
      try Gzip.readFile(path, limit: 1000, prefix: true) == [UInt8](repeating: 48, count: 1000))
  }

  /// One row of 100,000 columns and a million blank lines: the blank lines used to be counted
  /// as rows when reserving room (400 GB).
  @Test func blankLinesReserveNothing() throws {
    let folder = try TemporaryFolder()
    let row = Array(repeating: "1", count: 100_000).joined(separator: ",") + "\n"
    let text = Array((row + String(repeating: "\n", count: 1_000_000)).utf8)
    let path = try folder.write("wide.csv.gz", Gzip.compress(text))
    let d = try Dataset.csv(path: path)
    #expect(d.count == 1 && d.featureCount == 99_999)
  }

  @Test func csvValuesBeyondFloatAreRefusedWithTheirPlace() throws {
    let folder = try TemporaryFolder()
    let path = try folder.write("big.csv", text: "a,b,label\n1,2,0\n3,1e39,1\n")
    let error = try #require(throws: DataError.self) { try Dataset.csv(path: path) }
    #expect(
      error.description
        == "'\(path)' line 3, column 2 ('b'): 1e39 is too large for a 32-bit float (at most ±3.4e38)"
    )
  }

  // MARK: builders and data sets of absurd sizes

  static let absurdSizes: [(source: String, message: String, hint: String?)] = [
    (
      "mlp(784, 100000, 100000, 10)",
      "mlp(784, 100000, 100000, 10) would have more than 150,000,000 parameters (10,078,600,000 up to layer 3, dense(100000, 100000)); sigbook builds models of at most 150,000,000",
      "use fewer or narrower layers"
    ),
    (
      "cnn(conv: [100000, 100000])",
      "layer 1 of cnn(input: [1, 28, 28], conv: [100000, 100000], kernel: 3, pool: 2, dense: [64], classes: 10), conv(1, 100000, kernel: 3, padding: 1), outputs [100000, 28, 28] per input, more than 10,000,000 values",
      "use fewer channels or units, or pool earlier"
    ),
    (
      "cnn(kernel: 1000000)", "cnn's kernel of 1000000 is larger than its 28 × 28 input images",
      "a kernel is at most the images' size; 3 or 5 is usual"
    ),
    (
      "sequential(dense(784, 1000000000), relu(), dense(1000000000, 2))",
      "layer 1 of sequential(dense(784, 1000000000), relu(), dense(1000000000, 2)), dense(784, 1000000000), outputs [1000000000] per input, more than 10,000,000 values",
      "use fewer channels or units, or pool earlier"
    ),
    // the encoder fits, the mirrored decoder does not
    (
      "autoencoder(784, 100000, 10)",
      "autoencoder(784, 100000, 10) would have more than 150,000,000 parameters (159,000,794 up to layer 6, dense(100000, 784)); sigbook builds models of at most 150,000,000",
      "use fewer or narrower layers"
    ),
    (
      "synthetic(.two_gaussians, n: 1000000000)",
      "synthetic data of 1,000,000,000 points would hold 2,000,000,000 values; a dataset holds at most 268,435,456, so n ≤ 134,217,728",
      nil
    ),
    (
      "mlp(2, 4, 1)",
      "layer 4 of mlp(2, 4, 1), softmax(), is a softmax over 1 value, which is always 1: the model cannot learn",
      "for two classes use 2 outputs, or 1 output with a sigmoid (mlp's output: .sigmoid) and loss: .bce"
    ),
    (
      "fit(mlp(2, 4, 2), synthetic(.two_gaussians, n: 10)[0..<0])",
      "the training data has no inputs: there is nothing to train on", nil
    ),
    (
      "d = synthetic(.two_gaussians, n: 10)\nfit(mlp(2, 4, 2), d, validation: d[0..<0])",
      "the validation data has no inputs: there is nothing to measure", nil
    ),
    (
      "kmeans(synthetic(.two_gaussians, n: 50, sigma: 0), k: 3)",
      "cannot make 3 clusters of 50 points: only 2 of them are distinct", nil
    ),
  ]

  @Test(arguments: absurdSizes)
  func absurdSizesAreRefusedWithAHint(_ c: (source: String, message: String, hint: String?)) throws
  {
    let error = try errorOf(c.source)
    #expect(error.message == c.message)
    #expect(error.hint == c.hint)
  }

  @Test func aSigmoidOverOneOutputStillLearns() throws {
    let output = try runSource(
      "d = synthetic(.two_gaussians, n: 40, seed: 1)\nnet = fit(mlp(2, 4, 1, output: .sigmoid), d, loss: .bce, epochs: 20, lr: 0.5)\naccuracy(net, d) > 0.9"
    )
    #expect(output == ["true"])
  }

  // MARK: projections of degenerate data

  /// Two-dimensional data (the Krylov basis spans the whole space) and identical points used
  /// to index past the Ritz vectors.
  @Test(arguments: [
    (1, [Float](repeating: 0.5, count: 8)), (2, [Float](repeating: 1, count: 16)),
    (2, (0..<16).map { Float($0 % 2) }),
  ])
  func tsneOfLowRankDataWorks(_ c: (dims: Int, values: [Float])) throws {
    var options = TSNEOptions()
    options.iterations = 20
    let x = Tensor(shape: [c.values.count / c.dims, c.dims], scalars: c.values)
    let result = try TSNE.embed(x, options: options)
    #expect(result.embedding.shape == [x.rows, 2] && result.embedding.isFinite)
  }

  @Test func tsneOfTwoGaussiansWithoutSpreadWorks() throws {
    let output = try runSource(
      "p = tsne(synthetic(.two_gaussians, n: 40, sigma: 0), iterations: 20)\np.count")
    #expect(output == ["40"])
  }
}

@Suite("Tiny projections") struct TinyProjectionTests {
  /// pca of fewer than 21 points measured trustworthiness at k = 10 and stopped on a
  /// precondition; it now measures it with fewer neighbours, or not at all.
  @Test(arguments: [3, 5, 20])
  func pcaOfAFewPointsDoesNotCrash(n: Int) throws {
    let session = Session(
      file: "t", baseDirectory: "/tmp", figuresDirectory: "/tmp/sigbook-tiny.figures")
    let cell = try parseCell(
      "p = pca(synthetic(.two_gaussians, n: \(n), seed: 1))\nfig = scatter(p)\np.count", file: "t")
    try session.run(cell)
    #expect(session.variables["p"] != nil)
  }
}
