import SigbookTensor

/// The arguments of one call matched to the parameters of the function called.
///
/// Matching looks only at the source — how many positional arguments, which labels — so `run`
/// and `check` share it, and with it every message about the shape of a call. Kinds are then
/// checked argument by argument: `run` against values, `check` against what it can infer, both
/// through `FunctionEntry.rejection(…)`.
struct ArgumentMatch {
  /// One argument and the parameter it goes to.
  struct Binding {
    var parameter: Parameter
    var expression: Expression
    /// The argument's position among the positional ones, nil for a labelled one.
    var position: Int?
  }

  /// Every argument, in source order.
  var bindings: [Binding] = []
  /// Labelled arguments that no parameter names, for a function that takes any label
  /// (`table(name: column, …)`), in source order.
  var extra: [LabelledArgument] = []
}

extension FunctionEntry {
  /// Matches a call's arguments to the parameters; the first mistake in the call's shape is an
  /// error (too many positional arguments, an unknown label, a missing argument).
  func match(_ arguments: [Expression], _ labelled: [LabelledArgument], callSpan: SourceSpan)
    throws(WorkbookError) -> ArgumentMatch
  {
    var match = ArgumentMatch()
    let positional = parameters.filter { $0.label == nil }
    if arguments.count > positional.count, positional.last?.isVariadic != true {
      throw WorkbookError(
        kind: .argument,
        message: positional.isEmpty
          ? "\(name) takes only labelled arguments"
          : "\(name) takes \(positional.count) positional argument\(positional.count == 1 ? "" : "s") but got \(arguments.count)",
        span: arguments[positional.count].span, hint: "see help(\(name))")
    }
    for (i, expression) in arguments.enumerated() {
      match.bindings.append(
        .init(
          parameter: positional[min(i, positional.count - 1)], expression: expression, position: i))
    }
    var given: Set<String> = []
    for argument in labelled {
      let label = argument.label.name
      guard let parameter = parameters.first(where: { $0.label == label }) else {
        if otherLabels != nil {
          match.extra.append(argument)
          continue
        }
        let isPositional = parameters.contains { $0.label == nil && $0.name == label }
        throw WorkbookError(
          kind: .argument,
          message: isPositional
            ? "'\(label)' is passed without a label in \(name)"
            : "\(name) has no label '\(label):'",
          span: argument.label.span,
          hint: isPositional
            ? "write it in its place: \(signature)"
            : nearestName(to: label, among: labels).map { "did you mean '\($0):'?" }
              ?? (labels.isEmpty
                ? "it takes no labels"
                : "it takes \(labels.map { "'\($0):'" }.joined(separator: ", "))"))
      }
      guard given.insert(label).inserted else {
        throw WorkbookError(
          kind: .argument, message: "'\(label):' is given twice", span: argument.label.span)
      }
      match.bindings.append(.init(parameter: parameter, expression: argument.value, position: nil))
    }
    for (i, parameter) in parameters.enumerated() where parameter.isRequired {
      let isGiven =
        parameter.label.map { given.contains($0) }
        ?? match.bindings.contains { $0.position != nil && $0.parameter.name == parameter.name }
      guard !isGiven else { continue }
      let what =
        parameter.label.map { "'\($0):' (\(parameter.accepts.description))" }
        ?? "\(parameter.accepts.description) as its \(ordinal(i + 1)) argument"
      throw WorkbookError(
        kind: .argument, message: "\(name) needs \(what)", span: callSpan, hint: signature)
    }
    return match
  }

  /// The error for an argument the parameter does not accept: an option it does not take, or
  /// a value of another kind.
  ///
  /// - Parameters:
  ///   - kind: the kind of the argument.
  ///   - option: the option's name when the argument is an option.
  func rejection(
    of kind: ValueKind, option: String?, for parameter: Parameter, position: Int?,
    at span: SourceSpan
  ) -> WorkbookError {
    let place = parameter.label.map { "'\($0):'" } ?? "its \(ordinal((position ?? 0) + 1)) argument"
    if let option, !parameter.accepts.optionNames.isEmpty {
      let allowed = parameter.accepts.optionNames
      return WorkbookError(
        kind: .argument,
        message: "\(name) takes \(Accepts.optionList(allowed)) for \(place), not .\(option)",
        span: span, hint: nearestName(to: option, among: allowed).map { "did you mean '.\($0)'?" })
    }
    return WorkbookError(
      kind: .type,
      message:
        "\(name) expects \(parameter.accepts.description) for \(place), not \(kind.withArticle)",
      span: span, hint: Self.hint(for: kind, expected: parameter.accepts))
  }

  /// The error for a count beyond its parameter's ``Parameter/maximum`` (`restarts: 1e14`), or
  /// nil when the value (a number, or each number of a list) is within it.
  ///
  /// `run` checks the value as it binds it and `check` checks literals, so a count is refused,
  /// with the same words from both, before it sizes anything.
  func excess(
    of value: Value, for parameter: Parameter, position: Int?, at span: SourceSpan
  ) -> WorkbookError? {
    guard let maximum = parameter.maximum else { return nil }
    let numbers: [Double]
    switch value {
    case .number(let x): numbers = [x]
    case .list(let items):
      numbers = items.compactMap { item in
        if case .number(let x) = item { return x }
        return nil
      }
    default: numbers = []
    }
    guard let found = numbers.first(where: { $0 > Double(maximum) }) else { return nil }
    let place = parameter.label.map { "'\($0):'" } ?? "its \(ordinal((position ?? 0) + 1)) argument"
    let shown = abs(found) < 1e15 ? NumberFormat.grouped(Int(found)) : NumberFormat.display(found)
    return WorkbookError(
      kind: .value,
      message: "\(name) takes at most \(NumberFormat.grouped(maximum)) for \(place), not \(shown)",
      span: span, hint: "\(parameter.label ?? parameter.name): \(parameter.doc)")
  }

  /// A way out of the commonest mix-ups of kinds.
  private static func hint(for kind: ValueKind, expected: Accepts) -> String? {
    switch kind {
    case .signatures where expected.mayAccept(.of(.signatureLayer)):
      "pick one layer: sig[2]"
    case .clustering where expected.mayAccept(.of(.signatureLayer)):
      "cluster or project a signature layer, as in sig[2]"
    case .range where expected.mayAccept(.of(.number)):
      "a range is a list of numbers; pick one with r[0]"
    default: nil
    }
  }
}

/// `1st`, `2nd`, `3rd`, `4th`…
func ordinal(_ n: Int) -> String {
  switch n {
  case 1: "1st"
  case 2: "2nd"
  case 3: "3rd"
  default: "\(n)th"
  }
}

/// The largest counts the catalogue's parameters take (``Parameter/maximum``): far beyond what
/// the data sigbook is made for needs, and small enough that a count typed wrong
/// (`restarts: 1e14`, `epochs: 1e12`) is refused by name before it sizes a buffer or a loop.
enum CountLimit {
  /// Inputs or points: `n:`, `per_class:`, `sample:`, `top:`, `batch:` — as many values as a
  /// dataset may hold.
  static let inputs = DataLimits.values
  /// A layer's width, a number of channels, classes, clusters or components.
  static let width = 1 << 24
  /// A kernel, pooling window, stride or padding.
  static let window = 1 << 12
  /// k-means runs per k.
  static let restarts = 1_000
  /// Passes or steps: `epochs:`, `iterations:`.
  static let steps = 1_000_000
  /// Neighbours: `k:` of novelty, `neighbors:` of umap.
  static let neighbours = 10_000
  /// Pictures or panels of one figure, and their columns.
  static let panels = 10_000
}
