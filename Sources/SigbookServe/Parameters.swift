import Foundation
import SigbookCore

/// A literal value of the workbook language: what a parameter holds and a control edits.
enum Literal: Sendable, Hashable {
  case number(Double)
  case text(String)
  case bool(Bool)
  case option(String)
  case list([Literal])
  case range(lower: Double, upper: Double, isClosed: Bool)

  /// The literal an expression spells, or nil when it computes something (`fit(…)`, `x + 1`).
  init?(_ expression: SigbookCore.Expression) {
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
  var source: String {
    switch self {
    case .number(let value): Literal.format(value)
    case .text(let text):
      "\""
        + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
          of: "\"", with: "\\\""
        ).replacingOccurrences(of: "\n", with: "\\n") + "\""
    case .bool(let value): value ? "true" : "false"
    case .option(let name): "." + name
    case .list(let items): "[" + items.map(\.source).joined(separator: ", ") + "]"
    case .range(let lower, let upper, let isClosed):
      Literal.format(lower) + (isClosed ? "..." : "..<") + Literal.format(upper)
    }
  }

  /// A number as the shortest source that reads back as the same `Double`: `10`, `0.05`.
  static func format(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return "\(value)"
  }

  /// The value as JSON for the page's controls.
  var json: Any {
    switch self {
    case .number(let value): value
    case .text(let text): text
    case .bool(let value): value
    case .option(let name): name
    case .list(let items): items.map(\.json)
    case .range: source
    }
  }
}

/// A parameter of a workbook, shown as a control: a top-level assignment of a literal, the kind
/// of assignment `sigbook run --set` replaces.
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
/// A number with a range becomes a slider with a number field; a list of numbers with a range
/// (or a list) becomes one checkbox per class; an option or a text with a list becomes a choice;
/// a bool a checkbox; anything else a number or text field. A comment is not part of the
/// syntax tree, so the declaration never changes what the workbook computes.
struct Parameter: Sendable, Hashable {
  enum Control: String, Sendable {
    case number, slider, checkbox, choice, text, classes, list
  }

  /// The variable.
  var name: String
  /// The number of the cell that assigns it.
  var cell: Int
  /// Its value in the workbook as written.
  var original: Literal
  /// Its value now (set from the page).
  var value: Literal
  /// The declared range of a number (or of the classes of a list).
  var bounds: ClosedRange<Double>?
  /// The declared choices (for an option, a text or a list of classes).
  var choices: [Literal]?

  var control: Control {
    switch value {
    case .number: bounds == nil ? .number : .slider
    case .bool: .checkbox
    case .option: choices == nil ? .text : .choice
    case .text: choices == nil ? .text : .choice
    case .list(let items):
      (bounds != nil || choices != nil)
        && items.allSatisfy { if case .number = $0 { true } else { false } }
        ? .classes : .list
    case .range: .text
    }
  }

  /// The classes offered as checkboxes: the declared list, else every whole number in the range.
  var classChoices: [Double] {
    if let choices {
      return choices.compactMap { if case .number(let n) = $0 { n } else { nil } }
    }
    guard let bounds else { return [] }
    return Array(stride(from: bounds.lowerBound.rounded(.up), through: bounds.upperBound, by: 1))
  }

  /// Reads the value a control sent (JSON), checks it against the declaration and returns it
  /// as a literal.
  ///
  /// - Throws: a message for the page when the value has the wrong kind, lies outside the
  ///   bounds or is not one of the choices.
  func accept(_ json: Any) throws(ParameterError) -> Literal {
    switch original {
    case .number:
      let number: Double?
      if let n = json as? Double {
        number = n
      } else if let n = json as? Int {
        number = Double(n)
      } else if let s = json as? String {
        number = Double(s.trimmingCharacters(in: .whitespaces))
      } else {
        number = nil
      }
      guard let number, number.isFinite else { throw ParameterError("'\(name)' takes a number") }
      if let bounds, !bounds.contains(number) {
        throw ParameterError(
          "'\(name)' must lie in \(Literal.format(bounds.lowerBound))...\(Literal.format(bounds.upperBound))"
        )
      }
      return .number(number)
    case .bool:
      guard let flag = json as? Bool else { throw ParameterError("'\(name)' takes true or false") }
      return .bool(flag)
    case .text, .option:
      guard let text = json as? String else { throw ParameterError("'\(name)' takes a text") }
      let value: Literal =
        if case .option = original {
          .option(text.hasPrefix(".") ? String(text.dropFirst()) : text)
        } else {
          .text(text)
        }
      if case .option(let name) = value,
        name.isEmpty || !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
      {
        throw ParameterError("'\(self.name)' takes an option name such as .relu")
      }
      if let choices, !choices.contains(value) {
        throw ParameterError(
          "'\(name)' must be one of " + choices.map(\.source).joined(separator: ", "))
      }
      return value
    case .list:
      if control == .classes {
        guard let items = json as? [Any] else { throw ParameterError("'\(name)' takes a list") }
        let numbers = items.compactMap { ($0 as? Double) ?? ($0 as? Int).map(Double.init) }
        guard numbers.count == items.count, !numbers.isEmpty else {
          throw ParameterError("'\(name)' needs at least one class")
        }
        let allowed = Set(classChoices)
        guard numbers.allSatisfy(allowed.contains) else {
          throw ParameterError("'\(name)' takes classes among the declared ones")
        }
        return .list(numbers.sorted().map(Literal.number))
      }
      fallthrough
    case .range:
      // Edited as source in a text field: it must still be a literal of the same kind.
      guard let text = json as? String, let cell = try? parseCell(text, file: "page"),
        cell.statements.count == 1, case .expression(let expression) = cell.statements[0],
        let literal = Literal(expression)
      else { throw ParameterError("'\(name)' takes a value such as \(original.source)") }
      return literal
    }
  }
}

/// Why a value sent by the page was refused.
struct ParameterError: Error, Sendable {
  var message: String
  init(_ message: String) { self.message = message }
}

extension Parameter {
  /// The parameters of a workbook: every top-level assignment of a literal, in order (a name
  /// assigned at the top level of several cells is one parameter, shown where first assigned),
  /// with the declarations of `# param:` comments.
  static func parameters(of cells: [Cell], document: WorkbookDocument) -> [Parameter] {
    let declarations = Self.declarations(in: document)
    var found: [Parameter] = []
    for cell in cells {
      for statement in cell.statements {
        guard case .assignment(let target, let value, _) = statement, let literal = Literal(value),
          !found.contains(where: { $0.name == target.name })
        else { continue }
        var parameter = Parameter(
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
        let values = String(rest[space.upperBound...])
        guard let parsed = try? parseCell(values, file: "param"), parsed.statements.count == 1,
          case .expression(let expression) = parsed.statements[0],
          let literal = Literal(expression)
        else { continue }
        result[name] = literal
      }
    }
    return result
  }
}

extension [Cell] {
  /// The cells with the value of every top-level assignment `name = …` replaced by `value`
  /// (what `sigbook run --set` does), and the numbers of the cells that changed.
  func replacing(_ name: String, with value: Literal) -> (cells: [Cell], changed: Set<Int>) {
    var cells = self
    var changed: Set<Int> = []
    guard let parsed = try? parseCell(value.source, file: "page"),
      case .expression(let expression)? = parsed.statements.first
    else { return (cells, []) }
    for c in cells.indices {
      for s in cells[c].statements.indices {
        if case .assignment(let target, let old, let span) = cells[c].statements[s],
          target.name == name
        {
          cells[c].statements[s] = .assignment(target: target, value: expression, span: span)
          if !old.isEquivalent(to: expression) { changed.insert(cells[c].index) }
        }
      }
    }
    return (cells, changed)
  }
}
