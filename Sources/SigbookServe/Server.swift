import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// `sigbook serve`: a workbook as a live page, served over HTTP by Hummingbird.
///
/// HTTP goes through a maintained server library (request parsing, keep-alive, streaming
/// responses, graceful shutdown are its business, not ours); it lives in this target so that
/// the engine library does not depend on it.
public struct WorkbookServer: Sendable {
  /// How to serve.
  public struct Options: Sendable {
    /// The address to listen on; loopback unless told otherwise.
    public var host = "127.0.0.1"
    /// The port; 0 picks a free one.
    public var port = 8765
    /// Re-run changed cells when the file is saved.
    public var watch = false
    /// The token; a random one when nil.
    public var token: String?

    public init(
      host: String = "127.0.0.1", port: Int = 8765, watch: Bool = false, token: String? = nil
    ) {
      self.host = host
      self.port = port
      self.watch = watch
      self.token = token
    }
  }

  public let live: LiveWorkbook
  public let options: Options
  /// The token every request must carry.
  public let token: String

  public init(live: LiveWorkbook, options: Options) {
    self.live = live
    self.options = options
    token = options.token ?? Access.randomToken()
  }

  /// The address to open, with the token: `http://127.0.0.1:8765/?token=…`.
  public func address(port: Int) -> String {
    let host = options.host == "0.0.0.0" || options.host == "::" ? "127.0.0.1" : options.host
    let shown = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    return "http://\(shown):\(port)/?token=\(token)"
  }

  /// Runs the workbook and serves it until the task is cancelled.
  ///
  /// Cancelling ends the event streams first (they would otherwise never end, and the server
  /// waits for its connections), so the server closes its connections and returns at once.
  ///
  /// - Parameter onReady: called with the port once the server listens.
  public func run(onReady: @escaping @Sendable (Int) -> Void) async throws {
    let portBox = PortBox()
    let live = self.live
    let token = self.token
    let host = options.host
    var logger = Logger(label: "sigbook.serve")
    // Connections cut at shutdown are logged as errors by the library: not the user's business.
    logger.logLevel = .critical
    let responder = PageResponder(live: live, token: token, host: host, portBox: portBox)
    let app = Application(
      responder: responder,
      configuration: .init(address: .hostname(host, port: options.port), serverName: nil),
      onServerRunning: { channel in
        let port = channel.localAddress?.port ?? 0
        portBox.set(port)
        onReady(port)
      },
      logger: logger)
    live.start()
    let watcher: Task<Void, Never>? =
      options.watch
      ? Task.detached {
        while !Task.isCancelled {
          try? await Task.sleep(for: .milliseconds(300))
          live.reload()
        }
      } : nil
    let keepAlive = Task.detached {
      while !Task.isCancelled {
        try? await Task.sleep(for: EventHub.keepAliveInterval)
        live.hub.keepAlive()
      }
    }
    defer {
      keepAlive.cancel()
      watcher?.cancel()
      live.shutDown()
    }
    try await withTaskCancellationHandler {
      try await app.run()
    } onCancel: {
      live.shutDown()
    }
  }
}

/// The port the server got (known once it listens), for the Host and Origin checks.
final class PortBox: Sendable {
  private let value = Mutex(0)
  func set(_ port: Int) { value.withLock { $0 = port } }
  var port: Int { value.withLock { $0 } }
}

/// Every request: Host, Origin and token checked first, then the page, its script and styles,
/// the event stream, the figures folder and three actions.
struct PageResponder: HTTPResponder {
  typealias Context = BasicRequestContext
  let live: LiveWorkbook
  let token: String
  let host: String
  let portBox: PortBox

  /// The headers of every answer: nothing may be loaded from elsewhere, the page may not be
  /// framed, and types are not guessed.
  static let securityHeaders: HTTPFields = [
    .contentSecurityPolicy:
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
      + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    HTTPField.Name("X-Content-Type-Options")!: "nosniff",
    HTTPField.Name("Referrer-Policy")!: "no-referrer",
    .cacheControl: "no-store",
  ]

  func respond(to request: Request, context: Context) async throws -> Response {
    let access = Access(token: token, host: host, port: portBox.port)
    let hostHeader = request.head.authority
    guard access.acceptsHost(hostHeader) else {
      return Self.text(.forbidden, "forbidden: the Host header does not name this server\n")
    }
    guard access.acceptsOrigin(request.headers[.origin], host: hostHeader) else {
      return Self.text(.forbidden, "forbidden: the request comes from another site\n")
    }
    let queryToken = request.uri.queryParameters["token"]
    let cookieToken = request.cookies[access.cookieName].map { Substring($0.value) }
    let headerToken = request.headers[.authorization].flatMap { value -> Substring? in
      value.hasPrefix("token ") ? Substring(value.dropFirst("token ".count)) : nil
    }
    guard access.matches(queryToken) || access.matches(cookieToken) || access.matches(headerToken)
    else {
      return Self.text(
        .unauthorized, "unauthorized: open the address with its token that sigbook serve printed\n")
    }
    var response = try await route(request)
    if access.matches(queryToken) {
      response.headers[.setCookie] =
        "\(access.cookieName)=\(token); Path=/; HttpOnly; SameSite=Strict"
    }
    return response
  }

  private func route(_ request: Request) async throws -> Response {
    let path = request.uri.path
    switch (request.method, path) {
    case (.get, "/"), (.head, "/"):
      return Self.body(Page.html(live), type: "text/html; charset=utf-8")
    case (.get, "/app.js"):
      return Self.body(Page.javascript, type: "text/javascript; charset=utf-8")
    case (.get, "/app.css"):
      return Self.body(Page.css, type: "text/css; charset=utf-8")
    case (.get, "/events"):
      return events()
    case (.get, "/api/state"):
      return Self.json(live.stateEvent())
    case (.post, "/api/set"):
      // A control's value is small: a larger body is refused before it is read whole.
      let limit = 1 << 20
      if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
        return Self.text(.contentTooLarge, "the body is larger than \(limit) bytes\n")
      }
      var request = request
      let body: ByteBuffer
      do {
        body = try await request.collectBody(upTo: limit)
      } catch {
        return Self.text(.contentTooLarge, "the body is larger than \(limit) bytes\n")
      }
      guard
        let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
        let name = object["name"] as? String, let value = object["value"]
      else { return Self.text(.badRequest, "expected {\"name\": …, \"value\": …}\n") }
      do {
        try live.set(name, to: value)
      } catch {
        return Self.text(.badRequest, error.message + "\n")
      }
      return Self.json(["ok": true])
    case (.post, "/api/stop"):
      live.stop()
      return Self.json(["ok": true])
    case (.post, "/api/run"):
      live.runStale()
      return Self.json(["ok": true])
    case (.get, _) where path.hasPrefix("/figures/"):
      guard
        let file = FigurePath.resolve(path.dropFirst("/figures/".count), in: live.figuresDirectory),
        let data = FileManager.default.contents(atPath: file)
      else { return Self.text(.notFound, "not found\n") }
      var headers = Self.securityHeaders
      headers[.contentType] = FigurePath.contentType(file)
      return Response(
        status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    default:
      return Self.text(.notFound, "not found\n")
    }
  }

  /// The event stream: the whole state first, then every change as it happens.
  private func events() -> Response {
    let stream = live.subscribe()
    var headers = Self.securityHeaders
    headers[.contentType] = "text/event-stream"
    let body = ResponseBody { writer in
      try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
      for await event in stream { try await writer.write(event) }
      try await writer.finish(nil)
    }
    return Response(status: .ok, headers: headers, body: body)
  }

  static func line(_ event: [String: Any]) -> String {
    guard
      let data = try? JSONSerialization.data(
        withJSONObject: event, options: [.sortedKeys, .withoutEscapingSlashes])
    else {
      return "{}"
    }
    return String(decoding: data, as: UTF8.self)
  }

  static func body(_ text: String, type: String) -> Response {
    var headers = securityHeaders
    headers[.contentType] = type
    return Response(
      status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
  }

  static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
    var headers = securityHeaders
    headers[.contentType] = "text/plain; charset=utf-8"
    return Response(
      status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
  }

  static func json(_ object: [String: Any]) -> Response {
    body(line(object), type: "application/json")
  }
}
