import Foundation
@testable import SigbookData
import SigbookTestSupport
import Testing

/// The ways around `--max-memory` of issue 20, through the binary: each is refused with a clear
/// error, and the process's peak resident memory (as `/usr/bin/time` reports it) stays bounded.
@Suite(
  "--max-memory bounds the session",
  .enabled(if: Binary.isBuilt, "needs the built sigbook binary (swift build)"),
  .enabled(
    if: FileManager.default.isExecutableFile(atPath: "/usr/bin/time"), "needs /usr/bin/time"))
struct MemoryLimitCommandTests {
  /// Runs `sigbook run --max-memory LIMIT w.sigbook` on one cell; returns the result and the
  /// peak resident memory in bytes.
  static func run(_ code: String, limit: String, in folder: TemporaryFolder) throws -> (
    result: ProcessResult, peak: Int
  ) {
    try folder.write("w.sigbook", "```sigbook\n\(code)\n```\n")
    let report = folder.url.appendingPathComponent("time.txt").path
    let result = try RunningProcess.run(
      "/usr/bin/time",
      ["-f", "%M", "-o", report, Binary.url.path, "run", "--max-memory", limit, "w.sigbook"],
      in: folder.url)
    let text = try String(contentsOfFile: report, encoding: .utf8)
    let kilobytes = text.split(separator: "\n").last.flatMap { Int($0) } ?? .max
    return (
      result,
      kilobytes * 1024
    )
  }

  /// The most resident memory a run under `limit` may reach: the limit counts the whole program
  /// (`MemoryLimit.countsProcess`); before these checks the same runs took 0.4–2 GiB.
  static func bound(_ limit: Int) -> Int { limit }

  /// `count` rows of `0,1`, as gzip members of `block` rows each (gzip allows members one after
  /// another), so that a large text is never held by the test.
  static func narrowGzip(rows count: Int, block: Int = 1 << 22) throws -> [UInt8] {
    let member = try Gzip.compress(Array(String(repeating: "0,1\n", count: block).utf8), level: 9)
    var file: [UInt8] = []
    for _ in 0..<(count / block) { file += member }
    return file
  }

  /// 1 GiB of text in a gzip file of about 1 MiB: the file's size said nothing of it.
  @Test func aGzipBombIsStoppedAtTheLimit() throws {
    let folder = try TemporaryFolder()
    try Data(Self.narrowGzip(rows: 1 << 28)).write(
      to: folder.url.appendingPathComponent("z.csv.gz"))
    let (result, peak) = try Self.run("d = csv(\"z.csv.gz\")", limit: "100M", in: folder)
    #expect(result.status == 1)
    #expect(result.stderr.contains("error: reading '"), "\(result.stderr)")
    #expect(result.stderr.contains("z.csv.gz' ("), "\(result.stderr)")
    #expect(result.stderr.contains("left of the memory limit of 100 MiB"), "\(result.stderr)")
    #expect(peak < Self.bound(100 << 20), "peak resident memory \(peak >> 20) MiB")
  }

  /// A trailer claiming 4 GiB (ISIZE 0xFFFFFFFF) no longer sizes anything: the data is read as it
  /// inflates, and the lie is found at the end.
  @Test func aLyingGzipTrailerAllocatesNothing() throws {
    let folder = try TemporaryFolder()
    var rows = "a,b\n"
    for i in 0..<150_000 { rows += "\(i % 997),\(i % 2)\n" }
    var gz = try Gzip.compress(Array(rows.utf8), level: 0)
    for i in (gz.count - 4)..<gz.count { gz[i] = 0xff }
    try Data(gz).write(to: folder.url.appendingPathComponent("lie.csv.gz"))
    let (result, peak) = try Self.run("d = csv(\"lie.csv.gz\")", limit: "100M", in: folder)
    #expect(result.status == 1)
    #expect(result.stderr.contains("lie.csv.gz': corrupt gzip data: incorrect length check"))
    #expect(peak < Self.bound(100 << 20), "peak resident memory \(peak >> 20) MiB")
  }

  /// 40 MB of `0,1` rows: 3 bytes of text make 28 bytes of dataset (a float, the label's text
  /// and its class), raw or gzipped.
  @Test(arguments: [false, true])
  func aNarrowCSVIsCountedRowByRow(_ compressed: Bool) throws {
    let folder = try TemporaryFolder()
    let rows = 10 << 20
    let name = compressed ? "n.csv.gz" : "n.csv"
    let bytes =
      compressed
      ? try Self.narrowGzip(rows: rows, block: 1 << 20)
      : Array(String(repeating: "0,1\n", count: rows).utf8)
    try Data(bytes).write(to: folder.url.appendingPathComponent(name))
    let (result, peak) = try Self.run("d = csv(\"\(name)\")", limit: "150M", in: folder)
    #expect(result.status == 1)
    #expect(result.stderr.contains("\(name)' ("), "\(result.stderr)")
    #expect(peak < Self.bound(150 << 20), "peak resident memory \(peak >> 20) MiB")
  }

  @Test func aHugeRestartCountIsRefusedByName() throws {
    let folder = try TemporaryFolder()
    let (result, _) = try Self.run(
      "d = synthetic(.two_gaussians, n: 100)\nkmeans(d, k: 2, restarts: 1e14)", limit: "100M",
      in: folder)
    #expect(result.status == 1)
    #expect(
      result.stderr.contains(
        "w.sigbook:3:27: error: kmeans takes at most 1,000 for 'restarts:', not 100,000,000,000,000"
      ), "\(result.stderr)")
  }

  @Test func aStringDoubled31TimesStopsAtTheLimit() throws {
    let folder = try TemporaryFolder()
    let (result, peak) = try Self.run(
      "s = \"x\"\nfor i in 1...31 { s = s + s }", limit: "100M", in: folder)
    #expect(result.status == 1)
    #expect(result.stderr.contains("error: a text of "), "\(result.stderr)")
    #expect(result.stderr.contains("left of the memory limit of 100 MiB (the program holds "))
    #expect(peak < Self.bound(100 << 20), "peak resident memory \(peak >> 20) MiB")
  }

  @Test(.enabled(if: Self.hasSample, "needs the MNIST sample (see shared/data/README.md)"))
  func noisyCopiesPiledInAListStopAtTheLimit() throws {
    let folder = try TemporaryFolder()
    let (result, peak) = try Self.run(
      "d = mnist_sample()\nxs = []\nfor i in 0..<100 { xs = xs + [noise(d, sigma: 0.1, seed: i)] }",
      limit: "100M", in: folder)
    #expect(result.status == 1)
    #expect(
      result.stderr.contains("error: noise on 'd' would need about"), "\(result.stderr)")
    #expect(peak < Self.bound(100 << 20), "peak resident memory \(peak >> 20) MiB")
  }

  static let hasSample =
    (try? Dataset.locateSample(environment: ProcessInfo.processInfo.environment)) != nil
}
