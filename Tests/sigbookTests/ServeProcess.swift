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

/// A TCP connection to 127.0.0.1.
final class Connection {
  let fd: Int32

  init(port: Int, receiveBuffer: Int32? = nil) throws {
    fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Spawn.Failure(description: "socket failed") }
    // A generous bound on each read, so that a broken server fails the test instead of hanging.
    var timeout = timeval(tv_sec: 30, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    if var size = receiveBuffer {
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else {
      close(fd)
      throw Spawn.Failure(description: "connect failed")
    }
  }

  deinit { close(fd) }

  func send(_ text: String) throws {
    try send(Array(text.utf8))
  }

  func send(_ bytes: [UInt8]) throws {
    var sent = 0
    while sent < bytes.count {
      let n = bytes[sent...].withUnsafeBufferPointer {
        Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
      }
      guard n > 0 else { throw Spawn.Failure(description: "send failed after \(sent) bytes") }
      sent += n
    }
  }

  /// Reads until `marker` appears in what was read; returns it (or what came before the end).
  func read(until marker: String) -> String {
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = buffer.withUnsafeMutableBufferPointer { recv(fd, $0.baseAddress, $0.count, 0) }
      if n <= 0 { break }
      received += buffer[0..<n]
      if String(decoding: received, as: UTF8.self).contains(marker) { break }
    }
    return String(decoding: received, as: UTF8.self)
  }

  /// Reads server-sent events until one satisfies `test` (true) or the stream ends (false).
  ///
  /// The response is chunked (an event may come in several chunks): the head is skipped, the
  /// chunks joined, then the events split at their blank lines.
  func readEvents(until test: ([String: Any]) -> Bool) -> Bool {
    var raw: [UInt8] = []
    var body: [UInt8] = []
    var headDone = false
    var scanned = 0
    var buffer = [UInt8](repeating: 0, count: 65536)
    func find(_ a: UInt8, _ b: UInt8, in bytes: [UInt8], from: Int) -> Int? {
      bytes.withUnsafeBufferPointer { p in
        (min(from, p.count)..<max(p.count - 1, 0)).first { p[$0] == a && p[$0 + 1] == b }
      }
    }
    while true {
      let n = buffer.withUnsafeMutableBufferPointer { recv(fd, $0.baseAddress, $0.count, 0) }
      if n <= 0 { return false }
      raw += buffer[0..<n]
      if !headDone {
        guard let end = String(decoding: raw, as: UTF8.self).range(of: "\r\n\r\n") else {
          continue
        }
        raw.removeFirst(String(decoding: raw, as: UTF8.self)[..<end.upperBound].utf8.count)
        headDone = true
      }
      // Chunks: a hexadecimal size, CRLF, the data, CRLF.
      while let lineEnd = find(13, 10, in: raw, from: 0),
        let size = Int(String(decoding: raw[..<lineEnd], as: UTF8.self), radix: 16),
        raw.count >= lineEnd + 2 + size + 2
      {
        body += raw[(lineEnd + 2)..<(lineEnd + 2 + size)]
        raw.removeFirst(lineEnd + 2 + size + 2)
      }
      while let end = find(10, 10, in: body, from: scanned) {
        let text = String(decoding: body[..<end], as: UTF8.self)
        body.removeFirst(end + 2)
        scanned = 0
        if let start = text.range(of: "data: "),
          let event = try? JSONSerialization.jsonObject(
            with: Data(text[start.upperBound...].utf8)) as? [String: Any], test(event)
        {
          return true
        }
      }
      scanned = max(body.count - 1, 0)
    }
  }

  /// Reads until the server closes the connection (or a read fails or times out): what came.
  func readToEnd() -> String {
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = buffer.withUnsafeMutableBufferPointer { recv(fd, $0.baseAddress, $0.count, 0) }
      if n <= 0 { break }
      received += buffer[0..<n]
    }
    return String(decoding: received, as: UTF8.self)
  }

  /// Whether the server closed the connection: a read returns 0 (end of stream) rather than
  /// data, an error or the 30 s bound.
  func readsEndOfStream() -> Bool {
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = buffer.withUnsafeMutableBufferPointer { recv(fd, $0.baseAddress, $0.count, 0) }
      if n == 0 { return true }
      if n < 0 { return false }
    }
  }
}

/// The names ServeMemoryTests.swift (a disabled suite that other work keeps as it is) uses
/// without importing SigbookTestSupport.
typealias TemporaryFolder = SigbookTestSupport.TemporaryFolder

extension ServeProcess {
  static var binaryPath: String? { Binary.path }
}
