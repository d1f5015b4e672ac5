/// Finds the mistakes of a workbook without running it (`sigbook check`).
///
/// Besides syntax, it resolves every name against the catalogue and the variables assigned
/// before it (in file order, across cells), and checks every call's arguments: their number,
/// their labels, and options written literally. Kinds of values are not known without running,
/// so a dataset passed where a model is expected is found only by `run`.
public struct Checker {
  public private(set) var errors: [WorkbookError] = []
  private var defined: Set<String> = []

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

  /// Declares a name as defined (the REPL's existing variables).
  public mutating func define(_ name: String) { defined.insert(name) }

  private mutating func check(_ statement: Statement) {
    switch statement {
    case .expression(let e): check(e)
    case .assignment(let target, let value, _):
      check(value)
      assign(target)
    case .destructuring(let targets, let value, _):
      check(value)
      for t in targets { assign(t) }
    case .forLoop(let variable, let sequence, let body, _):
      check(sequence)
      assign(variable)
      check(body)
    }
  }

  private mutating func assign(_ target: Identifier) {
    defined.insert(target.name)
  }

  private mutating func check(_ expression: Expression) {
    switch expression {
    case .number, .bool, .option: break
    case .string(let parts, _):
      for case .interpolation(let e) in parts { check(e) }
    case .list(let items, _): items.forEach { check($0) }
    case .range(let l, let u, _, _):
      check(l)
      check(u)
    case .variable(let id):
      guard !defined.contains(id.name) else { return }
      if Catalogue.entry(id.name) != nil {
        errors.append(
          WorkbookError(
            kind: .name, message: "'\(id.name)' is a function", span: id.span,
            hint: "call it: \(id.name)(…)"))
      } else {
        errors.append(
          WorkbookError(
            kind: .name, message: "unknown name '\(id.name)'", span: id.span,
            hint: nearestName(to: id.name, among: Array(defined) + Catalogue.names)
              .map { "did you mean '\($0)'?" }))
      }
    case .call(let function, let arguments, let labelled, let span):
      checkCall(function, arguments, labelled, span)
    case .field(let base, _, _): check(base)
    case .index(let base, let index, _):
      check(base)
      check(index)
    case .negate(let e, _): check(e)
    case .binary(_, let l, let r, _):
      check(l)
      check(r)
    case .parenthesized(let e, _): check(e)
    }
  }

  private mutating func checkCall(
    _ function: Identifier, _ arguments: [Expression], _ labelled: [LabelledArgument],
    _ span: SourceSpan
  ) {
    guard let entry = Catalogue.entry(function.name) else {
      errors.append(
        WorkbookError(
          kind: .name, message: "unknown function '\(function.name)'", span: function.span,
          hint: nearestName(to: function.name, among: Catalogue.names).map { "did you mean '\($0)'?" }))
      arguments.forEach { check($0) }
      labelled.forEach { check($0.value) }
      return
    }
    let positional = entry.parameters.filter { $0.label == nil }
    let isVariadic = positional.last?.isVariadic == true
    for (i, argument) in arguments.enumerated() {
      if entry.name == "help", case .variable = argument { continue }
      check(argument)
      if i >= positional.count && !isVariadic {
        errors.append(
          WorkbookError(
            kind: .argument,
            message: positional.isEmpty
              ? "\(entry.name) takes only labelled arguments"
              : "\(entry.name) takes \(positional.count) positional argument\(positional.count == 1 ? "" : "s") but got \(arguments.count)",
            span: argument.span, hint: "see help(\(entry.name))"))
      } else {
        checkOption(argument, positional[min(i, positional.count - 1)], entry)
      }
    }
    var seen: Set<String> = []
    for argument in labelled {
      check(argument.value)
      let label = argument.label.name
      guard let parameter = entry.parameters.first(where: { $0.label == label }) else {
        errors.append(
          WorkbookError(
            kind: .argument, message: "\(entry.name) has no label '\(label):'",
            span: argument.label.span,
            hint: nearestName(to: label, among: entry.labels).map { "did you mean '\($0):'?" }))
        continue
      }
      if !seen.insert(label).inserted {
        errors.append(
          WorkbookError(kind: .argument, message: "'\(label):' is given twice", span: argument.label.span))
      }
      checkOption(argument.value, parameter, entry)
    }
    for (i, parameter) in entry.parameters.enumerated() where parameter.isRequired {
      let given = parameter.label.map { seen.contains($0) }
        ?? (positional.firstIndex { $0.name == parameter.name }.map { $0 < arguments.count } ?? false)
      if !given {
        let what = parameter.label.map { "'\($0):' (\(parameter.accepts.description))" }
          ?? "\(parameter.accepts.description) as its \(i + 1 == 1 ? "1st" : i + 1 == 2 ? "2nd" : i + 1 == 3 ? "3rd" : "\(i + 1)th") argument"
        errors.append(
          WorkbookError(
            kind: .argument, message: "\(entry.name) needs \(what)", span: span,
            hint: entry.signature))
      }
    }
  }

  /// A literal option must be one the parameter allows.
  private mutating func checkOption(_ argument: Expression, _ parameter: Parameter, _ entry: FunctionEntry) {
    guard case .option(let name, let span) = argument else { return }
    let allowed = parameter.accepts.optionNames
    guard !allowed.contains(name) else { return }
    let place = parameter.label.map { "'\($0):'" } ?? "'\(parameter.name)'"
    errors.append(
      WorkbookError(
        kind: .argument,
        message: allowed.isEmpty
          ? "\(entry.name) takes no option for \(place)"
          : "\(entry.name) takes \(Accepts.optionList(allowed)) for \(place), not .\(name)",
        span: span, hint: nearestName(to: name, among: allowed).map { "did you mean '.\($0)'?" }))
  }
}
