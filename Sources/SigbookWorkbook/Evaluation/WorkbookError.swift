/// The one error a user of sigbook sees: what went wrong, where, and what to try.
///
/// Printed as
///
/// ```
/// one-vs-seven.sigbook:14:22: error: mlp expects 784 inputs but 'train' has 64 features
///   net = fit(mlp(784, 32, 2), train)
///                        ^~~~~
///   hint: did you mean 'kmeans'?
/// ```
///
/// Messages are lower case, without a final period, and put user names in quotes.
public struct WorkbookError: Error, Sendable, Hashable, CustomStringConvertible {
  /// What kind of mistake the error reports.
  public enum Kind: String, Sendable, Hashable, CaseIterable {
    /// The text is not a well-formed workbook or statement.
    case syntax
    /// An unknown variable, function, option or field.
    case name
    /// A missing, duplicated or unknown argument or label.
    case argument
    /// A value of the wrong kind (a number where a dataset is expected, …).
    case type
    /// A value of the right kind that cannot be used (a negative count, a wrong shape, …).
    case value
    /// Something that failed while running (a loss that became NaN, …).
    case runtime
    /// A file that cannot be read or written.
    case io
    /// The user stopped the statement (Ctrl-C).
    case interrupted
  }

  /// What kind of mistake this is.
  public var kind: Kind
  /// The message, lower case and without a final period.
  public var message: String
  /// Where the mistake is; the caret goes under its column.
  public var location: SourceLocation
  /// How many characters from `location` to underline (at least one is always marked).
  public var length: Int
  /// A suggestion shown on its own line after the source line, such as `did you mean 'kmeans'?`.
  public var hint: String?

  /// Creates an error at `location`, underlining `length` characters.
  public init(
    kind: Kind, message: String, location: SourceLocation, length: Int = 1, hint: String? = nil
  ) {
    self.kind = kind
    self.message = message
    self.location = location
    self.length = length
    self.hint = hint
  }

  /// Creates an error that underlines a syntax node's span.
  public init(kind: Kind, message: String, span: SourceSpan, hint: String? = nil) {
    self.init(kind: kind, message: message, location: span.start, length: span.length, hint: hint)
  }

  /// The error's first line, `file:line:column: error: message`, followed by the hint if any.
  public var description: String { rendered(sourceLine: nil) }

  /// The error as the user sees it: the header line, then — when `sourceLine` is given — that
  /// line indented by two spaces with a caret under the error's column and `~` under the rest of
  /// its length, then the hint.
  ///
  /// The marks never run past the end of the line; tabs before the column are repeated in the
  /// caret line so the caret stays aligned.
  ///
  /// - Parameter sourceLine: the text of line `location.line`, without its line break.
  public func rendered(sourceLine: String?) -> String {
    var lines = ["\(location): error: \(message)"]
    if let sourceLine, location.column >= 1 {
      let characters = Array(sourceLine)
      let before = location.column - 1
      var padding = ""
      for i in 0..<before {
        padding.append(i < characters.count && characters[i] == "\t" ? "\t" : " ")
      }
      let available = characters.count - before
      let marked = available > 0 ? min(max(length, 1), available) : 1
      lines.append("  " + sourceLine)
      lines.append("  " + padding + "^" + String(repeating: "~", count: marked - 1))
    }
    if let hint { lines.append("  hint: \(hint)") }
    return lines.joined(separator: "\n")
  }

  /// The error as the user sees it, taking the source line from the full text of the file.
  ///
  /// - Parameter text: the whole file the error's location refers to.
  public func rendered(in text: String) -> String {
    rendered(sourceLine: sourceLine(location.line, of: text))
  }
}

/// Whether a character ends a line: `\n`, `\r\n` (one `Character` in Swift) or a lone `\r`.
///
/// The document reader, the lexer and error rendering all use this one rule, so that they agree
/// on line numbers.
func isLineBreak(_ c: Character) -> Bool {
  // `asciiValue` is 10 for `\r\n`; a grapheme never starts with a line break unless it is one.
  let ascii = c.asciiValue
  return ascii == 10 || ascii == 13
}

/// The text of line `number` (from 1) of `text`, without its line break, or `nil` if the text has
/// no such line.
func sourceLine(_ number: Int, of text: String) -> String? {
  guard number >= 1 else { return nil }
  // Line breaks are ASCII, so the UTF-8 bytes can be searched directly.
  let bytes = text.utf8
  var line = 1
  var start = bytes.startIndex
  var index = bytes.startIndex
  while index < bytes.endIndex {
    let byte = bytes[index]
    if byte == 10 || byte == 13 {
      if line == number { return String(text[start..<index]) }
      line += 1
      index = bytes.index(after: index)
      if byte == 13, index < bytes.endIndex, bytes[index] == 10 {
        index = bytes.index(after: index)
      }
      start = index
      continue
    }
    index = bytes.index(after: index)
  }
  return line == number ? String(text[start...]) : nil
}

extension WorkbookError {
  /// A name that is neither a variable nor a function, or a function used as a value: the same
  /// error from `sigbook check` and from a run.
  ///
  /// - Parameters:
  ///   - isFunction: whether the name is a function (of the catalogue or the workbook's).
  ///   - variables: the variables in scope, innermost first, for the suggestion.
  ///   - functions: the workbook's functions, sorted.
  static func unknownName(
    _ id: Identifier, isFunction: Bool, variables: [String], functions: [String]
  ) -> WorkbookError {
    if isFunction {
      return WorkbookError(
        kind: .name, message: "'\(id.name)' is a function", span: id.span,
        hint: "call it: \(id.name)(…)")
    }
    return WorkbookError(
      kind: .name, message: "unknown name '\(id.name)'", span: id.span,
      hint: nearestName(to: id.name, among: variables + functions + Catalogue.names)
        .map { "did you mean '\($0)'?" })
  }

  /// A call of a function that is neither in the catalogue nor the workbook's.
  static func unknownFunction(_ function: Identifier, functions: [String]) -> WorkbookError {
    WorkbookError(
      kind: .name, message: "unknown function '\(function.name)'", span: function.span,
      hint: nearestName(to: function.name, among: functions + Catalogue.names)
        .map { "did you mean '\($0)'?" })
  }
}
