import Foundation
import SigbookTensor

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
    cellRun += 1
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

  /// The deepest workbook functions may call one another.
  static let maximumCallDepth = 64

  /// Runs one statement; says whether a `return` ended the function it is in.
  @discardableResult
  func execute(_ statement: Statement) throws(WorkbookError) -> Flow {
    if isCancelled() {
      throw WorkbookError(kind: .interrupted, message: "interrupted", span: statement.span)
    }
    switch statement {
    case .expression(let expression):
      let value = try evaluate(expression)
      show(value, of: expression)
    case .assignment(let target, let valueExpression, _):
      let value = try evaluate(valueExpression)
      try bind(target, value)
    case .destructuring(let targets, let valueExpression, let span):
      let value = try evaluate(valueExpression)
      guard case .list(let items) = value, items.count == targets.count else {
        let found: String
        if case .list(let items) = value {
          found = "\(items.count) values"
        } else {
          found = value.kind.withArticle
        }
        throw WorkbookError(
          kind: .type,
          message: "\(targets.count) names need as many values, but this gives \(found)",
          span: span)
      }
      for (target, item) in zip(targets, items) { try bind(target, item) }
    case .forLoop(let variable, let sequence, let body, _):
      return try runLoop(variable, over: sequence, body: body, span: statement.span)
    case .ifStatement(let branches, let otherwise, _):
      for branch in branches where try condition(branch.condition, "'if'") {
        return try runBlock(branch.body)
      }
      if let otherwise { return try runBlock(otherwise) }
    case .function(let definition):
      try define(definition)
    case .returnStatement(let valueExpression, _):
      return .returned(
        try valueExpression.map { e throws(WorkbookError) in try evaluate(e) } ?? .nothing)
    }
    return .next
  }

  private func runBlock(_ statements: [Statement]) throws(WorkbookError) -> Flow {
    for statement in statements {
      if case .returned(let value) = try execute(statement) { return .returned(value) }
    }
    return .next
  }

  /// `for x in sequence { … }`: items of a list, numbers of a range (one at a time, never the
  /// whole range in memory), rows of a table.
  private func runLoop(
    _ variable: Identifier, over sequence: Expression, body: [Statement], span: SourceSpan
  ) throws(WorkbookError) -> Flow {
    let value = try evaluate(sequence)
    /// Runs the body for one item; Ctrl-C in it (or before it) says where the loop stopped,
    /// unless what it interrupted said more (a nested loop, training).
    func step(_ item: Value, at position: @autoclosure () -> String) throws(WorkbookError) -> Flow {
      do throws(WorkbookError) {
        if isCancelled() {
          throw WorkbookError(kind: .interrupted, message: "interrupted", span: span)
        }
        try bind(variable, item)
        return try runBlock(body)
      } catch  where error.kind == .interrupted && error.message == "interrupted" {
        var located = error
        located.message = "for loop stopped at \(position())"
        throw located
      }
    }
    switch value {
    case .list(let items):
      for (index, item) in items.enumerated() {
        if case .returned(let v) = try step(item, at: "item \(index + 1) of \(items.count)") {
          return .returned(v)
        }
      }
    case .range(let lower, let upper, let isClosed):
      var i = lower
      while isClosed ? i <= upper : i < upper {
        if case .returned(let v) = try step(.number(Double(i)), at: "\(variable.name) = \(i)") {
          return .returned(v)
        }
        i += 1
      }
    case .table(let table):
      let rows = table.rowTables
      for (index, row) in rows.enumerated() {
        if case .returned(let v) = try step(.table(row), at: "row \(index) of \(rows.count)") {
          return .returned(v)
        }
      }
    default:
      if case .failure(let error) = Typing.loopItem(.of(value.kind)) {
        throw error.at(sequence.span)
      }
    }
    return .next
  }

  /// The value of a condition, which must be true or false.
  private func condition(_ expression: Expression, _ what: String) throws(WorkbookError) -> Bool {
    let value = try evaluate(expression)
    guard case .bool(let b) = value else {
      throw (Typing.condition(value.kind, what) ?? TypingError("\(what) needs true or false"))
        .at(expression.span)
    }
    return b
  }

  private func bind(_ target: Identifier, _ value: Value) throws(WorkbookError) {
    if case .nothing = value {
      throw WorkbookError(
        kind: .type, message: "this gives no value to assign to '\(target.name)'",
        span: target.span)
    }
    // Inside a function, names are its own and its figures are not written under them.
    if !frames.isEmpty {
      frames[frames.count - 1][target.name] = value
      return
    }
    // A variable may share a function's name (`paths = sankey(clusters)`): calls always name
    // functions, bare names variables.
    if case .figure(let figure) = value { pendingFigures.append((target.name, figure)) }
    assign(target.name, value)
  }

  /// Shows the value of an expression statement. A figure shown through the variable that
  /// holds it is written under that variable's name, once.
  private func show(_ value: Value, of expression: Expression) {
    switch value {
    case .nothing: break
    case .figure(let figure):
      if case .variable(let id) = expression, frames.isEmpty {
        pendingFigures.append((id.name, figure))
      } else {
        pendingFigures.append((unnamedFigureName(kind: figure.kind), figure))
      }
    default:
      shownValue = value
      emit(.value(value.display))
      shownValue = nil
    }
  }

  /// Defines a workbook function; its labelled parameters' defaults are evaluated now.
  private func define(_ definition: FunctionDefinition) throws(WorkbookError) {
    let name = definition.name
    if Catalogue.entry(name.name) != nil {
      throw WorkbookError(
        kind: .name, message: "'\(name.name)' is already a function of the catalogue",
        span: name.span, hint: "give your function another name")
    }
    var defaults: [String: Value] = [:]
    for parameter in definition.parameters {
      if let e = parameter.defaultValue { defaults[parameter.name.name] = try evaluate(e) }
    }
    functions[name.name] = definition.entry(defaults: defaults, file: file)
  }

  /// Runs a workbook function's body with its arguments as local variables.
  func invoke(_ definition: FunctionDefinition, _ call: Call) throws(WorkbookError) -> Value {
    guard frames.count < Self.maximumCallDepth else {
      throw WorkbookError(
        kind: .runtime,
        message: "'\(definition.name.name)' is called \(Self.maximumCallDepth) deep",
        span: definition.name.span, hint: "does it call itself without end?")
    }
    var locals: [String: Value] = [:]
    for parameter in definition.parameters {
      locals[parameter.name.name] = call.value(parameter.name.name) ?? .nothing
    }
    frames.append(locals)
    defer { frames.removeLast() }
    if case .returned(let value) = try runBlock(definition.body) { return value }
    return .nothing
  }

  /// Evaluates an expression.
  func evaluate(_ expression: Expression) throws(WorkbookError) -> Value {
    if let value = Value(literal: expression) { return value }
    switch expression {
    case .number, .bool, .option: preconditionFailure("a literal is read by Value(literal:)")
    case .string(let parts, _):
      var text = ""
      for part in parts {
        switch part {
        case .text(let t): text += t
        case .interpolation(let e):
          let value = try evaluate(e)
          let t: String
          if case .text(let inner) = value { t = inner } else { t = value.inlineDisplay }
          try requireTextMemory(text.utf8.count, t.utf8.count, span: e.span)
          text += t
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
      if let value = lookup(identifier.name) { return value }
      throw .unknownName(
        identifier,
        isFunction: Catalogue.entry(identifier.name) != nil || functions[identifier.name] != nil,
        variables: (frames.last.map { $0.keys.sorted() } ?? []) + variableOrder,
        functions: functions.keys.sorted())
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
    case .logical(let op, let left, let right, _):
      let a = try condition(left, "'\(op.symbol)'")
      // The right side is evaluated only when it decides: `n > 0 and total / n > 1`.
      if op == .and && !a { return .bool(false) }
      if op == .or && a { return .bool(true) }
      return .bool(try condition(right, "'\(op.symbol)'"))
    case .not(let operand, _):
      return .bool(!(try condition(operand, "'not'")))
    }
  }

  private func integer(_ expression: Expression, _ what: String) throws(WorkbookError) -> Int {
    guard case .number(let x) = try evaluate(expression), x == x.rounded(), abs(x) < 1e15 else {
      throw WorkbookError(
        kind: .type, message: "\(what) must be a whole number", span: expression.span)
    }
    return Int(x)
  }

  private func binary(_ op: BinaryOperator, _ a: Value, _ b: Value, span: SourceSpan)
    throws(WorkbookError) -> Value
  {
    if case .failure(let error) = Typing.binary(op, a.kind, b.kind) { throw error.at(span) }
    switch (op, a, b) {
    case (.equal, _, _): return .bool(a.isEqual(to: b))
    case (.notEqual, _, _): return .bool(!a.isEqual(to: b))
    case (.add, .text(let x), .text(let y)):
      try requireTextMemory(x.utf8.count, y.utf8.count, span: span)
      return .text(x + y)
    case (.add, _, _) where a.kind != .number:
      try requireListMemory([a, b], span: span)
      return .list(a.listItems + b.listItems)
    case (_, .text(let x), .text(let y)):
      switch op {
      case .less: return .bool(x < y)
      case .lessEqual: return .bool(x <= y)
      case .greater: return .bool(x > y)
      default: return .bool(x >= y)
      }
    case (_, .number(let x), .number(let y)):
      switch op {
      case .add: return .number(x + y)
      case .subtract: return .number(x - y)
      case .multiply: return .number(x * y)
      case .divide:
        guard y != 0 else {
          throw WorkbookError(kind: .value, message: "division by zero", span: span)
        }
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
        message: "'\(op.symbol)' cannot join \(a.kind.withArticle) and \(b.kind.withArticle)",
        span: span)
    }
  }

  // MARK: Calls

  private func call(
    _ function: Identifier, _ arguments: [Expression], _ labelled: [LabelledArgument],
    span: SourceSpan
  ) throws(WorkbookError) -> Value {
    guard let entry = Catalogue.entry(function.name) ?? functions[function.name] else {
      throw .unknownFunction(function, functions: functions.keys.sorted())
    }
    let start = ContinuousClock.now
    let (bound, spans) = try bindArguments(entry, arguments, labelled, callSpan: span)
    if entry.name == "time", Catalogue.entry("time") != nil, let timed = arguments.first {
      let elapsed = ContinuousClock.now - start
      let seconds =
        Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
      var label = timed.source
      if label.count > 60 { label = String(label.prefix(59)) + "…" }
      emit(.timing(label: label, seconds: seconds))
    }
    do {
      let value = try entry.body(bound)
      if Catalogue.entry(function.name) != nil {
        try requireRoom(for: value, of: entry.name, span: span)
      }
      return value
    } catch let failure as CallFailure {
      let blamed = failure.parameter.flatMap { spans[$0] } ?? span
      throw WorkbookError(
        kind: failure.kind, message: failure.message, span: blamed, hint: failure.hint)
    } catch let error as WorkbookError {
      throw error
    } catch {
      throw WorkbookError(kind: .runtime, message: String(describing: error), span: span)
    }
  }

  /// Binds the arguments of a call to the entry's parameters (the matching `check` uses too),
  /// evaluating and checking each in source order, then filling in defaults.
  private func bindArguments(
    _ entry: FunctionEntry, _ arguments: [Expression], _ labelled: [LabelledArgument],
    callSpan: SourceSpan
  ) throws(WorkbookError) -> (Call, [String: SourceSpan]) {
    let match = try entry.match(arguments, labelled, callSpan: callSpan)
    var values: [String: Value] = [:]
    var spans: [String: SourceSpan] = [:]
    var names: [String: String] = [:]
    var variadic: [Value] = []
    for binding in match.bindings {
      let parameter = binding.parameter, expression = binding.expression
      let value: Value
      if entry.name == "help", case .variable(let id) = expression, lookup(id.name) == nil {
        value = .text(id.name)  // help(kmeans): a function named, not a variable read
      } else {
        value = try evaluate(expression)
      }
      if parameter.accepts.materialisesRanges {
        try requireListMemory([value], span: expression.span)
      }
      guard let accepted = parameter.accepts.accept(value) else {
        throw entry.rejection(
          of: value.kind, option: value.optionName, for: parameter, position: binding.position,
          at: expression.span)
      }
      if let excess = entry.excess(
        of: accepted, for: parameter, position: binding.position, at: expression.span)
      {
        throw excess
      }
      if parameter.isVariadic {
        variadic.append(accepted)
        if case .variable(let id) = expression {
          names[Call.variadicKey(variadic.count - 1)] = id.name
        }
        spans[parameter.name] =
          spans[parameter.name].map { $0.through(expression.span) } ?? expression.span
      } else {
        values[parameter.name] = accepted
        spans[parameter.name] = expression.span
        if case .variable(let id) = expression { names[parameter.name] = id.name }
      }
    }
    var extra: [(label: String, value: Value)] = []
    for argument in match.extra {
      let value = try evaluate(argument.value)
      let accepts = entry.otherLabels ?? .any
      guard let accepted = accepts.accept(value) else {
        throw entry.rejection(
          of: value.kind, option: value.optionName,
          for: .labelled(argument.label.name, accepts, doc: ""), position: nil,
          at: argument.value.span)
      }
      extra.append((argument.label.name, accepted))
      spans[argument.label.name] = argument.value.span
    }
    for parameter in entry.parameters where values[parameter.name] == nil {
      if let value = parameter.defaultValue {
        // Defaults take the same form as given arguments (a range default becomes a list).
        values[parameter.name] = parameter.accepts.accept(value) ?? value
      }
    }
    var call = Call(
      entry: entry, arguments: values, variadic: variadic, variableNames: names, session: self)
    call.extra = extra
    return (call, spans)
  }
}

extension Session {
  /// Refuses to join two texts (`s = s + s`, `"\(s)\(s)"`) when the result would need more than
  /// what is left of the memory limit.
  func requireTextMemory(_ a: Int, _ b: Int, span: SourceSpan) throws(WorkbookError) {
    let total = MemoryEstimate.sum(a, b)
    guard total > 1 << 16 else { return }
    do {
      try memoryLimit.check(
        total, for: "a text of \(NumberFormat.grouped(total)) bytes", advice: "make a shorter text")
    } catch {
      throw WorkbookError(kind: .runtime, message: error.message, span: span, hint: error.hint)
    }
  }

  /// Refuses the result of a catalogue function when, with what the session holds, it passes
  /// the memory limit: functions that make data like their input (`noise`, `concat`, `subset`)
  /// estimate nothing beforehand, so data piled up across statements (a list of 100 noisy copies
  /// of a dataset) is stopped at the first result that does not fit, and is not kept.
  func requireRoom(for value: Value, of name: String, span: SourceSpan) throws(WorkbookError) {
    var result = value.footprint
    guard result.total > 1 << 16 else { return }
    let held = heldFootprint
    for key in held.shared.keys { result.shared[key] = nil }
    do {
      var limit = memoryLimit
      limit.held = held.total
      limit = limit.startingOperation(allocated: result.total)
      try limit.check(
        result.total, for: "the result of \(name)",
        advice: "keep fewer results in variables and lists")
    } catch {
      throw WorkbookError(kind: .runtime, message: error.message, span: span, hint: error.hint)
    }
  }

  /// Refuses to turn ranges into a list (`sum(0...1e10)`, `[1] + (0..<1e9)`), or to join lists
  /// (`xs = xs + xs` in a loop), when the list would need more than the memory limit.
  func requireListMemory(_ values: [Value], span: SourceSpan) throws(WorkbookError) {
    var count = 0
    var ranges: [String] = []
    for value in values {
      switch value {
      case .range(let lower, let upper, let isClosed):
        count += Value.rangeCount(lower: lower, upper: upper, isClosed: isClosed)
        ranges.append("\(lower)\(isClosed ? "..." : "..<")\(upper)")
      case .list(let items): count += items.count
      default: count += 1
      }
    }
    let what =
      ranges.isEmpty
      ? "a list of \(NumberFormat.grouped(count)) items"
      : "a list of the \(NumberFormat.grouped(count)) numbers of \(ranges.joined(separator: " and "))"
    do {
      try memoryLimit.check(
        MemoryEstimate.list(count: count), for: what,
        advice: "loop over the range with for instead of making a list, or use a shorter range")
    } catch {
      throw WorkbookError(kind: .runtime, message: error.message, span: span, hint: error.hint)
    }
  }
}

/// How a statement ended: on to the next one, or by `return` with the function's value.
enum Flow {
  case next
  case returned(Value)
}

extension Value {
  /// The name of an option, nil for any other value.
  var optionName: String? {
    if case .option(let name) = self { return name }
    return nil
  }

  /// The items of a list, or the numbers of a range.
  var listItems: [Value] {
    switch self {
    case .list(let items): items
    case .range(let lower, let upper, let isClosed):
      Value.rangeValues(lower: lower, upper: upper, isClosed: isClosed).map { .number(Double($0)) }
    default: [self]
    }
  }
}
