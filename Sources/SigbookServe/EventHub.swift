import Foundation
import NIOCore
import Synchronization

import CPlatform

/// Sends events to every open event stream of the page (Server-Sent Events).
///
/// An event is a JSON object written as one `data:` line. It is encoded once, into one
/// `ByteBuffer` that every stream's queue and every connection's pending writes share, so a
/// change costs its size once, not once per client.
///
/// Each stream's queue is bounded (``maximumQueuedBytes``). A client that does not read (a tab
/// in the background, a stalled connection) loses its queued events when they pass the bound and
/// gets the whole state instead (a `sync` event, made by the `resync` closure given at
/// subscription) when it reads again: it catches up without the server holding every change for
/// it. A stream's queue is released when its connection ends; idle streams get a comment line
/// every ``keepAliveInterval`` so that a connection that went away is noticed even when nothing
/// changes.
final class EventHub: Sendable {
  /// The most a stream may have queued before its queue is dropped for a resync.
  static let maximumQueuedBytes = 4 << 20
  /// How often idle streams get a keep-alive comment.
  static let keepAliveInterval: Duration = .seconds(15)

  private struct Subscriber {
    var queue = CircularBuffer<ByteBuffer>()
    var bytes = 0
    /// The queue was dropped: the next read gets the whole state.
    var needsResync = false
    let wake: AsyncStream<Void>.Continuation

    /// Queues `buffer`, or drops the queue for a resync when it would pass the bound; a stream
    /// that awaits a resync needs nothing more until it reads.
    mutating func append(_ buffer: ByteBuffer, size: Int) {
      if needsResync { return }
      if !queue.isEmpty && bytes + size > EventHub.maximumQueuedBytes {
        queue = CircularBuffer()
        bytes = 0
        needsResync = true
        return
      }
      queue.append(buffer)
      bytes += size
    }
  }

  private struct State {
    var subscribers: [UInt64: Subscriber] = [:]
    var nextID: UInt64 = 0
    var isFinished = false
    /// The most streams open since free memory was last given back.
    var peakSinceTrim = 0
    /// An event was sent or a stream ended since free memory was last given back.
    var changedSinceTrim = false
  }

  private let state = Mutex(State())

  /// A new stream of events, starting with `first` (the page's whole state, so that nothing
  /// that happened between loading the page and opening the stream is missed).
  ///
  /// - Parameter resync: the whole state as an event, for a stream whose queue was dropped;
  ///   called on the stream's task, with no lock of the hub held.
  func subscribe(first: String, resync: @escaping @Sendable () -> String) -> Stream {
    let (wake, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    let id = state.withLock { state -> UInt64? in
      guard !state.isFinished else { return nil }
      let id = state.nextID
      state.nextID += 1
      var subscriber = Subscriber(wake: continuation)
      let buffer = Self.frame(first)
      subscriber.queue.append(buffer)
      subscriber.bytes = buffer.readableBytes
      state.subscribers[id] = subscriber
      state.peakSinceTrim = max(state.peakSinceTrim, state.subscribers.count)
      return id
    }
    guard let id else {
      continuation.finish()
      return Stream(hub: self, id: nil, wake: wake, resync: resync)
    }
    continuation.onTermination = { [weak self] _ in self?.remove(id) }
    continuation.yield()
    return Stream(hub: self, id: id, wake: wake, resync: resync)
  }

  /// Sends an event (a JSON object) to every stream.
  func send(_ event: [String: Any]) {
    guard
      let data = try? JSONSerialization.data(
        withJSONObject: event, options: [.sortedKeys, .withoutEscapingSlashes])
    else { return }
    enqueue(Self.frame(data))
  }

  /// Sends a comment line to every stream whose queue is empty: browsers ignore it, and writing
  /// it tells whether the connection is still there.
  ///
  /// Also gives malloc's free pages back to the system when events were sent or streams ended
  /// since the last time: what a change or a crowd of clients used is freed after they are done,
  /// but stays in malloc's heaps (and counts in the server's memory) until trimmed.
  func keepAlive() {
    let comment = ByteBuffer(string: ": keep-alive\n\n")
    let (woken, trim) = state.withLock { state -> ([AsyncStream<Void>.Continuation], Bool) in
      var woken: [AsyncStream<Void>.Continuation] = []
      for (id, subscriber) in state.subscribers
      where subscriber.queue.isEmpty && !subscriber.needsResync {
        state.subscribers[id]?.append(comment, size: comment.readableBytes)
        woken.append(subscriber.wake)
      }
      let trim = state.changedSinceTrim
      state.changedSinceTrim = false
      if trim { state.peakSinceTrim = state.subscribers.count }
      return (woken, trim)
    }
    for wake in woken { wake.yield() }
    if trim { sigbook_release_free_memory() }
  }

  private func enqueue(_ buffer: ByteBuffer) {
    let size = buffer.readableBytes
    let woken = state.withLock { state -> [AsyncStream<Void>.Continuation] in
      var woken: [AsyncStream<Void>.Continuation] = []
      woken.reserveCapacity(state.subscribers.count)
      state.changedSinceTrim = true
      for id in state.subscribers.keys {
        state.subscribers[id]?.append(buffer, size: size)
        if let wake = state.subscribers[id]?.wake { woken.append(wake) }
      }
      return woken
    }
    for wake in woken { wake.yield() }
  }

  /// What a stream writes next: its oldest queued event, or the whole state after a drop; nil
  /// when the stream has nothing queued. One at a time, so that what a slow client has not yet
  /// written stays counted against its bound.
  fileprivate func next(_ id: UInt64) -> Next? {
    state.withLock { state -> Next? in
      guard var subscriber = state.subscribers[id] else { return .end }
      defer { state.subscribers[id] = subscriber }
      if subscriber.needsResync {
        subscriber.needsResync = false
        return .resync
      }
      guard let buffer = subscriber.queue.popFirst() else { return nil }
      subscriber.bytes -= buffer.readableBytes
      return .event(buffer)
    }
  }

  fileprivate enum Next {
    case event(ByteBuffer)
    case resync
    case end
  }

  private func remove(_ id: UInt64) {
    let trim = state.withLock { state in
      guard state.subscribers.removeValue(forKey: id) != nil else { return false }
      // Set even when trimming now: the connection's own memory is freed after this.
      state.changedSinceTrim = true
      guard state.subscribers.count <= state.peakSinceTrim / 2 else { return false }
      state.peakSinceTrim = state.subscribers.count
      return true
    }
    // What the streams held went back to malloc; when half of them have gone since the last
    // time, give malloc's free pages back to the system, so that a crowd of clients that left
    // does not keep the server large (a few calls for a thousand clients leaving; what their
    // tasks free after this goes back at the next keep-alive).
    if trim { sigbook_release_free_memory() }
  }

  /// The number of open streams.
  var count: Int { state.withLock { $0.subscribers.count } }

  /// Ends every stream (the server stops); later subscriptions end at once.
  func finishAll() {
    let targets = state.withLock { state in
      state.isFinished = true
      return state.subscribers.values.map(\.wake)
    }
    for wake in targets { wake.finish() }
  }

  /// An event as the stream carries it: `data: JSON` and a blank line.
  private static func frame(_ json: some Collection<UInt8>) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.reserveCapacity(json.count + 8)
    buffer.writeString("data: ")
    buffer.writeBytes(json)
    buffer.writeString("\n\n")
    return buffer
  }

  private static func frame(_ json: String) -> ByteBuffer { frame(Array(json.utf8)) }

  /// One client's events, in order, as buffers to write.
  struct Stream: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let hub: EventHub
    let id: UInt64?
    let wake: AsyncStream<Void>
    let resync: @Sendable () -> String

    func makeAsyncIterator() -> Iterator {
      Iterator(hub: hub, id: id, wake: wake.makeAsyncIterator(), resync: resync)
    }

    struct Iterator: AsyncIteratorProtocol {
      let hub: EventHub
      let id: UInt64?
      var wake: AsyncStream<Void>.Iterator
      let resync: @Sendable () -> String

      mutating func next() async -> ByteBuffer? {
        guard let id else { return nil }
        while true {
          switch hub.next(id) {
          case .event(let buffer): return buffer
          case .resync: return EventHub.frame(resync())
          case .end: return nil
          case nil:
            // Nothing queued: wait for a send (a wake that came while draining only costs
            // one empty look at the queue).
            guard await wake.next() != nil else { return nil }
          }
        }
      }
    }
  }
}
