import Foundation
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

  /// The built `sigbook` binary, beside the test bundle or in `.build/debug`.
  static let binary: URL? = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    return [
      Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("sigbook"),
      Bundle.main.bundleURL.appendingPathComponent("sigbook"),
      root.appendingPathComponent(".build/debug/sigbook"),
    ].first { FileManager.default.isExecutableFile(atPath: $0.path) }
  }()

  /// The `http://…?token=…` address `sigbook serve` prints once it listens, read on a thread of
  /// its own; nil if the server ends first.
  static func address(printedOn pipe: Pipe) async -> String? {
    await withCheckedContinuation { continuation in
      Thread {
        let handle = pipe.fileHandleForReading
        var text = ""
        while true {
          let data = handle.availableData
          if data.isEmpty { break }
          text += String(decoding: data, as: UTF8.self)
          if let line = text.split(separator: "\n").first(where: {
            $0.contains("http://") && $0.contains("token=")
          }) {
            continuation.resume(returning: line.trimmingCharacters(in: .whitespaces))
            // Keep draining what the server prints so that it never blocks on a full pipe.
            while !handle.availableData.isEmpty {}
            return
          }
        }
        continuation.resume(returning: nil)
      }.start()
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
    // The server runs as `sigbook serve`, a process of its own: in this one, the test suites
    // that run beside this test would hold the cooperative threads its handlers need.
    let binary = try #require(Browser.binary, "the built sigbook binary (swift build)")
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "sigbook-browser-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("one-vs-seven.sigbook")
    try (original + longCell).write(to: file, atomically: true, encoding: .utf8)
    let cellCount = parseWorkbook(text: original + longCell, file: "one-vs-seven.sigbook").cells
      .count
    let server = Process()
    server.executableURL = binary
    server.arguments = ["serve", file.path, "--port", "0"]
    let serverOut = Pipe()
    server.standardOutput = serverOut
    server.standardError = FileHandle.nullDevice
    try server.run()
    defer {
      // SIGKILL: a child of Foundation's Process may start with SIGINT and SIGTERM blocked.
      if server.isRunning { kill(server.processIdentifier, SIGKILL) }
      server.waitUntilExit()
    }
    let address = try #require(
      await Browser.address(printedOn: serverOut), "serve printed no address")
    let shots =
      ProcessInfo.processInfo.environment["SIGBOOK_SCREENSHOTS"]
      ?? folder.appendingPathComponent("screenshots").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Browser.python)
    process.arguments = [
      Browser.script, address, folder.appendingPathComponent("one-vs-seven.figures").path, shots,
      String(cellCount),
    ]
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Both pipes are read at once, on threads of their own, so that neither fills up.
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
    print("browser test: \(report)")
  }
}
