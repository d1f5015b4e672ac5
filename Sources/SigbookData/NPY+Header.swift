extension NPY {
  /// What the header dictionary of a `.npy` file says.
  struct Header: Equatable {
    /// The NumPy type string, `<f4`.
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]
  }

  /// Parses the header of a `.npy` file strictly: the Python literal NumPy writes, a dictionary
  /// with exactly the keys `descr` (a string), `fortran_order` (`True` or `False`) and `shape` (a
  /// tuple of non-negative integers, `(3,)` for one axis), each once, in any order, then spaces
  /// and a newline. What NumPy would not write (a key twice, another key, a nested tuple, `(3)`
  /// for `(3,)`, escapes in strings) is refused with a message that says what was found, so that
  /// a damaged header never loads as data of another shape.
  ///
  /// The grammar is the subset of Python literals `numpy.lib.format` writes (`repr` of a dict of
  /// str, bool and tuple of int; Python 2's `3L` included). See NumPy's "NEP 1 — A simple file
  /// format for NumPy arrays".
  ///
  /// - Returns: the header, or a reason (lower case, quoting what was found) why it is refused.
  static func parseHeader(_ text: String) -> Result<Header, HeaderError> {
    var parser = HeaderParser(Array(text.utf8))
    do {
      return .success(try parser.header())
    } catch {
      return .failure(error)
    }
  }

  /// Why a `.npy` header is refused: a complete reason, lower case.
  struct HeaderError: Error, Equatable {
    var reason: String
  }
}

/// A Python literal of the kinds a `.npy` header holds.
private enum PythonLiteral: Equatable {
  case string(String)
  case bool(Bool)
  case integer(Int)
  case tuple([PythonLiteral])

  /// The literal as Python prints it, for messages.
  var text: String {
    switch self {
    case .string(let s): "'\(s)'"
    case .bool(let b): b ? "True" : "False"
    case .integer(let n): String(n)
    case .tuple(let items):
      items.count == 1 ? "(\(items[0].text),)" : "(\(items.map(\.text).joined(separator: ", ")))"
    }
  }
}

/// A recursive-descent parser over the header's bytes.
private struct HeaderParser {
  let bytes: [UInt8]
  var index = 0
  /// Tuples nested deeper than this are refused (NumPy writes none): no unbounded recursion.
  static let maxDepth = 8

  init(_ bytes: [UInt8]) { self.bytes = bytes }

  typealias Failure = NPY.HeaderError

  func fail(_ reason: String) -> Failure { Failure(reason: reason) }

  /// What is at the current position, for messages: `'x'` or `the end`.
  var found: String {
    var end = bytes.count
    while end > index, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[end - 1]) { end -= 1 }
    guard index < end else { return "the end of the header" }
    let text = String(decoding: bytes[index..<Swift.min(end, index + 12)], as: UTF8.self)
    return "'\(text.replacingControlCharacters)\(end > index + 12 ? "…" : "")'"
  }

  var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

  mutating func skipSpaces() {
    while let c = peek, c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d { index += 1 }
  }

  mutating func expect(_ c: UInt8, _ what: String) throws(Failure) {
    skipSpaces()
    guard peek == c else { throw fail("expected \(what) but found \(found)") }
    index += 1
  }

  mutating func header() throws(Failure) -> NPY.Header {
    try expect(UInt8(ascii: "{"), "'{'")
    var entries: [String: PythonLiteral] = [:]
    while true {
      skipSpaces()
      if peek == UInt8(ascii: "}") { break }
      guard case .string(let key) = try literal(depth: 0) else {
        throw fail("its keys must be strings ('descr', 'fortran_order', 'shape')")
      }
      guard ["descr", "fortran_order", "shape"].contains(key) else {
        throw fail("has the key '\(key)'; numpy writes only 'descr', 'fortran_order' and 'shape'")
      }
      guard entries[key] == nil else { throw fail("has the key '\(key)' twice") }
      try expect(UInt8(ascii: ":"), "':' after '\(key)'")
      entries[key] = try literal(depth: 0)
      skipSpaces()
      if peek == UInt8(ascii: ",") {
        index += 1
        continue
      }
      guard peek == UInt8(ascii: "}") else { throw fail("expected ',' or '}' but found \(found)") }
    }
    index += 1
    skipSpaces()
    guard index == bytes.count else {
      throw fail("has \(found) after the dictionary; numpy pads it with spaces only")
    }
    for key in ["descr", "fortran_order", "shape"] where entries[key] == nil {
      throw fail("has no '\(key)'")
    }
    guard case .string(let descr)? = entries["descr"] else {
      throw fail("its 'descr' is \(entries["descr"]?.text ?? "") rather than a type string")
    }
    guard case .bool(let fortran)? = entries["fortran_order"] else {
      throw fail(
        "its 'fortran_order' is \(entries["fortran_order"]?.text ?? "") rather than True or False")
    }
    let shapeLiteral = entries["shape"]
    guard case .tuple(let items)? = shapeLiteral else {
      throw fail("its 'shape' is \(shapeLiteral?.text ?? "") rather than a tuple such as (3, 4)")
    }
    var shape: [Int] = []
    for item in items {
      guard case .integer(let n) = item, n >= 0 else {
        throw fail(
          "its 'shape' \(shapeLiteral?.text ?? "") holds \(item.text); a shape holds "
            + "non-negative whole numbers")
      }
      shape.append(n)
    }
    return NPY.Header(descr: descr, fortranOrder: fortran, shape: shape)
  }

  mutating func literal(depth: Int) throws(Failure) -> PythonLiteral {
    skipSpaces()
    guard let c = peek else { throw fail("expected a value but found the end of the header") }
    switch c {
    case UInt8(ascii: "'"), UInt8(ascii: "\""):
      index += 1
      let start = index
      while let d = peek, d != c {
        guard d != UInt8(ascii: "\\"), d >= 0x20 else {
          throw fail("has an escape or a control character in a string")
        }
        index += 1
      }
      guard peek == c else { throw fail("has a string that does not end") }
      index += 1
      return .string(String(decoding: bytes[start..<index - 1], as: UTF8.self))
    case UInt8(ascii: "("):
      guard depth < Self.maxDepth else { throw fail("nests tuples too deeply") }
      index += 1
      var items: [PythonLiteral] = []
      var trailingComma = false
      while true {
        skipSpaces()
        if peek == UInt8(ascii: ")") { break }
        items.append(try literal(depth: depth + 1))
        skipSpaces()
        trailingComma = peek == UInt8(ascii: ",")
        if trailingComma {
          index += 1
          continue
        }
        guard peek == UInt8(ascii: ")") else {
          throw fail("expected ',' or ')' but found \(found)")
        }
      }
      index += 1
      // `(3)` is the number 3 in Python, not a tuple: NumPy writes `(3,)`.
      if items.count == 1, !trailingComma { return items[0] }
      return .tuple(items)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      let negative = c == UInt8(ascii: "-")
      if negative { index += 1 }
      var value = 0
      var digits = 0
      while let d = peek, d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") {
        let (times, o1) = value.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times.addingReportingOverflow(Int(d - UInt8(ascii: "0")))
        guard !o1, !o2 else { throw fail("has a number too large for a size") }
        value = sum
        digits += 1
        index += 1
      }
      guard digits > 0 else { throw fail("expected a number but found \(found)") }
      if peek == UInt8(ascii: "L") { index += 1 }  // Python 2's long integers: `3L`
      if let d = peek,
        d == UInt8(ascii: ".") || d == UInt8(ascii: "e") || d == UInt8(ascii: "E")
          || d == UInt8(ascii: "x") || d == UInt8(ascii: "_") || (d >= 0x41 && d <= 0x7a)
      {
        throw fail("expected a whole number but found \(found)")
      }
      return .integer(negative ? -value : value)
    default:
      for (word, value) in [("True", true), ("False", false)] {
        let w = Array(word.utf8)
        if index + w.count <= bytes.count, Array(bytes[index..<index + w.count]) == w {
          index += w.count
          return .bool(value)
        }
      }
      throw fail("expected a value but found \(found)")
    }
  }
}

extension String {
  /// The text with control characters shown as `\n`, `\0`, `\u{1b}`: safe to quote in a message.
  var replacingControlCharacters: String {
    var out = ""
    for scalar in unicodeScalars {
      switch scalar {
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\0": out += "\\0"
      case _ where scalar.value < 0x20 || scalar.value == 0x7f:
        out += "\\u{\(String(scalar.value, radix: 16))}"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }
}
