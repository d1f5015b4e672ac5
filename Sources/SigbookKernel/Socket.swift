#if canImport(Glibc)
  import Glibc
#endif
import CZmq
import Foundation

/// A failure of ZeroMQ, with libzmq's own words for it.
struct SocketError: Error, CustomStringConvertible {
  let description: String

  /// The error libzmq reports for the last call, after `what` (`cannot bind tcp://…`).
  static func last(_ what: String) -> SocketError {
    SocketError(description: "\(what): \(String(cString: zmq_strerror(zmq_errno())))")
  }
}

/// A ZeroMQ context: the I/O thread every socket of the kernel shares.
final class SocketContext: @unchecked Sendable {
  // libzmq's contexts are thread-safe; the pointer itself never changes.
  let handle: UnsafeMutableRawPointer

  init() throws(SocketError) {
    guard let handle = zmq_ctx_new() else { throw .last("cannot create a ZeroMQ context") }
    self.handle = handle
  }

  /// Ends the context once every socket is closed, waiting for their unsent messages as long as
  /// each socket's linger allows.
  func terminate() {
    while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
  }
}

/// One ZeroMQ socket of the kernel.
///
/// A libzmq socket must not be used by two threads at once: each is used by the thread that
/// serves its channel, and IOPub, which several threads publish on, is reached through a
/// `Mutex` (see `Publisher`).
final class Socket: @unchecked Sendable {
  /// The kinds of socket the Jupyter channels use.
  enum Kind {
    case router, publisher, reply, dealer, subscriber, request

    var value: Int32 {
      switch self {
      case .router: ZMQ_ROUTER
      case .publisher: ZMQ_PUB
      case .reply: ZMQ_REP
      case .dealer: ZMQ_DEALER
      case .subscriber: ZMQ_SUB
      case .request: ZMQ_REQ
      }
    }
  }

  private let handle: UnsafeMutableRawPointer

  /// A socket of `kind` in `context`; messages still unsent when it closes are kept at most
  /// `linger` milliseconds.
  init(_ context: SocketContext, _ kind: Kind, linger: Int32 = 1000) throws(SocketError) {
    guard let handle = zmq_socket(context.handle, kind.value) else {
      throw .last("cannot create a ZeroMQ socket")
    }
    self.handle = handle
    var linger = linger
    zmq_setsockopt(handle, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
    if kind == .subscriber { zmq_setsockopt(handle, ZMQ_SUBSCRIBE, "", 0) }
  }

  /// Listens at `address` (`tcp://127.0.0.1:5555`).
  func bind(_ address: String) throws(SocketError) {
    guard zmq_bind(handle, address) == 0 else { throw .last("cannot bind \(address)") }
  }

  /// Connects to `address` (the tests' client side).
  func connect(_ address: String) throws(SocketError) {
    guard zmq_connect(handle, address) == 0 else { throw .last("cannot connect to \(address)") }
  }

  /// Sets the identity a ROUTER peer sees for this socket.
  func setIdentity(_ identity: Data) {
    _ = identity.withUnsafeBytes {
      zmq_setsockopt(handle, ZMQ_ROUTING_ID, $0.baseAddress, $0.count)
    }
  }

  /// Closes the socket; it must not be used afterwards.
  func close() { zmq_close(handle) }

  /// Sends the frames of one message.
  func send(_ frames: [Data]) throws(SocketError) {
    for (i, frame) in frames.enumerated() {
      let flags = i < frames.count - 1 ? ZMQ_SNDMORE : 0
      var result: Int32 = -1
      repeat {
        result = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
      } while result < 0 && zmq_errno() == EINTR
      guard result >= 0 else { throw .last("cannot send a message") }
    }
  }

  /// Receives the frames of one message, waiting for it.
  func receive() throws(SocketError) -> [Data] {
    var frames: [Data] = []
    while true {
      var message = zmq_msg_t()
      zmq_msg_init(&message)
      defer { zmq_msg_close(&message) }
      var size: Int32 = -1
      repeat { size = zmq_msg_recv(&message, handle, 0) } while size < 0 && zmq_errno() == EINTR
      guard size >= 0 else { throw .last("cannot receive a message") }
      if let bytes = zmq_msg_data(&message) {
        frames.append(Data(bytes: bytes, count: zmq_msg_size(&message)))
      } else {
        frames.append(Data())
      }
      if zmq_msg_more(&message) == 0 { return frames }
    }
  }

  /// Waits at most `milliseconds` for a message on any of `sockets`; returns the indices of
  /// those that have one (none when the time passed or a signal interrupted the wait).
  static func poll(_ sockets: [Socket], milliseconds: Int) -> [Int] {
    var items = sockets.map {
      zmq_pollitem_t(socket: $0.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
    }
    let count = zmq_poll(&items, Int32(items.count), milliseconds)
    guard count > 0 else { return [] }
    return items.indices.filter { items[$0].revents & Int16(ZMQ_POLLIN) != 0 }
  }

  /// Whether a message waits on this socket, after at most `milliseconds`.
  func hasMessage(within milliseconds: Int) -> Bool {
    !Self.poll([self], milliseconds: milliseconds).isEmpty
  }
}
