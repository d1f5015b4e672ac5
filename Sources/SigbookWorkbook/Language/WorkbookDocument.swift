import Foundation

/// A workbook file split into its blocks: prose, and the code cells fenced as ```` ```sigbook ````.
///
/// Fences follow CommonMark: a line of at least three backticks or tildes, indented by at most
/// three spaces, opens a fenced block, and a line of at least as many of the same character (and
/// nothing else but spaces) closes it. A block is a cell when the first word of its info string
/// is exactly `sigbook` (`` ```sigbook `` or `~~~ sigbook title="…"`); every other fenced block is
/// prose, and cells are never looked for inside it. A cell's code is kept as it is in the file
/// (indentation included), so columns in the cell are columns in the file.
///
/// The blocks hold the file's text verbatim: `text` gives it back byte for byte.
public struct WorkbookDocument: Sendable, Hashable {
  /// Text between cells, Markdown kept as it is.
  public struct Prose: Sendable, Hashable {
    /// The text, line breaks included.
    public var text: String
    /// The line of the file where it starts.
    public var firstLine: Int

    /// Creates a prose block.
    public init(text: String, firstLine: Int) {
      self.text = text
      self.firstLine = firstLine
    }
  }

  /// The source of one code cell, with its fences.
  public struct CellSource: Sendable, Hashable {
    /// The cell's number in the workbook, from 1.
    public var index: Int
    /// The code between the fences, each line with its line break.
    public var source: String
    /// The line of the file holding the first line of code (the line after the opening fence).
    public var firstLine: Int
    /// The opening fence line, with its line break: ```` ```sigbook\n ````.
    var openingFence: String
    /// The closing fence line, with its line break if it has one; empty when the cell is not
    /// closed.
    var closingFence: String
    /// Whether the closing fence was found.
    var isClosed: Bool { !closingFence.isEmpty }

    /// Creates a cell source.
    ///
    /// - Parameters:
    ///   - index: the cell's number, from 1.
    ///   - source: the code; a final line break is added if it lacks one.
    ///   - firstLine: the line of its first line of code in the file.
    ///   - openingFence: defaults to ```` ```sigbook ````.
    ///   - closingFence: defaults to ```` ``` ````.
    public init(
      index: Int, source: String, firstLine: Int, openingFence: String = "```sigbook\n",
      closingFence: String = "```\n"
    ) {
      self.index = index
      self.source =
        source.isEmpty || source.last.map(isLineBreak) == true ? source : source + "\n"
      self.firstLine = firstLine
      self.openingFence = openingFence
      self.closingFence = closingFence
    }
  }

  /// A block of the document.
  public enum Block: Sendable, Hashable {
    /// Prose (including fenced blocks that are not cells).
    case prose(Prose)
    /// A code cell.
    case cell(CellSource)
  }

  /// The file's name, for locations.
  public var file: String
  /// The blocks in file order.
  public var blocks: [Block]
  /// Problems with the document's structure (a cell that is never closed).
  public var errors: [WorkbookError]

  /// The cells, in order.
  public var cells: [CellSource] {
    blocks.compactMap { block in
      if case .cell(let cell) = block { return cell }
      return nil
    }
  }

  /// The whole document as text: the file it was read from, or a new workbook built from blocks.
  public var text: String {
    var result = ""
    for block in blocks {
      switch block {
      case .prose(let prose): result += prose.text
      case .cell(let cell): result += cell.openingFence + cell.source + cell.closingFence
      }
    }
    return result
  }

  /// Creates a document from blocks (to write a new workbook).
  public init(file: String, blocks: [Block]) {
    self.file = file
    self.blocks = blocks
    self.errors = []
  }

  /// Reads a workbook's text. It never fails: a cell whose closing fence is missing runs to the
  /// end of the file (as in CommonMark) and an error pointing at its opening fence is put in
  /// `errors`.
  ///
  /// - Complexity: O(n) in the length of the text.
  public init(text: String, file: String) {
    self.file = file
    self.blocks = []
    self.errors = []
    let lines = splitLines(text)
    var prose = ""
    var proseStart = 1
    var lineNumber = 0
    var cellCount = 0
    func flushProse(_ document: inout WorkbookDocument) {
      if !prose.isEmpty {
        document.blocks.append(.prose(Prose(text: prose, firstLine: proseStart)))
      }
      prose = ""
    }
    while lineNumber < lines.count {
      let line = lines[lineNumber]
      guard let fence = openingFence(line.content) else {
        if prose.isEmpty { proseStart = lineNumber + 1 }
        prose += line.content + line.lineBreak
        lineNumber += 1
        continue
      }
      // Find the closing fence; the block runs to the end of the file without one.
      var closing = lineNumber + 1
      while closing < lines.count, !closes(lines[closing].content, fence) { closing += 1 }
      let body = lines[(lineNumber + 1)..<min(closing, lines.count)]
      if fence.isCell {
        flushProse(&self)
        cellCount += 1
        var cell = CellSource(
          index: cellCount, source: "", firstLine: lineNumber + 2,
          openingFence: String(line.content + line.lineBreak), closingFence: "")
        cell.source = body.map { String($0.content + $0.lineBreak) }.joined()
        if closing < lines.count {
          cell.closingFence = String(lines[closing].content + lines[closing].lineBreak)
        } else {
          errors.append(
            WorkbookError(
              kind: .syntax, message: "unclosed sigbook cell",
              location: SourceLocation(file: file, line: lineNumber + 1, column: fence.column),
              length: fence.width,
              hint: "end the cell with a line of \(fence.width) '\(fence.character)'"))
        }
        blocks.append(.cell(cell))
      } else {
        if prose.isEmpty { proseStart = lineNumber + 1 }
        for index in lineNumber..<min(closing + 1, lines.count) {
          prose += lines[index].content + lines[index].lineBreak
        }
      }
      lineNumber = closing + 1
    }
    flushProse(&self)
  }

  /// Reads a workbook file.
  ///
  /// - Parameters:
  ///   - url: the file.
  ///   - file: the name shown in locations; defaults to the path as given.
  /// - Throws: an `io` error when the file does not exist, cannot be read or is not UTF-8 text.
  public init(contentsOf url: URL, file: String? = nil) throws(WorkbookError) {
    let name = file ?? url.path
    let nowhere = SourceLocation(file: name, line: 0, column: 0)
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw WorkbookError(kind: .io, message: "no such file '\(name)'", location: nowhere)
    }
    guard let data = try? Data(contentsOf: url) else {
      throw WorkbookError(kind: .io, message: "cannot read '\(name)'", location: nowhere)
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw WorkbookError(kind: .io, message: "'\(name)' is not UTF-8 text", location: nowhere)
    }
    self.init(text: text, file: name)
  }
}

/// An opening fence: its character, width, column and whether it opens a sigbook cell.
private struct Fence {
  var character: Character
  var width: Int
  var column: Int
  var isCell: Bool
}

/// A line of text: its content and the line break that ends it (empty for the last line).
private struct Line {
  var content: Substring
  var lineBreak: Substring
}

/// Splits text into lines, with the same notion of line break as the lexer.
private func splitLines(_ text: String) -> [Line] {
  // Line breaks are ASCII, so the UTF-8 bytes can be searched directly; their indices are
  // valid `String` indices.
  let bytes = text.utf8
  var lines: [Line] = []
  var start = bytes.startIndex
  var index = bytes.startIndex
  while index < bytes.endIndex {
    let byte = bytes[index]
    guard byte == 10 || byte == 13 else {
      index = bytes.index(after: index)
      continue
    }
    var after = bytes.index(after: index)
    if byte == 13, after < bytes.endIndex, bytes[after] == 10 { after = bytes.index(after: after) }
    lines.append(Line(content: text[start..<index], lineBreak: text[index..<after]))
    start = after
    index = after
  }
  if start < bytes.endIndex { lines.append(Line(content: text[start...], lineBreak: "")) }
  return lines
}

/// The indentation (at most three spaces) and the run of fence characters a line starts with.
private func fenceRun(_ line: Substring) -> (indent: Int, character: Character, width: Int)? {
  var index = line.startIndex
  var indent = 0
  while index < line.endIndex, line[index] == " ", indent < 4 {
    indent += 1
    index = line.index(after: index)
  }
  guard indent <= 3, index < line.endIndex else { return nil }
  let character = line[index]
  guard character == "`" || character == "~" else { return nil }
  var width = 0
  while index < line.endIndex, line[index] == character {
    width += 1
    index = line.index(after: index)
  }
  return width >= 3 ? (indent, character, width) : nil
}

private func openingFence(_ line: Substring) -> Fence? {
  guard let run = fenceRun(line) else { return nil }
  let info = line.dropFirst(run.indent + run.width)
  // A backtick fence's info string cannot hold a backtick (CommonMark): that is inline code.
  if run.character == "`", info.contains("`") { return nil }
  let firstWord = info.split(whereSeparator: { $0 == " " || $0 == "\t" }).first
  return Fence(
    character: run.character, width: run.width, column: run.indent + 1,
    isCell: firstWord == "sigbook")
}

private func closes(_ line: Substring, _ fence: Fence) -> Bool {
  guard let run = fenceRun(line), run.character == fence.character, run.width >= fence.width
  else { return false }
  return line.dropFirst(run.indent + run.width).allSatisfy { $0 == " " || $0 == "\t" }
}
