/// Finds the mistakes of a workbook without running it (`sigbook check`).
///
/// Besides syntax, it resolves every name against the catalogue, the workbook's functions and
/// the variables assigned before it (in file order, across cells), and follows the kind of
/// every value through assignments, loops, `if` and workbook functions: every catalogue entry
/// declares the kind it returns, and the typing rules of operators, fields and indexes are the
/// evaluator's own (`Typing`). Calls are matched to their parameters by the same binder `run`
/// uses (`FunctionEntry.match`), so a mistake gets the same message, line and column from both.
/// What only data can tell (a layer number past the last layer, a file that does not exist) is
/// left to `run`.
public struct Checker {
  public private(set) var errors: [WorkbookError] = []
  /// The workbook's variables with what is known of them, and the order they were defined in.
  private var globals: [String: StaticType] = [:]
  private var order: [String] = []
  /// The variables of the workbook functions being checked, innermost last.
  private var locals: [[String: StaticType]] = []
  /// The workbook's functions, as entries, with the type their `return`s give and the names
  /// their bodies use that were not defined yet (see ``Deferred``).
  private var functions:
    [String: (entry: FunctionEntry, returns: StaticType, deferred: [Deferred])] = [:]
  /// The types of the `return`s met in each function being checked.
  private var returns: [[StaticType]] = []
  /// The names used by each function being checked that are to be looked up when it is called.
  private var deferred: [[Deferred]] = []
  /// Where a deferred name was already reported, so that a function called twice reports once.
  private var reportedDeferred: Set<SourceLocation> = []

  /// A name a workbook function's body uses: `run` looks it up only when the function is
  /// called (`func a() { return b() }` may come before `func b()`), so `check` resolves it at
  /// every call made outside a function body, against what is defined by then.
  private struct Deferred {
    var name: Identifier
    /// Whether it is called (a function not defined yet, or a workbook function whose own
    /// deferred names are then resolved) rather than read as a variable.
    var isCall: Bool
    /// The call's arguments, still to be matched to the function's parameters (nil when they
    /// were matched where the call is written).
    var unmatched: (arguments: [Expression], labelled: [LabelledArgument], span: SourceSpan)?
  }

  public init() {}

  /// Every problem of a workbook's text, sorted by position.
  public static func check(text: String, file: String) -> [WorkbookError] {
    let parsed = parseWorkbook(text: text, file: file)
    var checker = Checker()
    checker.errors = parsed.errors
    for cell in parsed.cells { checker.check(cell.statements) }
    return checker.errors.sorted { $0.location < $1.location }
  }

  /// Checks statements, in order, adding the names they assign.
  public mutating func check(_ statements: [Statement]) {
    for statement in statements { check(statement) }
  }

  /// Declares a name as defined, its kind unknown.
  mutating func define(_ name: String) { assign(name, .unknown) }

  /// Declares a name as holding a value (the REPL's existing variables).
  mutating func define(_ name: String, as value: Value) {
    assign(name, StaticType(of: value))
  }

  /// Declares a function already defined (the REPL's session).
  mutating func define(function entry: FunctionEntry) {
    functions[entry.name] = (entry, .unknown, [])
  }

  // MARK: - Names

  private func lookup(_ name: String) -> StaticType? {
    locals.last?[name] ?? globals[name]
  }

  private mutating func assign(_ name: String, _ type: StaticType) {
    if locals.isEmpty {
      if globals.updateValue(type, forKey: name) == nil { order.append(name) }
    } else {
      locals[locals.count - 1][name] = type
    }
  }

  // MARK: - Statements

  private mutating func check(_ statement: Statement) {
    switch statement {
    case .expression(let e): _ = infer(e)
    case .assignment(let target, let value, _):
      let type = infer(value)
      if type.kind == .nothing {
        errors.append(
          WorkbookError(
            kind: .type, message: "this gives no value to assign to '\(target.name)'",
            span: target.span))
      }
      assign(target.name, type)
    case .destructuring(let targets, let value, let span):
      let type = infer(value)
      if let kind = type.kind, kind != .list {
        errors.append(
          WorkbookError(
            kind: .type,
            message:
              "\(targets.count) names need as many values, but this gives \(kind.withArticle)",
            span: span))
      }
      for t in targets { assign(t.name, StaticType(kind: type.element, element: nil)) }
    case .forLoop(let variable, let sequence, let body, _):
      switch Typing.loopItem(infer(sequence)) {
      case .success(let item): assign(variable.name, item)
      case .failure(let error):
        errors.append(error.at(sequence.span))
        assign(variable.name, .unknown)
      }
      check(body)
    case .ifStatement(let branches, let otherwise, _):
      for branch in branches { checkCondition(branch.condition, "'if'") }
      // Each block starts from what was known before the `if`; afterwards a name assigned in
      // any of them is known, with the type they (and what came before) agree on.
      let before = (globals: globals, order: order, locals: locals)
      var merged = locals.last ?? globals
      var newNames: [String] = []
      for body in branches.map(\.body) + (otherwise.map { [$0] } ?? []) {
        (globals, order, locals) = before
        check(body)
        for (name, type) in locals.last ?? globals {
          if let known = merged[name] {
            merged[name] = known.merged(with: type)
          } else {
            merged[name] = type
          }
        }
        newNames += order.dropFirst(before.order.count)
      }
      (globals, order, locals) = before
      if locals.isEmpty {
        globals = merged
        var seen = Set(order)
        order += newNames.filter { seen.insert($0).inserted }
      } else {
        locals[locals.count - 1] = merged
      }
    case .function(let definition):
      checkFunction(definition)
    case .returnStatement(let value, _):
      let type = value.map { infer($0) } ?? .of(.nothing)
      if !returns.isEmpty { returns[returns.count - 1].append(type) }
    }
  }

  private mutating func checkCondition(_ expression: Expression, _ what: String) {
    if let kind = infer(expression).kind, let error = Typing.condition(kind, what) {
      errors.append(error.at(expression.span))
    }
  }

  private mutating func checkFunction(_ definition: FunctionDefinition) {
    let name = definition.name
    if Catalogue.entry(name.name) != nil {
      errors.append(
        WorkbookError(
          kind: .name, message: "'\(name.name)' is already a function of the catalogue",
          span: name.span, hint: "give your function another name"))
      return
    }
    var defaults: [String: Value] = [:]
    var parameterTypes: [String: StaticType] = [:]
    for parameter in definition.parameters {
      if let e = parameter.defaultValue {
        parameterTypes[parameter.name.name] = infer(e)
        if let constant = Checker.constant(e) { defaults[parameter.name.name] = constant }
      } else {
        parameterTypes[parameter.name.name] = .unknown
      }
    }
    // Defaults that are not literals are evaluated only by `run`: here they may be left out.
    let entry = definition.entry(defaults: defaults, file: name.span.start.file)
    functions[name.name] = (entry, .unknown, [])
    locals.append(parameterTypes)
    returns.append([])
    deferred.append([])
    check(definition.body)
    let found = returns.removeLast()
    let uses = deferred.removeLast()
    locals.removeLast()
    let type = found.first.map { first in found.dropFirst().reduce(first) { $0.merged(with: $1) } }
    functions[name.name] = (entry, type ?? .of(.nothing), uses)
  }

  /// Resolves the names a workbook function's body uses, and those of the workbook functions it
  /// calls, against what is defined now: the call runs it, and `run` would fail on the first
  /// name still unknown.
  private mutating func resolveDeferred(of function: String, visited: inout Set<String>) {
    guard visited.insert(function).inserted, let uses = functions[function]?.deferred else {
      return
    }
    for use in uses {
      let name = use.name.name
      guard use.isCall else {
        if globals[name] == nil { reportDeferred(unknownName(use.name)) }
        continue
      }
      guard let callee = functions[name]?.entry else {
        reportDeferred(unknownFunction(use.name))
        continue
      }
      if let call = use.unmatched {
        do {
          _ = try callee.match(call.arguments, call.labelled, callSpan: call.span)
        } catch {
          reportDeferred(error)
        }
      }
      resolveDeferred(of: name, visited: &visited)
    }
  }

  private mutating func reportDeferred(_ error: WorkbookError) {
    if reportedDeferred.insert(error.location).inserted { errors.append(error) }
  }

  /// The error for a name that is neither a variable nor a function.
  private func unknownName(_ id: Identifier) -> WorkbookError {
    .unknownName(
      id, isFunction: Catalogue.entry(id.name) != nil || functions[id.name] != nil,
      variables: (locals.last.map { $0.keys.sorted() } ?? []) + order,
      functions: functions.keys.sorted())
  }

  /// The error for a call of a function that is neither in the catalogue nor the workbook's.
  private func unknownFunction(_ function: Identifier) -> WorkbookError {
    .unknownFunction(function, functions: functions.keys.sorted())
  }

  // MARK: - Expressions

  /// What is known of the value of an expression; mistakes found on the way are recorded.
  private mutating func infer(_ expression: Expression) -> StaticType {
    switch expression {
    case .number: return .of(.number)
    case .bool: return .of(.bool)
    case .option: return .of(.option)
    case .string(let parts, _):
      for case .interpolation(let e) in parts { _ = infer(e) }
      return .of(.text)
    case .list(let items, _):
      let kinds = items.map { infer($0).kind }
      let first = kinds.first ?? nil
      return .list(of: kinds.allSatisfy { $0 == first } ? first : nil)
    case .range(let lower, let upper, _, _):
      for bound in [lower, upper] {
        if let kind = infer(bound).kind, kind != .number {
          errors.append(
            WorkbookError(
              kind: .type, message: "a range bound must be a whole number", span: bound.span))
        }
      }
      return .of(.range)
    case .variable(let id):
      if let type = lookup(id.name) { return type }
      if !deferred.isEmpty, Catalogue.entry(id.name) == nil, functions[id.name] == nil {
        // A global may be assigned after the function is defined and before it is called.
        deferred[deferred.count - 1].append(Deferred(name: id, isCall: false))
      } else {
        errors.append(unknownName(id))
      }
      return .unknown
    case .call(let function, let arguments, let labelled, let span):
      return checkCall(function, arguments, labelled, span)
    case .field(let base, let name, _):
      switch Typing.field(infer(base), name.name) {
      case .success(let type): return type
      case .failure(let error):
        errors.append(error.at(name.span, kind: .name))
        return .unknown
      }
    case .index(let base, let index, let span):
      let baseType = infer(base)
      guard let indexKind = infer(index).kind else { return .unknown }
      switch Typing.index(baseType, indexKind) {
      case .success(let type): return type
      case .failure(let error):
        errors.append(error.at(span))
        return .unknown
      }
    case .negate(let operand, let span):
      if let kind = infer(operand).kind, kind != .number {
        errors.append(WorkbookError(kind: .type, message: "'-' needs a number", span: span))
      }
      return .of(.number)
    case .binary(let op, let left, let right, let span):
      let a = infer(left), b = infer(right)
      guard let ak = a.kind, let bk = b.kind else {
        if op.isComparison { return .of(.bool) }
        if op == .add, a.kind == .list || b.kind == .list { return .list(of: nil) }
        return a.kind == .number || b.kind == .number ? .of(.number) : .unknown
      }
      switch Typing.binary(op, ak, bk) {
      case .success(let type):
        if op == .add, type.kind == .list, a.element == b.element, ak == .list, bk == .list {
          return a
        }
        return type
      case .failure(let error):
        errors.append(error.at(span))
        return .unknown
      }
    case .parenthesized(let inner, _):
      return infer(inner)
    case .logical(let op, let left, let right, _):
      checkCondition(left, "'\(op.symbol)'")
      checkCondition(right, "'\(op.symbol)'")
      return .of(.bool)
    case .not(let operand, _):
      checkCondition(operand, "'not'")
      return .of(.bool)
    }
  }

  private mutating func checkCall(
    _ function: Identifier, _ arguments: [Expression], _ labelled: [LabelledArgument],
    _ span: SourceSpan
  ) -> StaticType {
    let isWorkbookFunction = Catalogue.entry(function.name) == nil
    if isWorkbookFunction {
      if !deferred.isEmpty {
        // Inside a function body: resolved when the function is called.
        let isDefined = functions[function.name] != nil
        deferred[deferred.count - 1].append(
          Deferred(
            name: function, isCall: true,
            unmatched: isDefined ? nil : (arguments, labelled, span)))
      } else if functions[function.name] != nil {
        var visited: Set<String> = []
        resolveDeferred(of: function.name, visited: &visited)
      }
    }
    guard let entry = Catalogue.entry(function.name) ?? functions[function.name]?.entry else {
      if deferred.isEmpty { errors.append(unknownFunction(function)) }
      arguments.forEach { _ = infer($0) }
      labelled.forEach { _ = infer($0.value) }
      return .unknown
    }
    let result = functions[function.name]?.returns ?? StaticType(declared: entry.returns)
    let match: ArgumentMatch
    do {
      match = try entry.match(arguments, labelled, callSpan: span)
    } catch {
      errors.append(error)
      arguments.forEach { _ = infer($0) }
      labelled.forEach { _ = infer($0.value) }
      return result
    }
    for binding in match.bindings {
      if entry.name == "help", case .variable(let id) = binding.expression, lookup(id.name) == nil {
        continue  // help(kmeans) names a function
      }
      checkArgument(
        binding.expression, for: binding.parameter, position: binding.position, of: entry)
    }
    for argument in match.extra {
      checkArgument(
        argument.value, for: .labelled(argument.label.name, entry.otherLabels ?? .any, doc: ""),
        position: nil, of: entry)
    }
    return result
  }

  /// An argument must be of a kind the parameter accepts; a literal is checked exactly as
  /// `run` checks its value.
  private mutating func checkArgument(
    _ expression: Expression, for parameter: Parameter, position: Int?, of entry: FunctionEntry
  ) {
    let type = infer(expression)
    if var constant = Checker.constant(expression) {
      // Whether a range is accepted does not depend on its length: check a short one, rather
      // than making the list of `sort(0...1e13)` (which exhausted memory).
      if case .range(let lower, let upper, let isClosed) = constant {
        // Its first number past the parameter's maximum is what `run` refuses.
        let last = isClosed ? upper : upper - 1
        if let maximum = parameter.maximum, last > maximum,
          parameter.accepts.accept(.range(lower: lower, upper: lower, isClosed: true)) != nil,
          let excess = entry.excess(
            of: .list([.number(Double(max(lower, maximum + 1)))]), for: parameter,
            position: position, at: expression.span)
        {
          errors.append(excess)
          return
        }
        constant = .range(lower: lower, upper: min(upper, lower + 1), isClosed: isClosed)
      }
      if let accepted = parameter.accepts.accept(constant) {
        if let excess = entry.excess(
          of: accepted, for: parameter, position: position, at: expression.span)
        {
          errors.append(excess)
        }
      } else {
        errors.append(
          entry.rejection(
            of: constant.kind, option: constant.optionName, for: parameter, position: position,
            at: expression.span))
      }
    } else if let kind = type.kind, !parameter.accepts.mayAccept(type) {
      errors.append(
        entry.rejection(
          of: kind, option: nil, for: parameter, position: position, at: expression.span))
    }
  }

  /// The value of an expression made of literals only, or nil.
  static func constant(_ expression: Expression) -> Value? {
    if let value = Value(literal: expression) { return value }
    switch expression {
    case .negate(let operand, _):
      guard case .number(let x)? = constant(operand) else { return nil }
      return .number(-x)
    case .parenthesized(let inner, _): return constant(inner)
    case .list(let items, _):
      var values: [Value] = []
      for item in items {
        guard let value = constant(item) else { return nil }
        values.append(value)
      }
      return .list(values)
    case .range(let lower, let upper, let isClosed, _):
      guard case .number(let l)? = constant(lower), case .number(let u)? = constant(upper),
        l == l.rounded(), u == u.rounded(), abs(l) < 1e15, abs(u) < 1e15
      else { return nil }
      return .range(lower: Int(l), upper: Int(u), isClosed: isClosed)
    default: return nil
    }
  }
}
