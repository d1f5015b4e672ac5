import ArgumentParser
import Foundation
import SigbookTensor

/// `sigbook bench`: the workloads of DESIGN.md §7 on the real data, timed the way `make bench`
/// times the peers (PyTorch, Keras, scikit-learn, openTSNE, umap-learn, numpy).
///
/// Each workload runs once to warm up, then `repeats` times; the median time is reported with
/// the minimum and maximum, and beside it a quality figure (held-out accuracy, final loss, the
/// chosen k and its silhouette, trustworthiness at k = 10, GFLOP/s). A workload whose data is
/// missing says so and is skipped. `--json` prints the same as JSON, one object per workload.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Time the benchmark workloads W1–W11 and S on the real data (use a release build).",
    discussion: """
      MNIST's test set is read from $SIGBOOK_DATA/mnist (default: ../shared/data beside the \
      checkout), Fashion-MNIST from $SIGBOOK_DATA/fashion-mnist or \
      /usr/share/datasets/fashion-mnist. `make bench` runs this beside the peers.
      """)

  @Option(help: "Only these workloads (comma-separated ids, e.g. W1,W3,S).")
  var only: String?

  @Option(help: "OpenBLAS threads (default: as OpenBLAS chooses).")
  var threads: Int?

  @Option(
    help: "Timed runs per workload after the warm-up (default: 3 to 15); 0: one run, no warm-up.")
  var repeats: Int?

  @Flag(help: "Print the results as JSON (progress goes to standard error).")
  var json = false

  @Option(
    help: "Write W5–W7's input (the 2,000 × 128 signatures) as .npy here, for the peers.",
    completion: .file())
  var signaturesOut: String?

  func run() throws {
    #if DEBUG
      FileHandle.standardError.write(
        Data("warning: this is a debug build; measure with `swift build -c release`\n".utf8))
    #endif
    if let threads { BLAS.setThreadCount(threads) }
    let wanted = only.map { Set($0.split(separator: ",").map { $0.uppercased() }) }
    let context = BenchContext(signaturesOut: signaturesOut)
    let environment = BenchEnvironment.current
    let say: (String) -> Void = { line in
      if json {
        FileHandle.standardError.write(Data((line + "\n").utf8))
      } else {
        print(line)
      }
    }
    say(environment.summary)
    var results: [BenchResult] = []
    for workload in BenchWorkloads.all where wanted.map({ $0.contains(workload.id) }) ?? true {
      let result: BenchResult
      do {
        result = try workload.run(context, repeats ?? workload.repeats)
      } catch let skip as BenchSkip {
        result = BenchResult(id: workload.id, name: workload.name, skipped: skip.reason)
      }
      say(result.line)
      results.append(result)
    }
    if json {
      let report = BenchReport(environment: environment, workloads: results)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
  }
}

/// Why a workload did not run (its data is missing): printed, and the bench goes on.
struct BenchSkip: Error {
  var reason: String
}

/// One workload's figures: the median of the timed runs, their range, and a quality figure.
struct BenchResult: Codable {
  var id: String
  var name: String
  var seconds: Double?
  var min: Double?
  var max: Double?
  var runs: Int = 0
  var quality: String?
  var value: Double?
  /// Other figures worth keeping (a second quality, a rate).
  var extra: [String: Double]?
  var skipped: String?

  init(id: String, name: String, skipped: String) {
    self.id = id
    self.name = name
    self.skipped = skipped
  }

  init(
    id: String, name: String, times: [Double], quality: String, value: Double,
    extra: [String: Double]? = nil
  ) {
    self.id = id
    self.name = name
    let sorted = times.sorted()
    let mid = sorted.count / 2
    seconds = sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    min = sorted.first
    max = sorted.last
    runs = times.count
    self.quality = quality
    self.value = value
    self.extra = extra
  }

  /// The line of the text table.
  var line: String {
    let title = "\(id.padding(toLength: 3, withPad: " ", startingAt: 0)) \(name)"
    let head = title.padding(toLength: 58, withPad: " ", startingAt: 0)
    if let skipped { return head + "skipped: " + skipped }
    guard let seconds, let min, let max, let quality, let value else { return head }
    return head
      + String(format: "%9.4f s  [%.4f – %.4f, %d runs]  ", seconds, min, max, runs)
      + "\(quality) \(BenchResult.format(value))"
  }

  static func format(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e9
      ? String(Int(value)) : String(format: "%.4f", value)
  }
}

/// The machine and libraries the figures were taken on.
struct BenchEnvironment: Codable {
  var cpu: String
  var cores: Int
  var blasCore: String
  var blasThreads: Int
  var openblasCoretype: String?
  var date: String

  static var current: BenchEnvironment {
    let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let model =
      cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
      .flatMap { $0.split(separator: ":", maxSplits: 1).last }
      .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
    let formatter = ISO8601DateFormatter()
    return BenchEnvironment(
      cpu: model, cores: ProcessInfo.processInfo.activeProcessorCount,
      blasCore: BLAS.coreName, blasThreads: BLAS.threadCount,
      openblasCoretype: ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"],
      date: formatter.string(from: Date()))
  }

  var summary: String {
    "sigbook bench · \(cpu), \(cores) cores · OpenBLAS \(blasCore) kernels, \(blasThreads) threads"
      + (openblasCoretype.map { " (OPENBLAS_CORETYPE=\($0))" } ?? "")
  }
}

/// What `--json` prints.
struct BenchReport: Codable {
  var environment: BenchEnvironment
  var workloads: [BenchResult]
}

/// Times `body` once to warm up and then `repeats` times (0: once, without a warm-up).
///
/// - Returns: the seconds of each timed run and the last run's value.
func timed<T>(_ repeats: Int, _ body: () throws -> T) rethrows -> (times: [Double], last: T) {
  if repeats == 0 {
    let start = DispatchTime.now().uptimeNanoseconds
    let last = try body()
    return ([Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9], last)
  }
  var last = try body()
  var times: [Double] = []
  for _ in 0..<repeats {
    let start = DispatchTime.now().uptimeNanoseconds
    last = try body()
    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
  }
  return (times, last)
}
