import Foundation

extension Session {
  /// Runs the statements of a cell, in order, then writes the figures it produced.
  ///
  /// - Throws: the first error, with its location; statements before it have taken effect.
  public func run(_ cell: Cell) throws(WorkbookError) {
    try run(cell.statements, cellNumber: cell.index, at: cell.statements.first?.span)
  }

  /// Runs statements as cell (or REPL input) number `cellNumber`, then writes their figures.
  public func run(_ statements: [Statement], cellNumber: Int, at span: SourceSpan? = nil)
    throws(WorkbookError)
  {
    self.cellNumber = cellNumber
    pendingFigures = []
    var failure: WorkbookError?
    do {
      for statement in statements { try execute(statement) }
    } catch {
      failure = error
    }
    // Figures made before a failure are still written.
    do {
      try flushFigures()
    } catch {
      let location = span?.start ?? SourceLocation(file: file, line: 1, column: 1)
      if failure == nil {
        failure = WorkbookError(
          kind: error.kind, message: error.message, location: location, hint: error.hint)
      }
    }
    if let failure { throw failure }
  }

  /// Runs one statement.
  func execute(_ statement: Statement) throws(WorkbookError) {
    if isCancelled() {
      throw WorkbookError(kind: .interrupted, message: "interrupted", span: statement.span)
    }
    switch statement {
    case .expression(let expression):
      let value = try evaluate(expression)
      show(value)
    case .assignment(let target, let valueExpression, _):
      let value = try evaluate(valueExpression)
      try bind(target, value)
    case .destructuring(let targets, let valueExpression, let span):
      let value = try evaluate(valueExpression)
      guard case .list(let items) = value, items.count == targets.count else {
        let found: String
        if case .list(let items) = value { found = "\(items.count) values" } else {
          found = value.kind.withArticle
        }
        throw WorkbookError(
          kind: .type, message: "\(targets.count) names need as many values, but this gives \(found)",
          span: span)
      }
      for (target, item) in zip(targets, items) { try bind(target, item) }
    case .forLoop(let variable, let sequence, let body, _):
      let items: [Value]
      switch try evaluate(sequence) {
      case .list(let values): items = values
      case .range(let lower, let upper, let closed):
        items = Value.rangeValues(lower: lower, upper: upper, isClosed: closed).map { .number(Double($0)) }
      case let other:
        throw WorkbookError(
          kind: .type, message: "'for' needs a list or a range, not \(other.kind.withArticle)",
          span: sequence.span)
      }
      for item in items {
        if isCancelled() {
          throw WorkbookError(kind: .interrupted, message: "interrupted", span: statement.span)
        }
        try bind(variable, item)
        for statement in body { try execute(statement) }
      }
    }
  }

  private func bind(_ target: Identifier, _ value: Value) throws(WorkbookError) {
    // A variable may share a function's name (`paths = sankey(clusters)`): calls always name
    // functions, bare names variables.
    if case .figure(let figure) = value { pendingFigures.append((target.name, figure)) }
    if case .nothing = value {
      throw WorkbookError(
        kind: .type, message: "this gives no value to assign to '\(target.name)'",
        span: target.span)
    }
    assign(target.name, value)
  }

  /// Shows the value of an expression statement.
  private func show(_ value: Value) {
    switch value {
    case .nothing: break
    case .figure(let figure):
      pendingFigures.append((unnamedFigureName(kind: figure.kind), figure))
    default: emit(.value(value.display))
    }
  }

  /// Evaluates an expression.
  public func evaluate(_ expression: Expression) throws(WorkbookError) -> Value {
    switch expression {
    case .number(let x, _): return .number(x)
    case .bool(let b, _): return .bool(b)
    case .option(let name, _): return .option(name)
    case .string(let parts, _):
      var text = ""
      for part in parts {
        switch part {
        case .text(let t): text += t
        case .interpolation(let e):
          let value = try evaluate(e)
          if case .text(let t) = value { text += t } else { text += value.inlineDisplay }
        }
      }
      return .text(text)
    case .list(let items, _):
      var values: [Value] = []
      for item in items { values.append(try evaluate(item)) }
      return .list(values)
    case .range(let lowerExpression, let upperExpression, let isClosed, _):
      let lower = try integer(lowerExpression, "a range bound")
      let upper = try integer(upperExpression, "a range bound")
      return .range(lower: lower, upper: upper, isClosed: isClosed)
    case .variable(let identifier):
      if let value = variables[identifier.name] { return value }
      if Catalogue.entry(identifier.name) != nil {
        throw WorkbookError(
          kind: .name, message: "'\(identifier.name)' is a function", span: identifier.span,
          hint: "call it: \(identifier.name)(…)")
      }
      let candidates = variableOrder + Catalogue.names
      throw WorkbookError(
        kind: .name, message: "unknown name '\(identifier.name)'", span: identifier.span,
        hint: nearestName(to: identifier.name, among: candidates).map { "did you mean '\($0)'?" })
    case .call(let function, let arguments, let labelled, let span):
      return try call(function, arguments, labelled, span: span)
    case .field(let base, let name, _):
      let value = try evaluate(base)
      return try field(of: value, name)
    case .index(let base, let indexExpression, let span):
      let value = try evaluate(base)
      let index = try evaluate(indexExpression)
      return try subscriptValue(value, index, span: span, indexSpan: indexExpression.span)
    case .negate(let operand, let span):
      guard case .number(let x) = try evaluate(operand) else {
        throw WorkbookError(kind: .type, message: "'-' needs a number", span: span)
      }
      return .number(-x)
    case .binary(let op, let left, let right, let span):
      return try binary(op, try evaluate(left), try evaluate(right), span: span)
    case .parenthesized(let inner, _):
      return try evaluate(inner)
    }
  }

  private func integer(_ expression: Expression, _ what: String) throws(WorkbookError) -> Int {
    guard case .number(let x) = try evaluate(expression), x == x.rounded(), abs(x) < 1e15 else {
      throw WorkbookError(kind: .type, message: "\(what) must be a whole number", span: expression.span)
    }
    return Int(x)
  }

  private func binary(_ op: BinaryOperator, _ a: Value, _ b: Value, span: SourceSpan)
    throws(WorkbookError) -> Value
  {
    switch (op, a, b) {
    case (.equal, _, _): return .bool(a.isEqual(to: b))
    case (.notEqual, _, _): return .bool(!a.isEqual(to: b))
    case (.add, .text(let x), .text(let y)): return .text(x + y)
    case (_, .number(let x), .number(let y)):
      switch op {
      case .add: return .number(x + y)
      case .subtract: return .number(x - y)
      case .multiply: return .number(x * y)
      case .divide:
        guard y != 0 else { throw WorkbookError(kind: .value, message: "division by zero", span: span) }
        return .number(x / y)
      case .less: return .bool(x < y)
      case .lessEqual: return .bool(x <= y)
      case .greater: return .bool(x > y)
      case .greaterEqual: return .bool(x >= y)
      case .equal, .notEqual: return .bool(false)  // handled above
      }
    default:
      throw WorkbookError(
        kind: .type,
        message: "'\(op.symbol)' needs two numbers, not \(a.kind.withArticle) and \(b.kind.withArticle)",
        span: span)
    }
  }

  // MARK: Calls

  private func call(
    _ function: Identifier, _ arguments: [Expression], _ labelled: [LabelledArgument],
    span: SourceSpan
  ) throws(WorkbookError) -> Value {
    guard let entry = Catalogue.entry(function.name) else {
      throw WorkbookError(
        kind: .name, message: "unknown function '\(function.name)'", span: function.span,
        hint: nearestName(to: function.name, among: Catalogue.names).map { "did you mean '\($0)'?" })
    }
    let (bound, spans) = try bindArguments(entry, arguments, labelled, callSpan: span, nameSpan: function.span)
    do {
      return try entry.body(bound)
    } catch let failure as CallFailure {
      let blamed = failure.parameter.flatMap { spans[$0] } ?? span
      throw WorkbookError(kind: failure.kind, message: failure.message, span: blamed, hint: failure.hint)
    } catch let error as WorkbookError {
      throw error
    } catch {
      throw WorkbookError(kind: .runtime, message: String(describing: error), span: span)
    }
  }

  /// Binds and checks the arguments of a call against the entry's parameters.
  private func bindArguments(
    _ entry: FunctionEntry, _ arguments: [Expression], _ labelled: [LabelledArgument],
    callSpan: SourceSpan, nameSpan: SourceSpan
  ) throws(WorkbookError) -> (Call, [String: SourceSpan]) {
    var values: [String: Value] = [:]
    var spans: [String: SourceSpan] = [:]
    var names: [String: String] = [:]
    var variadic: [Value] = []
    let positional = entry.parameters.filter { $0.label == nil }
    if arguments.count > positional.count, positional.last?.isVariadic != true {
      throw WorkbookError(
        kind: .argument,
        message: positional.isEmpty
          ? "\(entry.name) takes only labelled arguments"
          : "\(entry.name) takes \(positional.count) positional argument\(positional.count == 1 ? "" : "s") but got \(arguments.count)",
        span: arguments[positional.count].span, hint: "see help(\(entry.name))")
    }

    for (i, expression) in arguments.enumerated() {
      let parameter = positional[min(i, positional.count - 1)]
      let value: Value
      if entry.name == "help", case .variable(let id) = expression, variables[id.name] == nil {
        value = .text(id.name)  // help(kmeans): a function named, not a variable read
      } else {
        value = try evaluate(expression)
      }
      let accepted = try check(value, for: parameter, of: entry, at: expression.span, position: i)
      if parameter.isVariadic {
        variadic.append(accepted)
        if case .variable(let id) = expression { names[Call.variadicKey(variadic.count - 1)] = id.name }
        spans[parameter.name] = spans[parameter.name].map { $0.through(expression.span) } ?? expression.span
      } else {
        values[parameter.name] = accepted
        spans[parameter.name] = expression.span
        if case .variable(let id) = expression { names[parameter.name] = id.name }
      }
    }

    for argument in labelled {
      let label = argument.label.name
      guard let parameter = entry.parameters.first(where: { $0.label == label }) else {
        let isPositional = entry.parameters.contains { $0.label == nil && $0.name == label }
        throw WorkbookError(
          kind: .argument,
          message: isPositional
            ? "'\(label)' is passed without a label in \(entry.name)"
            : "\(entry.name) has no label '\(label):'",
          span: argument.label.span,
          hint: isPositional
            ? "write it in its place: \(entry.signature)"
            : nearestName(to: label, among: entry.labels).map { "did you mean '\($0):'?" }
              ?? "it takes \(entry.labels.map { "'\($0):'" }.joined(separator: ", "))")
      }
      guard values[label] == nil else {
        throw WorkbookError(kind: .argument, message: "'\(label):' is given twice", span: argument.label.span)
      }
      let value = try evaluate(argument.value)
      values[label] = try check(value, for: parameter, of: entry, at: argument.value.span, position: nil)
      spans[label] = argument.value.span
      if case .variable(let id) = argument.value { names[label] = id.name }
    }

    for (i, parameter) in entry.parameters.enumerated() where values[parameter.name] == nil {
      if let value = parameter.defaultValue {
        // Defaults take the same form as given arguments (a range default becomes a list).
        values[parameter.name] = parameter.accepts.accept(value) ?? value
      } else if parameter.isRequired {
        let what = parameter.label.map { "'\($0):' (\(parameter.accepts.description))" }
          ?? "\(parameter.accepts.description) as its \(ordinal(i + 1)) argument"
        throw WorkbookError(
          kind: .argument, message: "\(entry.name) needs \(what)", span: callSpan,
          hint: entry.signature)
      }
    }
    return (
      Call(entry: entry, arguments: values, variadic: variadic, variableNames: names, session: self),
      spans
    )
  }

  /// The value converted to what the parameter accepts, or a clear error.
  private func check(
    _ value: Value, for parameter: Parameter, of entry: FunctionEntry, at span: SourceSpan,
    position: Int?
  ) throws(WorkbookError) -> Value {
    if let accepted = parameter.accepts.accept(value) { return accepted }
    let place = parameter.label.map { "'\($0):'" }
      ?? "its \(ordinal((position ?? 0) + 1)) argument"
    if case .option(let name) = value, !parameter.accepts.optionNames.isEmpty {
      let allowed = parameter.accepts.optionNames
      throw WorkbookError(
        kind: .argument,
        message: "\(entry.name) takes \(Accepts.optionList(allowed)) for \(place), not .\(name)",
        span: span, hint: nearestName(to: name, among: allowed).map { "did you mean '.\($0)'?" })
    }
    throw WorkbookError(
      kind: .type,
      message: "\(entry.name) expects \(parameter.accepts.description) for \(place), not \(value.kind.withArticle)",
      span: span)
  }

  private func ordinal(_ n: Int) -> String {
    switch n {
    case 1: "1st"
    case 2: "2nd"
    case 3: "3rd"
    default: "\(n)th"
    }
  }
}
