import Foundation
import Synchronization

/// Sends events to every open event stream of the page (Server-Sent Events).
///
/// Each subscriber gets its own buffered `AsyncStream`; an event is a JSON object written as one
/// `data:` line. A stream that goes away (the browser closed the tab) is forgotten when its
/// response ends.
final class EventHub: Sendable {
  private let subscribers = Mutex<[UUID: AsyncStream<String>.Continuation]>([:])

  /// A new stream of events, starting with `first` (the page's whole state, so that nothing
  /// that happened between loading the page and opening the stream is missed).
  func subscribe(first: String) -> AsyncStream<String> {
    let id = UUID()
    let (stream, continuation) = AsyncStream<String>.makeStream(
      bufferingPolicy: .bufferingNewest(4096))
    continuation.yield(first)
    continuation.onTermination = { [weak self] _ in
      _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
    }
    subscribers.withLock { $0[id] = continuation }
    return stream
  }

  /// Sends an event (a JSON object) to every subscriber.
  func send(_ event: [String: Any]) {
    guard
      let data = try? JSONSerialization.data(
        withJSONObject: event, options: [.sortedKeys, .withoutEscapingSlashes]),
      let line = String(data: data, encoding: .utf8)
    else { return }
    let targets = subscribers.withLock { Array($0.values) }
    for continuation in targets { continuation.yield(line) }
  }

  /// The number of open streams.
  var count: Int { subscribers.withLock { $0.count } }

  /// Ends every stream (the server stops).
  func finishAll() {
    let targets = subscribers.withLock { Array($0.values) }
    for continuation in targets { continuation.finish() }
  }
}
