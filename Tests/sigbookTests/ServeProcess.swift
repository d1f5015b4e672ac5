#if canImport(Glibc)
  import Glibc
#endif
import Foundation
import SigbookTestSupport
import Testing

/// The built binary running `sigbook serve --port 0 FILE`, with what it prints collected as it
/// comes, and raw loopback connections to it.
final class ServeProcess: @unchecked Sendable {
  let running: RunningProcess
  private(set) var port = 0
  private(set) var token = ""

  /// Starts `sigbook serve --port 0 FILE ARGUMENTS` in `folder` and waits for the address.
  init(_ file: String, in folder: URL, arguments: [String] = []) throws {
    running = try Binary.start(["serve", "--port", "0", file] + arguments, in: folder)
    let printed = waitFor(in: .stdout) { $0.contains("?token=") && $0.contains("\n    ") }
    guard let line = printed.split(separator: "\n").first(where: { $0.contains("?token=") }),
      let address = URL(string: line.trimmingCharacters(in: .whitespaces)),
      let port = address.port,
      let token = URLComponents(url: address, resolvingAgainstBaseURL: false)?.queryItems?
        .first(where: { $0.name == "token" })?.value
    else {
      running.send(SIGKILL)
      throw Spawn.Failure(description: "serve printed no address: \(printed) \(errors)")
    }
    self.port = port
    self.token = token
  }

  /// What the process printed to standard output so far.
  var output: String { running.stdout }
  /// What the process printed to standard error so far.
  var errors: String { running.stderr }

  /// Waits until what `stream` holds satisfies `test` (or the process ends, or a generous
  /// failure bound of two minutes passes), and returns it.
  @discardableResult
  func waitFor(in stream: RunningProcess.Stream, _ test: (String) -> Bool) -> String {
    running.waitFor(stream, upTo: 120, test)
    return stream == .stdout ? output : errors
  }

  /// Waits for the process to end, at most `bound` seconds (a failure bound, not a timing):
  /// whether it ended.
  func waitForExit(bound: Double = 10) -> Bool { running.waitForExit(upTo: bound) }

  /// Sends a signal to the server.
  func send(_ signal: Int32) { running.send(signal) }

  /// The value of `VmRSS` in `/proc/PID/status`, in bytes.
  var residentBytes: Int? {
    guard
      let status = try? String(
        contentsOfFile: "/proc/\(running.pid)/status", encoding: .utf8),
      let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return nil }
    let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first
    return kilobytes.map { $0 * 1024 }
  }

  /// A raw request over a new connection, read to its end; the token goes in a header.
  func request(_ method: String, _ path: String, host: String? = nil, body: String? = nil)
    throws -> (status: Int, body: String)
  {
    let connection = try Connection(port: port)
    try connection.send(head(method, path, host: host, body: body) + (body ?? ""))
    let text = connection.readToEnd()
    guard let split = text.range(of: "\r\n\r\n") else { return (0, text) }
    let status = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
    return (status, String(text[split.upperBound...]))
  }

  /// The `/api/state` JSON.
  func state() throws -> [String: Any] {
    let reply = try request("GET", "/api/state")
    return try #require(
      try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any])
  }

  /// The head of a request that carries the token and closes its connection.
  func head(_ method: String, _ path: String, host: String? = nil, body: String? = nil)
    -> String
  {
    var lines = [
      "\(method) \(path) HTTP/1.1", "Host: \(host ?? "127.0.0.1:\(port)")",
      "Authorization: token \(token)", "Connection: close",
    ]
    if let body {
      lines += ["Content-Type: application/json", "Content-Length: \(body.utf8.count)"]
    }
    return lines.joined(separator: "\r\n") + "\r\n\r\n"
  }

  /// Opens the event stream on a new connection (nothing read yet).
  func openEvents() throws -> Connection {
    let connection = try Connection(port: port)
    try connection.send(head("GET", "/events"))
    return connection
  }
}

/// The names ServeMemoryTests.swift (a disabled suite that other work keeps as it is) uses
/// without importing SigbookTestSupport.
typealias TemporaryFolder = SigbookTestSupport.TemporaryFolder
typealias Connection = SigbookTestSupport.Connection

extension ServeProcess {
  static var binaryPath: String? { Binary.path }
}
