import Foundation
import SigbookTensor

/// What one cell of a run produced.
public struct CellRecord: Sendable {
  public var index: Int
  var firstLine: Int
  var outputs: [SessionOutput]
  public var seconds: Double
  public var error: WorkbookError?
}

/// Runs a workbook file top to bottom against one fresh session (`sigbook run`).
public final class WorkbookRunner {
  /// How to run.
  public struct Options: Sendable {
    /// Run cells 1…N only (and show only N).
    public var lastCell: Int?
    /// `name=value` replacements of top-level assignments, in order.
    var overrides: [(name: String, value: String)] = []
    /// Carry on after a failing cell.
    public var keepGoing = false

    public init(
      lastCell: Int? = nil, overrides: [(name: String, value: String)] = [], keepGoing: Bool = false
    ) {
      self.lastCell = lastCell
      self.overrides = overrides
      self.keepGoing = keepGoing
    }
  }

  public let path: String
  public let text: String
  public let document: WorkbookDocument
  public private(set) var cells: [Cell]
  public let session: Session
  public private(set) var records: [CellRecord] = []
  /// Whether a cell stopped because `session.isCancelled` said so (Ctrl-C).
  public private(set) var wasInterrupted = false
  /// The overrides applied, as `name = value` source, for the report.
  private(set) var appliedOverrides: [(name: String, value: String)] = []

  /// Reads and parses a workbook, and builds its session with `sessions`.
  ///
  /// - Throws: the workbook's syntax errors (all of them), an `io` error if it cannot be read,
  ///   or the factory's refusal (a figures folder that is a symbolic link).
  public init(path: String, sessions: SessionFactory = SessionFactory()) throws(WorkbookErrors) {
    self.path = path
    let file = try WorkbookFile.parsed(path: path)
    text = file.text
    document = file.document
    cells = file.cells
    do {
      session = try sessions.session(forWorkbook: path)
    } catch {
      throw WorkbookErrors([error], text: text)
    }
  }

  /// The workbook's path without its extension: where `.figures/` and `.report.*` go.
  var stemPath: String { URL(fileURLWithPath: path).deletingPathExtension().path }

  /// Replaces the value of every top-level assignment `name = …` by `value` (parsed as an
  /// expression), through the same ``AssignmentOverride`` as the page's controls: a parameter
  /// takes only a literal of its kind within its `# param:` bounds or choices.
  ///
  /// - Throws: when the value does not parse, no cell assigns the name at its top level, or
  ///   the parameter refuses it.
  public func override(_ name: String, with value: String) throws(WorkbookError) {
    cells = try AssignmentOverride.apply(
      name, source: value, to: cells, document: document, origin: "--set \(name)"
    ).cells
    appliedOverrides.append((name, value))
  }

  /// Runs the cells in order, calling `cellFinished` as each one ends; stops at the first
  /// failing cell (unless `keepGoing`) and at an interrupted one (always).
  ///
  /// - Returns: whether every cell that ran succeeded.
  @discardableResult
  public func run(
    options: Options = Options(), cellStarted: (Cell) -> Void = { _ in },
    cellFinished: (CellRecord) -> Void = { _ in }
  ) -> Bool {
    removeStaleTemporaries()
    var ok = true
    let clock = ContinuousClock()
    for cell in cells {
      if let last = options.lastCell, cell.index > last { break }
      cellStarted(cell)
      var outputs: [SessionOutput] = []
      let previousEmit = session.emit
      session.emit = { output in
        outputs.append(output)
        previousEmit(output)
      }
      let start = clock.now
      var failure: WorkbookError?
      do { try session.run(cell) } catch { failure = error }
      session.emit = previousEmit
      let record = CellRecord(
        index: cell.index, firstLine: cell.firstLine, outputs: outputs,
        seconds: (clock.now - start).seconds, error: failure)
      records.append(record)
      cellFinished(record)
      if let failure {
        ok = false
        // Ctrl-C ends the run even with keepGoing: the user asked it to stop.
        if failure.kind == .interrupted {
          wasInterrupted = true
          break
        }
        if !options.keepGoing { break }
      }
    }
    return ok
  }

  /// Removes the temporary files that an earlier run of this workbook, killed mid-write, left
  /// in its figures folder or beside it (its reports'): those of processes no longer running.
  ///
  /// - Returns: the paths removed.
  @discardableResult
  func removeStaleTemporaries() -> [String] {
    let url = URL(fileURLWithPath: path)
    let stem = url.deletingPathExtension().lastPathComponent
    return AtomicFile.removeStaleTemporaries(in: session.figuresDirectory)
      + AtomicFile.removeStaleTemporaries(
        in: url.deletingLastPathComponent().path, namesStartingWith: "." + stem + ".",
        recursive: false)
  }

  /// The text of a line of the workbook (1-based), for rendering errors.
  public func line(_ number: Int) -> String? { Self.line(number, of: text) }

  /// The text of a line (1-based) of `text`.
  public static func line(_ number: Int, of text: String) -> String? {
    var current = 1
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if current == number { return String(line.hasSuffix("\r") ? line.dropLast() : line) }
      current += 1
    }
    return nil
  }
}

/// Several errors of one workbook, with its text for rendering them.
public struct WorkbookErrors: Error, Sendable {
  public var errors: [WorkbookError]
  public var text: String

  public init(_ errors: [WorkbookError], text: String) {
    self.errors = errors
    self.text = text
  }

  /// Every error with its source line and caret.
  public var rendered: String {
    errors.map { $0.rendered(sourceLine: WorkbookRunner.line($0.location.line, of: text)) }
      .joined(separator: "\n")
  }
}
