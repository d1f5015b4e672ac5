import Foundation

/// A literal value of the workbook language: what a parameter holds and a control edits.
public enum Literal: Sendable, Hashable {
  case number(Double)
  case text(String)
  case bool(Bool)
  case option(String)
  case list([Literal])
  case range(lower: Double, upper: Double, isClosed: Bool)

  /// The literal an expression spells, or nil when it computes something (`fit(…)`, `x + 1`).
  public init?(_ expression: Expression) {
    switch expression {
    case .number(let value, _): self = .number(value)
    case .negate(.number(let value, _), _): self = .number(-value)
    case .bool(let value, _): self = .bool(value)
    case .option(let name, _): self = .option(name)
    case .string(let parts, _):
      var text = ""
      for part in parts {
        guard case .text(let piece) = part else { return nil }
        text += piece
      }
      self = .text(text)
    case .list(let items, _):
      var values: [Literal] = []
      for item in items {
        guard let value = Literal(item) else { return nil }
        values.append(value)
      }
      self = .list(values)
    case .range(let lower, let upper, let isClosed, _):
      guard case .number(let a)? = Literal(lower), case .number(let b)? = Literal(upper) else {
        return nil
      }
      self = .range(lower: a, upper: b, isClosed: isClosed)
    case .parenthesized(let inner, _):
      guard let value = Literal(inner) else { return nil }
      self = value
    default: return nil
    }
  }

  /// The literal as workbook source, which parses back to the same value.
  public var source: String {
    switch self {
    case .number(let value): Literal.format(value)
    case .text(let text): Literal.quote(text)
    case .bool(let value): value ? "true" : "false"
    case .option(let name): "." + name
    case .list(let items): "[" + items.map(\.source).joined(separator: ", ") + "]"
    case .range(let lower, let upper, let isClosed):
      Literal.format(lower) + (isClosed ? "..." : "..<") + Literal.format(upper)
    }
  }

  /// A text as a string literal (the escaper of ``Expression``'s source); a control
  /// character other than those escaped stays as it is, and then the source does not read
  /// back (which ``WorkbookParameter/check(_:)`` refuses).
  static func quote(_ text: String) -> String { "\"" + escapedForLiteral(text) + "\"" }

  /// A number as the shortest source that reads back as the same `Double`: `10`, `0.05`.
  public static func format(_ value: Double) -> String { formatNumber(value) }
}

/// A parameter of a workbook: a top-level assignment of a literal, the kind of assignment
/// `sigbook run --set` replaces and `sigbook serve` shows as a control.
///
/// Parameters are numbers, texts, bools, options, lists of numbers (classes, sizes) and ranges.
/// A list of anything else (class names, models) is not a parameter: it is data a workbook
/// spells out, not a knob, and stays code (`--set` may still replace it, unchecked).
///
/// Bounds and choices are declared in the workbook by a comment line anywhere in its cells,
/// `# param: NAME in VALUES`, where VALUES is a range or a list written in the workbook
/// language itself (and parsed by its parser):
///
/// ```sigbook
/// # param: lr in 0.001...0.5
/// lr = 0.05
/// # param: digits in 0...9
/// digits = [1, 7]
/// # param: activation in [.relu, .tanh, .sigmoid]
/// activation = .relu
/// ```
///
/// A comment is not part of the syntax tree, so the declaration never changes what the
/// workbook computes. ``check(_:)`` is the one validation of a new value, for `run --set` and
/// the page alike.
public struct WorkbookParameter: Sendable, Hashable {
  /// The variable.
  public var name: String
  /// The number of the cell that assigns it.
  public var cell: Int
  /// Its value in the workbook as written.
  public var original: Literal
  /// Its value now (set from the page or by `--set`).
  public var value: Literal
  /// The declared range of a number (or of the classes of a list).
  public var bounds: ClosedRange<Double>?
  /// The declared choices (for an option, a text or a list of classes).
  public var choices: [Literal]?

  /// The largest magnitude of a range's bounds: beyond it doubles no longer hold every whole
  /// number, and a range that long could not be gone through anyway.
  static let rangeLimit = 9_007_199_254_740_992.0

  /// Checks a new value against the parameter's kind and declaration, and that it reads back
  /// from its source (what replaces the assignment) as the same value.
  ///
  /// - Returns: the value as it will be used (a list of classes sorted).
  /// - Throws: a message naming the parameter and what it takes.
  public func check(_ candidate: Literal) throws(ParameterError) -> Literal {
    var literal = candidate
    switch (original, candidate) {
    case (.number, .number(let number)):
      guard number.isFinite else { throw ParameterError("'\(name)' takes a finite number") }
      if let bounds, !bounds.contains(number) {
        throw ParameterError(
          "'\(name)' must lie in \(Self.describe(bounds)), not \(literal.source)")
      }
    case (.bool, .bool): break
    case (.text, .text(let text)):
      if text.unicodeScalars.contains(where: {
        $0.properties.generalCategory == .control && !["\n", "\r", "\t", "\0"].contains($0)
      }) {
        throw ParameterError("'\(name)' takes a text without control characters")
      }
      try checkChoice(literal)
    case (.option, .option(let option)):
      guard let first = option.unicodeScalars.first,
        first == "_" || first.properties.isAlphabetic,
        option.unicodeScalars.allSatisfy({
          $0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0)
        })
      else {
        throw ParameterError(
          "'\(name)' takes an option name such as .relu (a letter or _, then letters, digits "
            + "and _), not \(String(reflecting: option))")
      }
      try checkChoice(literal)
    case (.list, .list(let items)):
      var numbers: [Double] = []
      for item in items {
        guard case .number(let n) = item, n.isFinite else {
          throw ParameterError("'\(name)' takes a list of numbers such as \(original.source)")
        }
        numbers.append(n)
      }
      if bounds != nil || choices != nil {
        guard !numbers.isEmpty else { throw ParameterError("'\(name)' needs at least one class") }
        if let bounds, let outside = numbers.first(where: { !bounds.contains($0) }) {
          throw ParameterError(
            "'\(name)' takes classes in \(Self.describe(bounds)), not \(Literal.format(outside))")
        }
        if let choices, let other = items.first(where: { !choices.contains($0) }) {
          throw ParameterError(
            "'\(name)' takes classes among " + choices.map(\.source).joined(separator: ", ")
              + ", not \(other.source)")
        }
        literal = .list(numbers.sorted().map(Literal.number))
      }
    case (.range, .range(let lower, let upper, _)):
      guard lower.isFinite, upper.isFinite, abs(lower) <= Self.rangeLimit,
        abs(upper) <= Self.rangeLimit
      else {
        throw ParameterError(
          "'\(name)' takes a range whose bounds lie within ±\(Literal.format(Self.rangeLimit))")
      }
      guard lower <= upper else {
        throw ParameterError("'\(name)' takes a range whose lower bound is not above its upper")
      }
    default:
      throw ParameterError(
        "'\(name)' takes \(Self.kindName(original)) such as \(original.source), not "
          + candidate.source)
    }
    guard Self.readBack(literal.source) == literal else {
      throw ParameterError(
        "'\(name)' cannot take \(literal.source): it does not read back as workbook source")
    }
    return literal
  }

  private func checkChoice(_ literal: Literal) throws(ParameterError) {
    if let choices, !choices.contains(literal) {
      throw ParameterError(
        "'\(name)' must be one of " + choices.map(\.source).joined(separator: ", ") + ", not "
          + literal.source)
    }
  }

  static func describe(_ bounds: ClosedRange<Double>) -> String {
    Literal.format(bounds.lowerBound) + "..." + Literal.format(bounds.upperBound)
  }

  /// What a kind of value is called in messages: "a number", "a list of numbers".
  public static func kindName(_ literal: Literal) -> String {
    switch literal {
    case .number: "a number"
    case .text: "a text"
    case .bool: "true or false"
    case .option: "an option"
    case .list: "a list of numbers"
    case .range: "a range"
    }
  }

  /// The literal a source spells (one expression), or nil.
  public static func readBack(_ source: String) -> Literal? {
    guard let cell = try? parseCell(source, file: "value"), cell.statements.count == 1,
      case .expression(let expression) = cell.statements[0]
    else { return nil }
    return Literal(expression)
  }

  /// Whether a literal may be a parameter: a list only of numbers, a range, or a scalar.
  static func isParameter(_ literal: Literal) -> Bool {
    if case .list(let items) = literal {
      return items.allSatisfy { if case .number = $0 { true } else { false } }
    }
    return true
  }

  /// The parameters of a workbook: every top-level assignment of a literal that may be one, in
  /// order (a name assigned at the top level of several cells is one parameter, shown where
  /// first assigned), with the declarations of `# param:` comments.
  public static func parameters(of cells: [Cell], document: WorkbookDocument)
    -> [WorkbookParameter]
  {
    let declarations = Self.declarations(in: document)
    var found: [WorkbookParameter] = []
    var seen: Set<String> = []
    for cell in cells {
      for statement in cell.statements {
        guard case .assignment(let target, let value, _) = statement,
          seen.insert(target.name).inserted, let literal = Literal(value), isParameter(literal)
        else { continue }
        var parameter = WorkbookParameter(
          name: target.name, cell: cell.index, original: literal, value: literal)
        if let declared = declarations[target.name] {
          switch declared {
          case .range(let lower, let upper, _) where lower <= upper:
            parameter.bounds = lower...upper
          case .list(let items) where !items.isEmpty:
            parameter.choices = items
          default: break
          }
        }
        found.append(parameter)
      }
    }
    return found
  }

  /// The `# param: NAME in VALUES` comment lines of the workbook's cells.
  static func declarations(in document: WorkbookDocument) -> [String: Literal] {
    var result: [String: Literal] = [:]
    for cell in document.cells {
      for line in cell.source.split(whereSeparator: \.isNewline) {
        var rest = line.trimmingCharacters(in: .whitespaces)
        guard rest.hasPrefix("#") else { continue }
        rest = rest.dropFirst().trimmingCharacters(in: .whitespaces)
        guard rest.hasPrefix("param:") else { continue }
        rest = rest.dropFirst("param:".count).trimmingCharacters(in: .whitespaces)
        guard let space = rest.range(of: " in ") else { continue }
        let name = rest[..<space.lowerBound].trimmingCharacters(in: .whitespaces)
        guard let literal = readBack(String(rest[space.upperBound...])) else { continue }
        result[name] = literal
      }
    }
    return result
  }
}

/// Why a new value of a parameter was refused.
public struct ParameterError: Error, Sendable {
  /// What the parameter takes, naming it.
  public var message: String

  /// An error with its message.
  public init(_ message: String) { self.message = message }
}

/// Replaces the value of top-level assignments: the one rewrite behind `sigbook run --set` and
/// the controls of `sigbook serve`.
public enum AssignmentOverride {
  /// The cells with every top-level assignment `name = …` given the value `source`.
  ///
  /// When `name` is a parameter (see ``WorkbookParameter``), `source` must spell a literal
  /// that its ``WorkbookParameter/check(_:)`` accepts (its kind, its `# param:` bounds or
  /// choices); otherwise any single expression replaces the assignment.
  ///
  /// - Parameters:
  ///   - name: the variable.
  ///   - source: the new value as workbook source.
  ///   - cells: the cells, as parsed or as earlier overrides left them.
  ///   - document: the workbook, for its `# param:` declarations.
  ///   - origin: the name errors are located at (`--set lr`, `page`).
  /// - Returns: the new cells, the numbers of the cells whose value changed, and the value
  ///   when it is a literal.
  /// - Throws: when the source does not parse as one expression, no cell assigns the name at
  ///   its top level, or the parameter refuses the value.
  public static func apply(
    _ name: String, source: String, to cells: [Cell], document: WorkbookDocument, origin: String
  ) throws(WorkbookError) -> (cells: [Cell], changed: Set<Int>, value: Literal?) {
    let location = SourceLocation(file: origin, line: 1, column: 1)
    let parsed = try parseCell(source, file: origin)
    guard parsed.statements.count == 1, case .expression(var expression) = parsed.statements[0]
    else {
      throw WorkbookError(
        kind: .syntax, message: "\(origin) needs a single value, not '\(source)'",
        location: location)
    }
    var literal = Literal(expression)
    let parameters = WorkbookParameter.parameters(of: cells, document: document)
    if let parameter = parameters.first(where: { $0.name == name }) {
      guard let candidate = literal else {
        throw WorkbookError(
          kind: .value,
          message: "'\(name)' takes \(WorkbookParameter.kindName(parameter.original)) such as "
            + "\(parameter.original.source), not '\(source)'", location: location)
      }
      do {
        let checked = try parameter.check(candidate)
        if checked != candidate, let reparsed = try? parseCell(checked.source, file: origin),
          case .expression(let normalized)? = reparsed.statements.first
        {
          expression = normalized
        }
        literal = checked
      } catch {
        throw WorkbookError(kind: .value, message: error.message, location: location)
      }
    }
    var result = cells
    var changed: Set<Int> = []
    var found = false
    for c in result.indices {
      for s in result[c].statements.indices {
        if case .assignment(let target, let old, let span) = result[c].statements[s],
          target.name == name
        {
          result[c].statements[s] = .assignment(target: target, value: expression, span: span)
          found = true
          if !old.isEquivalent(to: expression) { changed.insert(result[c].index) }
        }
      }
    }
    guard found else {
      let names = cells.flatMap(\.statements).compactMap { s -> String? in
        if case .assignment(let t, _, _) = s { t.name } else { nil }
      }
      throw WorkbookError(
        kind: .name, message: "the workbook has no top-level assignment '\(name) = …'",
        location: location,
        hint: nearestName(to: name, among: names).map { "did you mean '\($0)'?" })
    }
    return (result, changed, literal)
  }
}
