import ArgumentParser
import CPlatform
import Foundation
import SigbookWorkbook

/// `sigbook repl [FILE]`: an interactive session over the workbook language (DESIGN.md §5).
struct Repl: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "repl",
    abstract: "An interactive session: line editing, history, completion, workbook cells.",
    discussion: """
      At a terminal, lines are edited with GNU readline (history in ~/.sigbook_history, or \
      $SIGBOOK_HISTORY; Tab completes names, labels, options and file names). Otherwise \
      statements are read from standard input without prompts, and the status is non-zero if \
      any of them failed. Type :help for the commands.
      """)

  @Argument(help: "A workbook to load first, as :load FILE does.")
  var file: String?

  @OptionGroup var memory: MemoryOption

  func run() throws {
    let repl: REPLSession
    do {
      repl = try REPLSession(
        isInteractive: Terminal.stdinIsTerminal,
        sessions: .commandLine(memoryLimit: memory.limit))
    } catch {
      Terminal.error(render(error, sourceLine: nil) + "\n")
      throw ExitCode.failure
    }
    if let file { repl.load(file) }
    repl.run()
    if !repl.isInteractive && repl.wasInterrupted { throw ExitCode(Interrupt.exitStatus) }
    if !repl.isInteractive && repl.failures > 0 { throw ExitCode.failure }
  }
}

/// A REPL session: reads inputs, runs statements and commands against one `Session`, and keeps
/// what succeeded for `:export`.
final class REPLSession {
  static let prompt = "sigbook> "
  static let continuationPrompt = "   ...> "

  /// Whether input comes from a terminal (prompts, readline, Ctrl-C handling).
  let isInteractive: Bool
  let session: Session
  /// The statements that succeeded, for `:export`.
  var transcript = SessionTranscript()
  /// The workbook read by `:load`, if any.
  var workbook: LoadedWorkbook?
  /// Whether `:time on` is in effect.
  var showsTimes = false
  /// How many inputs and commands failed.
  var failures = 0
  /// The number of the last input run, which names unnamed figures (`cell3-scatter.svg`).
  var inputCount = 0
  /// Whether Ctrl-C (SIGINT) stopped a statement; without a terminal the session then ends.
  private(set) var wasInterrupted = false
  private var editor: LineEditor?
  private var isDone = false
  private let progressBar = ProgressBar()

  /// A session in the current directory, built by `sessions`.
  ///
  /// - Throws: the factory's refusal (a `sigbook.figures` that is a symbolic link).
  init(isInteractive: Bool, sessions: SessionFactory) throws(WorkbookError) {
    self.isInteractive = isInteractive
    session = try sessions.session(inFolder: FileManager.default.currentDirectoryPath)
    session.emit = { output in
      Terminal.show(output)
    }
    session.progress = progressBar
  }

  /// Reads and handles inputs until the end of input or `:quit` (or, when input is not a
  /// terminal, until a statement is interrupted).
  func run() {
    if isInteractive {
      let editor = LineEditor(prompt: Self.prompt)
      self.editor = editor
      print("sigbook \(Sigbook.configuration.version) · :help for help · Ctrl-D to quit")
    } else {
      // Piped statements: Ctrl-C (SIGINT) stops the running one, then the session ends.
      Interrupt.install(.statement)
    }
    var input = REPLInput()
    while !isDone && !(wasInterrupted && !isInteractive) {
      editor?.update(Completer(session: session))
      let line = readLine(continuing: !input.isEmpty, pending: input.text)
      // Ctrl-C at the prompt dropped what was typed of an open statement.
      if editor?.wasInterrupted == true { input.clear() }
      guard let line else { break }
      if !isInteractive && Interrupt.isRequested {
        // SIGINT while waiting for the next line.
        wasInterrupted = true
        Terminal.error(Terminal.red("interrupted") + "\n")
        break
      }
      input.append(line)
      if input.isIncomplete { continue }
      submit(input)
      input.clear()
    }
    // An open statement at the end of input still gets its error.
    if !input.isEmpty && !isDone { submit(input) }
    if isInteractive && !isDone { print() }
  }

  private func readLine(continuing: Bool, pending: String) -> String? {
    guard let editor else { return Swift.readLine(strippingNewline: true) }
    let prompt = continuing ? Self.continuationPrompt : Self.prompt
    return editor.readLine(prompt: prompt, pending: pending.isEmpty ? "" : pending + "\n")
  }

  /// Handles a complete input, unless it is too long to be code anyone typed.
  private func submit(_ input: REPLInput) {
    guard !input.isTooLong else {
      let size = REPLInput.maximumLength >> 20
      fail(
        "this input is longer than \(size) MiB (\(input.lineCount) lines), so it was not run",
        hint: "a bracket left open gathers every later line; read large data from a file")
      return
    }
    handle(input.text)
  }

  /// Handles one complete input: a command or statements.
  func handle(_ input: String) {
    let trimmed = input.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !trimmed.isEmpty else { return }
    editor?.addHistory(Self.historyEntry(input))
    Interrupt.clear()
    progressBar.forget()
    if trimmed.hasPrefix(":") {
      command(trimmed)
    } else {
      runInput(input)
    }
  }

  /// One history entry for an input: a statement spread over lines inside brackets is joined
  /// into one line, so that it comes back whole; a block or a comment keeps its lines.
  static func historyEntry(_ input: String) -> String {
    let lines = input.split(separator: "\n", omittingEmptySubsequences: true)
    guard lines.count > 1, !input.contains("{"), !input.contains("#"), !input.contains("\"") else {
      return input
    }
    return lines.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
      .replacingOccurrences(of: "( ", with: "(").replacingOccurrences(of: "[ ", with: "[")
  }

  // MARK: Statements

  /// Parses and runs REPL input, one statement at a time, recording those that succeed.
  func runInput(_ input: String) {
    inputCount += 1
    let cell: Cell
    do {
      cell = try parseCell(input, file: "<repl>", index: inputCount)
    } catch {
      report(error, text: input)
      return
    }
    var done: [Statement] = []
    let clock = ContinuousClock()
    for statement in cell.statements {
      let start = clock.now
      do {
        try session.run([statement], cellNumber: inputCount, at: statement.span)
      } catch {
        report(error, text: input)
        break
      }
      done.append(statement)
      if showsTimes { showTime(clock.now - start) }
    }
    transcript.record(done)
  }

  /// Runs one cell of the loaded workbook; returns whether it succeeded.
  @discardableResult
  func runCell(_ number: Int) -> Bool {
    guard var workbook, workbook.cells.indices.contains(number - 1) else {
      fail("no cell \(number)")
      return false
    }
    let cell = workbook.cells[number - 1]
    print("── cell \(cell.index) · line \(cell.firstLine) ──")
    guard !cell.hasErrors else {
      fail(
        "cell \(number) has syntax errors",
        hint: "correct \(workbook.name) and :load it again")
      workbook.outcomes[number] = false
      self.workbook = workbook
      return false
    }
    let clock = ContinuousClock()
    let start = clock.now
    var failure: WorkbookError?
    do { try session.run(cell) } catch { failure = error }
    let succeeded: [Statement]
    if let failure {
      report(failure, text: workbook.text)
      succeeded = Array(
        cell.statements.prefix {
          !($0.span.start <= failure.location && failure.location < $0.span.end)
        })
    } else {
      succeeded = cell.statements
    }
    transcript.record(succeeded)
    if showsTimes { showTime(clock.now - start) }
    workbook.outcomes[number] = failure == nil
    if failure == nil { workbook.stale.remove(number) }
    self.workbook = workbook
    return failure == nil
  }

  // MARK: Output

  /// Shows an error with its source line and caret (`text` holds that line), or just
  /// "interrupted" for Ctrl-C.
  func report(_ error: WorkbookError, text: String) {
    failures += 1
    sigbook_flush_stdout()
    if error.kind == .interrupted {
      wasInterrupted = true
      let detail = error.message == "interrupted" ? progressBar.stoppedAt : error.message
      Terminal.error(Terminal.red("interrupted") + (detail.map { " (\($0))" } ?? "") + "\n")
      Interrupt.clear()
      return
    }
    Terminal.error(
      render(error, sourceLine: WorkbookRunner.line(error.location.line, of: text)) + "\n")
  }

  /// Shows a failure of a command: `error: message`, then a hint.
  func fail(_ message: String, hint: String? = nil) {
    failures += 1
    sigbook_flush_stdout()
    var text = Terminal.red("error") + ": " + message + "\n"
    if let hint { text += "  hint: \(hint)\n" }
    Terminal.error(text)
  }

  private func showTime(_ duration: Duration) {
    sigbook_flush_stdout()
    Terminal.error(Terminal.dim(String(format: "%.3f s", duration.seconds)) + "\n")
  }

  /// Ends the loop after the current input.
  func quit() { isDone = true }
}

/// A workbook read by `:load`: its text and cells, and which cells have run.
struct LoadedWorkbook {
  var path: String
  var text: String
  var document: WorkbookDocument
  var cells: [Cell]
  /// Whether each cell that ran (by number) succeeded.
  var outcomes: [Int: Bool] = [:]
  /// The cells to run again after `:load` of the edited file (changed, or depending on one
  /// that changed); `:run` runs only these while there are some.
  var stale: Set<Int> = []

  /// The file's name.
  var name: String { URL(fileURLWithPath: path).lastPathComponent }
}
