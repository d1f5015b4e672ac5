#if canImport(Glibc)
  import Glibc
#endif
import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookServe

/// A served workbook in a temporary folder: the real server on a free loopback port, started
/// in the test process and stopped at the end.
final class Served: @unchecked Sendable {
  let folder: URL
  let workbook: URL
  let server: WorkbookServer
  let port: Int
  private let task: Task<Void, Error>

  var token: String { server.token }
  var live: LiveWorkbook { server.live }

  /// Writes `text` as `name` in a new folder and serves it.
  init(_ text: String, name: String = "w.sigbook", watch: Bool = false) async throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "sigbook-serve-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    workbook = folder.appendingPathComponent(name)
    try text.write(to: workbook, atomically: true, encoding: .utf8)
    let live = try LiveWorkbook(path: workbook.path)
    let server = WorkbookServer(
      live: live, options: WorkbookServer.Options(host: "127.0.0.1", port: 0, watch: watch))
    self.server = server
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    task = Task(executorPreference: ServerThreads.shared) {
      try await server.run { port in continuation.yield(port) }
    }
    var iterator = ports.makeAsyncIterator()
    port = await iterator.next() ?? 0
  }

  deinit {
    task.cancel()
    try? FileManager.default.removeItem(at: folder)
  }

  /// A request over a new connection, with the token in a header unless `token` says otherwise.
  func request(
    _ method: String = "GET", _ path: String, token: String?? = .none, host: String? = nil,
    headers: [String: String] = [:], body: String? = nil
  ) async throws -> HTTPReply {
    var lines = ["\(method) \(path) HTTP/1.1", "Host: \(host ?? "127.0.0.1:\(port)")"]
    switch token {
    case .none: lines.append("Authorization: token \(self.token)")
    case .some(.some(let t)): lines.append("Authorization: token \(t)")
    case .some(.none): break
    }
    for (name, value) in headers { lines.append("\(name): \(value)") }
    if let body {
      lines.append("Content-Type: application/json")
      lines.append("Content-Length: \(body.utf8.count)")
    }
    lines.append("Connection: close")
    let raw = lines.joined(separator: "\r\n") + "\r\n\r\n" + (body ?? "")
    return try await HTTPReply.fetch(raw, port: port)
  }

  /// Sets a parameter as the page does.
  func set(_ name: String, _ value: String) async throws -> HTTPReply {
    try await request("POST", "/api/set", body: "{\"name\": \"\(name)\", \"value\": \(value)}")
  }

  /// Waits until no cell runs and none waits (or the worker paused), then returns the state.
  func waitUntilIdle(sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String:
    Any]
  {
    // The worker's state lives in this process and nothing prints it: polled.
    if try await pollAsync(every: .milliseconds(20), upTo: .seconds(120), until: { live.isIdle }) {
      let reply = try await request("GET", "/api/state")
      return try #require(reply.json)
    }
    Issue.record("the workbook never became idle", sourceLocation: sourceLocation)
    return [:]
  }

  /// Waits until cell `number` runs.
  func waitUntilRunning(_ number: Int, sourceLocation: SourceLocation = #_sourceLocation)
    async throws
  {
    let running = try await pollAsync(upTo: .seconds(120)) {
      live.cellStates[number - 1].status == .running
    }
    if !running { Issue.record("cell \(number) never started", sourceLocation: sourceLocation) }
  }

  /// How many times each cell ran, in order.
  func runs() -> [Int] { live.cellStates.map(\.runs) }
}

/// A response read off a socket.
struct HTTPReply {
  var status: Int
  var headers: [String: String]
  var body: String

  var json: [String: Any]? {
    try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
  }

  /// ``exchange(_:port:until:)`` on a thread of its own: its reads block, and blocking the
  /// test's cooperative threads would starve the server running in the same process.
  static func fetch(_ raw: String, port: Int, until marker: String? = nil) async throws -> HTTPReply
  {
    try await withCheckedThrowingContinuation { continuation in
      Thread {
        continuation.resume(with: Result { try exchange(raw, port: port, until: marker) })
      }.start()
    }
  }

  /// Sends a raw request to 127.0.0.1:port and reads the response until the server closes the
  /// connection, or, for an event stream, until `until` appears in what was read.
  static func exchange(_ raw: String, port: Int, until marker: String? = nil) throws -> HTTPReply {
    let connection = try Connection(port: port)
    do {
      try connection.send(raw)
    } catch {
      // A server may answer before it has read the whole body (a 413 decided from the
      // Content-Length) and close: its answer is still there to read.
    }
    let text = connection.read(until: marker)
    guard let split = text.range(of: "\r\n\r\n") else { throw ToolFailure("no response") }
    let head = text[..<split.lowerBound].split(separator: "\r\n")
    let status = head.first.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
    var headers: [String: String] = [:]
    for line in head.dropFirst() {
      if let colon = line.firstIndex(of: ":") {
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
          .trimmingCharacters(in: .whitespaces)
      }
    }
    return HTTPReply(status: status, headers: headers, body: String(text[split.upperBound...]))
  }
}

/// Two threads of their own for the servers the tests start in this process.
///
/// Tests that block (waiting on a process, a terminal or a socket) occupy the cooperative
/// threads, which are as many as the cores; a server whose tasks ran there could not answer
/// until they were done, and a request of another test would time out. The server's task and
/// its child tasks (one per connection, their handlers) prefer this executor instead (SE-0417).
final class ServerThreads: TaskExecutor, @unchecked Sendable {
  static let shared = ServerThreads(count: 2)

  private let condition = NSCondition()
  private var jobs: [UnownedJob] = []

  private init(count: Int) {
    for index in 0..<count {
      let thread = Thread { [unowned self] in self.work() }
      thread.name = "served-\(index)"
      thread.start()
    }
  }

  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    condition.lock()
    jobs.append(job)
    condition.signal()
    condition.unlock()
  }

  private func work() {
    while true {
      condition.lock()
      while jobs.isEmpty { condition.wait() }
      let job = jobs.removeFirst()
      condition.unlock()
      job.runSynchronously(on: asUnownedTaskExecutor())
    }
  }
}
