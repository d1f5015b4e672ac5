/// How the lexer classifies scalars and spells tokens.
extension Lexer {
  /// The text of the tokens that are always written the same way.
  static func spelling(of kind: Token.Kind) -> String? {
    switch kind {
    case .plus: "+"
    case .minus: "-"
    case .star: "*"
    case .slash: "/"
    case .equalEqual: "=="
    case .notEqual: "!="
    case .less: "<"
    case .lessEqual: "<="
    case .greater: ">"
    case .greaterEqual: ">="
    case .equal: "="
    case .closedRange: "..."
    case .halfOpenRange: "..<"
    case .dot: "."
    case .leftParen: "("
    case .rightParen: ")"
    case .leftBracket: "["
    case .rightBracket: "]"
    case .leftBrace: "{"
    case .rightBrace: "}"
    case .comma: ","
    case .colon: ":"
    default: nil
    }
  }

  static func bracketKind(_ c: UInt32) -> Token.Kind {
    switch c {
    case 40: .leftParen
    case 41: .rightParen
    case 91: .leftBracket
    case 93: .rightBracket
    case 123: .leftBrace
    default: .rightBrace
    }
  }

  static func openerKind(of closer: Token.Kind) -> Token.Kind {
    switch closer {
    case .rightParen: .leftParen
    case .rightBracket: .leftBracket
    default: .leftBrace
    }
  }

  /// Whether a `.` right after a token of this kind reads as a field access.
  static func endsValue(_ kind: Token.Kind) -> Bool {
    switch kind {
    case .identifier, .number, .string, .rightParen, .rightBracket, .trueKeyword, .falseKeyword:
      true
    default: false
    }
  }

  static func describe(_ scalar: Unicode.Scalar) -> String {
    let visible: Bool
    switch scalar.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator,
      .paragraphSeparator, .spaceSeparator, .nonspacingMark, .enclosingMark, .spacingMark:
      visible = false
    default:
      visible = true
    }
    if visible { return "'\(scalar)'" }
    let hex = String(scalar.value, radix: 16, uppercase: true)
    return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
  }

  static func hint(for scalar: Unicode.Scalar) -> String? {
    switch scalar {
    case "“", "”", "„", "«", "»": "use straight double quotes: \"text\""
    case "'", "‘", "’": "strings are written in double quotes: \"text\""
    case ";": "put each statement on its own line"
    case "%": "there is no remainder operator"
    case "&", "|": "there are no logical operators"
    default: nil
    }
  }
}

func isBreak(_ c: UInt32) -> Bool { c == 10 || c == 13 }

func isDigit(_ c: UInt32) -> Bool { c >= 48 && c <= 57 }

/// Spaces and tabs, and the other white space that does not end a line.
func isSpace(_ c: UInt32) -> Bool {
  if c == 32 || c == 9 || c == 11 || c == 12 { return true }
  guard c > 127, let scalar = Unicode.Scalar(c) else { return false }
  return scalar.properties.isWhitespace
}

func isIdentifierStart(_ scalar: Unicode.Scalar) -> Bool {
  let c = scalar.value
  if c < 128 { return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 }
  return scalar.properties.isAlphabetic
}

/// Letters, digits, `_`, and the combining marks that complete a letter (`e` + U+0301).
func isIdentifierContinuation(_ scalar: Unicode.Scalar) -> Bool {
  let c = scalar.value
  if c < 128 { return isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 }
  switch scalar.properties.generalCategory {
  case .nonspacingMark, .spacingMark, .enclosingMark: return true
  default: return scalar.properties.isAlphabetic
  }
}
