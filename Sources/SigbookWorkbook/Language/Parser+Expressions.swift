extension Parser {
  /// An infix operator: arithmetic, comparison or range formation.
  private enum Infix {
    case binary(BinaryOperator)
    case range(isClosed: Bool)

    init?(_ kind: Token.Kind) {
      switch kind {
      case .plus: self = .binary(.add)
      case .minus: self = .binary(.subtract)
      case .star: self = .binary(.multiply)
      case .slash: self = .binary(.divide)
      case .equalEqual: self = .binary(.equal)
      case .notEqual: self = .binary(.notEqual)
      case .less: self = .binary(.less)
      case .lessEqual: self = .binary(.lessEqual)
      case .greater: self = .binary(.greater)
      case .greaterEqual: self = .binary(.greaterEqual)
      case .closedRange: self = .range(isClosed: true)
      case .halfOpenRange: self = .range(isClosed: false)
      default: return nil
      }
    }

    var precedence: Precedence {
      switch self {
      case .binary(let op): op.precedence
      case .range: .range
      }
    }
  }

  /// Parses one expression.
  mutating func parseExpression() throws(WorkbookError) -> Expression {
    try parseLogical(.or)
  }

  /// `a or b` over `a and b` over `not a` over comparisons; `and` and `or` associate to the left.
  private mutating func parseLogical(_ level: LogicalOperator) throws(WorkbookError) -> Expression {
    let keyword: Token.Kind = level == .or ? .orKeyword : .andKeyword
    var left = level == .or ? try parseLogical(.and) : try parseNot()
    var links = 0
    defer { depth -= links }
    while kind == keyword {
      let op = advance()
      try enter(at: op)
      links += 1
      let right = level == .or ? try parseLogical(.and) : try parseNot()
      left = .logical(level, left: left, right: right, span: left.span.through(right.span))
    }
    return left
  }

  private mutating func parseNot() throws(WorkbookError) -> Expression {
    guard kind == .notKeyword else { return try parseBinary(.comparison) }
    let keyword = advance()
    try enter(at: keyword)
    defer { depth -= 1 }
    let operand = try parseNot()
    return .not(operand, span: keyword.span.through(operand.span))
  }

  /// Precedence climbing: operands joined by operators that bind at least as tightly as
  /// `minimum`; left associative, except comparisons and ranges, which do not chain.
  private mutating func parseBinary(_ minimum: Precedence) throws(WorkbookError) -> Expression {
    var left = try parseUnary()
    // Each link of a chain makes the tree one level deeper, although the recursion is flat.
    var links = 0
    defer { depth -= links }
    var chained: Precedence?
    while let infix = Infix(kind), infix.precedence >= minimum {
      let level = infix.precedence
      if level == chained {
        throw error(
          level == .comparison ? "comparisons cannot be chained" : "ranges cannot be chained",
          hint: "add parentheses")
      }
      let op = advance()
      try enter(at: op)
      links += 1
      let tighter = Precedence(rawValue: level.rawValue + 1) ?? .primary
      let right = try parseBinary(tighter)
      let span = left.span.through(right.span)
      switch infix {
      case .binary(let op): left = .binary(op, left: left, right: right, span: span)
      case .range(let isClosed):
        left = .range(lower: left, upper: right, isClosed: isClosed, span: span)
      }
      if level == .comparison || level == .range { chained = level }
    }
    return left
  }

  private mutating func parseUnary() throws(WorkbookError) -> Expression {
    guard kind == .minus else { return try parsePostfix() }
    let minus = advance()
    try enter(at: minus)
    defer { depth -= 1 }
    let operand = try parseUnary()
    return .negate(operand, span: minus.span.through(operand.span))
  }

  /// A primary expression followed by any number of `.field` and `[index]`.
  private mutating func parsePostfix() throws(WorkbookError) -> Expression {
    var expression = try parsePrimary()
    var links = 0
    defer { depth -= links }
    while true {
      switch kind {
      case .dot:
        let dot = advance()
        // `net. history` is refused as in Swift: the name must follow the dot directly.
        guard kind == .identifier, peek.location == dot.span.end else {
          throw error("expected a field name after '.'")
        }
        try enter(at: dot)
        links += 1
        let name = Parser.identifier(advance())
        expression = .field(base: expression, name: name, span: expression.span.through(name.span))
      case .leftBracket:
        let open = advance()
        try enter(at: open)
        links += 1
        let index = try parseExpression()
        guard kind == .rightBracket else { throw error("expected ']'") }
        let close = advance()
        expression = .index(
          base: expression, index: index, span: expression.span.through(close.span))
      case .leftParen:
        throw error(
          "only a function name can be followed by '('", hint: "call functions by name: f(x)")
      default:
        return expression
      }
    }
  }

  private mutating func parsePrimary() throws(WorkbookError) -> Expression {
    let token = peek
    switch token.kind {
    case .number:
      advance()
      guard case .number(let value) = token.value else { throw error("expected a value") }
      return .number(value, span: token.span)
    case .string:
      advance()
      return .string(try parseStringParts(token), span: token.span)
    case .trueKeyword, .falseKeyword:
      advance()
      return .bool(token.kind == .trueKeyword, span: token.span)
    case .option:
      advance()
      return .option(token.name, span: token.span)
    case .identifier:
      advance()
      if kind == .leftParen { return try parseCall(Parser.identifier(token)) }
      return .variable(Parser.identifier(token))
    case .leftParen:
      let open = advance()
      try enter(at: open)
      defer { depth -= 1 }
      let inner = try parseExpression()
      guard kind == .rightParen else { throw error("expected ')'") }
      let close = advance()
      return .parenthesized(inner, span: open.span.through(close.span))
    case .leftBracket:
      return try parseList()
    case .ifKeyword, .elseKeyword, .forKeyword, .inKeyword, .funcKeyword, .returnKeyword,
      .andKeyword, .orKeyword:
      throw error(
        "'\(token.text)' is a keyword, not a value",
        hint: "keywords: if, else, for, in, func, return, and, or, not")
    default:
      throw error("expected a value")
    }
  }

  /// `[a, b, …]`, possibly empty, with an optional trailing comma.
  private mutating func parseList() throws(WorkbookError) -> Expression {
    let open = advance()
    try enter(at: open)
    defer { depth -= 1 }
    var elements: [Expression] = []
    while kind != .rightBracket {
      elements.append(try parseExpression())
      if kind == .comma {
        advance()
      } else if kind != .rightBracket {
        throw error("expected ',' or ']'")
      }
    }
    let close = advance()
    return .list(elements, span: open.span.through(close.span))
  }

  /// `name(positional…, label: value…)`, with an optional trailing comma.
  private mutating func parseCall(_ function: Identifier) throws(WorkbookError) -> Expression {
    let open = advance()
    try enter(at: open)
    defer { depth -= 1 }
    var arguments: [Expression] = []
    var labelled: [LabelledArgument] = []
    while kind != .rightParen {
      if kind == .identifier, nextKind == .colon {
        let label = Parser.identifier(advance())
        advance()
        let value = try parseExpression()
        if labelled.contains(where: { $0.label.name == label.name }) {
          throw WorkbookError(
            kind: .argument, message: "the label '\(label.name):' is given twice",
            span: label.span)
        }
        labelled.append(LabelledArgument(label: label, value: value))
      } else {
        let value = try parseExpression()
        if !labelled.isEmpty {
          throw WorkbookError(
            kind: .syntax, message: "a positional argument cannot follow a labelled one",
            span: value.span, hint: "put the positional arguments first")
        }
        arguments.append(value)
      }
      if kind == .comma {
        advance()
      } else if kind != .rightParen {
        throw error("expected ',' or ')'")
      }
    }
    let close = advance()
    return .call(
      function: function, arguments: arguments, labelled: labelled,
      span: function.span.through(close.span))
  }

  /// The parts of a string token, each interpolation parsed by a parser of its own tokens.
  private mutating func parseStringParts(_ token: Token) throws(WorkbookError) -> [StringPart] {
    guard case .string(let segments) = token.value else { return [] }
    var parts: [StringPart] = []
    for segment in segments {
      switch segment {
      case .text(let text):
        parts.append(.text(text))
      case .interpolation(let tokens, let start):
        try enter(at: token)
        defer { depth -= 1 }
        let end = tokens.last?.location ?? start
        let inside = unclosed.filter { start < $0.location && $0.location < end }
        var parser = Parser(tokens: tokens, unclosed: inside, depth: depth)
        let expression = try parser.parseExpression()
        guard parser.kind == .end else { throw parser.error("expected ')'") }
        parts.append(.interpolation(expression))
      }
    }
    return parts
  }
}
