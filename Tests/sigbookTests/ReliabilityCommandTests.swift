import Foundation
import SigbookTestSupport
import Testing

/// The reliability checklist's cases that need the binary: `--max-memory` reaches the session
/// of `run` and of `repl`, and a bad size is refused before anything runs.
@Suite(
  "Reliability (command line)",
  .enabled(if: Binary.isBuilt, "needs the built sigbook binary (swift build)"))
struct ReliabilityCommandTests {
  /// The whole program counts against the limit (about 40 MiB of it before any statement).
  @Test func runRefusesAModerateRequestUnderASmallLimit() throws {
    let folder = try TemporaryFolder()
    try folder.write("m.sigbook", "```sigbook\nd = synthetic(.two_gaussians, n: 5000000)\n```\n")
    let refused = try Binary.run(["run", "--max-memory", "100M", "m.sigbook"], in: folder.url)
    #expect(refused.status == 1)
    #expect(
      refused.stderr.contains(
        "m.sigbook:2:34: error: synthetic data of 5,000,000 points would need about 76.3 MiB, more than the "
      ), "\(refused.stderr)")
    #expect(refused.stderr.contains("left of the memory limit of 100 MiB (the program holds "))
    #expect(
      refused.stderr.contains(
        "hint: use fewer points (n:), or raise the limit with --max-memory (now 100 MiB)"))
    let allowed = try Binary.run(["run", "--max-memory", "256M", "m.sigbook"], in: folder.url)
    #expect(allowed.status == 0, "\(allowed.stderr)")
  }

  @Test func replRefusesAModerateRequestUnderASmallLimit() throws {
    let folder = try TemporaryFolder()
    let result = try Binary.run(
      ["repl", "--max-memory", "100M"], in: folder.url, input: "sum(0...2000000)\nsum(0...10)\n")
    #expect(result.status == 1)
    #expect(
      result.stderr.contains(
        "<repl>:1:5: error: a list of the 2,000,001 numbers of 0...2000000 would need about 91.6 MiB, more than the "
      ), "\(result.stderr)")
    #expect(result.stdout == "55\n")
  }

  @Test func aBadSizeIsRefused() throws {
    let folder = try TemporaryFolder()
    let result = try Binary.run(["run", "--max-memory", "lots", "x.sigbook"], in: folder.url)
    #expect(result.status != 0)
    #expect(
      result.stderr.contains("--max-memory takes a size such as 4G, 512M or 1.5G, not 'lots'"))
  }
}
