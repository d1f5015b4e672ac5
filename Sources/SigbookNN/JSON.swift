/// A JSON value (RFC 8259) that keeps what a byte-exact reader and writer need.
///
/// Numbers keep their literal text, so integers of any size are read exactly and written back
/// unchanged; objects keep their members in document order, duplicates included, so a caller can
/// report them. `text` writes the value compactly (no spaces), the same bytes on every run.
enum JSONValue {
  case null
  case bool(Bool)
  /// A number as its literal text, e.g. `"-12"` or `"1.5e3"`.
  case number(String)
  case string(String)
  case array([JSONValue])
  /// Members in document order.
  case object([(key: String, value: JSONValue)])

  /// An integer number.
  static func integer(_ value: Int) -> JSONValue { .number(String(value)) }

  /// The value as an `Int` if it is an integer literal (no fraction, no exponent) that fits.
  var integerValue: Int? {
    if case .number(let text) = self { return Int(text) }
    return nil
  }

  /// The value if it is a string.
  var stringValue: String? {
    if case .string(let value) = self { return value }
    return nil
  }

  /// The elements if the value is an array.
  var arrayValue: [JSONValue]? {
    if case .array(let elements) = self { return elements }
    return nil
  }

  /// The members if the value is an object.
  var objectMembers: [(key: String, value: JSONValue)]? {
    if case .object(let members) = self { return members }
    return nil
  }

  /// The value as compact JSON text: no whitespace, members in their stored order.
  var text: String {
    var out: [UInt8] = []
    write(to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  private func write(to out: inout [UInt8]) {
    switch self {
    case .null: out.append(contentsOf: "null".utf8)
    case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
    case .number(let literal): out.append(contentsOf: literal.utf8)
    case .string(let value): JSONValue.appendQuoted(value, to: &out)
    case .array(let elements):
      out.append(UInt8(ascii: "["))
      for (i, element) in elements.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        element.write(to: &out)
      }
      out.append(UInt8(ascii: "]"))
    case .object(let members):
      out.append(UInt8(ascii: "{"))
      for (i, member) in members.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        JSONValue.appendQuoted(member.key, to: &out)
        out.append(UInt8(ascii: ":"))
        member.value.write(to: &out)
      }
      out.append(UInt8(ascii: "}"))
    }
  }

  /// `string` as a JSON string literal.
  ///
  /// Escapes the quote and the backslash with a backslash and every control character below
  /// U+0020 as `\u00XX` (upper-case hex); everything else, non-ASCII included, is written as its
  /// UTF-8 bytes.
  static func quoted(_ string: String) -> String {
    var out: [UInt8] = []
    appendQuoted(string, to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  private static func appendQuoted(_ string: String, to out: inout [UInt8]) {
    let hex = Array("0123456789ABCDEF".utf8)
    out.append(UInt8(ascii: "\""))
    // Bytes of multi-byte UTF-8 sequences are all >= 0x80, so a byte-wise pass is safe.
    for byte in string.utf8 {
      switch byte {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"):
        out.append(UInt8(ascii: "\\"))
        out.append(byte)
      case 0..<0x20:
        out.append(contentsOf: "\\u00".utf8)
        out.append(hex[Int(byte >> 4)])
        out.append(hex[Int(byte & 0xF)])
      default:
        out.append(byte)
      }
    }
    out.append(UInt8(ascii: "\""))
  }

  /// Parses one JSON document (a value with optional whitespace around it) from UTF-8 bytes.
  ///
  /// Strict RFC 8259: no comments, no trailing commas, no `NaN`, no lone surrogates in `\u`
  /// escapes, no raw control characters in strings, valid UTF-8 only; nesting is limited to
  /// `JSONParser.maximumDepth` levels.
  ///
  /// - Throws: `JSONSyntaxError` with what was expected and the byte offset.
  static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
    guard String(validating: bytes, as: UTF8.self) != nil else {
      throw JSONSyntaxError(message: "invalid utf-8", offset: 0)
    }
    var parser = JSONParser(bytes: bytes)
    return try parser.parseDocument()
  }
}

/// A syntax error in JSON text.
struct JSONSyntaxError: Error, Equatable, CustomStringConvertible {
  /// What was wrong, lower case (`expected ',' or '}'`).
  var message: String
  /// The byte offset in the text where the error was found.
  var offset: Int

  var description: String { "\(message) at byte \(offset)" }
}

/// A recursive-descent JSON parser over UTF-8 bytes that are already known to be valid.
struct JSONParser {
  /// The deepest nesting of arrays and objects accepted; deeper input is an error, not a crash.
  static let maximumDepth = 64

  private let bytes: [UInt8]
  private var index = 0
  private var depth = 0

  init(bytes: [UInt8]) { self.bytes = bytes }

  private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

  private func failure(_ message: String) -> JSONSyntaxError {
    JSONSyntaxError(message: message, offset: index)
  }

  mutating func parseDocument() throws(JSONSyntaxError) -> JSONValue {
    skipWhitespace()
    let value = try parseValue()
    skipWhitespace()
    guard index == bytes.count else { throw failure("unexpected text after the value") }
    return value
  }

  private mutating func skipWhitespace() {
    while let b = peek, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { index += 1 }
  }

  private mutating func consume(_ ascii: Unicode.Scalar) -> Bool {
    guard peek == UInt8(ascii: ascii) else { return false }
    index += 1
    return true
  }

  private mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
    guard let b = peek else { throw failure("expected a value") }
    switch b {
    case UInt8(ascii: "{"): return try parseObject()
    case UInt8(ascii: "["): return try parseArray()
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"): return try parseLiteral()
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
    default: throw failure("expected a value")
    }
  }

  private mutating func parseLiteral() throws(JSONSyntaxError) -> JSONValue {
    for (word, value) in [("true", JSONValue.bool(true)), ("false", .bool(false)), ("null", .null)]
    where bytes[index...].starts(with: word.utf8) {
      index += word.utf8.count
      return value
    }
    throw failure("expected a value")
  }

  private mutating func enterContainer() throws(JSONSyntaxError) {
    depth += 1
    guard depth <= JSONParser.maximumDepth else {
      throw failure("nesting deeper than \(JSONParser.maximumDepth) levels")
    }
    index += 1
  }

  private mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
    try enterContainer()
    defer { depth -= 1 }
    var members: [(key: String, value: JSONValue)] = []
    skipWhitespace()
    if consume("}") { return .object(members) }
    while true {
      skipWhitespace()
      guard peek == UInt8(ascii: "\"") else { throw failure("expected a string key") }
      let key = try parseString()
      skipWhitespace()
      guard consume(":") else { throw failure("expected ':'") }
      skipWhitespace()
      members.append((key, try parseValue()))
      skipWhitespace()
      if consume(",") { continue }
      if consume("}") { return .object(members) }
      throw failure("expected ',' or '}'")
    }
  }

  private mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
    try enterContainer()
    defer { depth -= 1 }
    var elements: [JSONValue] = []
    skipWhitespace()
    if consume("]") { return .array(elements) }
    while true {
      skipWhitespace()
      elements.append(try parseValue())
      skipWhitespace()
      if consume(",") { continue }
      if consume("]") { return .array(elements) }
      throw failure("expected ',' or ']'")
    }
  }

  private mutating func parseNumber() throws(JSONSyntaxError) -> String {
    let start = index
    func digits(_ parser: inout JSONParser) -> Int {
      var n = 0
      while let b = parser.peek, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") {
        parser.index += 1
        n += 1
      }
      return n
    }
    _ = consume("-")
    if !consume("0") {
      guard digits(&self) > 0 else { throw failure("invalid number") }
    }
    if consume(".") {
      guard digits(&self) > 0 else { throw failure("invalid number") }
    }
    if consume("e") || consume("E") {
      if !consume("+") { _ = consume("-") }
      guard digits(&self) > 0 else { throw failure("invalid number") }
    }
    return String(decoding: bytes[start..<index], as: UTF8.self)
  }

  private mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
    var value: UInt32 = 0
    for _ in 0..<4 {
      guard let b = peek, let digit = hexDigit(b) else { throw failure("invalid \\u escape") }
      value = value << 4 | digit
      index += 1
    }
    return value
  }

  private func hexDigit(_ b: UInt8) -> UInt32? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(b - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(b - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(b - UInt8(ascii: "A") + 10)
    default: return nil
    }
  }

  private mutating func parseString() throws(JSONSyntaxError) -> String {
    index += 1  // the opening quote
    var out: [UInt8] = []
    while true {
      guard let b = peek else { throw failure("unterminated string") }
      switch b {
      case UInt8(ascii: "\""):
        index += 1
        // The input was validated as UTF-8 and escapes are encoded as UTF-8, so this is exact.
        return String(decoding: out, as: UTF8.self)
      case UInt8(ascii: "\\"):
        index += 1
        try parseEscape(into: &out)
      case 0..<0x20:
        throw failure("control character in a string")
      default:
        out.append(b)
        index += 1
      }
    }
  }

  private mutating func parseEscape(into out: inout [UInt8]) throws(JSONSyntaxError) {
    guard let b = peek else { throw failure("unterminated string") }
    index += 1
    switch b {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(b)
    case UInt8(ascii: "b"): out.append(0x08)
    case UInt8(ascii: "f"): out.append(0x0C)
    case UInt8(ascii: "n"): out.append(0x0A)
    case UInt8(ascii: "r"): out.append(0x0D)
    case UInt8(ascii: "t"): out.append(0x09)
    case UInt8(ascii: "u"):
      var code = try parseHex4()
      if code >= 0xD800 && code < 0xDC00 {
        guard consume("\\"), consume("u") else { throw failure("unpaired surrogate in \\u escape") }
        let low = try parseHex4()
        guard low >= 0xDC00 && low < 0xE000 else {
          throw failure("unpaired surrogate in \\u escape")
        }
        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
      }
      guard let scalar = Unicode.Scalar(code) else {
        throw failure("unpaired surrogate in \\u escape")
      }
      UTF8.encode(scalar) { out.append($0) }
    default:
      index -= 1
      throw failure("invalid escape")
    }
  }
}
