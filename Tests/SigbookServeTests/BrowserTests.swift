import Foundation
import Testing

@testable import SigbookServe

/// A real headless Chromium, driven through Selenium and chromedriver (Debian's `chromium`,
/// `chromium-driver` and `python3-selenium`, which `scripts/setup` installs when run as root).
enum Browser {
  static let python = "/usr/bin/python3"

  static let isAvailable: Bool = {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"),
      FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver"),
      FileManager.default.isExecutableFile(atPath: python)
    else { return false }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = ["-c", "import selenium"]
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
  }()

  /// Everything a pipe gives until it closes, read on a thread of its own.
  static func readToEnd(_ pipe: Pipe) async -> Data {
    await withCheckedContinuation { continuation in
      Thread { continuation.resume(returning: pipe.fileHandleForReading.readDataToEndOfFile()) }
        .start()
    }
  }

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
    let served = try await Served(original + longCell, name: "one-vs-seven.sigbook")
    let cellCount = served.live.cellStates.count
    let shots =
      ProcessInfo.processInfo.environment["SIGBOOK_SCREENSHOTS"]
      ?? served.folder.appendingPathComponent("screenshots").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Browser.python)
    process.arguments = [
      Browser.script, "http://127.0.0.1:\(served.port)/?token=\(served.token)",
      served.folder.appendingPathComponent("one-vs-seven.figures").path, shots, String(cellCount),
    ]
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Both pipes are read at once, so that neither fills up and blocks the browser script, and
    // on threads of their own: blocking the cooperative threads would starve the server, which
    // runs in this process.
    async let stdout = Browser.readToEnd(out)
    async let stderr = Browser.readToEnd(err)
    let (output, errors) = await (stdout, stderr)
    process.waitUntilExit()
    let report = String(decoding: output, as: UTF8.self)
    #expect(
      process.terminationStatus == 0,
      "browser script failed: \(report)\n\(String(decoding: errors, as: UTF8.self).suffix(3000))")
    let result = try #require(
      try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any])
    #expect(result["ok"] as? Bool == true)
    // The same counts, from the server's side: the data cell ran once.
    #expect(served.runs()[0] == 1)
    #expect(served.runs().dropFirst().dropLast().allSatisfy { $0 == 2 })
    print("browser test: \(report)")
  }
}
