/// Comparing syntax trees without their locations: the same program written elsewhere, or
/// printed and parsed again, is equivalent.
extension Expression {
  /// Whether both trees are the same but for their spans.
  func isEquivalent(to other: Expression) -> Bool {
    withoutSpans == other.withoutSpans
  }

  /// The tree with every span replaced by one fixed empty span.
  var withoutSpans: Expression {
    let none = SourceSpan.none
    switch self {
    case .number(let value, _): return .number(value, span: none)
    case .string(let parts, _):
      return .string(
        parts.map { part in
          if case .interpolation(let expression) = part {
            return .interpolation(expression.withoutSpans)
          }
          return part
        }, span: none)
    case .bool(let value, _): return .bool(value, span: none)
    case .list(let elements, _): return .list(elements.map(\.withoutSpans), span: none)
    case .range(let lower, let upper, let isClosed, _):
      return .range(
        lower: lower.withoutSpans, upper: upper.withoutSpans, isClosed: isClosed, span: none)
    case .option(let name, _): return .option(name, span: none)
    case .variable(let identifier): return .variable(identifier.withoutSpan)
    case .call(let function, let arguments, let labelled, _):
      return .call(
        function: function.withoutSpan, arguments: arguments.map(\.withoutSpans),
        labelled: labelled.map {
          LabelledArgument(label: $0.label.withoutSpan, value: $0.value.withoutSpans)
        }, span: none)
    case .field(let base, let name, _):
      return .field(base: base.withoutSpans, name: name.withoutSpan, span: none)
    case .index(let base, let index, _):
      return .index(base: base.withoutSpans, index: index.withoutSpans, span: none)
    case .negate(let operand, _): return .negate(operand.withoutSpans, span: none)
    case .binary(let op, let left, let right, _):
      return .binary(op, left: left.withoutSpans, right: right.withoutSpans, span: none)
    case .parenthesized(let inner, _): return .parenthesized(inner.withoutSpans, span: none)
    case .logical(let op, let left, let right, _):
      return .logical(op, left: left.withoutSpans, right: right.withoutSpans, span: none)
    case .not(let operand, _): return .not(operand.withoutSpans, span: none)
    }
  }
}

extension Statement {
  /// Whether both statements are the same but for their spans.
  func isEquivalent(to other: Statement) -> Bool {
    withoutSpans == other.withoutSpans
  }

  var withoutSpans: Statement {
    let none = SourceSpan.none
    switch self {
    case .expression(let expression): return .expression(expression.withoutSpans)
    case .assignment(let target, let value, _):
      return .assignment(target: target.withoutSpan, value: value.withoutSpans, span: none)
    case .destructuring(let targets, let value, _):
      return .destructuring(
        targets: targets.map(\.withoutSpan), value: value.withoutSpans, span: none)
    case .forLoop(let variable, let sequence, let body, _):
      return .forLoop(
        variable: variable.withoutSpan, sequence: sequence.withoutSpans,
        body: body.map(\.withoutSpans), span: none)
    case .ifStatement(let branches, let otherwise, _):
      return .ifStatement(
        branches: branches.map {
          ConditionalBranch(condition: $0.condition.withoutSpans, body: $0.body.map(\.withoutSpans))
        },
        otherwise: otherwise.map { $0.map(\.withoutSpans) }, span: none)
    case .function(let definition):
      return .function(
        FunctionDefinition(
          name: definition.name.withoutSpan,
          parameters: definition.parameters.map {
            FunctionDefinition.Parameter(
              name: $0.name.withoutSpan, defaultValue: $0.defaultValue?.withoutSpans)
          },
          body: definition.body.map(\.withoutSpans), span: none))
    case .returnStatement(let value, _):
      return .returnStatement(value?.withoutSpans, span: none)
    }
  }
}

extension Cell {
  /// Whether both cells hold the same statements but for their spans (their numbers and lines
  /// are not compared either).
  func isEquivalent(to other: Cell) -> Bool {
    statements.map(\.withoutSpans) == other.statements.map(\.withoutSpans)
  }
}

extension Identifier {
  fileprivate var withoutSpan: Identifier { Identifier(name, span: .none) }
}

extension SourceSpan {
  /// An empty span at an unknown place.
  fileprivate static let none = SourceSpan(
    start: SourceLocation(file: "", line: 0, column: 0),
    end: SourceLocation(file: "", line: 0, column: 0))
}
