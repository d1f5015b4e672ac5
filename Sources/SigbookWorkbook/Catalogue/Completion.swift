import Foundation

/// What Tab offers at the cursor of a REPL line: the fragment being typed and the words that
/// can replace it.
///
/// Pure logic, with no terminal: the REPL's readline callback turns it into matches.
public struct Completion: Sendable, Equatable {
  /// What a candidate is, which decides what is typed after it when it is the only one.
  public enum Kind: Sendable, Equatable {
    /// A function of the catalogue: `kmeans` (followed by `(`).
    case function
    /// A variable of the session.
    case variable
    /// A label of the call the cursor is in: `epochs:` (followed by a space).
    case label
    /// An option: `.relu`.
    case option
    /// A field of a variable: `history`.
    case field
    /// A REPL command: `:export` (followed by a space when it takes an argument).
    case command
    /// A word a command takes (`on`, `all`).
    case word
  }

  /// One word that can replace the fragment.
  public struct Candidate: Sendable, Equatable {
    /// The whole word: `kmeans`, `epochs:`, `.tanh`, `:export`.
    public var text: String
    public var kind: Kind

    public init(_ text: String, _ kind: Kind) {
      self.text = text
      self.kind = kind
    }

    /// The text to insert when this is the only candidate: `kmeans(`, `epochs: `, `:load `.
    public var insertion: String {
      switch kind {
      case .function: text + "("
      case .label: text + " "
      case .command:
        text + (REPLCommand(name: text)?.argument == .nothing ? "" : " ")
      case .variable, .option, .field, .word: text
      }
    }
  }

  /// The text just before the cursor that a candidate replaces (`kme`, `.t`, `ep`, `:ex`, or a
  /// file path typed so far).
  public var fragment: String
  /// The candidates that start with `fragment`, sorted by text, without duplicates.
  public var candidates: [Candidate]
  /// Whether file names starting with `fragment` should be offered instead (inside a string,
  /// after `:load`, `:export`).
  public var isFileName: Bool

  public init(fragment: String, candidates: [Candidate] = [], isFileName: Bool = false) {
    self.fragment = fragment
    self.candidates = candidates
    self.isFileName = isFileName
  }

  /// The candidates' texts.
  public var texts: [String] { candidates.map(\.text) }

  /// Nothing to offer.
  static let none = Completion(fragment: "")
}

/// Finds what Tab completes in REPL input: function and variable names, the labels of the call
/// the cursor is in, the options a parameter accepts, fields of variables, REPL commands and
/// their arguments, and file names inside strings.
public struct Completer: Sendable {
  /// The session's variable names.
  public var variables: [String]
  /// The fields each variable answers (`net` → `history`, `layers`…).
  var fields: [String: [String]]

  /// Creates a completer over these variables.
  public init(variables: [String] = [], fields: [String: [String]] = [:]) {
    self.variables = variables
    self.fields = fields
  }

  /// A completer over a session's variables and their fields.
  public init(session: Session) {
    variables = session.variableOrder
    var fields: [String: [String]] = [:]
    for name in session.variableOrder {
      if let value = session.variables[name] { fields[name] = Session.fieldNames(of: value) }
    }
    self.fields = fields
  }

  /// What can complete the input that ends at the cursor.
  ///
  /// - Parameter input: the input before the cursor; earlier lines of a multi-line statement
  ///   come first, separated by newlines, so that a call opened on an earlier line is seen.
  /// - Returns: the fragment and its candidates (none when nothing fits, as inside a number or
  ///   a comment).
  public func complete(_ input: String) -> Completion {
    let text = Array(input)
    if !text.contains("\n"),
      let colon = text.firstIndex(where: { !$0.isWhitespace }), text[colon] == ":"
    {
      return completeCommand(String(text[colon...]))
    }
    let scan = Scan(text)
    if scan.isInComment { return .none }
    if let stringStart = scan.openString {
      return Completion(fragment: String(text[stringStart...]), isFileName: true)
    }
    var start = text.count
    while start > 0, Self.isIdentifierCharacter(text[start - 1]) { start -= 1 }
    let fragment = String(text[start...])
    if let first = fragment.first, first.isNumber { return .none }
    let before = start > 0 ? text[start - 1] : nil
    let beforeDot = start > 1 ? text[start - 2] : nil

    if before == "." && beforeDot != "." {
      if let beforeDot,
        Self.isIdentifierCharacter(beforeDot) || beforeDot == ")" || beforeDot == "]"
      {
        return completeField(of: text, dotAt: start - 1, fragment: fragment)
      }
      let options = optionNames(for: scan.innermostCall).map {
        Completion.Candidate("." + $0, .option)
      }
      return Self.filtered(options, fragment: "." + fragment)
    }

    var candidates = variables.map { Completion.Candidate($0, .variable) }
    candidates += Catalogue.names.map { Completion.Candidate($0, .function) }
    if let call = scan.innermostCall, call.isInnermost, let entry = Catalogue.entry(call.function),
      text[call.argumentStart..<start].allSatisfy(\.isWhitespace)
    {
      candidates += entry.labels.filter { !call.labelsUsed.contains($0) }
        .map { Completion.Candidate($0 + ":", .label) }
    }
    return Self.filtered(candidates, fragment: fragment)
  }

  // MARK: Commands

  private func completeCommand(_ line: String) -> Completion {
    guard let space = line.firstIndex(where: \.isWhitespace) else {
      let commands = REPLCommand.allCases.map { Completion.Candidate($0.name, .command) }
      return Self.filtered(commands, fragment: line)
    }
    guard let command = REPLCommand(name: String(line[..<space])) else { return .none }
    let rest = line[space...].drop(while: \.isWhitespace)
    switch command.argument {
    case .file:
      return Completion(fragment: String(rest), isFileName: true)
    case .function:
      let names = Catalogue.names + REPLCommand.allCases.map(\.name)
      return Self.filtered(names.map { Completion.Candidate($0, .word) }, fragment: String(rest))
    case .words(let words):
      return Self.filtered(words.map { Completion.Candidate($0, .word) }, fragment: String(rest))
    case .nothing:
      return .none
    }
  }

  // MARK: Fields and options

  private func completeField(of text: [Character], dotAt dot: Int, fragment: String) -> Completion {
    var start = dot
    while start > 0, Self.isIdentifierCharacter(text[start - 1]) { start -= 1 }
    let base = String(text[start..<dot])
    // Only a plain variable has known fields; `a.b.c` or `f(x).c` would need evaluation.
    guard !base.isEmpty, start == 0 || text[start - 1] != ".", let names = fields[base] else {
      return Completion(fragment: fragment)
    }
    return Self.filtered(names.map { Completion.Candidate($0, .field) }, fragment: fragment)
  }

  /// The options the argument at the cursor accepts: those of its label or position, else those
  /// of any parameter of the call, else every option.
  private func optionNames(for call: Scan.Call?) -> [String] {
    guard let call, let entry = Catalogue.entry(call.function) else { return Catalogue.optionNames }
    let parameter: Parameter?
    if let label = call.currentLabel {
      parameter = entry.parameters.first { $0.label == label }
    } else {
      let positional = entry.parameters.filter { $0.label == nil }
      parameter =
        call.positionalIndex < positional.count
        ? positional[call.positionalIndex] : positional.last.flatMap { $0.isVariadic ? $0 : nil }
    }
    if let names = parameter?.accepts.optionNames, !names.isEmpty { return names }
    let all = entry.parameters.flatMap(\.accepts.optionNames)
    return all.isEmpty ? Catalogue.optionNames : all
  }

  // MARK: Helpers

  static func isIdentifierCharacter(_ c: Character) -> Bool {
    c == "_" || (c.isASCII && (c.isLetter || c.isNumber))
  }

  /// The candidates that start with the fragment, sorted, each text once (the first kind wins:
  /// a variable named like a function stays a variable).
  static func filtered(_ candidates: [Completion.Candidate], fragment: String) -> Completion {
    var seen: Set<String> = []
    let kept = candidates.filter { $0.text.hasPrefix(fragment) && seen.insert($0.text).inserted }
    return Completion(fragment: fragment, candidates: kept.sorted { $0.text < $1.text })
  }
}

/// A forgiving left-to-right reading of unfinished input: which brackets, calls and strings are
/// open at its end.
///
/// Unlike the lexer it never fails: input being typed is usually not valid yet.
private struct Scan {
  /// An open call: `fit(` and what has been passed to it so far.
  struct Call {
    var function: String
    /// Where the argument being typed starts (just after `(` or `,`).
    var argumentStart: Int
    /// How many positional arguments come before the one being typed.
    var positionalIndex = 0
    /// The label of the argument being typed (`epochs` in `epochs: 1`), if any.
    var currentLabel: String?
    /// Every label already written in the call.
    var labelsUsed: [String] = []
    /// Whether the call is the innermost open bracket (not inside a list in it).
    var isInnermost = true
  }

  private enum Frame {
    /// `(` after a name.
    case call(Call)
    /// `(` not after a name, `[` or `{`.
    case group
    /// `\(` inside a string whose text starts at `stringStart`: its `)` goes back into the
    /// string.
    case interpolation(stringStart: Int)
  }

  private var frames: [Frame] = []
  /// Where the text of the open string starts (after its `"`), if the input ends inside one.
  private(set) var openString: Int?
  /// Whether the input ends inside a comment.
  private(set) var isInComment = false

  /// The innermost open call, marked whether the cursor is directly inside it.
  var innermostCall: Call? {
    for (depth, frame) in frames.enumerated().reversed() {
      if case .call(var call) = frame {
        call.isInnermost = depth == frames.count - 1
        return call
      }
      if case .interpolation = frame { return nil }
    }
    return nil
  }

  init(_ text: [Character]) {
    var i = 0
    while i < text.count {
      let c = text[i]
      if openString != nil {
        if c == "\\", i + 1 < text.count {
          if text[i + 1] == "(", let start = openString {
            frames.append(.interpolation(stringStart: start))
            openString = nil
          }
          i += 2
          continue
        }
        if c == "\"" || c == "\n" { openString = nil }
        i += 1
        continue
      }
      switch c {
      case "#":
        while i < text.count, text[i] != "\n" { i += 1 }
        if i == text.count { isInComment = true }
        continue
      case "\"":
        openString = i + 1
      case "(":
        if let name = Self.name(endingAt: i, in: text) {
          frames.append(.call(Call(function: name, argumentStart: i + 1)))
        } else {
          frames.append(.group)
        }
      case "[", "{":
        frames.append(.group)
      case ")", "]", "}":
        if let last = frames.popLast(), case .interpolation(let start) = last, c == ")" {
          openString = start
        }
      case ",":
        if case .call(var call) = frames.last {
          if call.currentLabel == nil { call.positionalIndex += 1 }
          call.currentLabel = nil
          call.argumentStart = i + 1
          frames[frames.count - 1] = .call(call)
        }
      case ":":
        if case .call(var call) = frames.last {
          let label = String(text[call.argumentStart..<i]).trimmingCharacters(in: .whitespaces)
          if !label.isEmpty, label.allSatisfy(Completer.isIdentifierCharacter) {
            call.currentLabel = label
            call.labelsUsed.append(label)
            frames[frames.count - 1] = .call(call)
          }
        }
      default:
        break
      }
      i += 1
    }
  }

  /// The name written just before `(` at `index` (spaces allowed between), if there is one and
  /// it is not a field (`x.f(` is not a call of `f`).
  private static func name(endingAt index: Int, in text: [Character]) -> String? {
    var end = index
    while end > 0, text[end - 1] == " " || text[end - 1] == "\t" { end -= 1 }
    var start = end
    while start > 0, Completer.isIdentifierCharacter(text[start - 1]) { start -= 1 }
    guard start < end, !text[start].isNumber, start == 0 || text[start - 1] != "." else {
      return nil
    }
    let name = String(text[start..<end])
    return name == "in" || name == "for" ? nil : name
  }
}
