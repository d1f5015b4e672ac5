/// Parses the source of one cell (or one REPL input).
///
/// - Parameters:
///   - source: the cell's code, without its fences.
///   - file: the file's name, for locations.
///   - firstLine: the line of the file where `source` starts, so errors give file lines.
///   - index: the cell's number in its workbook, from 1.
/// - Returns: the cell's statements.
/// - Throws: the first syntax error (use `Parser.parseStatements()` to get all of them).
public func parseCell(
  _ source: String, file: String, firstLine: Int = 1, index: Int = 1
) throws(WorkbookError) -> Cell {
  var parser = Parser(source, file: file, firstLine: firstLine)
  let statements = parser.parseStatements()
  if let error = parser.errors.first { throw error }
  return Cell(index: index, firstLine: firstLine, statements: statements)
}

/// Reads a workbook: its blocks, the statements of every cell, and every error found.
///
/// A broken cell does not stop the others from being parsed, and inside a cell parsing resumes
/// at the next line, so all the problems of a workbook are reported at once. A cell with errors
/// is returned with the statements that did parse and `hasErrors` set.
///
/// - Parameters:
///   - text: the whole workbook file.
///   - file: the file's name, for locations.
/// - Returns: the document, one `Cell` per code cell (in order), and the errors sorted by
///   position.
public func parseWorkbook(
  text: String, file: String
) -> (document: WorkbookDocument, cells: [Cell], errors: [WorkbookError]) {
  let document = WorkbookDocument(text: text, file: file)
  var errors = document.errors
  var cells: [Cell] = []
  for source in document.cells {
    var parser = Parser(source.source, file: file, firstLine: source.firstLine)
    let statements = parser.parseStatements()
    errors += parser.errors
    cells.append(
      Cell(
        index: source.index, firstLine: source.firstLine, statements: statements,
        hasErrors: !parser.errors.isEmpty || !source.isClosed))
  }
  // Usually already in order; the sort is stable, so two errors at one place keep the order in
  // which they were found.
  if zip(errors, errors.dropFirst()).contains(where: { $1.location < $0.location }) {
    let sorted = errors.enumerated().sorted { a, b in
      a.element.location == b.element.location
        ? a.offset < b.offset : a.element.location < b.element.location
    }
    errors = sorted.map(\.element)
  }
  return (document, cells, errors)
}

/// Whether the REPL should read another line before parsing `input`: a `(`, `[` or `{` is still
/// open at its end.
///
/// Input that can never be completed is not incomplete, so that its error shows at once: a
/// closing bracket that does not match, an unterminated string (strings do not span lines) or
/// any other character the lexer cannot read.
public func isIncomplete(_ input: String) -> Bool {
  var lexer = Lexer(input, file: "")
  _ = lexer.tokenize()
  return lexer.openBracketsAtEnd > 0 && !lexer.hasMismatchedBrackets && !lexer.hasInvalidTokens
}
