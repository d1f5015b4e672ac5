import Foundation
import Synchronization

/// The IOPub channel: every thread of the kernel publishes on it (the shell thread a cell's
/// outputs, the control thread its own status), one message at a time.
final class Publisher: Sendable {
  private let socket: Mutex<Socket>
  let signer: Signer
  /// The kernel's session id, in the header of every message it sends.
  let session: String

  init(socket: Socket, signer: Signer, session: String) {
    self.socket = Mutex(socket)
    self.signer = signer
    self.session = session
  }

  /// Publishes a message of `type` answering `parent` (a request's header bytes).
  func publish(_ type: String, parent: Data?, _ content: JSONObject) {
    let frames = Message.make(type, session: session, parent: parent, content: content)
      .frames(signedBy: signer)
    socket.withLock { socket in
      // IOPub is a broadcast: a message no one receives is not an error.
      try? socket.send([Data(type.utf8)] + frames)
    }
  }

  /// `status` with `execution_state` busy or idle (or starting).
  func status(_ state: String, parent: Data?) {
    publish("status", parent: parent, ["execution_state": state])
  }

  /// Text on the cell's standard output or error.
  func stream(_ name: String, _ text: String, parent: Data?) {
    publish("stream", parent: parent, ["name": name, "text": text])
  }

  /// Closes the socket (at shutdown, once no thread publishes any more).
  func close() { socket.withLock { $0.close() } }
}

/// What the kernel's threads share besides IOPub: whether an interrupt was asked for and
/// whether the kernel is shutting down.
final class KernelState: Sendable {
  private let interrupted = Atomic<Bool>(false)
  private let stopping = Atomic<Bool>(false)

  /// Whether an `interrupt_request` arrived since the running cell started.
  var isInterrupted: Bool { interrupted.load(ordering: .relaxed) }
  /// Whether a `shutdown_request` arrived (or the front-end went away).
  var isStopping: Bool { stopping.load(ordering: .relaxed) }

  func interrupt() { interrupted.store(true, ordering: .relaxed) }
  func clearInterrupt() { interrupted.store(false, ordering: .relaxed) }
  func stop() {
    stopping.store(true, ordering: .relaxed)
    interrupt()
  }
}

/// Writes a line to the kernel's standard error (the front-end's log).
func log(_ text: String) {
  FileHandle.standardError.write(Data("sigbook kernel: \(text)\n".utf8))
}
