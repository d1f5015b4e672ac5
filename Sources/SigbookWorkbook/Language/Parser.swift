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
struct Parser {
  /// How deep expressions and blocks may nest.
  static let maximumNesting = 200

  var tokens: [Token]
  /// The kinds of `tokens`, which the parser looks at far more often than the tokens themselves.
  var kinds: [Token.Kind]
  var index = 0
  var depth: Int
  /// How many `func` bodies the parser is inside (where `return` is allowed).
  var functionDepth = 0
  /// The opening brackets the lexer found never closed, in source order.
  let unclosed: [Token]

  /// The errors met so far by `parseStatements()`, in source order.
  private(set) var errors: [WorkbookError] = []

  /// Creates a parser for `source`, which starts at line `firstLine` of `file`.
  init(_ source: String, file: String, firstLine: Int = 1) {
    var lexer = Lexer(source, file: file, firstLine: firstLine)
    self.tokens = lexer.tokenize()
    self.kinds = tokens.map { $0.kind }
    self.unclosed = lexer.unclosedBrackets
    self.depth = 0
  }

  /// Creates a parser over tokens already read (those of a string interpolation).
  ///
  /// - Precondition: `tokens` ends with an `end` token.
  init(tokens: [Token], unclosed: [Token], depth: Int) {
    self.tokens = tokens
    self.kinds = tokens.map { $0.kind }
    self.unclosed = unclosed
    self.depth = depth
  }

  /// Parses every statement up to the end of the input. Statements that fail to parse are left
  /// out and their errors appended to `errors`.
  mutating func parseStatements() -> [Statement] {
    let statements = parseStatementList(inBlock: false)
    return statements
  }

  // MARK: - Statements

  /// Statements separated by line breaks, up to the end or (in a block) a `}`, which is left for
  /// the caller.
  mutating func parseStatementList(inBlock: Bool) -> [Statement] {
    var statements: [Statement] = []
    while true {
      while kind == .newline { index += 1 }
      if kind == .end || (inBlock && kind == .rightBrace) { break }
      let start = index
      do throws(WorkbookError) {
        statements.append(try parseStatement(inBlock: inBlock))
      } catch {
        errors.append(error)
        recover(inBlock: inBlock)
        if index == start, kind != .end, !(inBlock && kind == .rightBrace) {
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
    while kind != .end {
      switch kind {
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
    if [.rightParen, .rightBracket, .rightBrace].contains(kind) {
      throw error("unexpected \(peek.quoted)")
    } else if kind == .forKeyword {
      statement = try parseFor()
    } else if kind == .ifKeyword {
      statement = try parseIf()
    } else if kind == .funcKeyword {
      statement = try parseFunction(inBlock: inBlock)
    } else if kind == .returnKeyword {
      let keyword = advance()
      guard functionDepth > 0 else {
        throw WorkbookError(
          kind: .syntax, message: "'return' outside a function", span: keyword.span,
          hint: "a cell's last expression is its output; return ends a func")
      }
      if [.newline, .end, .rightBrace].contains(kind) {
        statement = .returnStatement(nil, span: keyword.span)
      } else {
        let value = try parseExpression()
        statement = .returnStatement(value, span: keyword.span.through(value.span))
      }
    } else if kind == .elseKeyword {
      throw error("'else' without 'if'", hint: "write it after the '}' of an if: } else {")
    } else if kind == .identifier, nextKind == .equal {
      let target = Parser.identifier(advance())
      advance()
      let value = try parseExpression()
      statement = .assignment(target: target, value: value, span: target.span.through(value.span))
    } else if kind == .identifier, nextKind == .comma {
      var targets = [Parser.identifier(advance())]
      while kind == .comma {
        advance()
        guard kind == .identifier else { throw error("expected a name") }
        targets.append(Parser.identifier(advance()))
      }
      guard kind == .equal else { throw error("expected ',' or '='") }
      advance()
      let value = try parseExpression()
      statement = .destructuring(
        targets: targets, value: value, span: targets[0].span.through(value.span))
    } else {
      let expression = try parseExpression()
      if kind == .equal {
        throw WorkbookError(
          kind: .syntax, message: "only a name can be assigned to", span: expression.span,
          hint: "values cannot be changed; give the new value a name: x = …")
      }
      statement = .expression(expression)
    }
    switch kind {
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
    guard kind == .identifier else { throw error("expected a name after 'for'") }
    let variable = Parser.identifier(advance())
    guard kind == .inKeyword else { throw error("'for' expects 'in'") }
    advance()
    let sequence = try parseExpression()
    let (body, close) = try parseBlock()
    return .forLoop(
      variable: variable, sequence: sequence, body: body, span: keyword.span.through(close.span))
  }

  /// `if c { … } else if d { … } else { … }`; `else` may start the line after a `}`.
  mutating func parseIf() throws(WorkbookError) -> Statement {
    let keyword = advance()
    var branches: [ConditionalBranch] = []
    var otherwise: [Statement]?
    var end = keyword.span
    while true {
      let condition = try parseExpression()
      let (body, close) = try parseBlock()
      branches.append(ConditionalBranch(condition: condition, body: body))
      end = close.span
      var ahead = index
      while kinds[ahead] == .newline { ahead += 1 }
      guard kinds[ahead] == .elseKeyword else { break }
      index = ahead
      advance()
      if kind == .ifKeyword {
        advance()
        continue
      }
      let (elseBody, elseClose) = try parseBlock()
      otherwise = elseBody
      end = elseClose.span
      break
    }
    return .ifStatement(branches: branches, otherwise: otherwise, span: keyword.span.through(end))
  }

  /// `func name(a, b, label: default) { … }`, at the top level of a cell only.
  mutating func parseFunction(inBlock: Bool) throws(WorkbookError) -> Statement {
    let keyword = advance()
    guard !inBlock else {
      throw WorkbookError(
        kind: .syntax, message: "a func is defined at the top level of a cell, not in a block",
        span: keyword.span)
    }
    guard kind == .identifier else { throw error("expected the function's name after 'func'") }
    let name = Parser.identifier(advance())
    guard kind == .leftParen else { throw error("expected '(' after the function's name") }
    advance()
    var parameters: [FunctionDefinition.Parameter] = []
    while kind != .rightParen {
      guard kind == .identifier else { throw error("expected a parameter name") }
      let parameter = Parser.identifier(advance())
      if parameters.contains(where: { $0.name.name == parameter.name }) {
        throw WorkbookError(
          kind: .syntax, message: "the parameter '\(parameter.name)' is named twice",
          span: parameter.span)
      }
      if kind == .colon {
        advance()
        parameters.append(.init(name: parameter, defaultValue: try parseExpression()))
      } else {
        if parameters.contains(where: \.isLabelled) {
          throw WorkbookError(
            kind: .syntax, message: "a positional parameter cannot follow a labelled one",
            span: parameter.span, hint: "put the positional parameters first")
        }
        parameters.append(.init(name: parameter, defaultValue: nil))
      }
      if kind == .comma {
        advance()
      } else if kind != .rightParen {
        throw error("expected ',' or ')'")
      }
    }
    advance()
    functionDepth += 1
    defer { functionDepth -= 1 }
    let (body, close) = try parseBlock()
    return .function(
      FunctionDefinition(
        name: name, parameters: parameters, body: body, span: keyword.span.through(close.span)))
  }

  /// `{ statements }`, whose `{` may be on the next line; returns the statements and the `}`.
  mutating func parseBlock() throws(WorkbookError) -> ([Statement], Token) {
    var ahead = index
    while kinds[ahead] == .newline { ahead += 1 }
    if kinds[ahead] == .leftBrace { index = ahead }
    guard kind == .leftBrace else { throw error("expected '{'") }
    let open = advance()
    try enter(at: open)
    defer { depth -= 1 }
    let body = parseStatementList(inBlock: true)
    guard kind == .rightBrace else { throw error("expected '}'") }
    return (body, advance())
  }

  // MARK: - Tokens

  // The accessors below are `mutating` although they only read: a debug build copies the whole
  // parser (retaining each of its arrays) to call a non-mutating method from a mutating one.

  /// The next token (the `end` token once everything is read).
  var peek: Token { mutating get { tokens[min(index, tokens.count - 1)] } }

  /// The kind of the next token.
  var kind: Token.Kind { mutating get { kinds[min(index, kinds.count - 1)] } }

  /// The kind of the token after the next one.
  var nextKind: Token.Kind { mutating get { kinds[min(index + 1, kinds.count - 1)] } }

  /// Consumes and returns the next token (never moving past the `end` token).
  @discardableResult
  mutating func advance() -> Token {
    let token = peek
    if index < tokens.count - 1 { index += 1 }
    return token
  }

  static func identifier(_ token: Token) -> Identifier {
    Identifier(token.name, span: token.span)
  }

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
    let token = tokens[min(index, tokens.count - 1)]
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
    let token = tokens[min(index, tokens.count - 1)]
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
