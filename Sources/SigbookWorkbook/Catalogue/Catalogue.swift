import SigbookNN

/// What a parameter of a catalogue function accepts.
///
/// The kinds of value are declared once, by ``ValueKind``; a parameter that takes one kind as it
/// is says `.kind(.dataset)`, so adding a kind adds nothing here.
indirect enum Accepts: Sendable, Hashable {
  case number
  /// A whole number.
  case integer
  /// One of the named options (`.relu`, `.tanh`…).
  case option([String])
  /// A value of one kind, taken as it is: `.kind(.text)`, `.kind(.dataset)`.
  case kind(ValueKind)
  /// Any value at all.
  case any
  /// A list of such values; a range is accepted where whole numbers are expected.
  case list(Accepts)
  /// Any one of these.
  case oneOf([Accepts])

  /// The words used in messages and docs: "a whole number", "a list of whole numbers".
  var description: String {
    switch self {
    case .number: "a number"
    case .integer: "a whole number"
    case .option(let names): "one of " + Accepts.optionList(names)
    case .kind(let kind): kind.expected
    case .any: "any value"
    case .list(let element): "a list of " + element.plural
    case .oneOf(let choices): choices.map(\.description).joined(separator: " or ")
    }
  }

  /// The plural noun: "whole numbers", "datasets".
  var plural: String {
    switch self {
    case .number: "numbers"
    case .integer: "whole numbers"
    case .option: "options"
    case .kind(let kind): kind.plural
    case .list(let element): "lists of " + element.plural
    case .oneOf(let choices): choices.map(\.plural).joined(separator: " or ")
    case .any: "values"
    }
  }

  /// `.relu, .tanh or .sigmoid`.
  static func optionList(_ names: [String]) -> String {
    let dotted = names.map { "." + $0 }
    guard dotted.count > 1 else { return dotted.first ?? "" }
    return dotted.dropLast().joined(separator: ", ") + " or " + (dotted.last ?? "")
  }

  /// The option names this accepts anywhere inside it.
  var optionNames: [String] {
    switch self {
    case .option(let names): names
    case .list(let element): element.optionNames
    case .oneOf(let choices): choices.flatMap(\.optionNames)
    default: []
    }
  }

  /// Whether accepting a range turns it into a list of its numbers (a list of numbers is
  /// expected), rather than keeping it as it is or refusing it.
  var materialisesRanges: Bool {
    switch self {
    case .list(.integer), .list(.number), .list(.any): return true
    case .oneOf(let choices):
      for choice in choices {
        if choice == .any { return false }
        if choice.materialisesRanges { return true }
      }
      return false
    default: return false
    }
  }

  /// The value converted to what this accepts, or nil if it is not acceptable.
  ///
  /// Ranges become lists of integers; options are checked against the allowed names.
  func accept(_ value: Value) -> Value? {
    switch (self, value) {
    case (.any, _): return value
    case (.number, .number): return value
    case (.integer, .number(let x)): return x == x.rounded() && abs(x) < 1e15 ? value : nil
    case (.kind(let kind), _): return value.kind == kind ? value : nil
    case (.option(let names), .option(let name)): return names.contains(name) ? value : nil
    case (.list(let element), .list(let items)):
      var accepted: [Value] = []
      for item in items {
        guard let a = element.accept(item) else { return nil }
        accepted.append(a)
      }
      return .list(accepted)
    case (.list(.integer), .range(let lower, let upper, let closed)),
      (.list(.number), .range(let lower, let upper, let closed)),
      (.list(.any), .range(let lower, let upper, let closed)):
      return .list(
        Value.rangeValues(lower: lower, upper: upper, isClosed: closed).map { .number(Double($0)) })
    case (.oneOf(let choices), _):
      for choice in choices { if let a = choice.accept(value) { return a } }
      return nil
    default: return nil
    }
  }
}

/// One parameter of a catalogue function.
public struct Parameter: Sendable {
  /// The label it must be passed with (`epochs`), or nil for a positional parameter.
  public var label: String?
  /// The name shown in signatures for a positional parameter (`model`, `data`).
  public var name: String
  var accepts: Accepts
  /// The value used when the argument is left out; nil when it is required or optional.
  var defaultValue: Value?
  /// Whether the argument may be left out with no value at all (`per_class:` = all).
  var isOptional: Bool
  /// How the default reads in help (`0`, `all`, `.relu`).
  var defaultText: String?
  /// Whether this (last, positional) parameter collects every remaining positional argument.
  var isVariadic: Bool
  /// One line on what the parameter means.
  var doc: String
  /// The largest number a count takes (`restarts:`, `n:`, a layer's width), each item of a
  /// list of them included: checked as the argument is bound, before the count sizes anything.
  var maximum: Int? = nil

  /// A positional parameter.
  static func positional(
    _ name: String, _ accepts: Accepts, doc: String, variadic: Bool = false,
    default value: Value? = nil, defaultText: String? = nil, optional: Bool = false,
    maximum: Int? = nil
  ) -> Parameter {
    Parameter(
      label: nil, name: name, accepts: accepts, defaultValue: value, isOptional: optional,
      defaultText: defaultText ?? value.map(\.sourceText), isVariadic: variadic, doc: doc,
      maximum: maximum)
  }

  /// A labelled parameter.
  static func labelled(
    _ label: String, _ accepts: Accepts, doc: String, default value: Value? = nil,
    defaultText: String? = nil, optional: Bool = false, maximum: Int? = nil
  ) -> Parameter {
    Parameter(
      label: label, name: label, accepts: accepts, defaultValue: value, isOptional: optional,
      defaultText: defaultText ?? value.map(\.sourceText), isVariadic: false, doc: doc,
      maximum: maximum)
  }

  /// Whether the argument must be given.
  var isRequired: Bool { defaultValue == nil && !isOptional && !isVariadic }

  /// How the parameter reads in a signature: `model`, `epochs: 10`, `784, 32, …`.
  var signature: String {
    let head = label.map { "\($0): " } ?? ""
    if isVariadic { return "\(name), …" }
    if let defaultText { return label == nil ? "\(name) = \(defaultText)" : head + defaultText }
    return label == nil ? name : head + accepts.shortName
  }
}

extension Accepts {
  /// A short placeholder for signatures: `Int`, `[Int]`, `dataset`.
  var shortName: String {
    switch self {
    case .number: "Number"
    case .integer: "Int"
    case .option(let names): names.map { "." + $0 }.joined(separator: " | ")
    case .kind(let kind): kind.shortName
    case .list(let element): "[\(element.shortName)]"
    case .oneOf(let choices): choices.map(\.shortName).joined(separator: " | ")
    case .any: "value"
    }
  }
}

extension String {
  func replacingFirst(_ prefix: String, with replacement: String) -> String {
    hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
  }
}

/// A failure inside a catalogue function, blaming one of its arguments or the whole call.
struct CallFailure: Error, Sendable {
  var kind: WorkbookError.Kind
  var message: String
  /// The parameter (label or positional name) whose argument is to blame, or nil for the call.
  var parameter: String?
  var hint: String?

  init(
    _ message: String, kind: WorkbookError.Kind = .value, parameter: String? = nil,
    hint: String? = nil
  ) {
    self.kind = kind
    self.message = message
    self.parameter = parameter
    self.hint = hint
  }
}

/// One function of the workbook language: its signature, its documentation and what it does.
///
/// The catalogue is the single source of truth that the evaluator, `help`, `sigbook check`,
/// REPL completion and `docs/functions.md` all read: adding a function is adding one entry.
public struct FunctionEntry: Sendable {
  var name: String
  /// The section of the docs it belongs to: General, Data, Models…
  var category: String
  var parameters: [Parameter]
  /// The kind of value it returns (`.kind(.dataset)`, `.list(.kind(.dataset))`, `.kind(.nothing)`):
  /// what `check`
  /// infers for a variable it is assigned to, and what help prints after the arrow.
  var returns: Accepts
  /// One paragraph on what it does.
  var summary: String
  /// A line of workbook code that uses it.
  var example: String
  /// What it does, given its checked arguments.
  var body: @Sendable (Call) throws -> Value
  /// What labels no parameter names must hold, for a function that takes any label
  /// (`table(width: ws, accuracy: accs)`); nil when unknown labels are mistakes.
  var otherLabels: Accepts?
  /// The extension of the model format it reads (`onnx`): its help lists the operations that
  /// format's reader supports, learnt from the format linked, not written here.
  var readsFormat: String?

  init(
    _ name: String, category: String, parameters: [Parameter], returns: Accepts, summary: String,
    example: String, otherLabels: Accepts? = nil, readsFormat: String? = nil,
    body: @escaping @Sendable (Call) throws -> Value
  ) {
    self.otherLabels = otherLabels
    self.readsFormat = readsFormat
    self.name = name
    self.category = category
    self.parameters = parameters
    self.returns = returns
    self.summary = summary
    self.example = example
    self.body = body
  }

  /// `fit(model, data, epochs: 10, batch: 32, …) → a model`.
  var signature: String {
    "\(name)(\(parameters.map(\.signature).joined(separator: ", "))) → \(returns.description)"
  }

  /// The labels this function takes.
  var labels: [String] { parameters.compactMap(\.label) }

  /// The parameter with a label or positional name.
  func parameter(named name: String) -> Parameter? {
    parameters.first { ($0.label ?? $0.name) == name }
  }

  /// The entry as `help` prints it: signature, summary, parameters, example.
  var help: String { help(formats: []) }

  /// The summary and, for a function that reads a model format, the operations the linked
  /// reader supports (or that none is linked).
  func documentation(formats: [any ModelFormat]) -> String {
    guard let readsFormat else { return summary }
    guard let format = formats.first(where: { $0.fileExtension == readsFormat }) else {
      return summary + " (This build links no .\(readsFormat) reader.)"
    }
    return summary + " Operators read: " + format.operations.joined(separator: ", ") + "."
  }

  /// The entry as `help` prints it, with the operations of the formats given.
  func help(formats: [any ModelFormat]) -> String {
    var lines = [signature, "", documentation(formats: formats).wrapped(width: 92)]
    if !parameters.isEmpty {
      lines.append("")
      let width = parameters.map { ($0.label.map { "\($0):" } ?? $0.name).count }.max() ?? 0
      for p in parameters {
        let name = p.label.map { "\($0):" } ?? p.name
        lines.append(
          "  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(p.doc)"
            .trailingSpacesRemoved)
      }
    }
    lines += ["", "example:", "  " + example]
    return lines.joined(separator: "\n")
  }
}

extension String {
  /// The text broken into lines of at most `width` characters at spaces.
  func wrapped(width: Int) -> String {
    var lines: [String] = []
    var line = ""
    for word in split(separator: " ", omittingEmptySubsequences: true) {
      if !line.isEmpty && line.count + 1 + word.count > width {
        lines.append(line)
        line = ""
      }
      line += (line.isEmpty ? "" : " ") + word
    }
    if !line.isEmpty { lines.append(line) }
    return lines.joined(separator: "\n")
  }
}

/// The function catalogue: every function a workbook can call.
public enum Catalogue {
  /// Every entry, in documentation order.
  public static let entries: [FunctionEntry] =
    general + lists + data + models + analysis + instruments + figures + convolutionFigures

  private static let byName: [String: FunctionEntry] = Dictionary(
    entries.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })

  /// The entry of a function, or nil.
  public static func entry(_ name: String) -> FunctionEntry? { byName[name] }

  /// Every function name, sorted.
  public static var names: [String] { entries.map(\.name).sorted() }

  /// Every option name any function accepts, sorted.
  static var optionNames: [String] {
    Array(Set(entries.flatMap { $0.parameters.flatMap(\.accepts.optionNames) })).sorted()
  }
}
