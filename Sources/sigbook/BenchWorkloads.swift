import ArgumentParser
import Foundation
import SigbookTensor
import SigbookData
import SigbookNN
import SigbookAnalysis
import SigbookWorkbook

/// The data the workloads share, loaded once and only when a workload asks for it.
///
/// Every hyper-parameter here is also in `Benchmarks/peers/common.py`: change both together.
final class BenchContext {
  let signaturesOut: String?
  init(signaturesOut: String?) { self.signaturesOut = signaturesOut }

  /// `$SIGBOOK_DATA`, else `../shared/data` beside the checkout.
  lazy var dataRoot: String = {
    if let root = ProcessInfo.processInfo.environment["SIGBOOK_DATA"], !root.isEmpty {
      return root
    }
    let checkout = Dataset.repositoryRoot ?? FileManager.default.currentDirectoryPath
    return URL(fileURLWithPath: checkout + "/../shared/data").standardizedFileURL.path
  }()

  private var cache: [String: Any] = [:]

  /// Loads once; a loading error becomes a skip with its message.
  private func load<T>(_ key: String, _ body: () throws -> T) throws -> T {
    if let value = cache[key] as? T { return value }
    do {
      let value = try body()
      cache[key] = value
      return value
    } catch let skip as BenchSkip {
      throw skip
    } catch {
      throw BenchSkip(reason: "\(error)")
    }
  }

  /// MNIST's test set, 1s and 7s in file order (labels 0 and 1), the first 80 % for training.
  func onesAndSevens() throws -> (train: Dataset, test: Dataset) {
    try load("1v7") {
      let data = try Dataset.mnist(digits: [1, 7], split: .test, path: dataRoot + "/mnist")
      let cut = Int((Double(data.count) * 0.8).rounded())
      return (data.rows(0..<cut), data.rows(cut..<data.count))
    }
  }

  /// All 10,000 MNIST test images.
  func mnistTest() throws -> Dataset {
    try load("mnist") { try Dataset.mnist(split: .test, path: dataRoot + "/mnist") }
  }

  func fashion(_ split: MNISTSplit) throws -> Dataset {
    try load("fashion-\(split)") { try Dataset.fashionMNIST(split: split) }
  }

  /// W2's network trained (seeded, so every run gives the same one).
  func fashionNetwork() throws -> Model {
    if let model = cache["w2-model"] as? Model { return model }
    let train = try fashion(.train)
    let model = try BenchWorkloads.w2Model().fitted(
      inputs: train.features, labels: train.labels, options: BenchWorkloads.w2Options)
    cache["w2-model"] = model
    return model
  }

  func keep(fashionNetwork model: Model) { cache["w2-model"] = model }

  /// The second hidden layer of W2's network on the first 2,000 Fashion-MNIST test images:
  /// W5–W7's input, written for the peers when asked.
  func signatures() throws -> Tensor {
    if let x = cache["signatures"] as? Tensor { return x }
    let test = try fashion(.test).rows(0..<2000)
    let x = try fashionNetwork().hiddenOutputs(test.features)[1]
    if let signaturesOut {
      try AtomicFile.write(NPY.encode(x.scalars, shape: x.shape), to: signaturesOut)
    }
    cache["signatures"] = x
    return x
  }

  /// The signatures as points to project (their labels do not enter a projection).
  func signaturePoints() throws -> PointSet {
    let x = try signatures()
    return PointSet(
      dataset: Dataset(
        name: "H2", features: x, labels: [Int](repeating: 0, count: x.rows),
        classNames: ["all"]))
  }
}

/// One workload: an id (W1…W9, S, X…), what it does, its default number of timed runs.
struct BenchWorkload: Sendable {
  var id: String
  var name: String
  var repeats: Int
  var run: @Sendable (BenchContext, Int) throws -> BenchResult
}

enum BenchWorkloads {
  static func w2Model() throws -> Model { try Model.mlp([784, 256, 128, 10]) }
  static let w2Options = TrainingOptions(epochs: 1, batchSize: 64, learningRate: 0.05)

  /// Held-out accuracy of a classifier.
  static func accuracy(_ model: Model, _ data: Dataset) -> Double {
    model.measure(inputs: data.features, labels: data.labels).accuracy ?? 0
  }

  static let all: [BenchWorkload] =
    [
      BenchWorkload(id: "W1", name: "mlp 784-32-64-2, sgd b32, 5 epochs, 1 vs 7", repeats: 9) {
        context, repeats in
        let (train, test) = try context.onesAndSevens()
        let model = try Model.mlp([784, 32, 64, 2])
        let options = TrainingOptions(epochs: 5, batchSize: 32, learningRate: 0.05)
        let (times, trained) = try timed(repeats) {
          try model.fitted(inputs: train.features, labels: train.labels, options: options)
        }
        return BenchResult(
          id: "W1", name: "mlp 784-32-64-2, sgd b32, 5 epochs, 1 vs 7", times: times,
          quality: "accuracy", value: accuracy(trained, test))
      },
      BenchWorkload(id: "W2", name: "mlp 784-256-128-10, sgd b64, 1 epoch fashion", repeats: 3) {
        context, repeats in
        let train = try context.fashion(.train)
        let test = try context.fashion(.test)
        let model = try w2Model()
        let (times, trained) = try timed(repeats) {
          try model.fitted(inputs: train.features, labels: train.labels, options: w2Options)
        }
        context.keep(fashionNetwork: trained)
        return BenchResult(
          id: "W2", name: "mlp 784-256-128-10, sgd b64, 1 epoch fashion", times: times,
          quality: "accuracy", value: accuracy(trained, test))
      },
      BenchWorkload(id: "W3", name: "cnn conv8-pool-conv16-pool-10, b64, 1 epoch", repeats: 3) {
        context, repeats in
        let train = try context.fashion(.train)
        let test = try context.fashion(.test)
        let model = try Model.cnn(conv: [8, 16], dense: [], classes: 10)
        let options = TrainingOptions(epochs: 1, batchSize: 64, learningRate: 0.05)
        let (times, trained) = try timed(repeats) {
          try model.fitted(inputs: train.features, labels: train.labels, options: options)
        }
        return BenchResult(
          id: "W3", name: "cnn conv8-pool-conv16-pool-10, b64, 1 epoch", times: times,
          quality: "accuracy", value: accuracy(trained, test))
      },
      BenchWorkload(id: "W4", name: "hidden outputs of W2's net, 10,000 images", repeats: 31) {
        context, repeats in
        let test = try context.fashion(.test)
        let model = try context.fashionNetwork()
        let (times, outputs) = timed(repeats) { model.hiddenOutputs(test.features) }
        let zeros = outputs[1].scalars.filter { $0 == 0 }.count
        return BenchResult(
          id: "W4", name: "hidden outputs of W2's net, 10,000 images", times: times,
          quality: "zero fraction H2", value: Double(zeros) / Double(outputs[1].count))
      },
      BenchWorkload(id: "W5", name: "k-means k=2…10 ×10 + silhouette, 2,000×128", repeats: 3) {
        context, repeats in
        let x = try context.signatures()
        let (times, sweep) = try timed(repeats) {
          try KMeansSweep(x, ks: Array(2...10), restarts: 10, seed: 0)
        }
        return BenchResult(
          id: "W5", name: "k-means k=2…10 ×10 + silhouette, 2,000×128", times: times,
          quality: "k", value: Double(sweep.best.k),
          extra: ["silhouette": sweep.best.silhouette ?? .nan])
      },
      BenchWorkload(id: "W6", name: "t-SNE 2,000×128", repeats: 3) { context, repeats in
        let x = try context.signaturePoints()
        let (times, result) = try timed(repeats) {
          try Projection.tsne(x, measuresTrustworthiness: false)
        }
        return BenchResult(
          id: "W6", name: "t-SNE 2,000×128", times: times, quality: "trustworthiness",
          value: result.trustworthiness(of: x, k: 10))
      },
      BenchWorkload(id: "W7", name: "UMAP 2,000×128", repeats: 3) { context, repeats in
        let x = try context.signaturePoints()
        let (times, result) = try timed(repeats) {
          try Projection.umap(x, measuresTrustworthiness: false)
        }
        return BenchResult(
          id: "W7", name: "UMAP 2,000×128", times: times, quality: "trustworthiness",
          value: result.trustworthiness(of: x, k: 10))
      },
      BenchWorkload(id: "W8", name: "autoencoder 784-100-10-100-784, adam, 1 epoch", repeats: 5) {
        context, repeats in
        let data = try context.mnistTest()
        let model = try Model.autoencoder([784, 100, 10])
        let options = TrainingOptions(
          epochs: 1, batchSize: 64, learningRate: 1e-3, optimizer: .adam, loss: .bce)
        let (times, trained) = try timed(repeats) {
          try model.fitted(inputs: data.features, labels: data.labels, options: options)
        }
        return BenchResult(
          id: "W8", name: "autoencoder 784-100-10-100-784, adam, 1 epoch", times: times,
          quality: "epoch loss", value: trained.history?.records.last?.loss ?? .nan)
      },
      BenchWorkload(id: "W9", name: "float32 matmul 1024³", repeats: 51) { _, repeats in
        let n = 1024
        var g = SeededGenerator(seed: 0)
        let a = Tensor.uniform(shape: [n, n], low: -1, high: 1, generator: &g)
        let b = Tensor.uniform(shape: [n, n], low: -1, high: 1, generator: &g)
        var c = Tensor(zeros: [n, n])
        let (times, _) = timed(repeats) { c.gemm(a, b) }
        let median = BenchResult(id: "", name: "", times: times, quality: "", value: 0).seconds ?? 1
        return BenchResult(
          id: "W9", name: "float32 matmul 1024³", times: times, quality: "GFLOP/s",
          value: 2 * Double(n * n * n) / median / 1e9)
      },
      BenchWorkload(id: "S", name: "the one-vs-seven study in process (S~)", repeats: 3) {
        _, repeats in
        try study(repeats)
      },
    ] + BenchGraphs.all + BenchInstruments.all + BenchExtras.all

  /// S~: `Workbooks/one-vs-seven.sigbook` run in this process, its figures written to a temp
  /// folder. (`make bench`'s S times whole processes: `sigbook run` against the peer script.)
  static func study(_ repeats: Int) throws -> BenchResult {
    let path =
      Dataset.repositoryRoot.map { $0 + "/Workbooks/one-vs-seven.sigbook" }
      ?? "Workbooks/one-vs-seven.sigbook"
    guard FileManager.default.fileExists(atPath: path) else {
      throw BenchSkip(reason: "\(path) not found")
    }
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("sigbook-bench-\(ProcessInfo.processInfo.processIdentifier).figures")
    defer { try? FileManager.default.removeItem(at: folder) }
    let (times, figures) = try timed(repeats) { () throws -> Int in
      try? FileManager.default.removeItem(at: folder)
      let runner = try WorkbookRunner(path: path)
      runner.session.figuresDirectory = folder.path
      guard runner.run() else {
        let message = runner.records.compactMap(\.error).first.map { "\($0.message)" } ?? ""
        throw ValidationError("the study failed: \(message)")
      }
      return (try? FileManager.default.contentsOfDirectory(atPath: folder.path).count) ?? 0
    }
    return BenchResult(
      id: "S", name: "the one-vs-seven study in process (S~)", times: times, quality: "figures",
      value: Double(figures))
  }
}
