import Foundation
import SigbookWorkbook

/// A parameter of the served workbook, shown as a control (see ``WorkbookParameter``).
typealias Parameter = WorkbookParameter

extension Literal {
  /// The value as JSON for the page.
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

extension WorkbookParameter {
  /// How the page edits a parameter.
  ///
  /// A number with a range becomes a slider with a number field; a list of numbers with a range
  /// (or a list) one checkbox per class; an option or a text with a list a choice; a bool a
  /// checkbox; a number without bounds a number field; a text or an option a text field; a
  /// list of numbers without a declaration or a range a field holding its source.
  enum Control: String, Sendable {
    case number, slider, checkbox, choice, text, classes, list
  }

  var control: Control {
    switch value {
    case .number: bounds == nil ? .number : .slider
    case .bool: .checkbox
    case .option: choices == nil ? .text : .choice
    case .text: choices == nil ? .text : .choice
    case .list: bounds != nil || choices != nil ? .classes : .list
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

  /// What the control shows for the value in effect: a number, a bool, the classes, the text
  /// of a choice or a text field, or source.
  var controlValue: Any {
    switch (control, value) {
    case (.choice, .option(let name)): name
    case (.text, .option(let name)): "." + name
    case (_, .text(let text)): text
    case (.classes, _), (.number, _), (.slider, _), (.checkbox, _): value.json
    default: value.source
    }
  }

  /// Reads the value a control sent (JSON) as a literal of the parameter's kind; the value is
  /// then checked by ``WorkbookParameter/check(_:)`` like a `--set`.
  ///
  /// - Throws: when the JSON has the wrong kind (`true` for a number, a list for a range) or
  ///   its source does not parse.
  func literal(fromJSON json: Any) throws(ParameterError) -> Literal {
    let takes = "'\(name)' takes \(Self.kindName(original)) such as \(original.source)"
    switch original {
    case .number:
      if let text = json as? String, let number = Double(text.trimmingCharacters(in: .whitespaces))
      {
        return .number(number)
      }
      guard !Self.isJSONBool(json), let number = json as? Double else {
        throw ParameterError(takes)
      }
      return .number(number)
    case .bool:
      guard Self.isJSONBool(json), let flag = json as? Bool else { throw ParameterError(takes) }
      return .bool(flag)
    case .text:
      guard let text = json as? String else { throw ParameterError(takes) }
      return .text(text)
    case .option:
      guard let text = json as? String else { throw ParameterError(takes) }
      return .option(text.hasPrefix(".") ? String(text.dropFirst()) : text)
    case .list where control == .classes:
      guard let items = json as? [Any] else { throw ParameterError(takes) }
      var numbers: [Literal] = []
      for item in items {
        guard !Self.isJSONBool(item), let number = item as? Double else {
          throw ParameterError(takes)
        }
        numbers.append(.number(number))
      }
      return .list(numbers)
    case .list, .range:
      // Edited as source in a text field.
      guard let text = json as? String, let literal = Self.readBack(text) else {
        throw ParameterError(takes)
      }
      return literal
    }
  }

  /// Whether a JSON value is `true` or `false` (which Foundation also reads as 1 and 0).
  static func isJSONBool(_ value: Any) -> Bool {
    if let number = value as? NSNumber { return String(cString: number.objCType) == "c" }
    return value is Bool
  }
}
