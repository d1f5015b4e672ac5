#if canImport(Glibc)
  import Glibc
#endif
import Foundation

/// Who may use the page and which files it may read: the token, the Host and Origin headers,
/// and paths inside the figures folder.
struct Access: Sendable {
  /// The secret every request must carry (in the address once, then in a cookie).
  let token: String
  /// The port the server listens on, part of the allowed Host and Origin values.
  let port: Int
  /// The host names the Host header may name.
  let allowedHosts: Set<String>
  /// Whether any Host is accepted (the server listens on every interface).
  let anyHost: Bool

  /// The cookie that carries the token after the first visit; one per port, since cookies do
  /// not tell ports apart.
  var cookieName: String { "sigbook_token_\(port)" }

  /// A new random token: 24 bytes from the system's generator, as hex.
  static func randomToken() -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator))
    }
    .joined()
  }

  /// The rules for a server bound to `host` on `port`.
  init(token: String, host: String, port: Int) {
    self.token = token
    self.port = port
    var hosts: Set<String> = ["127.0.0.1", "localhost", "[::1]"]
    let wildcard = host == "0.0.0.0" || host == "::" || host == "[::]"
    if !wildcard { hosts.insert(host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host) }
    allowedHosts = hosts
    anyHost = wildcard
  }

  /// Whether a Host header names this server: an allowed name, with this port if it has one.
  ///
  /// A page of another site that resolves its own name to 127.0.0.1 (DNS rebinding) sends its
  /// own name in Host, and is refused.
  func acceptsHost(_ value: String?) -> Bool {
    guard let value, !value.isEmpty, let (name, port) = Self.split(value.lowercased()) else {
      return false
    }
    if let port, port != self.port { return false }
    return anyHost || allowedHosts.contains(name)
  }

  /// Whether an Origin header (when a browser sends one) is this server's own page.
  func acceptsOrigin(_ value: String?, host: String?) -> Bool {
    guard let value else { return true }
    guard let host, value.lowercased() == "http://" + host.lowercased() else { return false }
    return true
  }

  /// Whether a token matches, in time that does not depend on where it differs.
  func matches(_ candidate: Substring?) -> Bool {
    guard let candidate else { return false }
    let a = Array(candidate.utf8), b = Array(token.utf8)
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for i in 0..<a.count { difference |= a[i] ^ b[i] }
    return difference == 0
  }

  /// `name` and `port` of `host:port` (`[::1]:8765` too), or nil when the value is not a host
  /// name or address with an optional port: a port that is not 1 to 5 digits (`8765@evil.com`),
  /// or a name holding anything but letters, digits, `.`, `-` and `_` (`[…]` holding hex
  /// digits, `:` and `.`).
  static func split(_ value: String) -> (String, Int?)? {
    func port(_ text: Substring) -> Int?? {
      guard text.hasPrefix(":") else { return text.isEmpty ? .some(nil) : nil }
      let digits = text.dropFirst()
      guard (1...5).contains(digits.count), digits.allSatisfy(\.isASCII),
        digits.allSatisfy(\.isNumber), let number = Int(digits), number <= 65535
      else { return nil }
      return .some(number)
    }
    if value.hasPrefix("["), let close = value.firstIndex(of: "]") {
      let name = String(value[...close])
      guard
        name.dropFirst().dropLast().allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }),
        let port = port(value[value.index(after: close)...])
      else { return nil }
      return (name, port)
    }
    let colon = value.firstIndex(of: ":") ?? value.endIndex
    let name = value[..<colon]
    guard !name.isEmpty,
      name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._".contains($0)) }),
      let port = port(value[colon...])
    else { return nil }
    return (String(name), port)
  }
}

/// Finds the file a figure address names, never outside the figures folder.
enum FigurePath {
  /// The real path of the file that `/figures/…` names, or nil (which is a 404).
  ///
  /// The address is decoded once; a part that is empty, `.` or `..` (written as such or
  /// encoded, `%2e%2e`), holds a NUL or a backslash, or a decoded `/` is refused; then the
  /// path with every symbolic link resolved must lie inside the folder's own resolved path, so
  /// a link in the folder that points out of it is refused too, and so is a folder that is a
  /// link itself.
  static func resolve(_ rawPath: Substring, in folder: String) -> String? {
    var parts: [String] = []
    for raw in rawPath.split(separator: "/", omittingEmptySubsequences: false) {
      guard let part = String(raw).removingPercentEncoding, !part.isEmpty, part != ".",
        part != "..", !part.contains("/"), !part.contains("\\"), !part.contains("\0")
      else { return nil }
      parts.append(part)
    }
    // A figures folder that is itself a link is refused: the page would serve where it points.
    var folderStatus = stat()
    guard !parts.isEmpty, lstat(folder, &folderStatus) == 0,
      (folderStatus.st_mode & S_IFMT) == S_IFDIR, let root = realPath(folder)
    else { return nil }
    guard let resolved = realPath(root + "/" + parts.joined(separator: "/")),
      resolved.hasPrefix(root + "/")
    else { return nil }
    var status = stat()
    guard stat(resolved, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
    return resolved
  }

  static func realPath(_ path: String) -> String? {
    guard let pointer = realpath(path, nil) else { return nil }
    defer { free(pointer) }
    return String(cString: pointer)
  }

  /// The content type of a figure file.
  static func contentType(_ path: String) -> String {
    switch URL(fileURLWithPath: path).pathExtension.lowercased() {
    case "svg": "image/svg+xml"
    case "png": "image/png"
    case "pdf": "application/pdf"
    case "csv": "text/csv; charset=utf-8"
    case "json": "application/json"
    default: "application/octet-stream"
    }
  }
}
