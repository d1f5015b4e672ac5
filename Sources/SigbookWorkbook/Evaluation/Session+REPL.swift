import Foundation
import SigbookTensor
import SigbookData

/// A command of the REPL (`:help`, `:vars`…), with what it takes and what it does.
///
/// The REPL dispatches on these, `:help` lists them and completion offers them and their
/// arguments.
public enum REPLCommand: String, CaseIterable, Sendable {
  case help, vars, load, cells, run, step, export, reset, time, quit

  /// What a command takes after its name, for completion.
  public enum Argument: Sendable, Equatable {
    /// Nothing.
    case nothing
    /// A file name.
    case file
    /// A function's (or command's) name.
    case function
    /// One of these words.
    case words([String])
  }

  /// The command as typed: `:help`.
  public var name: String { ":" + rawValue }

  /// The command typed as `name` (`:help`; `:q` and `:exit` quit), or nil.
  public init?(name: String) {
    guard name.hasPrefix(":") else { return nil }
    let word = String(name.dropFirst())
    switch word {
    case "q", "exit": self = .quit
    case "h", "?": self = .help
    default:
      guard let command = REPLCommand(rawValue: word) else { return nil }
      self = command
    }
  }

  /// What the command takes.
  public var argument: Argument {
    switch self {
    case .help: .function
    case .load, .export: .file
    case .run: .words(["all"])
    case .time: .words(["on", "off"])
    case .vars, .cells, .step, .reset, .quit: .nothing
    }
  }

  /// How the command is written, with its argument: `:run [N|all]`.
  public var usage: String {
    switch self {
    case .help: ":help [name]"
    case .load: ":load FILE"
    case .run: ":run [N|all]"
    case .export: ":export FILE"
    case .time: ":time on|off"
    default: name
    }
  }

  /// One line on what the command does.
  public var summary: String {
    switch self {
    case .help: "the function catalogue and these commands, or one function's entry"
    case .vars: "every variable: name, kind and size"
    case .load: "read a workbook's cells (files are then read from its folder)"
    case .cells: "the loaded workbook's cells: number, line, first line of code"
    case .run: "run cell N, or every cell in order (after :load of an edited file, the stale ones)"
    case .step: "run the next cell that has not yet run successfully"
    case .export: "write the statements that succeeded, in order, as a new workbook"
    case .reset: "forget every variable and what :export would write"
    case .time: "show (or stop showing) how long each statement takes"
    case .quit: "leave (Ctrl-D does too)"
    }
  }

  /// The list of commands as `:help` shows it.
  public static var overview: String {
    let width = allCases.map(\.usage.count).max() ?? 0
    return
      (["Commands"]
      + allCases.map {
        "  \($0.usage.padding(toLength: width, withPad: " ", startingAt: 0))  \($0.summary)"
      })
      .joined(separator: "\n")
  }
}

/// The statements that succeeded in a REPL session, in order, grouped as they were entered,
/// to be written as a workbook (`:export`).
public struct SessionTranscript: Sendable {
  /// The source of each entry (one REPL input or one workbook cell), statements one a line.
  public private(set) var entries: [String] = []

  public init() {}

  /// Whether nothing has succeeded yet.
  public var isEmpty: Bool { entries.isEmpty }

  /// Records statements that succeeded as one entry (nothing when the list is empty).
  public mutating func record(_ statements: [Statement]) {
    guard !statements.isEmpty else { return }
    entries.append(statements.map { $0.source() }.joined(separator: "\n"))
  }

  /// Forgets every entry (`:reset`).
  public mutating func clear() { entries = [] }

  /// The transcript as a workbook: a title, a line of prose, then one cell per entry.
  ///
  /// - Parameter title: the workbook's heading.
  public func workbook(title: String) -> String {
    var text =
      "# \(title)\n\nExported from a sigbook REPL session: the statements that succeeded, in order.\n"
    for entry in entries {
      text += "\n```sigbook\n\(entry)\n```\n"
    }
    return text
  }

  /// Writes the transcript as a workbook, atomically (a temporary file, then a rename).
  ///
  /// - Parameters:
  ///   - path: the file to write; `.sigbook` is added when it has no extension.
  ///   - title: the workbook's heading; by default the file's name without its extension.
  /// - Returns: the path written.
  /// - Throws: an `io` error when the file cannot be written.
  @discardableResult
  public func write(to path: String, title: String? = nil) throws(WorkbookError) -> String {
    var url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
    if url.pathExtension.isEmpty { url = url.appendingPathExtension("sigbook") }
    let heading = title ?? url.deletingPathExtension().lastPathComponent
    do {
      try AtomicFile.write(Data(workbook(title: heading).utf8), to: url.path)
    } catch {
      throw WorkbookError(
        kind: .io, message: "cannot write '\(path)': \(error.reason)",
        location: SourceLocation(file: ":export", line: 0, column: 0))
    }
    return url.path
  }
}

extension Session {
  /// Every variable as a table of name, kind and size, in the order they were first assigned
  /// (`:vars`).
  public var variablesTable: Table {
    Table(
      columns: ["name", "kind", "size"],
      rows: variableOrder.compactMap { name in
        guard let value = variables[name] else { return nil }
        return [.text(name), .text(value.kind.rawValue), .text(value.sizeDescription)]
      }
        + functions.keys.sorted().compactMap { name in
          functions[name].map { [.text(name), .text("function"), .text($0.signature)] }
        })
  }
}
