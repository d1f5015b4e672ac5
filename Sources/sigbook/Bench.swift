import ArgumentParser
import Foundation
import SigbookCore

/// `sigbook bench`: release-build throughput of the engine's hot paths.
///
/// Each workload is run once to warm up, then timed over enough repetitions to last about a
/// second; the best rate is reported. Inputs are seeded random tensors of MNIST's shape: the
/// cost of these workloads does not depend on the values.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure the engine's throughput (run it from a release build).")

  @Option(help: "Only the workloads whose name contains this text.")
  var only: String?

  @Option(help: "OpenBLAS threads (default: as OpenBLAS chooses).")
  var threads: Int?

  func run() throws {
    #if DEBUG
      print("warning: this is a debug build; measure with `swift build -c release`")
    #endif
    if let threads { BLAS.setThreadCount(threads) }
    print("OpenBLAS \(BLAS.coreName) kernels, \(BLAS.threadCount) threads")
    for workload in Self.workloads where only.map({ workload.name.contains($0) }) ?? true {
      let result = try workload.run()
      print("\(workload.name.padding(toLength: 44, withPad: " ", startingAt: 0)) \(result)")
    }
  }

  struct Workload: Sendable {
    var name: String
    var run: @Sendable () throws -> String
  }

  /// Seconds taken by `body`, best of `repeats`.
  static func best(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
      let start = DispatchTime.now().uptimeNanoseconds
      try body()
      best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return best
  }

  static func images(_ n: Int, classes: Int, seed: Int) -> (Tensor, [Int]) {
    var g = SeededGenerator(seed: seed)
    let x = Tensor.uniform(shape: [n, 1, 28, 28], low: 0, high: 1, generator: &g)
    return (x, (0..<n).map { _ in g.nextInt(below: classes) })
  }

  static func training(
    _ model: Model, samples: Int, classes: Int, batch: Int, epochs: Int, repeats: Int
  ) throws -> String {
    let (x, y) = images(samples, classes: classes, seed: 1)
    let options = TrainingOptions(epochs: epochs, batchSize: batch, learningRate: 0.01)
    _ = try model.fitted(
      inputs: x.rows(0..<min(samples, 512)), labels: Array(y.prefix(512)), options: options)
    let seconds = try best(repeats) { _ = try model.fitted(inputs: x, labels: y, options: options) }
    let rate = Double(samples * epochs) / seconds
    return String(format: "%9.0f samples/s  (%.3f s)", rate, seconds)
  }

  /// 2,000 (or `count`) MNIST sample images reduced to 128 dimensions by a seeded Gaussian random
  /// projection: clustered, overlapping data of the size the targets name.
  static func signaturesLike(_ count: Int) throws -> Tensor {
    let sample = try Dataset.mnistSample(perClass: 500)
    var g = SeededGenerator(seed: 5)
    let chosen = Array(g.permutation(sample.count).prefix(min(count, sample.count))).sorted()
    var x = sample.features.flattenedRows.rows(at: chosen)
    while x.rows < count { x = Tensor.concatenate([x, x.rows(0..<min(x.rows, count - x.rows))]) }
    let projection = Tensor.normal(
      shape: [784, 128], standardDeviation: Float(1 / (128.0).squareRoot()), generator: &g)
    return Tensor.matmul(x, projection)
  }

  static func seconds(_ body: () throws -> Void) rethrows -> String {
    let t = try best(1, body)
    return String(format: "%9.3f s", t)
  }

  static let workloads: [Workload] = [
    Workload(name: "matmul 1024³") {
      let n = 1024
      var g = SeededGenerator(seed: 0)
      let a = Tensor.uniform(shape: [n, n], low: -1, high: 1, generator: &g)
      let b = Tensor.uniform(shape: [n, n], low: -1, high: 1, generator: &g)
      var c = Tensor(zeros: [n, n])
      c.gemm(a, b)
      let seconds = best(10) { c.gemm(a, b) }
      return String(format: "%9.1f GFLOP/s", 2 * Double(n * n * n) / seconds / 1e9)
    },
    Workload(name: "mlp 784-32-64-2 sgd b32, 5 ep × 1,730") {
      try training(
        try Model.mlp([784, 32, 64, 2]), samples: 1730, classes: 2, batch: 32, epochs: 5, repeats: 5
      )
    },
    Workload(name: "mlp 784-256-128-10 sgd b64, 1 ep × 60,000") {
      try training(
        try Model.mlp([784, 256, 128, 10]), samples: 60_000, classes: 10, batch: 64, epochs: 1,
        repeats: 2)
    },
    Workload(name: "cnn conv8-pool-conv16-pool-10 b64, 1 ep × 60,000") {
      try training(
        try Model.cnn(conv: [8, 16], dense: [], classes: 10), samples: 60_000, classes: 10,
        batch: 64,
        epochs: 1, repeats: 1)
    },
    Workload(name: "kmeans k=2…10 ×10 + silhouette, 2,000×128") {
      let x = try signaturesLike(2000)
      return try seconds { _ = try KMeansSweep(x, ks: Array(2...10), restarts: 10, seed: 0) }
    },
    Workload(name: "kmeans k=2…10 ×10 + sampled silh., 10,000×128") {
      let x = try signaturesLike(10_000)
      return try seconds {
        _ = try KMeansSweep(x, ks: Array(2...10), restarts: 10, silhouetteSample: 2000, seed: 0)
      }
    },
    Workload(name: "tsne 2,000×128") {
      let x = try signaturesLike(2000)
      var t = 0.0
      let time = try seconds { t = try TSNE.embed(x, options: TSNEOptions()).trustworthiness ?? 0 }
      return time + String(format: "  trustworthiness %.3f", t)
    },
    Workload(name: "umap 2,000×128") {
      let x = try signaturesLike(2000)
      var t = 0.0
      let time = try seconds { t = try UMAP.embed(x, options: UMAPOptions()).trustworthiness ?? 0 }
      return time + String(format: "  trustworthiness %.3f", t)
    },
    Workload(name: "hidden outputs 784-256-128-10, 10,000") {
      let model = try Model.mlp([784, 256, 128, 10])
      let (x, _) = images(10_000, classes: 10, seed: 2)
      _ = model.hiddenOutputs(x)
      let seconds = best(5) { _ = model.hiddenOutputs(x) }
      return String(format: "%9.1f ms", seconds * 1000)
    },
    Workload(name: "one-vs-seven study, end to end") {
      let path =
        Dataset.repositoryRoot.map { $0 + "/Workbooks/one-vs-seven.sigbook" }
        ?? "Workbooks/one-vs-seven.sigbook"
      guard FileManager.default.fileExists(atPath: path) else {
        return "skipped: \(path) not found"
      }
      return try seconds {
        let runner = try WorkbookRunner(path: path)
        runner.session.figuresDirectory =
          FileManager.default.temporaryDirectory.appendingPathComponent("sigbook-bench.figures")
          .path
        guard runner.run() else { throw ValidationError("the study failed") }
      }
    },
  ]
}
