/// Reads the tokens of a cell into statements.
///
/// A recursive-descent parser over the tokens of `Lexer`, with precedence climbing for the binary
/// operators (comparison < range < additive < multiplicative; comparisons and ranges do not
/// chain). After an error it skips to the end of the line (past a whole `{ … }` block if the line
/// opens one) and goes on, so `check` can report every broken statement of a cell at once.
///
/// Messages say what was expected and point at the token where it was not found; a token that
/// follows a line break while a `(` or `[` is still open — or the end of the cell — blames the
/// bracket that is never closed instead (`unclosed '('`). Brackets, blocks, unary minus and
/// operator chains together may nest at most `maximumNesting` deep (`nesting too deep`), which
/// bounds the recursion of the parser and of everything that walks the tree later.
public struct Parser {
  /// How deep expressions and blocks may nest.
  public static let maximumNesting = 200

  var tokens: [Token]
  var index = 0
  var depth: Int
  /// The opening brackets the lexer found never closed, in source order.
  let unclosed: [Token]

  /// The errors met so far by `parseStatements()`, in source order.
  public private(set) var errors: [WorkbookError] = []

  /// Creates a parser for `source`, which starts at line `firstLine` of `file`.
  public init(_ source: String, file: String, firstLine: Int = 1) {
    var lexer = Lexer(source, file: file, firstLine: firstLine)
    self.tokens = lexer.tokenize()
    self.unclosed = lexer.unclosedBrackets
    self.depth = 0
  }

  /// Creates a parser over tokens already read (those of a string interpolation).
  ///
  /// - Precondition: `tokens` ends with an `end` token.
  init(tokens: [Token], unclosed: [Token], depth: Int) {
    self.tokens = tokens
    self.unclosed = unclosed
    self.depth = depth
  }

  /// Parses every statement up to the end of the input. Statements that fail to parse are left
  /// out and their errors appended to `errors`.
  public mutating func parseStatements() -> [Statement] {
    let statements = parseStatementList(inBlock: false)
    return statements
  }

  // MARK: - Statements

  /// Statements separated by line breaks, up to the end or (in a block) a `}`, which is left for
  /// the caller.
  mutating func parseStatementList(inBlock: Bool) -> [Statement] {
    var statements: [Statement] = []
    while true {
      while peek.kind == .newline { index += 1 }
      if peek.kind == .end || (inBlock && peek.kind == .rightBrace) { break }
      let start = index
      do throws(WorkbookError) {
        statements.append(try parseStatement(inBlock: inBlock))
      } catch {
        errors.append(error)
        recover(inBlock: inBlock)
        if index == start, peek.kind != .end, !(inBlock && peek.kind == .rightBrace) {
          index += 1
        }
      }
    }
    return statements
  }

  /// Skips the rest of a broken statement: up to the next line break outside braces, or the `}`
  /// that closes the block being parsed.
  mutating func recover(inBlock: Bool) {
    var braces = 0
    while peek.kind != .end {
      switch peek.kind {
      case .newline where braces == 0: return
      case .leftBrace: braces += 1
      case .rightBrace:
        if braces > 0 {
          braces -= 1
        } else if inBlock {
          return
        }
      default: break
      }
      index += 1
    }
  }

  mutating func parseStatement(inBlock: Bool) throws(WorkbookError) -> Statement {
    let statement: Statement
    if [.rightParen, .rightBracket, .rightBrace].contains(peek.kind) {
      throw error("unexpected \(peek.quoted)")
    } else if peek.kind == .forKeyword {
      statement = try parseFor()
    } else if peek.kind == .identifier, next.kind == .equal {
      let target = identifier(advance())
      advance()
      let value = try parseExpression()
      statement = .assignment(target: target, value: value, span: target.span.through(value.span))
    } else if peek.kind == .identifier, next.kind == .comma {
      var targets = [identifier(advance())]
      while peek.kind == .comma {
        advance()
        guard peek.kind == .identifier else { throw error("expected a name") }
        targets.append(identifier(advance()))
      }
      guard peek.kind == .equal else { throw error("expected ',' or '='") }
      advance()
      let value = try parseExpression()
      statement = .destructuring(
        targets: targets, value: value, span: targets[0].span.through(value.span))
    } else {
      let expression = try parseExpression()
      if peek.kind == .equal {
        throw WorkbookError(
          kind: .syntax, message: "only a name can be assigned to", span: expression.span,
          hint: "values cannot be changed; give the new value a name: x = …")
      }
      statement = .expression(expression)
    }
    switch peek.kind {
    case .newline, .end:
      break
    case .rightBrace where inBlock:
      break
    case .rightParen, .rightBracket, .rightBrace:
      throw error("unexpected \(peek.quoted)")
    default:
      if case .expression(.variable) = statement {
        throw error("expected '=' or a newline")
      }
      throw error("expected a newline")
    }
    return statement
  }

  /// `for name in sequence { statements }`; the `{` may be on the next line.
  mutating func parseFor() throws(WorkbookError) -> Statement {
    let keyword = advance()
    guard peek.kind == .identifier else { throw error("expected a name after 'for'") }
    let variable = identifier(advance())
    guard peek.kind == .inKeyword else { throw error("'for' expects 'in'") }
    advance()
    let sequence = try parseExpression()
    var ahead = index
    while tokens[ahead].kind == .newline { ahead += 1 }
    if tokens[ahead].kind == .leftBrace { index = ahead }
    guard peek.kind == .leftBrace else { throw error("expected '{'") }
    let open = advance()
    try enter(at: open)
    defer { depth -= 1 }
    let body = parseStatementList(inBlock: true)
    guard peek.kind == .rightBrace else { throw error("expected '}'") }
    let close = advance()
    return .forLoop(
      variable: variable, sequence: sequence, body: body, span: keyword.span.through(close.span))
  }

  // MARK: - Tokens

  /// The next token (the `end` token once everything is read).
  var peek: Token { tokens[min(index, tokens.count - 1)] }

  /// The token after the next one.
  var next: Token { tokens[min(index + 1, tokens.count - 1)] }

  /// Consumes and returns the next token (never moving past the `end` token).
  @discardableResult
  mutating func advance() -> Token {
    let token = peek
    if index < tokens.count - 1 { index += 1 }
    return token
  }

  func identifier(_ token: Token) -> Identifier { Identifier(token.name, span: token.span) }

  /// Goes one level deeper, or fails with `nesting too deep` at `token`.
  mutating func enter(at token: Token) throws(WorkbookError) {
    guard depth < Parser.maximumNesting else {
      throw WorkbookError(
        kind: .syntax, message: "nesting too deep", location: token.location,
        length: token.length,
        hint: "split the expression with intermediate names")
    }
    depth += 1
  }

  /// A syntax error at the next token, or what really went wrong there: the lexer's error for an
  /// `invalid` token, or an `unclosed` bracket when the token is the end of the cell or starts a
  /// line while a bracket opened before it is never closed.
  func error(_ message: String, hint: String? = nil) -> WorkbookError {
    let token = peek
    if let error = token.error { return error }
    if let opener = unclosedOpener() {
      return WorkbookError(
        kind: .syntax, message: "unclosed '\(opener.text)'", location: opener.location,
        length: 1, hint: "close it with '\(closer(of: opener.kind))'")
    }
    return WorkbookError(
      kind: .syntax, message: message, location: token.location, length: token.length,
      hint: hint)
  }

  private func unclosedOpener() -> Token? {
    let token = peek
    guard let opener = unclosed.last(where: { $0.location < token.location }) else { return nil }
    if token.kind == .end { return opener }
    // A line break inside `(` or `[` produced no token: the token starts a new line although the
    // bracket is still open, which is what happens when its `)` was forgotten.
    let position = min(index, tokens.count - 1)
    guard position > 0, opener.kind != .leftBrace,
      tokens[position - 1].location.line < token.location.line
    else { return nil }
    return opener
  }

  private func closer(of kind: Token.Kind) -> String {
    switch kind {
    case .leftParen: ")"
    case .leftBracket: "]"
    default: "}"
    }
  }
}
