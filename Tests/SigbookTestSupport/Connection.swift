#if canImport(Glibc)
  import Glibc
#endif
import Foundation

/// A TCP connection to 127.0.0.1, for the tests of `sigbook serve`.
public final class Connection {
  public let fd: Int32

  public init(port: Int, receiveBuffer: Int32? = nil) throws {
    fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ToolFailure("socket failed") }
    // A generous bound on each read and each write, so that a broken or stalled server fails
    // the test instead of hanging it.
    var timeout = timeval(tv_sec: 30, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
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
      throw ToolFailure("connect failed")
    }
  }

  deinit { close(fd) }

  public func send(_ text: String) throws {
    try send(Array(text.utf8))
  }

  public func send(_ bytes: [UInt8]) throws {
    var sent = 0
    while sent < bytes.count {
      let n = bytes[sent...].withUnsafeBufferPointer {
        Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
      }
      guard n > 0 else { throw ToolFailure("send failed after \(sent) bytes") }
      sent += n
    }
  }

  /// One read: the bytes that came, or the read's result when none did (0 at the end of the
  /// stream, negative for an error or the 30 s bound).
  private func receive() -> Result<[UInt8], ReadEnd> {
    var buffer = [UInt8](repeating: 0, count: 65536)
    let n = buffer.withUnsafeMutableBufferPointer { recv(fd, $0.baseAddress, $0.count, 0) }
    return n > 0 ? .success(Array(buffer[0..<n])) : .failure(ReadEnd(closed: n == 0))
  }

  private struct ReadEnd: Error { let closed: Bool }

  /// Reads until `marker` appears in what was read, or the connection ends; returns what came.
  public func read(until marker: String? = nil) -> String {
    var received: [UInt8] = []
    while case .success(let bytes) = receive() {
      received += bytes
      if let marker, String(decoding: received, as: UTF8.self).contains(marker) { break }
    }
    return String(decoding: received, as: UTF8.self)
  }

  // What `readEvents` received but has not yet given out: kept from one call to the next, since
  // the head comes once and a read may bring more than the event a call was waiting for.
  private var eventRaw: [UInt8] = []
  private var eventBody: [UInt8] = []
  private var eventHeadRead = false

  /// Reads server-sent events until one satisfies `test` (true) or the stream ends (false).
  ///
  /// The response is chunked (an event may come in several chunks): the head is skipped, the
  /// chunks joined, then the events split at their blank lines. Events received after the one
  /// that satisfied `test` are kept for the next call.
  public func readEvents(until test: ([String: Any]) -> Bool) -> Bool {
    func find(_ a: UInt8, _ b: UInt8, in bytes: [UInt8]) -> Int? {
      bytes.withUnsafeBufferPointer { p in
        (0..<max(p.count - 1, 0)).first { p[$0] == a && p[$0 + 1] == b }
      }
    }
    while true {
      while let end = find(10, 10, in: eventBody) {
        let text = String(decoding: eventBody[..<end], as: UTF8.self)
        eventBody.removeFirst(end + 2)
        if let start = text.range(of: "data: "),
          let event = try? JSONSerialization.jsonObject(
            with: Data(text[start.upperBound...].utf8)) as? [String: Any], test(event)
        {
          return true
        }
      }
      guard case .success(let bytes) = receive() else { return false }
      eventRaw += bytes
      if !eventHeadRead {
        guard let end = String(decoding: eventRaw, as: UTF8.self).range(of: "\r\n\r\n") else {
          continue
        }
        eventRaw.removeFirst(
          String(decoding: eventRaw, as: UTF8.self)[..<end.upperBound].utf8.count)
        eventHeadRead = true
      }
      // Chunks: a hexadecimal size, CRLF, the data, CRLF.
      while let lineEnd = find(13, 10, in: eventRaw),
        let size = Int(String(decoding: eventRaw[..<lineEnd], as: UTF8.self), radix: 16),
        eventRaw.count >= lineEnd + 2 + size + 2
      {
        eventBody += eventRaw[(lineEnd + 2)..<(lineEnd + 2 + size)]
        eventRaw.removeFirst(lineEnd + 2 + size + 2)
      }
    }
  }

  /// Reads until the server closes the connection (or a read fails or times out): what came.
  public func readToEnd() -> String { read(until: nil) }

  /// Whether the server closed the connection: a read returns 0 (end of stream) rather than
  /// data, an error or the 30 s bound.
  public func readsEndOfStream() -> Bool {
    while true {
      if case .failure(let end) = receive() { return end.closed }
    }
  }
}
