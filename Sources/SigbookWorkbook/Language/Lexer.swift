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
/// The lexer reads Unicode scalars, so a combining mark or a prepended character never hides a
/// quote or a backslash from it, but it counts columns in `Character`s, as `SourceLocation` says.
/// `\n`, `\r\n` and a lone `\r` each end a line.
///
/// The lexer never fails: text it cannot read becomes an `invalid` token carrying the error, and
/// lexing resumes after it, so the parser can report the problem where it meets it and go on.
///
/// - Complexity: O(n) in the length of the source.
struct Lexer {
  /// How deeply string interpolations may nest (the parser has the same limit for brackets).
  static let maximumNesting = 200

  private let scalars: [Unicode.Scalar]
  /// The column of the `Character` holding each scalar, plus one entry for the end.
  private let columns: [Int]
  /// The source's UTF-8 bytes and the offset of each scalar in them (plus the end), from which
  /// token texts are cut.
  private let utf8: [UInt8]
  private let offsets: [Int]
  private let file: String
  private var position = 0
  private var line: Int
  private let firstLine: Int
  private var nesting = 0
  private var lastLineBreak: SourceLocation?
  /// Set when interpolations nest too deeply, so the strings around report that, not that they
  /// are unterminated.
  private var tooDeep: WorkbookError?

  /// The opening brackets that are never closed, in source order (filled by `tokenize()`).
  private(set) var unclosedBrackets: [Token] = []
  /// How many brackets are still open at the end of the source (`(`, `[` or `{`).
  private(set) var openBracketsAtEnd = 0
  /// Whether `tokenize()` met a closing bracket that does not match the innermost open one.
  private(set) var hasMismatchedBrackets = false
  /// Whether `tokenize()` produced an `invalid` token (at any depth of interpolation).
  private(set) var hasInvalidTokens = false

  /// Creates a lexer for `source`, which starts at line `firstLine` of `file`.
  init(_ source: String, file: String, firstLine: Int = 1) {
    var scalars: [Unicode.Scalar] = []
    var columns: [Int] = []
    var offsets: [Int] = []
    scalars.reserveCapacity(source.utf8.count)
    columns.reserveCapacity(source.utf8.count + 1)
    offsets.reserveCapacity(source.utf8.count + 1)
    var column = 1
    var offset = 0
    for character in source {
      let ascii = character.asciiValue
      if let ascii, ascii != 10 || character.utf8.count == 1 {
        // The common case, one ASCII scalar (`\r\n` also has an `asciiValue`, that of `\n`).
        scalars.append(Unicode.Scalar(ascii))
        columns.append(column)
        offsets.append(offset)
        offset += 1
      } else {
        for scalar in character.unicodeScalars {
          scalars.append(scalar)
          columns.append(column)
          offsets.append(offset)
          offset += UTF8.width(scalar)
        }
      }
      column = ascii == 10 || ascii == 13 ? 1 : column + 1
    }
    columns.append(column)
    offsets.append(offset)
    self.scalars = scalars
    self.columns = columns
    self.utf8 = Array(source.utf8)
    self.offsets = offsets
    self.file = file
    self.line = firstLine
    self.firstLine = firstLine
  }

  /// Reads the whole source. The result always ends with an `end` token.
  mutating func tokenize() -> [Token] {
    position = 0
    line = firstLine
    tooDeep = nil
    unclosedBrackets = []
    openBracketsAtEnd = 0
    hasMismatchedBrackets = false
    hasInvalidTokens = false
    var tokens = scan(interpolation: false).tokens
    let last = code(at: position - 1)
    let location = last == 10 || last == 13 ? (lastLineBreak ?? here) : here
    tokens.append(Token(kind: .end, text: "", location: location, length: 1))
    if unclosedBrackets.count > 1 { unclosedBrackets.sort { $0.location < $1.location } }
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
    while position < scalars.count {
      let c = scalars[position].value
      if c == 10 || c == 13 {
        if interpolation { return (tokens, false) }
        let location = here
        lastLineBreak = location
        advance()
        if c == 13, code(at: position) == 10 { advance() }
        line += 1
        if let top = open.last, tokens[top].kind != .leftBrace { continue }
        tokens.append(Token(kind: .newline, text: "\n", location: location, length: 1))
        continue
      }
      if isSpace(c) {
        advance()
        continue
      }
      if c == 35 {  // `#`
        while position < scalars.count, !isBreak(scalars[position].value) { advance() }
        continue
      }
      let start = position
      let location = here
      var token: Token
      switch c {
      case 40, 91, 123:  // `(` `[` `{`
        advance()
        token = make(Lexer.bracketKind(c), from: start, at: location)
        open.append(tokens.count)
      case 41, 93, 125:  // `)` `]` `}`
        if interpolation, c == 41, !open.contains(where: { tokens[$0].kind == .leftParen }) {
          // The `)` that ends the interpolation; brackets still open inside it stay unclosed.
          for index in open { unclosedBrackets.append(tokens[index]) }
          advance()
          tokens.append(Token(kind: .end, text: ")", location: location, length: 1))
          return (tokens, true)
        }
        advance()
        token = make(Lexer.bracketKind(c), from: start, at: location)
        let opener = Lexer.openerKind(of: token.kind)
        if let index = open.lastIndex(where: { tokens[$0].kind == opener }) {
          for inner in open[(index + 1)...] {
            unclosedBrackets.append(tokens[inner])
            hasMismatchedBrackets = true
          }
          open.removeSubrange(index...)
        } else {
          hasMismatchedBrackets = true
        }
      case 34:  // `"`
        token = scanString()
      case 46:  // `.`
        token = scanDot(
          afterValue: lastEnd == position && tokens.last.map { Lexer.endsValue($0.kind) } == true)
      default:
        if isDigit(c) {
          token = scanNumber()
        } else if isIdentifierStart(scalars[position]) {
          token = scanIdentifier()
        } else {
          token = scanOperator()
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
    while position < scalars.count, isIdentifierContinuation(scalars[position]) { advance() }
    let text = self.text(from: start)
    let kind: Token.Kind =
      switch text {
      case "true": .trueKeyword
      case "false": .falseKeyword
      case "for": .forKeyword
      case "in": .inKeyword
      case "if": .ifKeyword
      case "else": .elseKeyword
      case "and": .andKeyword
      case "or": .orKeyword
      case "not": .notKeyword
      case "func": .funcKeyword
      case "return": .returnKeyword
      default: .identifier
      }
    return Token(
      kind: kind, text: text, location: location, length: width(from: start),
      value: kind == .identifier ? .name(text) : .none)
  }

  private mutating func scanNumber() -> Token {
    let start = position
    let location = here
    skipDigits()
    if code(at: position) == 46, isDigit(code(at: position + 1)) {  // `.` and a digit
      advance()
      skipDigits()
    }
    if code(at: position) == 101 || code(at: position) == 69 {  // `e` or `E`
      let sign = code(at: position + 1) == 43 || code(at: position + 1) == 45
      if isDigit(code(at: position + (sign ? 2 : 1))) {
        advance()
        if sign { advance() }
        skipDigits()
      }
    }
    if continuesNumber() {
      while continuesNumber() { advance() }
      return invalid("malformed number '\(text(from: start))'", from: start, at: location)
    }
    let text = self.text(from: start)
    guard let value = Double(text), value.isFinite else {
      return invalid("number '\(text)' is too large", from: start, at: location)
    }
    return Token(
      kind: .number, text: text, location: location, length: width(from: start),
      value: .number(value))
  }

  /// Whether the next scalar would glue onto a number (`3x`, `1.2.3`), making it malformed.
  private mutating func continuesNumber() -> Bool {
    guard position < scalars.count else { return false }
    if isIdentifierContinuation(scalars[position]) { return true }
    return code(at: position) == 46 && isDigit(code(at: position + 1))
  }

  /// `...`, `..<`, a field's `.`, an option `.name`, or one of the mistakes a dot can start.
  private mutating func scanDot(afterValue: Bool) -> Token {
    let start = position
    let location = here
    if code(at: position + 1) == 46 {
      advance()
      advance()
      if code(at: position) == 46 {
        advance()
        return make(.closedRange, from: start, at: location)
      }
      if code(at: position) == 60 {
        advance()
        return make(.halfOpenRange, from: start, at: location)
      }
      return invalid(
        "unknown operator '..'", from: start, at: location,
        hint: "write '...' for a closed range or '..<' for a half-open one")
    }
    advance()
    if afterValue { return make(.dot, from: start, at: location) }
    if position < scalars.count, isIdentifierStart(scalars[position]) {
      while position < scalars.count, isIdentifierContinuation(scalars[position]) { advance() }
      let text = self.text(from: start)
      return Token(
        kind: .option, text: text, location: location, length: width(from: start),
        value: .name(String(text.dropFirst())))
    }
    if isDigit(code(at: position)) {
      skipDigits()
      let digits = String(text(from: start).dropFirst())
      return invalid(
        "a number cannot start with '.'", from: start, at: location,
        hint: "write '0.\(digits)'")
    }
    return invalid("expected an option name after '.'", from: start, at: location)
  }

  private mutating func scanOperator() -> Token {
    let start = position
    let location = here
    let c = scalars[position]
    advance()
    let kind: Token.Kind
    switch c {
    case "+": kind = .plus
    case "-": kind = .minus
    case "*": kind = .star
    case "/": kind = .slash
    case ",": kind = .comma
    case ":": kind = .colon
    case "=": kind = accept(61) ? .equalEqual : .equal
    case "<": kind = accept(61) ? .lessEqual : .less
    case ">": kind = accept(61) ? .greaterEqual : .greater
    case "!":
      guard accept(61) else {
        return invalid(
          "unexpected character '!'", from: start, at: location,
          hint: "write '!=' to compare; there is no logical not")
      }
      kind = .notEqual
    default:
      return invalid(
        "unexpected character \(Lexer.describe(c))", from: start, at: location,
        hint: Lexer.hint(for: c))
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
      let c = code(at: position)
      guard position < scalars.count, !isBreak(c) else { return unterminated(&self) }
      if c == 34 {
        advance()
        break
      }
      guard c == 92 else {  // not a backslash
        text.unicodeScalars.append(scalars[position])
        advance()
        continue
      }
      let escapeLocation = here
      let next = code(at: position + 1)
      guard position + 1 < scalars.count, !isBreak(next) else {
        advance()
        return unterminated(&self)
      }
      switch next {
      case 34, 92: text.unicodeScalars.append(scalars[position + 1])  // `\"`, `\\`
      case 110: text.append("\n")
      case 116: text.append("\t")
      case 114: text.append("\r")
      case 48: text.append("\0")
      case 40:  // `\(`
        advance()
        advance()
        guard nesting < Lexer.maximumNesting else {
          // Deeper strings are not lexed at all: the rest of the line goes into this token.
          while position < scalars.count, !isBreak(scalars[position].value) { advance() }
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
            kind: .syntax, message: "unknown escape '\\\(scalars[position + 1])' in a string",
            location: escapeLocation, length: 2,
            hint: "write '\\\\' for a backslash")
        }
      }
      advance()
      advance()
    }
    if let problem {
      return Token(
        kind: .invalid, text: self.text(from: start), location: location,
        length: width(from: start), value: .error(problem))
    }
    if !text.isEmpty || segments.isEmpty { segments.append(.text(text)) }
    return Token(
      kind: .string, text: self.text(from: start), location: location,
      length: width(from: start), value: .string(segments))
  }

  // MARK: - Helpers

  // The helpers below are `mutating` although most only read: a debug build copies the whole
  // lexer (retaining each of its arrays) to call a non-mutating method from a mutating one,
  // which made lexing several times slower.

  private var here: SourceLocation {
    mutating get { SourceLocation(file: file, line: line, column: columns[position]) }
  }

  /// The scalar value at `index`, or a value no scalar has when `index` is out of range.
  private mutating func code(at index: Int) -> UInt32 {
    index >= 0 && index < scalars.count ? scalars[index].value : UInt32.max
  }

  /// Moves past one scalar. Only the main loop consumes line breaks, and it counts the lines.
  private mutating func advance() {
    position += 1
  }

  private mutating func accept(_ c: UInt32) -> Bool {
    guard code(at: position) == c else { return false }
    advance()
    return true
  }

  private mutating func skipDigits() {
    while isDigit(code(at: position)) { advance() }
  }

  /// The source from `start` to the current position.
  private mutating func text(from start: Int) -> String {
    String(decoding: utf8[offsets[start]..<offsets[position]], as: UTF8.self)
  }

  /// The columns covered from `start` to the current position (at least 1).
  private mutating func width(from start: Int) -> Int {
    max(1, columns[position] - columns[start])
  }

  private mutating func make(_ kind: Token.Kind, from start: Int, at location: SourceLocation)
    -> Token
  {
    let text = Lexer.spelling(of: kind) ?? text(from: start)
    return Token(kind: kind, text: text, location: location, length: width(from: start))
  }

  private mutating func invalid(
    _ message: String, from start: Int, at location: SourceLocation, hint: String? = nil
  ) -> Token {
    let length = width(from: start)
    let error = WorkbookError(
      kind: .syntax, message: message, location: location, length: length, hint: hint)
    return Token(
      kind: .invalid, text: text(from: start), location: location, length: length,
      value: .error(error))
  }
}
