import Foundation

/// The built `sigbook` executable, run as a user would.
public enum Binary {
  /// The package's root folder (this file is `Tests/SigbookTestSupport/Binary.swift`).
  public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  /// The binary under test: `SIGBOOK_TEST_BINARY` when set (an older build, to see a test
  /// fail), else the one beside the test bundle, else `.build/debug/sigbook` or the release one;
  /// nil when none is built.
  public static let path: String? = {
    if let named = ProcessInfo.processInfo.environment["SIGBOOK_TEST_BINARY"] { return named }
    let bundle = Bundle.main.bundleURL
    let candidates =
      [
        bundle.deletingLastPathComponent().appendingPathComponent("sigbook"),
        bundle.appendingPathComponent("sigbook"),
      ].map(\.path)
      + ["debug", "release"].map { packageRoot.appendingPathComponent(".build/\($0)/sigbook").path }
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
  }()

  /// Whether the binary is built.
  public static var isBuilt: Bool { path != nil }

  /// The binary's path as a URL (a path that does not exist when it is not built, so that
  /// starting it fails).
  public static var url: URL { URL(fileURLWithPath: path ?? "/nonexistent/sigbook") }

  /// Runs the binary with `arguments` in `folder`, with `input` on its standard input, to its
  /// end.
  public static func run(
    _ arguments: [String], in folder: URL, input: String? = nil,
    environment: [String: String] = [:]
  ) throws -> ProcessResult {
    try RunningProcess.run(
      url.path, arguments, in: folder, environment: environment,
      input: input.map { Data($0.utf8) })
  }

  /// Runs the binary with `arguments` and `input` on its standard input in `folder`, to its end.
  public static func run(_ arguments: [String], input: String, in folder: URL) throws
    -> ProcessResult
  {
    try run(arguments, in: folder, input: input)
  }

  /// Starts the binary with `arguments` in `folder`, its outputs read as they come.
  public static func start(
    _ arguments: [String], in folder: URL, environment: [String: String] = [:]
  ) throws -> RunningProcess {
    try RunningProcess(url.path, arguments, in: folder, environment: environment)
  }
}
