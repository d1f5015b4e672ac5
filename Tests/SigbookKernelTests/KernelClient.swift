import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookKernel

/// A front-end of the sigbook kernel for the tests: starts `sigbook kernel` on a connection
/// file of its own (ZeroMQ over `ipc` sockets in a temporary folder, so that no port can be
/// taken), speaks to it with the kernel's own message code, and waits for what it sends.
final class KernelClient {
  let folder: TemporaryFolder
  let connection: ConnectionFile
  let signer: Signer
  let context: SocketContext
  let shell: Socket
  let control: Socket
  let iopub: Socket
  let session = UUID().uuidString.lowercased()
  /// The kernel process (nil when the caller starts it some other way).
  private(set) var process: RunningProcess?
  /// IOPub messages received and not yet taken by a wait.
  private var published: [Message] = []

  /// A connection file in a new folder; the kernel is started by ``start()`` or by the caller.
  init(key: String = UUID().uuidString) throws {
    folder = try TemporaryFolder()
    connection = ConnectionFile(
      transport: "ipc", ip: folder.path("k"), shellPort: 1, controlPort: 2, iopubPort: 3,
      stdinPort: 4, hbPort: 5, key: key)
    let encoder = JSONEncoder()
    try folder.write("connection.json", Array(try encoder.encode(connection)))
    signer = Signer(key: key)
    context = try SocketContext()
    shell = try Socket(context, .dealer, linger: 0)
    control = try Socket(context, .dealer, linger: 0)
    iopub = try Socket(context, .subscriber, linger: 0)
    try shell.connect(connection.address(connection.shellPort))
    try control.connect(connection.address(connection.controlPort))
    try iopub.connect(connection.address(connection.iopubPort))
  }

  deinit {
    for socket in [shell, control, iopub] { socket.close() }
    context.terminate()
  }

  /// The connection file's path.
  var connectionFile: String { folder.path("connection.json") }

  /// Starts `sigbook kernel` in the folder and waits until it answers and IOPub reaches us.
  func start(environment: [String: String] = [:]) throws {
    process = try Binary.start(
      ["kernel", "--connection-file", connectionFile], in: folder.url, environment: environment)
    try #require(waitUntilReady(), "the kernel did not answer: \(process?.stderr ?? "")")
  }

  /// Asks for kernel_info until a reply comes and IOPub has delivered a status (a SUB socket
  /// misses what is published before its subscription reaches the publisher).
  func waitUntilReady(upTo bound: Double = 60) -> Bool {
    let deadline = Date().addingTimeInterval(bound)
    while Date() < deadline {
      let header = send("kernel_info_request", [:], on: shell)
      if reply(to: header, on: shell, upTo: 1) != nil
        && !messages(answering: header, until: { $0.isIdle }, upTo: 1).isEmpty
      {
        return true
      }
    }
    return false
  }

  /// Sends a request signed with the connection's key (or with `signature` as it is) and
  /// returns its header bytes, by which replies are recognised.
  @discardableResult
  func send(
    _ type: String, _ content: JSONObject, on socket: Socket, signature: String? = nil
  ) -> Data {
    let message = Message.make(type, session: session, parent: nil, content: content)
    var frames = message.frames(signedBy: signer)
    if let signature { frames[1] = Data(signature.utf8) }
    try? socket.send(frames)
    return message.header
  }

  /// Runs `code` and returns its header.
  @discardableResult
  func execute(_ code: String) -> Data {
    send(
      "execute_request",
      ["code": code, "silent": false, "store_history": true, "allow_stdin": false], on: shell)
  }

  /// The reply to the request with `header` on `socket`, skipping replies to others; nil after
  /// `bound` seconds.
  func reply(to header: Data, on socket: Socket, upTo bound: Double = 60) -> Message? {
    let deadline = Date().addingTimeInterval(bound)
    while Date() < deadline {
      let left = Int(max(deadline.timeIntervalSinceNow, 0) * 1000)
      guard socket.hasMessage(within: min(left, 200)), let frames = try? socket.receive(),
        let message = try? Message.parse(frames, signer: signer)
      else { continue }
      if message.parent == header { return message }
    }
    return nil
  }

  /// The IOPub messages answering the request with `header`, up to and including the first for
  /// which `done` holds (or all of them after `bound` seconds).
  func messages(answering header: Data, until done: (Message) -> Bool, upTo bound: Double = 120)
    -> [Message]
  {
    var taken: [Message] = []
    var index = 0
    let deadline = Date().addingTimeInterval(bound)
    while true {
      while index < published.count {
        let message = published[index]
        if message.parent == header {
          published.remove(at: index)
          taken.append(message)
          if done(message) { return taken }
        } else {
          index += 1
        }
      }
      let left = Int(max(deadline.timeIntervalSinceNow, 0) * 1000)
      guard left > 0 else { return taken }
      if iopub.hasMessage(within: min(left, 200)), let frames = try? iopub.receive(),
        let message = try? Message.parse(frames, signer: signer)
      {
        published.append(message)
      }
    }
  }

  /// Runs `code` and returns its reply and the IOPub messages up to idle.
  func run(_ code: String, upTo bound: Double = 120) -> (reply: Message?, outputs: [Message]) {
    let header = execute(code)
    let outputs = messages(answering: header, until: { $0.isIdle }, upTo: bound)
    return (reply(to: header, on: shell, upTo: 5), outputs)
  }

  /// Asks the kernel to shut down and waits for it to end.
  func shutDown() {
    let header = send("shutdown_request", ["restart": false], on: control)
    _ = reply(to: header, on: control, upTo: 10)
    _ = process?.waitForExit(upTo: 30)
  }
}

extension Message {
  /// Whether this is `status` idle.
  var isIdle: Bool { type == "status" && content.string("execution_state") == "idle" }

  /// The text of a `stream` message on `name`.
  func streamText(_ name: String) -> String? {
    type == "stream" && content.string("name") == name ? content.string("text") : nil
  }
}

extension [Message] {
  /// Everything streamed on `name`, joined.
  func stream(_ name: String) -> String { compactMap { $0.streamText(name) }.joined() }
}
