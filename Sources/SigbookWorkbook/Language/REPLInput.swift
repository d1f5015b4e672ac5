/// The lines of one REPL input as they arrive, and whether a bracket is still open, decided in
/// time linear in the input.
///
/// ``isIncomplete(_:)`` lexes a whole input; asking it after every line of a statement spread
/// over many lines lexes the first line again for every later one, which is quadratic (a
/// million-line open `[` never finished). Here each line is lexed once, on its own — strings
/// and comments never span lines, so its brackets are those the whole input's lexer sees — and
/// the brackets still open are carried from line to line, matched by the lexer's rule (a
/// closer closes the nearest opener of its kind; any opener it skips is mismatched).
public struct REPLInput: Sendable {
  /// The most characters one input may hold (1 MiB of UTF-8); more is refused whole.
  public static let maximumLength = 1 << 20

  /// The lines so far, joined by newlines ("" once the input is too long).
  public private(set) var text = ""
  /// The number of lines so far.
  public private(set) var lineCount = 0
  /// Whether the input passed `maximumLength`: its text is dropped, its brackets still followed
  /// so that it ends where it would have.
  public private(set) var isTooLong = false
  private var length = 0
  private var open: [Token.Kind] = []
  /// A mismatched bracket or an invalid token: the input is complete, and
  /// the parser will say what is wrong.
  private var isBroken = false

  public init() {}

  /// Whether no line has been added since the last `clear()`.
  public var isEmpty: Bool { lineCount == 0 }

  /// Whether a bracket is still open (and nothing is wrong yet), so that more lines belong to
  /// this input; the same answer as ``isIncomplete(_:)`` on `text`.
  public var isIncomplete: Bool { !open.isEmpty && !isBroken }

  /// Adds one line (without its newline).
  ///
  /// - Complexity: O(line length).
  public mutating func append(_ line: String) {
    length += line.utf8.count + (lineCount > 0 ? 1 : 0)
    if !isTooLong && length > Self.maximumLength {
      isTooLong = true
      text = ""
    }
    if !isTooLong {
      if lineCount > 0 { text += "\n" }
      text += line
    }
    lineCount += 1
    guard !isBroken else { return }
    var lexer = Lexer(line, file: "")
    for token in lexer.tokenize() {
      switch token.kind {
      case .leftParen, .leftBracket, .leftBrace:
        open.append(token.kind)
      case .rightParen, .rightBracket, .rightBrace:
        let opener: Token.Kind =
          token.kind == .rightParen
          ? .leftParen : token.kind == .rightBracket ? .leftBracket : .leftBrace
        if let index = open.lastIndex(of: opener), index == open.count - 1 {
          open.removeLast()
        } else {
          isBroken = true
        }
      case .invalid: isBroken = true
      default: break
      }
    }
  }

  /// Forgets every line.
  public mutating func clear() { self = REPLInput() }
}
