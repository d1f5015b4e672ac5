/// Turns the source of a cell into tokens.
///
/// The rules, in brief:
/// - Numbers: `42`, `0.05`, `1e-3`, `2.5E+4`. A number starts with a digit (`.5` is refused with a
///   hint to write `0.5`); `1.2.3`, `3x` or `1e` are malformed numbers.
/// - Strings: `"…"` on one line, with the escapes `\"`, `\\`, `\n`, `\t`, `\r`, `\0` and
///   interpolations `\(expression)`, whose tokens are lexed in place (so they keep their file
///   locations) and stored in the string token.
/// - Names: a letter or `_`, then letters, digits and `_`. `true`, `false`, `for` and `in` are
///   keywords.
/// - `.name` is a field access when the `.` directly follows a name, a literal, `)` or `]` with
///   no space in between (`net.history`), and an option anywhere else (`.relu`).
/// - Operators `+ - * / == != < <= > >= = ... ..<` and punctuation `( ) [ ] { } , :`.
/// - `#` starts a comment that runs to the end of the line.
/// - A line break is a statement separator, except while a `(` or `[` is open; inside `{ … }`
///   it separates the statements of the block.
///
/// The lexer never fails: text it cannot read becomes an `invalid` token carrying the error, and
/// lexing resumes after it, so the parser can report the problem where it meets it and go on.
///
/// - Complexity: O(n) in the length of the source.
public struct Lexer {
  /// How deeply string interpolations may nest (the parser has the same limit for brackets).
  public static let maximumNesting = 200

  private let characters: [Character]
  private let file: String
  private var position = 0
  private var line: Int
  private var column = 1
  private var nesting = 0
  private var lastLineBreak: SourceLocation?
  /// Set when interpolations nest too deeply, so the strings around report that, not that they
  /// are unterminated.
  private var tooDeep: WorkbookError?

  /// The opening brackets that are never closed, in source order (filled by `tokenize()`).
  public private(set) var unclosedBrackets: [Token] = []
  /// How many brackets are still open at the end of the source (`(`, `[` or `{`).
  public private(set) var openBracketsAtEnd = 0
  /// Whether `tokenize()` met a closing bracket that does not match the innermost open one.
  public private(set) var hasMismatchedBrackets = false
  /// Whether `tokenize()` produced an `invalid` token (at any depth of interpolation).
  public private(set) var hasInvalidTokens = false

  /// Creates a lexer for `source`, which starts at line `firstLine` of `file`.
  public init(_ source: String, file: String, firstLine: Int = 1) {
    self.characters = Array(source)
    self.file = file
    self.line = firstLine
  }

  /// Reads the whole source. The result always ends with an `end` token.
  public mutating func tokenize() -> [Token] {
    position = 0
    tooDeep = nil
    unclosedBrackets = []
    openBracketsAtEnd = 0
    hasMismatchedBrackets = false
    hasInvalidTokens = false
    var tokens = scan(interpolation: false).tokens
    let endsWithBreak = position > 0 && isLineBreak(characters[position - 1])
    let location = endsWithBreak ? (lastLineBreak ?? here) : here
    tokens.append(Token(kind: .end, text: "", location: location, length: 1))
    unclosedBrackets.sort { $0.location < $1.location }
    return tokens
  }

  // MARK: - The main loop

  /// Scans tokens up to the end of the input or, for an interpolation, up to the `)` that closes
  /// it (`closed` is then true and the tokens end with an `end` token at that `)`). An
  /// interpolation stops without consuming it at a line break: strings do not span lines.
  private mutating func scan(interpolation: Bool) -> (tokens: [Token], closed: Bool) {
    var tokens: [Token] = []
    var open: [Int] = []  // indices in `tokens` of the brackets still open
    var lastEnd = -1  // position just after the last token
    while position < characters.count {
      let c = characters[position]
      let ascii = c.asciiValue
      if ascii == 10 || ascii == 13 {
        if interpolation { return (tokens, false) }
        lastLineBreak = here
        let location = here
        advance()
        if let top = open.last, tokens[top].kind != .leftBrace { continue }
        tokens.append(Token(kind: .newline, text: "\n", location: location, length: 1))
        continue
      }
      if c == " " || c == "\t" || (ascii == nil && c.isWhitespace) || ascii == 11 || ascii == 12 {
        advance()
        continue
      }
      if c == "#" {
        while position < characters.count, !isLineBreak(characters[position]) { advance() }
        continue
      }
      let start = position
      let location = here
      var token: Token
      switch c {
      case "(", "[", "{":
        advance()
        token = make(bracketKind(c), from: start, at: location)
        open.append(tokens.count)
      case ")", "]", "}":
        if interpolation, c == ")", !open.contains(where: { tokens[$0].kind == .leftParen }) {
          // The `)` that ends the interpolation; brackets still open inside it stay unclosed.
          for index in open { unclosedBrackets.append(tokens[index]) }
          advance()
          tokens.append(Token(kind: .end, text: ")", location: location, length: 1))
          return (tokens, true)
        }
        advance()
        token = make(bracketKind(c), from: start, at: location)
        let opener = openerKind(of: token.kind)
        if let index = open.lastIndex(where: { tokens[$0].kind == opener }) {
          for inner in open[(index + 1)...] {
            unclosedBrackets.append(tokens[inner])
            hasMismatchedBrackets = true
          }
          open.removeSubrange(index...)
        } else {
          hasMismatchedBrackets = true
        }
      case "\"":
        token = scanString()
      case ".":
        token = scanDot(
          afterValue: lastEnd == position && tokens.last.map { endsValue($0.kind) } == true)
      default:
        if let digit = ascii, digit >= 48, digit <= 57 {
          token = scanNumber()
        } else if isIdentifierStart(c) {
          token = scanIdentifier()
        } else {
          token = scanOperator(c)
        }
      }
      if token.kind == .invalid { hasInvalidTokens = true }
      tokens.append(token)
      lastEnd = position
    }
    if interpolation { return (tokens, false) }
    for index in open { unclosedBrackets.append(tokens[index]) }
    openBracketsAtEnd = open.count
    return (tokens, true)
  }

  // MARK: - Tokens

  private mutating func scanIdentifier() -> Token {
    let start = position
    let location = here
    while position < characters.count, isIdentifierContinuation(characters[position]) { advance() }
    let text = String(characters[start..<position])
    let kind: Token.Kind =
      switch text {
      case "true": .trueKeyword
      case "false": .falseKeyword
      case "for": .forKeyword
      case "in": .inKeyword
      default: .identifier
      }
    return Token(
      kind: kind, text: text, location: location, length: position - start,
      value: kind == .identifier ? .name(text) : .none)
  }

  private mutating func scanNumber() -> Token {
    let start = position
    let location = here
    skipDigits()
    if peek(0) == ".", isDigit(peek(1)) {
      advance()
      skipDigits()
    }
    if peek(0) == "e" || peek(0) == "E" {
      if isDigit(peek(1)) {
        advance()
        skipDigits()
      } else if peek(1) == "+" || peek(1) == "-", isDigit(peek(2)) {
        advance()
        advance()
        skipDigits()
      }
    }
    if let next = peek(0), isIdentifierContinuation(next) || (next == "." && isDigit(peek(1))) {
      while let next = peek(0),
        isIdentifierContinuation(next) || (next == "." && isDigit(peek(1)))
      {
        advance()
      }
      let text = String(characters[start..<position])
      return invalid("malformed number '\(text)'", from: start, at: location)
    }
    let text = String(characters[start..<position])
    guard let value = Double(text), value.isFinite else {
      return invalid("number '\(text)' is too large", from: start, at: location)
    }
    return Token(
      kind: .number, text: text, location: location, length: position - start,
      value: .number(value))
  }

  /// `...`, `..<`, a field's `.`, an option `.name`, or one of the mistakes a dot can start.
  private mutating func scanDot(afterValue: Bool) -> Token {
    let start = position
    let location = here
    if peek(1) == "." {
      advance()
      advance()
      if peek(0) == "." {
        advance()
        return make(.closedRange, from: start, at: location)
      }
      if peek(0) == "<" {
        advance()
        return make(.halfOpenRange, from: start, at: location)
      }
      return invalid(
        "unknown operator '..'", from: start, at: location,
        hint: "write '...' for a closed range or '..<' for a half-open one")
    }
    advance()
    if afterValue { return make(.dot, from: start, at: location) }
    if let next = peek(0), isIdentifierStart(next) {
      while position < characters.count, isIdentifierContinuation(characters[position]) {
        advance()
      }
      let text = String(characters[start..<position])
      return Token(
        kind: .option, text: text, location: location, length: position - start,
        value: .name(String(text.dropFirst())))
    }
    if isDigit(peek(0)) {
      skipDigits()
      let digits = String(characters[(start + 1)..<position])
      return invalid(
        "a number cannot start with '.'", from: start, at: location,
        hint: "write '0.\(digits)'")
    }
    return invalid("expected an option name after '.'", from: start, at: location)
  }

  private mutating func scanOperator(_ c: Character) -> Token {
    let start = position
    let location = here
    advance()
    let kind: Token.Kind
    switch c {
    case "+": kind = .plus
    case "-": kind = .minus
    case "*": kind = .star
    case "/": kind = .slash
    case ",": kind = .comma
    case ":": kind = .colon
    case "=": kind = accept("=") ? .equalEqual : .equal
    case "<": kind = accept("=") ? .lessEqual : .less
    case ">": kind = accept("=") ? .greaterEqual : .greater
    case "!":
      guard accept("=") else {
        return invalid(
          "unexpected character '!'", from: start, at: location,
          hint: "write '!=' to compare; there is no logical not")
      }
      kind = .notEqual
    default:
      return invalid(
        "unexpected character \(describe(c))", from: start, at: location, hint: hint(for: c))
    }
    return make(kind, from: start, at: location)
  }

  // MARK: - Strings

  /// A string literal, or an `invalid` token for an unterminated string (which then runs to the
  /// end of its line) or a string with a bad escape.
  private mutating func scanString() -> Token {
    let start = position
    let location = here
    advance()
    var segments: [Token.StringSegment] = []
    var text = ""
    var problem: WorkbookError?
    func unterminated(_ lexer: inout Lexer) -> Token {
      var token = lexer.invalid(
        "unterminated string", from: start, at: location,
        hint: "close it with '\"' on the same line")
      if let tooDeep = lexer.tooDeep {
        token.value = .error(tooDeep)
        if lexer.nesting == 0 { lexer.tooDeep = nil }
      }
      return token
    }
    while true {
      guard let c = peek(0), !isLineBreak(c) else { return unterminated(&self) }
      if c == "\"" {
        advance()
        break
      }
      guard c == "\\" else {
        text.append(c)
        advance()
        continue
      }
      let escapeLocation = here
      guard let next = peek(1), !isLineBreak(next) else {
        advance()
        return unterminated(&self)
      }
      switch next {
      case "\"", "\\": text.append(next)
      case "n": text.append("\n")
      case "t": text.append("\t")
      case "r": text.append("\r")
      case "0": text.append("\0")
      case "(":
        advance()
        advance()
        guard nesting < Lexer.maximumNesting else {
          // Deeper strings are not lexed at all: the rest of the line goes into this token.
          while let c = peek(0), !isLineBreak(c) { advance() }
          tooDeep = WorkbookError(
            kind: .syntax, message: "nesting too deep", location: escapeLocation, length: 2)
          return unterminated(&self)
        }
        if !text.isEmpty { segments.append(.text(text)) }
        text = ""
        nesting += 1
        let (tokens, closed) = scan(interpolation: true)
        nesting -= 1
        guard closed else { return unterminated(&self) }
        segments.append(.interpolation(tokens: tokens, start: escapeLocation))
        continue
      default:
        if problem == nil {
          problem = WorkbookError(
            kind: .syntax, message: "unknown escape '\\\(next)' in a string",
            location: escapeLocation, length: 2,
            hint: "write '\\\\' for a backslash")
        }
      }
      advance()
      advance()
    }
    if let problem {
      let raw = String(characters[start..<position])
      return Token(
        kind: .invalid, text: raw, location: location, length: position - start,
        value: .error(problem))
    }
    if !text.isEmpty || segments.isEmpty { segments.append(.text(text)) }
    return Token(
      kind: .string, text: String(characters[start..<position]), location: location,
      length: position - start, value: .string(segments))
  }

  // MARK: - Helpers

  private var here: SourceLocation { SourceLocation(file: file, line: line, column: column) }

  private mutating func advance() {
    let c = characters[position]
    position += 1
    if isLineBreak(c) {
      line += 1
      column = 1
    } else {
      column += 1
    }
  }

  private func peek(_ offset: Int) -> Character? {
    position + offset < characters.count ? characters[position + offset] : nil
  }

  private mutating func accept(_ c: Character) -> Bool {
    guard peek(0) == c else { return false }
    advance()
    return true
  }

  private mutating func skipDigits() {
    while isDigit(peek(0)) { advance() }
  }

  private func make(_ kind: Token.Kind, from start: Int, at location: SourceLocation) -> Token {
    Token(
      kind: kind, text: String(characters[start..<position]), location: location,
      length: position - start)
  }

  private func invalid(
    _ message: String, from start: Int, at location: SourceLocation, hint: String? = nil
  ) -> Token {
    let length = max(1, position - start)
    let error = WorkbookError(
      kind: .syntax, message: message, location: location, length: length, hint: hint)
    return Token(
      kind: .invalid, text: String(characters[start..<position]), location: location,
      length: length, value: .error(error))
  }

  private func bracketKind(_ c: Character) -> Token.Kind {
    switch c {
    case "(": .leftParen
    case ")": .rightParen
    case "[": .leftBracket
    case "]": .rightBracket
    case "{": .leftBrace
    default: .rightBrace
    }
  }

  private func openerKind(of closer: Token.Kind) -> Token.Kind {
    switch closer {
    case .rightParen: .leftParen
    case .rightBracket: .leftBracket
    default: .leftBrace
    }
  }

  /// Whether a `.` right after a token of this kind reads as a field access.
  private func endsValue(_ kind: Token.Kind) -> Bool {
    switch kind {
    case .identifier, .number, .string, .rightParen, .rightBracket, .trueKeyword, .falseKeyword:
      true
    default: false
    }
  }

  private func describe(_ c: Character) -> String {
    let visible = !c.isWhitespace && c.unicodeScalars.allSatisfy { scalar in
      switch scalar.properties.generalCategory {
      case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator,
        .paragraphSeparator, .spaceSeparator, .nonspacingMark, .enclosingMark, .spacingMark:
        false
      default: true
      }
    }
    if visible { return "'\(c)'" }
    return c.unicodeScalars.map { scalar in
      let hex = String(scalar.value, radix: 16, uppercase: true)
      return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }.joined(separator: " ")
  }

  private func hint(for c: Character) -> String? {
    switch c {
    case "“", "”", "„", "«", "»": "use straight double quotes: \"text\""
    case "'", "‘", "’": "strings are written in double quotes: \"text\""
    case ";": "put each statement on its own line"
    case "%": "there is no remainder operator"
    case "&", "|": "there are no logical operators"
    default: nil
    }
  }
}

private func isDigit(_ c: Character?) -> Bool {
  guard let value = c?.asciiValue else { return false }
  return value >= 48 && value <= 57
}

private func isIdentifierStart(_ c: Character) -> Bool {
  if let value = c.asciiValue {
    return (value >= 65 && value <= 90) || (value >= 97 && value <= 122) || value == 95
  }
  return c.isLetter
}

private func isIdentifierContinuation(_ c: Character) -> Bool {
  if let value = c.asciiValue, value >= 48, value <= 57 { return true }
  return isIdentifierStart(c)
}
