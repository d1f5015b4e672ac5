import Crypto
import Foundation
import Synchronization

/// A JSON object as `JSONSerialization` reads and writes it.
typealias JSONObject = [String: Any]

/// One message of the Jupyter messaging protocol (5.3), as it travels over ZeroMQ:
/// `<identities> <IDS|MSG> <signature> <header> <parent_header> <metadata> <content> <buffers>`.
///
/// The header and parent header are kept as the bytes received, so that a reply's parent header
/// is exactly the request's header.
struct Message {
  /// The routing identities a ROUTER socket put before the delimiter (who to answer).
  var identities: [Data]
  /// The header's JSON bytes.
  var header: Data
  /// The parent header's JSON bytes (`{}` when there is none).
  var parent: Data
  var metadata: JSONObject
  var content: JSONObject

  /// The frame between the identities and the signature.
  static let delimiter = Data("<IDS|MSG>".utf8)

  /// The header's `msg_type` (`execute_request`).
  var type: String { headerObject["msg_type"] as? String ?? "" }

  /// The header as an object.
  var headerObject: JSONObject {
    (try? JSONSerialization.jsonObject(with: header)) as? JSONObject ?? [:]
  }

  /// The frames to send, signed by `signer`.
  func frames(signedBy signer: Signer) -> [Data] {
    let body = [header, parent, Self.json(metadata), Self.json(content)]
    return identities + [Self.delimiter, Data(signer.signature(of: body).utf8)] + body
  }

  /// A new message: a fresh header of `type` in `session`, answering `parent` (its header
  /// bytes; none for a message of the kernel's own).
  static func make(
    _ type: String, session: String, parent: Data?, content: JSONObject,
    identities: [Data] = [], metadata: JSONObject = [:]
  ) -> Message {
    let header: JSONObject = [
      "msg_id": UUID().uuidString.lowercased(), "session": session, "username": "sigbook",
      "date": timestamp(), "msg_type": type, "version": protocolVersion,
    ]
    return Message(
      identities: identities, header: json(header), parent: parent ?? Data("{}".utf8),
      metadata: metadata, content: content)
  }

  /// The version of the messaging protocol this kernel speaks.
  static let protocolVersion = "5.3"

  /// The time now as ISO 8601 with microseconds, in UTC (as jupyter_client writes dates).
  static func timestamp() -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: Date())
  }

  /// An object as compact JSON bytes (`{}` should it not be one).
  static func json(_ object: JSONObject) -> Data {
    (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes]))
      ?? Data("{}".utf8)
  }

  /// Why a received message was not accepted.
  enum Refusal: Error, Equatable, CustomStringConvertible {
    case noDelimiter
    case tooFewFrames
    case badSignature
    case replayed
    case notJSON(String)

    var description: String {
      switch self {
      case .noDelimiter: "no <IDS|MSG> delimiter"
      case .tooFewFrames: "fewer frames than a message has"
      case .badSignature: "its signature does not verify"
      case .replayed: "it repeats a message already received (same signature)"
      case .notJSON(let part): "its \(part) is not a JSON object"
      }
    }
  }

  /// The message of `frames` received on `channel`, or nil when it is refused (badly formed,
  /// wrongly signed, replayed): a refusal is logged and the kernel goes on.
  static func accepted(
    _ frames: [Data], on channel: String, signer: Signer, seen: SeenSignatures
  ) -> Message? {
    do {
      return try parse(frames, signer: signer, seen: seen)
    } catch {
      log("rejected a message on the \(channel) channel: \(error)")
      return nil
    }
  }

  /// Reads the frames of a message, checking its signature first: nothing of a message whose
  /// signature does not verify is parsed. With `seen`, a message signed as one received before
  /// (a replay of a captured request) is refused too, as ipykernel does.
  ///
  /// - Throws: a ``Refusal`` saying what is wrong.
  static func parse(_ frames: [Data], signer: Signer, seen: SeenSignatures? = nil)
    throws(Refusal) -> Message
  {
    guard let split = frames.firstIndex(of: delimiter) else { throw .noDelimiter }
    guard frames.count >= split + 6 else { throw .tooFewFrames }
    let signature = frames[split + 1]
    let body = Array(frames[(split + 2)..<(split + 6)])
    guard signer.verifies(signature, of: body) else { throw .badSignature }
    if let seen, signer.isSigning, !seen.insert(signature) { throw .replayed }
    func object(_ data: Data, _ part: String) throws(Refusal) -> JSONObject {
      guard let object = (try? JSONSerialization.jsonObject(with: data)) as? JSONObject else {
        throw .notJSON(part)
      }
      return object
    }
    _ = try object(body[0], "header")
    _ = try object(body[1], "parent header")
    return Message(
      identities: Array(frames[..<split]), header: body[0], parent: body[1],
      metadata: try object(body[2], "metadata"), content: try object(body[3], "content"))
  }
}

/// Signs and checks messages with HMAC-SHA256 over the header, parent header, metadata and
/// content frames, keyed by the connection file's key; with an empty key nothing is signed and
/// every signature is accepted (as the protocol says).
struct Signer: Sendable {
  private let key: SymmetricKey?

  init(key: String) {
    self.key = key.isEmpty ? nil : SymmetricKey(data: Data(key.utf8))
  }

  /// Whether messages are signed (the key is not empty).
  var isSigning: Bool { key != nil }

  /// The lowercase hexadecimal signature of the four frames ("" without a key).
  func signature(of body: [Data]) -> String {
    guard let key else { return "" }
    var hmac = HMAC<SHA256>(key: key)
    for frame in body { hmac.update(data: frame) }
    return Data(hmac.finalize()).map { String(format: "%02x", $0) }.joined()
  }

  /// Whether `signature` (hexadecimal text) signs the four frames; compared in constant time.
  func verifies(_ signature: Data, of body: [Data]) -> Bool {
    guard let key else { return true }
    guard let code = Self.bytes(ofHex: signature) else { return false }
    var joined = Data()
    for frame in body { joined.append(frame) }
    return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: joined, using: key)
  }

  /// The bytes a hexadecimal text spells, or nil when it is not one.
  private static func bytes(ofHex text: Data) -> Data? {
    guard text.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
      default: nil
      }
    }
    var bytes = Data(capacity: text.count / 2)
    var index = text.startIndex
    while index < text.endIndex {
      guard let high = nibble(text[index]), let low = nibble(text[index + 1]) else { return nil }
      bytes.append(high << 4 | low)
      index += 2
    }
    return bytes
  }
}

/// The signatures of the messages received lately, so that a repeated one is refused: the last
/// 65,536 are kept (ipykernel keeps as many).
final class SeenSignatures: Sendable {
  private let state = Mutex<(set: Set<Data>, order: [Data], next: Int)>(([], [], 0))
  static let capacity = 1 << 16

  /// Remembers `signature`; returns false when it was already there.
  func insert(_ signature: Data) -> Bool {
    state.withLock { state in
      guard state.set.insert(signature).inserted else { return false }
      if state.order.count < Self.capacity {
        state.order.append(signature)
      } else {
        state.set.remove(state.order[state.next])
        state.order[state.next] = signature
        state.next = (state.next + 1) % Self.capacity
      }
      return true
    }
  }
}

extension Dictionary where Key == String, Value == Any {
  /// A field as a string.
  func string(_ key: String) -> String? { self[key] as? String }

  /// A field as an integer (JSON numbers come back as `NSNumber` or `Int`).
  func int(_ key: String) -> Int? {
    if let value = self[key] as? Int { return value }
    return (self[key] as? NSNumber)?.intValue
  }

  /// A field as a bool.
  func bool(_ key: String) -> Bool? {
    if let value = self[key] as? Bool { return value }
    return (self[key] as? NSNumber)?.boolValue
  }
}
