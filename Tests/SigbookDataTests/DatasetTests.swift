import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData

/// Where the data beside the checkout lives (`../shared/data` from the package root).
enum DataTestPaths {
  /// The package root: up from Tests/SigbookDataTests/DatasetTests.swift.
  static let packageRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url
  }()

  /// The folder of the MNIST test files, if it is there.
  static let mnistDirectory: String? = {
    let candidates = [
      packageRoot.appendingPathComponent("../shared/data/mnist").standardizedFileURL.path,
      "/work/shared/data/mnist",
    ]
    return candidates.first { FileManager.default.fileExists(atPath: $0) }
  }()

  /// Debian's Fashion-MNIST folder, if the package is installed.
  static let fashionDirectory: String? = {
    let path = "/usr/share/datasets/fashion-mnist"
    return FileManager.default.fileExists(atPath: path) ? path : nil
  }()
}

/// A small data set whose first feature is the input's index: 3 classes of 9, 6 and 5 inputs.
func indexedDataset() -> Dataset {
  let labels = (0..<20).map { $0 < 10 ? $0 % 2 * 2 : ($0 < 16 ? 1 : 0) }
  let features = Tensor(shape: [20, 2]) { out in
    for i in 0..<20 {
      out[2 * i] = Float(i)
      out[2 * i + 1] = Float(labels[i])
    }
  }
  return Dataset(name: "indexed", features: features, labels: labels, classNames: ["a", "b", "c"])
}

/// The original indices of a subset of `indexedDataset()`.
func originalIndices(_ data: Dataset) -> [Int] {
  (0..<data.count).map { Int(data.features[flat: 2 * $0]) }
}

@Suite("Dataset") struct DatasetTests {
  @Test func basicProperties() {
    let data = indexedDataset()
    #expect(data.count == 20)
    #expect(data.featureShape == [2] && data.featureCount == 2)
    #expect(data.countsPerClass() == [9, 6, 5])
    #expect(data.classIndex(named: "c") == 2 && data.classIndex(named: "z") == nil)
    #expect(data.description == "indexed: 20 inputs of [2]; a: 9, b: 6, c: 5")
  }

  @Test func rowsKeepClasses() {
    let data = indexedDataset()
    #expect(originalIndices(data.rows(at: [5, 1, 5])) == [5, 1, 5])
    #expect(originalIndices(data.rows(3..<6)) == [3, 4, 5])
    #expect(data.rows(3..<6).classNames == data.classNames)
  }

  @Test func subsetReindexesClassesInAscendingOrder() throws {
    let data = indexedDataset()
    let bc = try data.subset(classes: [2, 1])
    #expect(bc.classNames == ["b", "c"])
    #expect(bc.count == 11)
    #expect(originalIndices(bc) == (0..<20).filter { data.labels[$0] != 0 })
    #expect(bc.labels == originalIndices(bc).map { data.labels[$0] - 1 })
  }

  @Test func perClassSampleIsSeededAndKeepsOrder() throws {
    let data = indexedDataset()
    let a = try data.subset(perClass: 4, seed: 1)
    let b = try data.subset(perClass: 4, seed: 1)
    let c = try data.subset(perClass: 4, seed: 2)
    #expect(a == b)
    #expect(originalIndices(a) != originalIndices(c))
    #expect(a.countsPerClass() == [4, 4, 4])
    #expect(originalIndices(a) == originalIndices(a).sorted())
  }

  @Test func subsetRefusesWhatTheDataDoesNotHave() throws {
    let data = indexedDataset()
    let tooMany = try #require(throws: DataError.self) { try data.subset(perClass: 6) }
    #expect(
      tooMany.description == "asked for 6 inputs per class but class 'c' of 'indexed' has only 5")
    let noClass = try #require(throws: DataError.self) { try data.subset(classes: [3]) }
    #expect(noClass.description == "'indexed' has no class 3; its class indices are 0 to 2")
  }

  @Test func stratifiedSplitKeepsProportionsAndOrder() throws {
    let labels = (0..<1000).map { $0 % 2 }
    let data = Dataset(
      name: "halves", features: Tensor(shape: [1000, 1], scalars: (0..<1000).map(Float.init)),
      labels: labels, classNames: ["1", "7"])
    let (train, test) = try data.split(testFraction: 0.2, seed: 7)
    #expect(train.countsPerClass() == [400, 400])
    #expect(test.countsPerClass() == [100, 100])
    let trainIndices = train.features.scalars.map { Int($0) }
    let testIndices = test.features.scalars.map { Int($0) }
    #expect(trainIndices == trainIndices.sorted() && testIndices == testIndices.sorted())
    #expect(Set(trainIndices).union(testIndices) == Set(0..<1000))
    #expect(Set(trainIndices).isDisjoint(with: testIndices))
    #expect(train.name == "halves (train)" && test.name == "halves (test)")
    let again = try data.split(testFraction: 0.2, seed: 7)
    #expect(again.test == test)
    #expect(try data.split(testFraction: 0.2, seed: 8).test != test)
    let error = try #require(throws: DataError.self) { try data.split(testFraction: 1.5) }
    #expect(error.description == "the test fraction must be between 0 and 1, not 1.5")
  }

  @Test func splitRoundsEachClass() throws {
    let (train, test) = try indexedDataset().split(testFraction: 0.25, seed: 3)
    // round(0.25 · 9) = 2, round(0.25 · 6) = 2 (1.5 rounds away from zero), round(0.25 · 5) = 1
    #expect(test.countsPerClass() == [2, 2, 1])
    #expect(train.countsPerClass() == [7, 4, 4])
  }

  @Test func concatenateMergesClassesByName() throws {
    let a = Dataset(
      name: "a", features: Tensor(shape: [2, 1], scalars: [0, 1]), labels: [0, 1],
      classNames: ["1", "7"])
    let b = Dataset(
      name: "b", features: Tensor(shape: [3, 1], scalars: [2, 3, 4]), labels: [0, 1, 0],
      classNames: ["7", "3"])
    let joined = try Dataset.concatenate([a, b])
    #expect(joined.name == "a + b")
    #expect(joined.classNames == ["1", "7", "3"])
    #expect(joined.labels == [0, 1, 1, 2, 1])
    #expect(joined.features.scalars == [0, 1, 2, 3, 4])
    let c = Dataset(
      name: "c", features: Tensor(shape: [1, 2], scalars: [0, 0]), labels: [0], classNames: ["1"])
    let error = try #require(throws: DataError.self) { try Dataset.concatenate([a, c]) }
    #expect(
      error.description
        == "cannot concatenate 'a' (inputs of shape [1]) and 'c' (inputs of shape [2])")
  }

  @Test func noiseIsSeededAndNotClamped() throws {
    let data = indexedDataset()
    let a = try data.noise(sigma: 0.5, seed: 1)
    #expect(a == (try data.noise(sigma: 0.5, seed: 1)))
    #expect(a != (try data.noise(sigma: 0.5, seed: 2)))
    #expect(a.labels == data.labels && a.features.shape == data.features.shape)
    #expect(a.features.min() < 0)
    let difference = (a.features - data.features).scalars
    let sd = (difference.map { Double($0 * $0) }.reduce(0, +) / Double(difference.count))
      .squareRoot()
    #expect(abs(sd - 0.5) < 0.2)
    #expect(try data.noise(sigma: 0) == data)
  }

  @Test func filterByLabelAndByPrediction() {
    let data = indexedDataset()
    let b = data.filter(label: 1)
    #expect(originalIndices(b) == Array(10..<16))
    #expect(b.classNames == data.classNames)
    let predictions = (0..<20).map { $0 % 3 }
    #expect(
      originalIndices(data.filter(predictions: predictions, predicted: 2)) == [2, 5, 8, 11, 14, 17])
  }
}

@Suite("MNIST sample") struct MNISTSampleTests {
  @Test func fullSampleHas500ImagesOfEachDigit() throws {
    let data = try Dataset.mnistSample()
    #expect(data.name == "mnist_sample")
    #expect(data.features.shape == [5000, 1, 28, 28])
    #expect(data.classNames == (0...9).map(String.init))
    #expect(data.countsPerClass() == [Int](repeating: 500, count: 10))
    #expect(data.features.min() == 0 && data.features.max() == 1)
  }

  @Test func digitsBecomeClassesInAscendingOrder() throws {
    let data = try Dataset.mnistSample(digits: [7, 1])
    #expect(data.classNames == ["1", "7"])
    #expect(data.count == 1000)
    #expect(data.countsPerClass() == [500, 500])
    #expect(Set(data.labels) == [0, 1])
  }

  @Test func perClassSampleIsDeterministicPerSeed() throws {
    let a = try Dataset.mnistSample(digits: [1, 7], perClass: 50, seed: 3)
    let b = try Dataset.mnistSample(digits: [1, 7], perClass: 50, seed: 3)
    let c = try Dataset.mnistSample(digits: [1, 7], perClass: 50, seed: 4)
    #expect(a.count == 100 && a.countsPerClass() == [50, 50])
    #expect(a == b)
    #expect(a.features != c.features)
  }

  @Test func unknownDigitIsRefused() throws {
    let error = try #require(throws: DataError.self) { try Dataset.mnistSample(digits: [1, 12]) }
    #expect(
      error.description
        == "mnist_sample has no digit 12; its digits are 0, 1, 2, 3, 4, 5, 6, 7, 8, 9")
  }

  @Test func sampleIsFoundFromTheEnvironmentTheExecutableAndTheSource() throws {
    let candidates = Dataset.sampleCandidates(
      environment: ["SIGBOOK_SAMPLE": "/somewhere/sample.csv.gz"],
      executables: ["/opt/sigbook/.build/x86_64-unknown-linux-gnu/release/sigbook"],
      sourceFile: "/src/sigbook/Sources/SigbookData/Dataset+MNIST.swift")
    #expect(candidates.first == "/somewhere/sample.csv.gz")
    #expect(candidates.contains("/opt/sigbook/.build/Data/mnist_5k.csv.gz"))
    #expect(candidates.contains("/opt/sigbook/Data/mnist_5k.csv.gz"))
    #expect(
      candidates.contains(
        "/opt/sigbook/.build/x86_64-unknown-linux-gnu/share/sigbook/mnist_5k.csv.gz"))
    #expect(candidates.last == "/src/sigbook/Data/mnist_5k.csv.gz")

    let folder = try TemporaryFolder()
    let copy = try folder.write(
      "copy.csv.gz", try Gzip.readBytes(Dataset.locateSample(environment: [:])))
    #expect(try Dataset.locateSample(environment: ["SIGBOOK_SAMPLE": copy]) == copy)
    let sample = try Dataset.mnistSample(
      digits: [0], perClass: 2, seed: 0, environment: ["SIGBOOK_SAMPLE": copy])
    #expect(sample.count == 2)
  }
}

@Suite("MNIST and Fashion-MNIST") struct DataMNISTTests {
  @Test(.enabled(if: DataTestPaths.mnistDirectory != nil, "needs ../shared/data/mnist; skipped"))
  func readsTheMNISTTestSplit() throws {
    let folder = try #require(DataTestPaths.mnistDirectory)
    let data = try Dataset.mnist(split: .test, path: folder)
    #expect(data.name == "mnist_test")
    #expect(data.features.shape == [10000, 1, 28, 28])
    #expect(data.countsPerClass() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    #expect(data.features.min() == 0 && data.features.max() == 1)

    let root = URL(fileURLWithPath: folder).deletingLastPathComponent().path
    let viaEnvironment = try Dataset.mnist(
      digits: [7, 1], perClass: 100, split: .test, path: nil, seed: 1,
      environment: ["SIGBOOK_DATA": root])
    #expect(viaEnvironment.classNames == ["1", "7"])
    #expect(viaEnvironment.countsPerClass() == [100, 100])
  }

  @Test(.enabled(if: DataTestPaths.mnistDirectory != nil, "needs ../shared/data/mnist; skipped"))
  func eachSplitNeedsOnlyItsOwnFiles() throws {
    // The shared folder has the training labels but not the training images.
    let folder = try #require(DataTestPaths.mnistDirectory)
    let error = try #require(throws: DataError.self) {
      try Dataset.mnist(split: .train, path: folder)
    }
    #expect(
      error.description
        == "cannot find the MNIST train files (train-images-idx3-ubyte[.gz] and "
        + "train-labels-idx1-ubyte[.gz]); looked in '\(folder)' (path:); download the four IDX "
        + "files from the MNIST distribution and pass path: or set SIGBOOK_DATA")
  }

  @Test func missingMNISTSaysWhereItLookedAndHowToGetIt() throws {
    let error = try #require(throws: DataError.self) {
      try Dataset.mnist(
        digits: nil, perClass: nil, split: .test, path: nil, seed: 0, environment: [:])
    }
    #expect(
      error.description
        == "cannot find the MNIST test files (t10k-images-idx3-ubyte[.gz] and "
        + "t10k-labels-idx1-ubyte[.gz]); looked in $SIGBOOK_DATA/mnist ($SIGBOOK_DATA is not set); "
        + "download the four IDX files from the MNIST distribution and pass path: "
        + "or set SIGBOOK_DATA")
    let explicit = try #require(throws: DataError.self) {
      try Dataset.fashionMNIST(split: .train, path: "/nowhere")
    }
    #expect(
      explicit.description
        == "cannot find the Fashion-MNIST train files (train-images-idx3-ubyte[.gz] and "
        + "train-labels-idx1-ubyte[.gz]); looked in '/nowhere' (path:); install them with "
        + "'apt-get install dataset-fashion-mnist', or pass path: or set SIGBOOK_DATA")
    // With Debian's package installed the default folder holds the files: nothing is missing.
    guard DataTestPaths.fashionDirectory == nil else { return }
    let fashion = try #require(throws: DataError.self) {
      try Dataset.fashionMNIST(
        indices: nil, perClass: nil, split: .test, path: nil, seed: 0,
        environment: ["SIGBOOK_DATA": "/nowhere"])
    }
    #expect(
      fashion.description
        == "cannot find the Fashion-MNIST test files (t10k-images-idx3-ubyte[.gz] and "
        + "t10k-labels-idx1-ubyte[.gz]); looked in '/nowhere/fashion-mnist' "
        + "($SIGBOOK_DATA/fashion-mnist), '/usr/share/datasets/fashion-mnist'; install them with "
        + "'apt-get install dataset-fashion-mnist', or pass path: or set SIGBOOK_DATA")
  }

  /// `mnist()` and `fashion_mnist()` read through the same checks as `idx()`: the memory limit
  /// before the body is read, Ctrl-C while it is inflated. They used to read without either.
  @Test func mnistAndFashionMNISTHonourTheMemoryLimitAndCancellation() throws {
    let folder = try TemporaryFolder()
    let pixels = [UInt8](repeating: 7, count: 5 << 20)
    try folder.write(
      "t10k-images-idx3-ubyte.gz",
      try Gzip.compress(IDXFixture.images(count: 5120, rows: 32, columns: 32, pixels: pixels)))
    try folder.write(
      "t10k-labels-idx1-ubyte", IDXFixture.labels([UInt8](repeating: 1, count: 5120)))
    let small = MemoryLimit(bytes: 1 << 20)
    let refusal = try #require(throws: MemoryRefusal.self) {
      try Dataset.mnist(split: .test, path: folder.url.path, memoryLimit: small)
    }
    #expect(refusal.description.contains("t10k-images-idx3-ubyte.gz"))
    #expect(throws: MemoryRefusal.self) {
      try Dataset.fashionMNIST(split: .test, path: folder.url.path, memoryLimit: small)
    }
    #expect(throws: ReadInterrupted.self) {
      try Dataset.mnist(split: .test, path: folder.url.path, isCancelled: { true })
    }
    #expect(throws: ReadInterrupted.self) {
      try Dataset.fashionMNIST(classes: [1], split: .test, path: folder.url.path) { true }
    }
    #expect(try Dataset.mnist(split: .test, path: folder.url.path).count == 5120)
  }

  @Test func dottedAndRawFileNamesAreAccepted() throws {
    let folder = try TemporaryFolder()
    try folder.write(
      "t10k-images.idx3-ubyte",
      IDXFixture.images(count: 3, rows: 2, columns: 2, pixels: IDXFixture.pixels))
    try folder.write("t10k-labels-idx1-ubyte.gz", try Gzip.compress(IDXFixture.labels([3, 1, 3])))
    let data = try Dataset.mnist(split: .test, path: folder.url.path)
    #expect(data.classNames == ["1", "3"] && data.labels == [1, 0, 1])
    let fashion = try Dataset.fashionMNIST(split: .test, path: folder.url.path)
    #expect(fashion.classNames == ["trouser", "dress"])
    let dress = try Dataset.fashionMNIST(classes: ["Dress"], split: .test, path: folder.url.path)
    #expect(dress.count == 2 && dress.classNames == ["dress"])
  }

  @Test func unknownFashionClassListsTheValidNames() throws {
    let error = try #require(throws: DataError.self) {
      try Dataset.fashionMNIST(classes: ["trouser", "shoe"], path: "/nowhere")
    }
    #expect(
      error.description
        == "fashion_mnist has no class 'shoe'; its classes are 't-shirt', 'trouser', 'pullover', "
        + "'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot'")
    let index = try #require(throws: DataError.self) {
      try Dataset.fashionMNIST(classes: [10], path: "/nowhere")
    }
    #expect(index.description == "fashion_mnist has no class 10; its class indices are 0 to 9")
  }

  @Test(
    .enabled(
      if: DataTestPaths.fashionDirectory != nil,
      "needs /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist); skipped"))
  func readsTheFashionMNISTTestSplit() throws {
    let data = try Dataset.fashionMNIST(split: .test, path: DataTestPaths.fashionDirectory)
    #expect(data.features.shape == [10000, 1, 28, 28])
    #expect(data.countsPerClass() == [Int](repeating: 1000, count: 10))
    #expect(data.classNames == Dataset.fashionMNISTClassNames)
    let two = try Dataset.fashionMNIST(
      classes: ["dress", "trouser"], perClass: 100, split: .test, seed: 2)
    #expect(two.classNames == ["trouser", "dress"])
    #expect(two.countsPerClass() == [100, 100])
    let byIndex = try Dataset.fashionMNIST(classes: [3, 1], perClass: 100, split: .test, seed: 2)
    #expect(byIndex == two)
  }
}
