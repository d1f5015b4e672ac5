/// A name written in the source (a variable, a function, a label, a field), with its span.
public struct Identifier: Sendable, Hashable {
  /// The name.
  public var name: String
  /// Where it is written.
  var span: SourceSpan

  /// Creates an identifier.
  init(_ name: String, span: SourceSpan) {
    self.name = name
    self.span = span
  }
}

/// An argument passed with a label: `epochs: 10`.
public struct LabelledArgument: Sendable, Hashable {
  /// The label, without its colon.
  var label: Identifier
  /// The value.
  var value: Expression

  /// Creates a labelled argument.
  init(label: Identifier, value: Expression) {
    self.label = label
    self.value = value
  }
}

/// A piece of a string literal.
public enum StringPart: Sendable, Hashable {
  /// Literal text, escapes resolved.
  case text(String)
  /// An interpolated expression, `\(n)`.
  case interpolation(Expression)
}

/// The arithmetic and comparison operators, from the loosest binding to the tightest.
public enum BinaryOperator: String, Sendable, Hashable, CaseIterable {
  /// `==`
  case equal = "=="
  /// `!=`
  case notEqual = "!="
  /// `<`
  case less = "<"
  /// `<=`
  case lessEqual = "<="
  /// `>`
  case greater = ">"
  /// `>=`
  case greaterEqual = ">="
  /// `+`
  case add = "+"
  /// `-`
  case subtract = "-"
  /// `*`
  case multiply = "*"
  /// `/`
  case divide = "/"

  /// The operator as written.
  var symbol: String { rawValue }

  /// Whether the operator compares (and so yields a bool).
  var isComparison: Bool { precedence == .comparison }

  /// How tightly the operator binds.
  var precedence: Precedence {
    switch self {
    case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual: .comparison
    case .add, .subtract: .additive
    case .multiply, .divide: .multiplicative
    }
  }
}

/// `and` and `or`, which join conditions.
public enum LogicalOperator: String, Sendable, Hashable, CaseIterable {
  /// `a and b`: true when both are; `b` is not evaluated when `a` is false.
  case and
  /// `a or b`: true when either is; `b` is not evaluated when `a` is true.
  case or

  /// The operator as written.
  var symbol: String { rawValue }

  /// How tightly the operator binds.
  var precedence: Precedence { self == .or ? .or : .and }
}

/// How tightly an expression binds, from the loosest to the tightest: or < and < not <
/// comparison < range < additive < multiplicative < unary minus < postfix (call, field, index) <
/// primary.
enum Precedence: Int, Sendable, Hashable, Comparable, CaseIterable {
  /// `or`, left associative.
  case or
  /// `and`, left associative.
  case and
  /// `not x`.
  case not
  /// `== != < <= > >=`, not associative (`a < b < c` is an error).
  case comparison
  /// `...` and `..<`, not associative.
  case range
  /// `+ -`, left associative.
  case additive
  /// `* /`, left associative.
  case multiplicative
  /// `-x`.
  case unary
  /// `f(x)`, `x.name`, `x[i]`.
  case postfix
  /// Literals, names, options, lists, parentheses.
  case primary

  /// Orders precedences from the loosest binding to the tightest.
  static func < (a: Precedence, b: Precedence) -> Bool { a.rawValue < b.rawValue }
}

/// An expression of the workbook language. Every node keeps the span of source it was read
/// from, so the evaluator can point at it.
public indirect enum Expression: Sendable, Hashable {
  /// A number literal: `42`, `0.05`, `1e-3` (negative numbers are `negate` of a literal).
  case number(Double, span: SourceSpan)
  /// A string literal, made of text and interpolations: `"run-\(n).svg"`.
  case string([StringPart], span: SourceSpan)
  /// `true` or `false`.
  case bool(Bool, span: SourceSpan)
  /// A list: `[1, 7]`.
  case list([Expression], span: SourceSpan)
  /// A range: `2...10` (closed) or `0..<5` (half-open).
  case range(lower: Expression, upper: Expression, isClosed: Bool, span: SourceSpan)
  /// An option, a named choice of the function it is passed to: `.relu` (the name has no dot).
  case option(String, span: SourceSpan)
  /// A variable: `net`.
  case variable(Identifier)
  /// A call of a function by name, positional arguments first, then labelled ones:
  /// `fit(net, train, epochs: 10)`.
  case call(
    function: Identifier, arguments: [Expression], labelled: [LabelledArgument], span: SourceSpan)
  /// A field: `net.history`.
  case field(base: Expression, name: Identifier, span: SourceSpan)
  /// An index or slice: `sig[2]`, `data[0..<10]`.
  case index(base: Expression, index: Expression, span: SourceSpan)
  /// Unary minus: `-x`.
  case negate(Expression, span: SourceSpan)
  /// An arithmetic or comparison operation: `a + b`, `x < 3`.
  case binary(BinaryOperator, left: Expression, right: Expression, span: SourceSpan)
  /// An expression in parentheses, kept so that printing gives back what was written.
  case parenthesized(Expression, span: SourceSpan)
  /// `a and b`, `a or b`.
  case logical(LogicalOperator, left: Expression, right: Expression, span: SourceSpan)
  /// `not x`.
  case not(Expression, span: SourceSpan)

  /// The source the expression covers.
  public var span: SourceSpan {
    switch self {
    case .number(_, let span), .string(_, let span), .bool(_, let span), .list(_, let span),
      .range(_, _, _, let span), .option(_, let span), .call(_, _, _, let span),
      .field(_, _, let span), .index(_, _, let span), .negate(_, let span),
      .binary(_, _, _, let span), .parenthesized(_, let span), .logical(_, _, _, let span),
      .not(_, let span):
      span
    case .variable(let identifier): identifier.span
    }
  }

  /// How tightly the expression binds, which decides where the printer needs parentheses.
  var precedence: Precedence {
    switch self {
    case .binary(let op, _, _, _): op.precedence
    case .logical(let op, _, _, _): op.precedence
    case .not: .not
    case .range: .range
    case .negate: .unary
    case .call, .field, .index: .postfix
    default: .primary
    }
  }
}

/// A statement: one line of a cell (or a loop whose block spans lines).
public indirect enum Statement: Sendable, Hashable {
  /// An expression whose value is shown: `accuracy(net, test)`.
  case expression(Expression)
  /// `name = value`.
  case assignment(target: Identifier, value: Expression, span: SourceSpan)
  /// `a, b = value`: the value is split among two or more names.
  case destructuring(targets: [Identifier], value: Expression, span: SourceSpan)
  /// `for name in sequence { body }`.
  case forLoop(variable: Identifier, sequence: Expression, body: [Statement], span: SourceSpan)
  /// `if c { … } else if d { … } else { … }`: the first branch whose condition is true runs,
  /// else the `else` block (nil when there is none).
  case ifStatement(branches: [ConditionalBranch], otherwise: [Statement]?, span: SourceSpan)
  /// `func name(a, b, k: 2...10) { … }`.
  case function(FunctionDefinition)
  /// `return value` (or a bare `return`), inside a function.
  case returnStatement(Expression?, span: SourceSpan)

  /// The source the statement covers.
  public var span: SourceSpan {
    switch self {
    case .expression(let expression): expression.span
    case .assignment(_, _, let span), .destructuring(_, _, let span), .forLoop(_, _, _, let span),
      .ifStatement(_, _, let span), .returnStatement(_, let span):
      span
    case .function(let definition): definition.span
    }
  }
}

/// One `if` or `else if` of an `if` statement: a condition and the block it guards.
public struct ConditionalBranch: Sendable, Hashable {
  /// The condition, which must be true or false.
  var condition: Expression
  /// The statements run when it is true.
  var body: [Statement]

  /// Creates a branch.
  init(condition: Expression, body: [Statement]) {
    self.condition = condition
    self.body = body
  }
}

/// A function written in a workbook: `func study(net, data, k: 2...10) { … return report }`.
///
/// Like the catalogue's functions, it takes positional parameters first, then labelled ones
/// with defaults; its body sees its parameters, the workbook's variables (read only) and
/// other functions, and its assignments stay inside it.
public struct FunctionDefinition: Sendable, Hashable {
  /// One parameter: a positional name (`net`), or a label with its default (`k: 2...10`).
  struct Parameter: Sendable, Hashable {
    /// The name (for a labelled parameter, also its label).
    var name: Identifier
    /// The default of a labelled parameter; nil for a positional one.
    var defaultValue: Expression?

    /// Creates a parameter.
    init(name: Identifier, defaultValue: Expression?) {
      self.name = name
      self.defaultValue = defaultValue
    }

    /// Whether it is passed with its label.
    var isLabelled: Bool { defaultValue != nil }
  }

  /// The function's name.
  var name: Identifier
  /// The parameters: positional ones first, then labelled ones.
  var parameters: [Parameter]
  /// The statements of its body.
  var body: [Statement]
  /// From `func` to the closing `}`.
  var span: SourceSpan

  /// Creates a function definition.
  init(name: Identifier, parameters: [Parameter], body: [Statement], span: SourceSpan) {
    self.name = name
    self.parameters = parameters
    self.body = body
    self.span = span
  }
}

/// The statements of one code cell of a workbook.
public struct Cell: Sendable, Hashable {
  /// The cell's number in its workbook, from 1.
  public var index: Int
  /// The line of the file where the cell's code starts.
  public var firstLine: Int
  /// The statements, in order. When `hasErrors` is true, the statements that failed to parse
  /// are missing.
  public var statements: [Statement]
  /// Whether some of the cell's statements could not be parsed; such a cell must not be run.
  public var hasErrors: Bool

  /// Creates a cell.
  public init(index: Int, firstLine: Int, statements: [Statement], hasErrors: Bool = false) {
    self.index = index
    self.firstLine = firstLine
    self.statements = statements
    self.hasErrors = hasErrors
  }
}
