import CPlatform
import CReadline
import Foundation
import Synchronization
import SigbookTensor
import SigbookWorkbook

/// What the line editor's callbacks share with the REPL: what completion needs to know and
/// whether Ctrl-C cleared the line. Readline calls back on the REPL's own thread, but the
/// callbacks are C functions that cannot capture anything, so the state lives here, behind a
/// lock.
struct LineEditorState: Sendable {
  /// Completes names from the session's variables.
  var completer = Completer()
  /// The earlier lines of a statement still open, ending with a newline ("" when none).
  var pending = ""
  /// The prompt of a new statement, shown again after Ctrl-C.
  var prompt = ""
  /// Set when Ctrl-C at the prompt dropped the input typed so far.
  var wasInterrupted = false
}

/// The state shared with readline's callbacks.
let lineEditorState = Mutex(LineEditorState())

/// Readline's signal event hook: called when a signal interrupts the read of a key. On Ctrl-C it
/// shows `^C`, drops the line and any earlier lines of an open statement, and prompts afresh;
/// the REPL learns of it from `wasInterrupted`.
private let signalEventHook: @convention(c) () -> Int32 = {
  guard Interrupt.isRequested else { return 0 }
  Interrupt.clear()
  let prompt = lineEditorState.withLock { state in
    state.pending = ""
    state.wasInterrupted = true
    return state.prompt
  }
  sigbook_rl_set_point(sigbook_rl_end())
  rl_redisplay()
  rl_echo_signal_char(SIGINT)
  rl_crlf()
  rl_replace_line("", 1)
  _ = rl_set_prompt(prompt)
  _ = rl_on_new_line()
  rl_redisplay()
  return 0
}

/// Line editing at a terminal with GNU readline: history kept in a file, Tab completion, Ctrl-C
/// clears the line.
final class LineEditor {
  /// The history file (`~/.sigbook_history`, or `$SIGBOOK_HISTORY`).
  let historyPath: String
  /// The most entries the history file keeps.
  let historyLimit: Int32 = 1000
  private var lastEntry: String?

  /// Sets readline up and reads the history file.
  ///
  /// - Parameter prompt: the prompt of a new statement, restored after Ctrl-C.
  init(prompt: String) {
    let environment = ProcessInfo.processInfo.environment
    historyPath =
      environment["SIGBOOK_HISTORY"]
      ?? (NSHomeDirectory() as NSString).appendingPathComponent(".sigbook_history")
    lineEditorState.withLock { $0.prompt = prompt }
    // Ctrl-C stops statements from now on, not the process.
    Interrupt.install(.statement)
    sigbook_rl_configure()
    // Readline's own handlers would print nothing and leave the line; ours clears it.
    sigbook_rl_set_catch_signals(0)
    sigbook_rl_set_signal_event_hook(signalEventHook)
    sigbook_rl_set_completion(attemptCompletion)
    sigbook_rl_set_word_break_hook(wordBreakCharacters)
    using_history()
    stifle_history(historyLimit)
    if !FileManager.default.fileExists(atPath: historyPath) {
      // append_history only appends to a file that exists.
      try? AtomicFile.write(Data(), to: historyPath)
    }
    _ = read_history(historyPath)
  }

  /// Reads one line with editing, or nil at the end of input (Ctrl-D on an empty line).
  ///
  /// - Parameters:
  ///   - prompt: what to show before the line.
  ///   - pending: the earlier lines of an open statement, for completion.
  func readLine(prompt: String, pending: String) -> String? {
    lineEditorState.withLock { state in
      state.pending = pending
      state.wasInterrupted = false
    }
    sigbook_flush_stdout()
    Interrupt.clear()
    Interrupt.install(.prompt)
    defer { Interrupt.install(.statement) }
    guard let line = readline(prompt) else { return nil }
    defer { free(line) }
    return String(cString: line)
  }

  /// Whether Ctrl-C dropped the input typed before the last line (then the REPL drops its
  /// earlier lines too).
  var wasInterrupted: Bool { lineEditorState.withLock { $0.wasInterrupted } }

  /// Tells completion which variables exist.
  func update(_ completer: Completer) {
    lineEditorState.withLock { $0.completer = completer }
  }

  /// Adds an entry to the history and appends it to the history file, which keeps the last
  /// `historyLimit` entries. An entry equal to the one before is not added again.
  func addHistory(_ entry: String) {
    guard !entry.isEmpty, entry != lastEntry else { return }
    lastEntry = entry
    add_history(entry)
    _ = append_history(1, historyPath)
    _ = history_truncate_file(historyPath, historyLimit)
  }
}
