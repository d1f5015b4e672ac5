import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookServe
import SigbookWorkbook

/// A real headless Chromium, driven through Selenium and chromedriver (Debian's `chromium`,
/// `chromium-driver` and `python3-selenium`, which `scripts/setup` installs when run as root).
enum Browser {
  static let python = "/usr/bin/python3"

  static let isAvailable: Bool = {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"),
      FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver"),
      FileManager.default.isExecutableFile(atPath: python)
    else { return false }
    // Debian's python3, which has python3-selenium: `python3` on the PATH may be another one.
    let probe = try? RunningProcess.run(python, ["-c", "import selenium"])
    return probe?.status == 0
  }()

  static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("browser.py").path
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
}

@Suite("Serve: in a real browser")
struct ServeBrowserTests {
  /// The served `one-vs-seven.sigbook`, with one cell added at its end whose training runs long
  /// enough to be stopped (it trains only when its checkbox `slow` is ticked).
  @Test(
    .enabled(
      if: Browser.isAvailable,
      "needs Debian's chromium, chromium-driver and python3-selenium: run scripts/setup as root (or apt-get install chromium chromium-driver python3-selenium)"
    ))
  func changesTheLearningRateAndStopsALongCell() async throws {
    let original = try String(
      contentsOf: Browser.repository.appendingPathComponent("Workbooks/one-vs-seven.sigbook"),
      encoding: .utf8)
    let longCell = """

      ## A long cell, for the Stop button (added by the browser test)

      ```sigbook
      slow = false
      if slow {
        long = fit(mlp(784, 256, 256, 2, seed: 1), train, epochs: 1000, batch: 1, lr: lr, seed: 1)
      }
      ```

      """
    // The server runs as `sigbook serve`, a process of its own: in this one, the test suites
    // that run beside this test would hold the cooperative threads its handlers need.
    try #require(Binary.isBuilt, "the built sigbook binary (swift build)")
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "sigbook-browser-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("one-vs-seven.sigbook")
    try (original + longCell).write(to: file, atomically: true, encoding: .utf8)
    let cellCount = parseWorkbook(text: original + longCell, file: "one-vs-seven.sigbook").cells
      .count
    let server = try Binary.start(["serve", file.path, "--port", "0"], in: folder)
    defer { server.send(SIGKILL) }
    #expect(
      await server.waitingFor(.stdout) { $0.contains("http://") && $0.contains("token=") },
      "serve printed no address: \(server.stderr)")
    let address = try #require(
      server.stdout.split(separator: "\n").first { $0.contains("http://") && $0.contains("token=") }
    ).trimmingCharacters(in: .whitespaces)
    let shots =
      ProcessInfo.processInfo.environment["SIGBOOK_SCREENSHOTS"]
      ?? folder.appendingPathComponent("screenshots").path
    let browser = try RunningProcess(
      Browser.python,
      [
        Browser.script, address, folder.appendingPathComponent("one-vs-seven.figures").path,
        shots, String(cellCount),
      ])
    let finished = await browser.finishing()
    let report = finished.stdout
    #expect(
      finished.status == 0 && !finished.wasSignalled,
      "browser script failed: \(report)\n\(finished.stderr.suffix(3000))")
    let result = try #require(
      try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any])
    #expect(result["ok"] as? Bool == true)
    print("browser test: \(report)")
  }
}
