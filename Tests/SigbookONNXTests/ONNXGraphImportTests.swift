import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData
@testable import SigbookNN
@testable import SigbookONNX
@testable import SigbookWorkbook

/// Graph models exported by `torch.onnx.export` (`scripts/make-graph-fixtures.py`): a ResNet, a
/// MobileNet block stack (depthwise convolutions, ReLU6, hard-swish), a ViT written by hand and
/// one with `nn.MultiheadAttention` (whose export moves the batch axis into the middle of its
/// values and merges it with the heads), at opsets 13 and 17; and the same kinds of network
/// written in Keras and converted by tf2onnx (`scripts/make-tf2onnx-graph-fixtures.py`: NHWC
/// inputs, layer normalisation as moments, attention's einsums as batched products whose sizes
/// are computed from the batch size, a class token tiled to the batch). Imported, each computes what
/// ONNX Runtime computed for the same input, at its output and at every node sigbook keeps.
@Suite("ONNX graph import")
struct ONNXGraphImportTests {
  static let models = [
    "resnet_op13", "resnet_op17", "mobilenet_op13", "mobilenet_op17", "vit_op13", "vit_op17",
    "vit_mha_op13", "vit_mha_op17", "keras_resnet_op13", "keras_mobilenet_op13",
    "keras_vit_op13", "keras_vit_op17",
  ]

  struct ManifestEntry: Decodable {
    let node: String
    let op: String
    let output: String
    let file: String
    let shape: [Int]
  }

  static func input(for name: String) throws -> Tensor {
    let size = name.contains("mobilenet") ? 32 : 28
    // tf2onnx's exports of Keras models take NHWC images.
    return try fixtureTensor("graphs/x\(size)\(name.hasPrefix("keras_") ? "_nhwc" : "").npy")
  }

  static func load(_ name: String) throws -> Model {
    try ONNXImporter.load(
      path: fixture("graphs/\(name).onnx"), inputShape: nil, classNames: nil)
  }

  @Test("the output equals ONNX Runtime's", arguments: models)
  func outputMatchesONNXRuntime(name: String) throws {
    let model = try Self.load(name)
    let x = try Self.input(for: name)
    let expected = try fixtureTensor("graphs/\(name)/output.npy")
    let output = model.forward(x)
    #expect(output.shape == expected.shape)
    #expect(largestRelativeError(output.scalars, expected.scalars) < 1e-4)
    // The batch is symbolic in the file: one input gives the first row.
    let one = model.forward(x.rows(0..<1))
    #expect(largestRelativeError(one.scalars, Array(expected.scalars.prefix(one.count))) < 1e-4)
    #expect(model.isGraph)
  }

  @Test("every node kept computes what ONNX Runtime computed", arguments: models)
  func nodesMatchONNXRuntime(name: String) throws {
    let path = try fixture("graphs/\(name).onnx")
    let importer = try ONNXImporter.imported(
      try ONNXImporter.read(path: path), path: path, inputShape: nil)
    let model = try Self.load(name)
    let x = try Self.input(for: name)
    let data = try Data(contentsOf: URL(fileURLWithPath: fixture("graphs/\(name)/manifest.json")))
    let manifest = try JSONDecoder().decode([ManifestEntry].self, from: data)
    var compared = 0, laidOut = 0
    for entry in manifest {
      guard let i = model.layerIndex(named: entry.node) else { continue }
      let expected = try fixtureTensor("graphs/\(name)/\(entry.file)")
      var got = model.hiddenOutputs(x, at: [i], pooling: .none)[0]
      if let layout = importer.layouts[entry.node] {
        // The node's value lies otherwise than the layer holds it ([tokens, batch · heads, d]):
        // the layer's output, its axes in the layout's order, is the node's value.
        let full = Constant(shape: [x.shape[0]] + importer.shapes[i + 1], floats: got.scalars)
        got = full.transposed(layout.order).tensor
        laidOut += 1
      }
      #expect(
        got.count == expected.count, "\(entry.node): \(got.shape) against \(entry.shape)")
      let error = largestRelativeError(got.scalars, expected.scalars)
      #expect(error < 1e-4, "\(entry.node) (\(entry.op)) differs by \(error)")
      compared += 1
    }
    // Most nodes become layers of their own name; the rest were folded or computed at import.
    #expect(compared * 2 >= manifest.count, "\(compared) of \(manifest.count) nodes compared")
    // nn.MultiheadAttention's values from its projections to its output: q, k, v, their
    // heads, the scores, the weights, the context; in tf2onnx's Keras attention, the batched
    // products' operands and results, `batch · heads` their first axis.
    let expected = name.hasPrefix("vit_mha") ? 12 : name.hasPrefix("keras_vit") ? 8 : 0
    #expect(laidOut == expected, "\(laidOut) laid-out nodes")
  }

  @Test("a graph's signatures are the ends of its residual blocks")
  func signaturesAreBlockOutputs() throws {
    let model = try Self.load("resnet_op17")
    let names = model.hiddenLayerIndices.map { model.layerNames[$0] }
    #expect(names == ["/stage1/relu2/Relu", "/stage2/relu2/Relu", "/stage3/relu2/Relu"])
  }

  @Test(
    "an imported graph saves as ONNX and reads back the same",
    arguments: [
      "resnet_op13", "vit_op17", "vit_mha_op17", "keras_resnet_op13", "keras_mobilenet_op13",
      "keras_vit_op13",
    ])
  func importedGraphRoundTrips(name: String) throws {
    let model = try Self.load(name)
    let bytes = try ONNXExporter.encode(model)
    let again = try ONNXImporter.load(
      ONNXImporter.decode(Data(bytes), path: "again.onnx"), path: "again.onnx", inputShape: nil,
      classNames: nil)
    let x = try Self.input(for: name)
    #expect(largestRelativeError(again.forward(x).scalars, model.forward(x).scalars) < 1e-5)
  }

  /// `nn.MultiheadAttention`'s export, its values `[tokens, batch · heads, d]`, becomes
  /// per-input attention: the weights of each head for one input, `[heads, tokens, tokens]`.
  @Test("nn.MultiheadAttention's heads are each input's own", arguments: [13, 17])
  func multiheadAttentionIsPerInput(opset: Int) throws {
    let model = try Self.load("vit_mha_op\(opset)")
    let softmax = try #require(model.layerIndex(named: "/blocks/blocks.0/attn/mha/Softmax"))
    let x = try Self.input(for: "vit_mha_op\(opset)")
    let weights = model.hiddenOutputs(x, at: [softmax], pooling: .none)[0]
    #expect(weights.shape == [x.shape[0], 4 * 17 * 17])
    // Each row of weights sums to one.
    let rows = weights.scalars.count / 17
    for r in stride(from: 0, to: rows, by: 97) {
      let sum = weights.scalars[r * 17..<(r + 1) * 17].reduce(0, +)
      #expect(abs(sum - 1) < 1e-5)
    }
  }

  /// In a workbook: the nodes listed by name, signatures taken at the ends of the residual
  /// blocks by default and at any node by name, pooled over the maps.
  @Test func workbooksOpenAGraphAtItsNodes() throws {
    let folder = try #require(Bundle.module.url(forResource: "Fixtures/graphs", withExtension: nil))
    let workbook = ONNXWorkbook(
      folder: folder.path,
      figures: FileManager.default.temporaryDirectory.path + "/sigbook-graphs.figures")
    try workbook.run(
      """
      net = load_onnx("resnet_op17.onnx")
      x = npy("x28.npy")
      sig = signatures(net, x)
      sig.layers
      at = signatures(net, x, at: ["/stage2/Add", "/stem/stem.2/Relu"], pool: .mean)
      at.layers
      """)
    #expect(workbook.values == ["3", "2"])
    let error = try #require(throws: WorkbookError.self) {
      try workbook.run("signatures(net, x, at: [\"/stage2/add\"])")
    }
    #expect(error.hint == "did you mean '/stage2/Add'?", "\(error)")
  }
}

/// Values whose batch axis an export moved: followed through transposes and reshapes that
/// merge it with another axis and split it off again, and refused by name where they cannot be
/// read.
@Suite("ONNX values whose batch axis moved")
struct ONNXLayoutTests {
  typealias B = ONNXModelBuilder

  /// `x` of shape [batch, 3, 4] through `nodes`, the batch symbolic.
  static func load(_ nodes: [Onnx_NodeProto], _ initializers: [Onnx_TensorProto] = [])
    throws(ONNXError) -> Model
  {
    var proto = B.model(input: [1, 3, 4], initializers: initializers, nodes: nodes, output: "y")
    proto.graph.input[0].type.tensorType.shape.dim[0].dimParam = "batch"
    return try ONNXImporter.load(proto, path: "moved.onnx", inputShape: nil, classNames: nil)
  }

  /// [batch, tokens, width] → [tokens, batch, width] → [tokens, batch · 2, 2] →
  /// [batch · 2, tokens, 2] → [batch, 2, tokens, 2]: attention's heads, split off the width.
  @Test func headsSplitOffAndBack() throws {
    let model = try Self.load(
      [
        B.node("Transpose", ["x"], "t", [B.ints("perm", [1, 0, 2])]),
        B.node("Reshape", ["t", "heads"], "h"),
        B.node("Transpose", ["h"], "u", [B.ints("perm", [1, 0, 2])]),
        B.node("Reshape", ["u", "split"], "y"),
      ],
      [B.int64s("heads", [3], [0, -1, 2]), B.int64s("split", [4], [-1, 2, 3, 2])])
    let batch = 3
    let x = Tensor(shape: [batch, 3, 4], scalars: (0..<(batch * 12)).map(Float.init))
    let y = model.forward(x)
    #expect(y.shape == [batch, 2, 3, 2])
    // y[b, h, t, d] = x[b, t, 2h + d]
    var expected: [Float] = []
    for b in 0..<batch {
      for h in 0..<2 {
        for t in 0..<3 { for d in 0..<2 { expected.append(x.scalars[b * 12 + t * 4 + 2 * h + d]) } }
      }
    }
    #expect(y.scalars == expected)
  }

  @Test func valuesThatCannotBeReadAreRefusedByName() throws {
    let transpose = B.node("Transpose", ["x"], "t", [B.ints("perm", [1, 0, 2])])
    let output = try #require(throws: ONNXError.self) {
      try Self.load([transpose, B.node("Relu", ["t"], "y")])
    }
    #expect(
      output.description.contains(
        "its output 'y' [3, batch, 4] does not have the batch as its first axis"), "\(output)")
    let reduce = try #require(throws: ONNXError.self) {
      try Self.load([transpose, B.node("ReduceMean", ["t"], "y", [B.ints("axes", [2])])])
    }
    #expect(
      reduce.description.contains(
        "node 'y' (ReduceMean): takes 't' [3, batch, 4], whose batch axis an earlier node moved from the front"
      ), "\(reduce)")
    let merged = try #require(throws: ONNXError.self) {
      try Self.load(
        [transpose, B.node("Reshape", ["t", "shape"], "y")], [B.int64s("shape", [2], [5, -1])])
    }
    #expect(
      merged.description.contains(
        "node 'y' (Reshape): reshapes [3, batch, 4] to [5, -1]; sigbook reshapes such values only by merging or splitting their axes"
      ), "\(merged)")
  }
}

/// The operators tf2onnx uses on shapes and constants when it converts Keras models: `Tile` of
/// a class token to the batch size, `ReduceProd` and `Max` of sizes that hold the batch size.
@Suite("ONNX shape operators of tf2onnx")
struct ONNXShapeOperatorTests {
  typealias B = ONNXModelBuilder

  /// The batch size as a one-value vector: `Gather(Shape(x), [0])`.
  static let batchSize = [
    B.node("Shape", ["x"], "shape"), B.node("Gather", ["shape", "first"], "batch"),
  ]
  static let first = B.int64s("first", [1], [0])

  /// A token [1, 1, 4] tiled by [batch, 1, 1] and put before each input's 3 rows.
  @Test func classTokenTiledToTheBatch() throws {
    let model = try ONNXLayoutTests.load(
      Self.batchSize + [
        B.node("Concat", ["batch", "ones"], "repeats", [B.int("axis", 0)]),
        B.node("Tile", ["token", "repeats"], "tokens"),
        B.node("Concat", ["tokens", "x"], "y", [B.int("axis", 1)]),
      ],
      [
        Self.first, B.int64s("ones", [2], [1, 1]),
        B.floats("token", [1, 1, 4], [0.5, -1, 2, 3]),
      ])
    let x = Tensor(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))
    let y = model.forward(x)
    #expect(y.shape == [2, 4, 4])
    #expect(Array(y.scalars[0..<4]) == [0.5, -1, 2, 3])
    #expect(Array(y.scalars[16..<20]) == [0.5, -1, 2, 3])
    #expect(Array(y.scalars[20..<32]) == Array(x.scalars[12..<24]))
  }

  /// [batch, 3, 4] → [ReduceProd([batch, 2]), 3, 2] → [Max(batch, 1), 3, 4]: the input back.
  @Test func sizesComputedFromTheBatch() throws {
    let model = try ONNXLayoutTests.load(
      Self.batchSize + [
        B.node("Concat", ["batch", "two"], "factors", [B.int("axis", 0)]),
        B.node("ReduceProd", ["factors"], "merged", [B.int("keepdims", 1)]),
        B.node("Concat", ["merged", "rest"], "split", [B.int("axis", 0)]),
        B.node("Transpose", ["x"], "t", [B.ints("perm", [0, 2, 1])]),
        B.node("Reshape", ["t", "split"], "h"),
        B.node("Max", ["batch", "one"], "larger"),
        B.node("Concat", ["larger", "back"], "whole", [B.int("axis", 0)]),
        B.node("Reshape", ["h", "whole"], "u"),
        B.node("Transpose", ["u"], "y", [B.ints("perm", [0, 2, 1])]),
      ],
      [
        Self.first, B.int64s("two", [1], [2]), B.int64s("rest", [2], [2, 3]),
        B.int64s("one", [1], [1]), B.int64s("back", [2], [4, 3]),
      ])
    let x = Tensor(shape: [3, 3, 4], scalars: (0..<36).map(Float.init))
    #expect(model.forward(x).scalars == x.scalars)
  }

  @Test func whatTheyCannotComputeIsRefusedByName() throws {
    let tiled = try #require(throws: ONNXError.self) {
      try ONNXLayoutTests.load(
        [B.node("Tile", ["x", "repeats"], "y")], [B.int64s("repeats", [3], [1, 2, 1])])
    }
    #expect(
      tiled.description.contains(
        "node 'y' (Tile): repeats the values of a layer's output [\"1\", \"2\", \"1\"]; sigbook tiles constants only"
      ), "\(tiled)")
    let larger = try #require(throws: ONNXError.self) {
      try ONNXLayoutTests.load(
        Self.batchSize + [
          B.node("Max", ["batch", "five"], "m"),
          B.node("Concat", ["m", "rest"], "shape2", [B.int("axis", 0)]),
          B.node("Reshape", ["x", "shape2"], "y"),
        ], [Self.first, B.int64s("five", [1], [5]), B.int64s("rest", [2], [3, 4])])
    }
    #expect(
      larger.description.contains(
        "(Max): takes the largest of batch and 5, which sigbook does not know when it imports a model"
      ), "\(larger)")
  }
}
