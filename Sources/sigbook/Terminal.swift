import CPlatform
import Foundation
import SigbookWorkbook

/// Facts about the terminal sigbook writes to.
enum Terminal {
  /// Whether standard error is a terminal (progress bars are drawn only then).
  static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

  /// Whether standard input is a terminal (the REPL prompts only then).
  static var stdinIsTerminal: Bool { isatty(STDIN_FILENO) == 1 }

  /// Whether colour may be used on standard error: a terminal, and `NO_COLOR` unset.
  static var usesColor: Bool {
    stderrIsTerminal && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
  }

  static func bold(_ s: String) -> String { usesColor ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
  static func red(_ s: String) -> String { usesColor ? "\u{1B}[31m\(s)\u{1B}[0m" : s }
  static func dim(_ s: String) -> String { usesColor ? "\u{1B}[2m\(s)\u{1B}[0m" : s }

  /// Writes to standard error, unbuffered.
  static func error(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
  }

  /// Shows what a session emits, the same way in `run` and the REPL: values and printed text on
  /// standard output, a figure as the path it was written to, a timing dimmed on standard error.
  static func show(_ output: SessionOutput) {
    switch output {
    case .value(let text), .printed(let text): print(text)
    case .figure(_, let path): print("figure: \(relative(path))")
    case .timing(let label, let seconds):
      error(dim("time " + label + String(format: ": %.3f s", seconds)) + "\n")
    }
    sigbook_flush_stdout()
  }
}

/// A one-line progress bar on standard error, redrawn at most 10 times a second, showing the
/// fraction done, a status, and the time left. It draws nothing when standard error is not a
/// terminal, so logs stay clean, unless asked to print lines there (`run --progress`): then
/// `progress: TITLE N% · STATUS`, at most once a second per operation.
final class ProgressBar: ProgressSink {
  private var title = ""
  private var started = Date()
  private var lastDraw = Date.distantPast
  private var drawn = false
  private let enabled = Terminal.stderrIsTerminal
  /// Whether progress is printed as lines where no bar is drawn.
  private let printsLines: Bool
  /// The last operation begun and how far it got, kept after it ends (for "interrupted").
  private var last: (title: String, fraction: Double)?

  init(printsLines: Bool = false) {
    self.printsLines = printsLines && !enabled
  }

  func begin(_ title: String) {
    self.title = title
    started = Date()
    lastDraw = .distantPast
    last = (title, 0)
  }

  func update(fraction: Double, detail: String) {
    last = (title, fraction)
    if printsLines {
      let now = Date()
      guard now.timeIntervalSince(lastDraw) >= 1 || fraction >= 1 else { return }
      lastDraw = now
      Terminal.error("progress: \(title) \(Int(fraction * 100))% · \(detail)\n")
      return
    }
    guard enabled else { return }
    let now = Date()
    guard now.timeIntervalSince(lastDraw) >= 0.1 || fraction >= 1 else { return }
    lastDraw = now
    let width = 24
    let filled = max(0, min(width, Int((fraction * Double(width)).rounded())))
    let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
    let elapsed = now.timeIntervalSince(started)
    let left = fraction > 0.01 ? elapsed / fraction - elapsed : .nan
    let eta = left.isFinite ? String(format: "%.0fs left", left) : ""
    Terminal.error("\r\u{1B}[2K\(title) \(bar) \(Int(fraction * 100))% · \(detail) · \(eta)")
    drawn = true
  }

  func end() {
    if drawn { Terminal.error("\r\u{1B}[2K") }
    drawn = false
  }

  /// Where the last operation stopped: `tsne stopped at 37%`; nil when none ran since `forget()`.
  var stoppedAt: String? {
    last.map { "\($0.title) stopped at \(Int($0.fraction * 100))%" }
  }

  /// Forgets the last operation (a new statement starts).
  func forget() { last = nil }
}

/// Renders an error of a workbook with its source line and caret, coloured on a terminal.
func render(_ error: WorkbookError, sourceLine: String?) -> String {
  let text = error.rendered(sourceLine: sourceLine)
  guard Terminal.usesColor else { return text }
  return text.replacingOccurrences(of: ": error: ", with: ": \(Terminal.red("error")): ")
}
