import Foundation
import Testing

/// The reliability checklist's cases that need the binary: `--max-memory` reaches the session
/// of `run` and of `repl`, and a bad size is refused before anything runs.
@Suite(
  "Reliability (command line)",
  .enabled(if: Binary.path != nil, "needs the built sigbook binary (swift build)"))
struct ReliabilityCommandTests {
  @Test func runRefusesAModerateRequestUnderASmallLimit() throws {
    let folder = try TemporaryFolder()
    try folder.write("m.sigbook", "```sigbook\nd = synthetic(.two_gaussians, n: 100000)\n```\n")
    let refused = try Binary.run(["run", "--max-memory", "1M", "m.sigbook"], in: folder.url)
    #expect(refused.status == 1)
    #expect(
      refused.stderr.contains(
        "m.sigbook:2:34: error: synthetic data of 100,000 points would need about 1.5 MiB, more than the memory limit of 1 MiB"
      ))
    #expect(
      refused.stderr.contains(
        "hint: use fewer points (n:), or raise the limit with --max-memory (now 1 MiB)"))
    let allowed = try Binary.run(["run", "--max-memory", "64M", "m.sigbook"], in: folder.url)
    #expect(allowed.status == 0)
  }

  @Test func replRefusesAModerateRequestUnderASmallLimit() throws {
    let folder = try TemporaryFolder()
    let result = try Binary.run(
      ["repl", "--max-memory", "1M"], in: folder.url, input: "sum(0...100000)\nsum(0...10)\n")
    #expect(result.status == 1)
    #expect(
      result.stderr.contains(
        "<repl>:1:5: error: a list of the 100,001 numbers of 0...100000 would need about 4.6 MiB, more than the memory limit of 1 MiB"
      ))
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
