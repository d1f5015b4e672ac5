/// A position in a workbook file: the file's name, a line and a column, both counted from 1.
///
/// The line is the line of the whole file (not of the cell), and the column counts `Character`s
/// of that line, so `é` or `🙂` is one column and a tab is one column. A `line` or `column` of 0
/// means "unknown" (an error about a whole file, say).
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
  /// The file's name as it is shown to the user (usually its path as given on the command line).
  public var file: String
  /// The line in the file, from 1.
  public var line: Int
  /// The column in the line, from 1, counted in `Character`s.
  public var column: Int

  /// Creates a location.
  public init(file: String, line: Int, column: Int) {
    self.file = file
    self.line = line
    self.column = column
  }

  /// `file:line:column`, leaving out the parts that are unknown.
  public var description: String {
    if line < 1 { return file }
    if column < 1 { return "\(file):\(line)" }
    return "\(file):\(line):\(column)"
  }

  /// Orders locations of one file by line, then column (the file's name breaks ties).
  public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
    if a.line != b.line { return a.line < b.line }
    if a.column != b.column { return a.column < b.column }
    return a.file < b.file
  }
}

/// The stretch of source a syntax node covers: from `start` up to, not including, `end`.
public struct SourceSpan: Sendable, Hashable {
  /// Where the node starts.
  public var start: SourceLocation
  /// Just after the node's last character.
  public var end: SourceLocation

  /// Creates a span.
  init(start: SourceLocation, end: SourceLocation) {
    self.start = start
    self.end = end
  }

  /// A span that starts at `start` and covers `length` characters of its line.
  init(start: SourceLocation, length: Int) {
    self.start = start
    self.end = SourceLocation(file: start.file, line: start.line, column: start.column + length)
  }

  /// The number of characters to underline in an error: the span's width when it lies on one
  /// line, else `Int.max`, meaning "to the end of the first line" (rendering clamps it).
  var length: Int {
    end.line == start.line ? max(1, end.column - start.column) : Int.max
  }

  /// The smallest span covering both spans.
  func through(_ other: SourceSpan) -> SourceSpan {
    SourceSpan(start: min(start, other.start), end: max(end, other.end))
  }
}
