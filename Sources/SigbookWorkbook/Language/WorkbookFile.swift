import Foundation

/// A workbook file read from disk and parsed: what `run`, `serve` and the REPL's `:load` start
/// from, so that they read a file and report what they cannot read the same way.
public struct WorkbookFile: Sendable {
  /// The file's whole text.
  public let text: String
  public let document: WorkbookDocument
  /// One cell per `sigbook` code block, in order.
  public let cells: [Cell]
  /// The syntax errors, sorted by position; empty for a workbook that can run.
  public let errors: [WorkbookError]

  /// Reads and parses the workbook at `path`; locations name the file by its last component.
  ///
  /// - Throws: an `io` error at the file's first line when it cannot be read as UTF-8 text.
  public init(path: String) throws(WorkbookErrors) {
    let url = URL(fileURLWithPath: path)
    let name = url.lastPathComponent
    do {
      text = try String(contentsOf: url, encoding: .utf8)
    } catch {
      throw WorkbookErrors(
        [
          WorkbookError(
            kind: .io, message: "cannot read '\(path)'",
            location: SourceLocation(file: name, line: 1, column: 1))
        ], text: "")
    }
    let parsed = parseWorkbook(text: text, file: name)
    document = parsed.document
    cells = parsed.cells
    errors = parsed.errors
  }

  /// The file, or its syntax errors thrown with its text.
  ///
  /// - Throws: the errors of `init(path:)` and the syntax errors.
  public static func parsed(path: String) throws(WorkbookErrors) -> WorkbookFile {
    let file = try WorkbookFile(path: path)
    guard file.errors.isEmpty else { throw WorkbookErrors(file.errors, text: file.text) }
    return file
  }
}
