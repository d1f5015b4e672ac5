#if canImport(Glibc)
  import Glibc
#endif
import Foundation
import SigbookWorkbook

/// `sigbook kernel`: the workbook language as a Jupyter kernel (messaging protocol 5.3 over
/// ZeroMQ), with one session, as the REPL's, that every cell runs against.
///
/// Threads: this one serves the shell and stdin channels and runs the cells (so a cell's
/// outputs stream on IOPub as it runs); one serves control (`interrupt_request` and
/// `shutdown_request` are answered while a cell runs); one echoes heartbeats; one watches the
/// front-end that started the kernel and ends the kernel when it is gone.
///
/// Every message is checked against the connection file's key before anything of it is read;
/// one whose signature does not verify is dropped and logged on standard error.
public final class Kernel {
  /// What the command line decides for the kernel.
  public struct Options: Sendable {
    /// The version reported in `kernel_info_reply` (the executable's).
    public var version: String
    /// Builds the session, as for `run`, the REPL and `serve`.
    public var sessions: SessionFactory
    /// The notebook the front-end runs (`JPY_SESSION_NAME`): figures go in its `NAME.figures`.
    public var notebook: String?
    /// The folder files are read from (the kernel's working directory).
    public var folder: String
    /// Forgets a SIGINT received before the cell that starts (the command line's Ctrl-C count).
    public var clearSignals: @Sendable () -> Void

    /// The options; `clearSignals` does nothing by default.
    public init(
      version: String, sessions: SessionFactory, notebook: String?, folder: String,
      clearSignals: @escaping @Sendable () -> Void = {}
    ) {
      self.version = version
      self.sessions = sessions
      self.notebook = notebook
      self.folder = folder
      self.clearSignals = clearSignals
    }
  }

  let options: Options
  let connection: ConnectionFile
  let signer: Signer
  let context: SocketContext
  let shell: Socket
  let control: Socket
  let stdin: Socket
  let heartbeat: Socket
  let publisher: Publisher
  let state = KernelState()
  /// The signatures received on shell and control, against replays.
  let seen = SeenSignatures()
  let session: Session
  /// The number of the last execution stored in history (`In [N]`).
  var executionCount = 0
  /// Every stored execution: its number, its code and its text outputs.
  var history: [(line: Int, code: String, output: String)] = []
  private let threadsDone = DispatchSemaphore(value: 0)

  /// Binds every channel to the connection file's address and ports, and builds the session.
  ///
  /// - Throws: a ``KernelError`` when a port cannot be bound or the session cannot be made.
  public init(connection: ConnectionFile, options: Options) throws(KernelError) {
    self.connection = connection
    self.options = options
    signer = Signer(key: connection.key)
    do {
      session = try options.sessions.session(
        forNotebook: options.notebook, inFolder: options.folder)
    } catch {
      throw KernelError(error.description)
    }
    do {
      context = try SocketContext()
      shell = try Socket(context, .router)
      control = try Socket(context, .router)
      stdin = try Socket(context, .router)
      heartbeat = try Socket(context, .reply)
      let iopub = try Socket(context, .publisher)
      try shell.bind(connection.address(connection.shellPort))
      try control.bind(connection.address(connection.controlPort))
      try stdin.bind(connection.address(connection.stdinPort))
      try heartbeat.bind(connection.address(connection.hbPort))
      try iopub.bind(connection.address(connection.iopubPort))
      publisher = Publisher(
        socket: iopub, signer: signer, session: UUID().uuidString.lowercased())
    } catch {
      throw KernelError(error.description)
    }
    let state = self.state
    let interrupted = options.sessions.isCancelled
    session.isCancelled = { state.isInterrupted || interrupted() }
  }

  /// Serves the channels until a `shutdown_request` (or the front-end's end).
  public func run() {
    startHeartbeat()
    startControl()
    watchParent()
    publisher.status("starting", parent: nil)
    while !state.isStopping {
      let ready = Socket.poll([shell, stdin], milliseconds: 100)
      if ready.contains(0), let frames = try? shell.receive() {
        handleShell(frames)
      }
      // Nothing asks for input (the language reads no keyboard): a stray reply is dropped.
      if ready.contains(1) { _ = try? stdin.receive() }
    }
    shell.close()
    stdin.close()
    threadsDone.wait()
    threadsDone.wait()
    publisher.close()
    context.terminate()
  }

  // MARK: Threads

  /// Echoes every heartbeat, so that the front-end knows the kernel is alive.
  private func startHeartbeat() {
    let (socket, state, done) = (heartbeat, state, threadsDone)
    let thread = Thread {
      while !state.isStopping {
        guard socket.hasMessage(within: 100), let frames = try? socket.receive() else { continue }
        try? socket.send(frames)
      }
      socket.close()
      done.signal()
    }
    thread.name = "sigbook-heartbeat"
    thread.start()
  }

  /// Serves the control channel: answered even while a cell runs on the shell thread.
  private func startControl() {
    let (socket, state, done) = (control, state, threadsDone)
    let (publisher, signer, seen, version) = (publisher, signer, seen, options.version)
    let thread = Thread {
      while !state.isStopping {
        guard socket.hasMessage(within: 100), let frames = try? socket.receive(),
          let request = Message.accepted(frames, on: "control", signer: signer, seen: seen)
        else { continue }
        publisher.status("busy", parent: request.header)
        let reply: (String, JSONObject)?
        switch request.type {
        case "interrupt_request":
          state.interrupt()
          reply = ("interrupt_reply", ["status": "ok"])
        case "shutdown_request":
          let restart = request.content.bool("restart") ?? false
          reply = ("shutdown_reply", ["status": "ok", "restart": restart])
        case "kernel_info_request":
          reply = ("kernel_info_reply", Self.kernelInfo(version: version))
        default:
          log("no answer to '\(request.type)' on the control channel")
          reply = nil
        }
        if let (type, content) = reply {
          let message = Message.make(
            type, session: publisher.session, parent: request.header, content: content,
            identities: request.identities)
          try? socket.send(message.frames(signedBy: signer))
        }
        publisher.status("idle", parent: request.header)
        if request.type == "shutdown_request" { state.stop() }
      }
      socket.close()
      done.signal()
    }
    thread.name = "sigbook-control"
    thread.start()
  }

  /// Ends the kernel once the process that started it is gone (its parent changes: the kernel
  /// was handed to init or a subreaper), as ipykernel's parent poller does, so that a kernel
  /// whose front-end crashed does not linger. Checked every half second.
  private func watchParent() {
    let parent = getppid()
    guard parent > 1 else { return }
    let thread = Thread {
      while true {
        usleep(500_000)
        if getppid() != parent {
          log("the front-end (process \(parent)) is gone: ending")
          _exit(0)
        }
      }
    }
    thread.name = "sigbook-parent"
    thread.start()
  }

  // MARK: Shell

  /// Handles one message of the shell channel, between a busy and an idle status.
  func handleShell(_ frames: [Data]) {
    guard let request = Message.accepted(frames, on: "shell", signer: signer, seen: seen)
    else { return }
    publisher.status("busy", parent: request.header)
    defer { publisher.status("idle", parent: request.header) }
    switch request.type {
    case "kernel_info_request":
      reply(to: request, "kernel_info_reply", Self.kernelInfo(version: options.version))
    case "execute_request": execute(request)
    case "complete_request": reply(to: request, "complete_reply", complete(request.content))
    case "inspect_request": reply(to: request, "inspect_reply", inspect(request.content))
    case "is_complete_request":
      reply(to: request, "is_complete_reply", isComplete(request.content))
    case "history_request": reply(to: request, "history_reply", history(request.content))
    case "comm_info_request": reply(to: request, "comm_info_reply", ["status": "ok", "comms": [:]])
    case "shutdown_request":
      let restart = request.content.bool("restart") ?? false
      reply(to: request, "shutdown_reply", ["status": "ok", "restart": restart])
      state.stop()
    case "comm_open":
      // No comm targets: the protocol asks for a comm_close.
      if let id = request.content.string("comm_id") {
        publisher.publish("comm_close", parent: request.header, ["comm_id": id, "data": [:]])
      }
    default:
      log("no answer to '\(request.type)' on the shell channel")
    }
  }

  /// Sends a reply of `type` on the shell channel to the sender of `request`.
  func reply(to request: Message, _ type: String, _ content: JSONObject) {
    let message = Message.make(
      type, session: publisher.session, parent: request.header, content: content,
      identities: request.identities)
    try? shell.send(message.frames(signedBy: signer))
  }

  /// The content of `kernel_info_reply`.
  static func kernelInfo(version: String) -> JSONObject {
    [
      "status": "ok", "protocol_version": Message.protocolVersion,
      "implementation": "sigbook", "implementation_version": version,
      "language_info": JupyterLanguage.info(version: version),
      "banner": "sigbook \(version): the workbook language, one session for the notebook",
      "help_links": [JSONObject](),
      "debugger": false,
    ]
  }
}
