/// One token of the workbook language, with where it is in the file.
///
/// The lexer turns a cell into tokens; the parser reads them. A token keeps its exact text and
/// location, so every later error can point at it.
struct Token: Sendable, Hashable {
  /// What a token is.
  public enum Kind: Sendable, Hashable, CaseIterable {
    /// A number literal; its value is in `value`.
    case number
    /// A string literal; its pieces (text and interpolations) are in `value`.
    case string
    /// A name: letters, digits and `_`, not starting with a digit.
    case identifier
    /// `.name` where a value is expected: a named choice such as `.relu`; the name is in `value`.
    case option
    /// `true`.
    case trueKeyword
    /// `false`.
    case falseKeyword
    /// `for`.
    case forKeyword
    /// `in`.
    case inKeyword
    /// `if`.
    case ifKeyword
    /// `else`.
    case elseKeyword
    /// `and`.
    case andKeyword
    /// `or`.
    case orKeyword
    /// `not`.
    case notKeyword
    /// `func`.
    case funcKeyword
    /// `return`.
    case returnKeyword
    /// `+`.
    case plus
    /// `-`.
    case minus
    /// `*`.
    case star
    /// `/`.
    case slash
    /// `==`.
    case equalEqual
    /// `!=`.
    case notEqual
    /// `<`.
    case less
    /// `<=`.
    case lessEqual
    /// `>`.
    case greater
    /// `>=`.
    case greaterEqual
    /// `=`.
    case equal
    /// `...`.
    case closedRange
    /// `..<`.
    case halfOpenRange
    /// `.` directly after a value (no space), introducing a field: `net.history`.
    case dot
    /// `(`.
    case leftParen
    /// `)`.
    case rightParen
    /// `[`.
    case leftBracket
    /// `]`.
    case rightBracket
    /// `{`.
    case leftBrace
    /// `}`.
    case rightBrace
    /// `,`.
    case comma
    /// `:`.
    case colon
    /// The end of a line outside `(` and `[`: it ends a statement.
    case newline
    /// The end of the input (always the last token).
    case end
    /// Text the lexer could not read; the error is in `value`.
    case invalid
  }

  /// What a token carries beyond its kind.
  public enum Value: Sendable, Hashable {
    /// Nothing more than the kind and text.
    case none
    /// The value of a number literal.
    case number(Double)
    /// The pieces of a string literal, escapes resolved.
    case string([StringSegment])
    /// The name of an identifier or option (without the dot).
    case name(String)
    /// Why the lexer could not read the text of an `invalid` token (boxed: errors are rare and
    /// large, and tokens are copied often).
    indirect case error(WorkbookError)
  }

  /// A piece of a string literal: literal text, or the tokens of an interpolation `\(…)`.
  enum StringSegment: Sendable, Hashable {
    /// Text, with its escapes already resolved.
    case text(String)
    /// The tokens between `\(` and the matching `)`, followed by an `end` token that sits at
    /// the closing `)`. `start` is the location of the `\`.
    case interpolation(tokens: [Token], start: SourceLocation)
  }

  /// What the token is.
  var kind: Kind
  /// The token's text exactly as written (for a newline, `"\n"`; for the end, `""`).
  var text: String
  /// Where the token starts.
  var location: SourceLocation
  /// The token's length in characters of its line.
  var length: Int
  /// The value of a literal, the name of an identifier or option, or the error of an `invalid`
  /// token.
  var value: Value

  /// Creates a token.
  init(
    kind: Kind, text: String, location: SourceLocation, length: Int, value: Value = .none
  ) {
    self.kind = kind
    self.text = text
    self.location = location
    self.length = length
    self.value = value
  }

  /// The span the token covers.
  var span: SourceSpan { SourceSpan(start: location, length: length) }

  /// The error carried by an `invalid` token.
  var error: WorkbookError? {
    if case .error(let error) = value { return error }
    return nil
  }

  /// The name carried by an identifier or option.
  var name: String {
    if case .name(let name) = value { return name }
    return text
  }

  /// How the token is named in messages: `')'`, `'train'`, `a newline`, `the end of the cell`.
  var quoted: String {
    switch kind {
    case .newline: "a newline"
    case .end: "the end of the cell"
    default: "'\(text)'"
    }
  }
}
