import Foundation
import Testing

/// A `sigbook repl` running inside a detached tmux session: a real terminal, so readline, the
/// prompt and Ctrl-C behave as they do for a person.
final class TmuxREPL {
  /// tmux's path, if it is installed (`scripts/setup` installs it).
  static let tmux: String? = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"]
    .first { FileManager.default.isExecutableFile(atPath: $0) }

  let name = "sigbook-test-\(UUID().uuidString.prefix(8))"
  let directory: URL

  /// Starts the REPL in `directory`. With `recordingExitStatus`, a shell runs it and writes its
  /// exit status to `exit-status` there (tmux's `pane_dead_status` stays empty when the terminal
  /// closes before tmux collects the status); the pane's process is then that shell.
  init(binary: URL, directory: URL, recordingExitStatus: Bool = false) throws {
    self.directory = directory
    // A history file of its own, so that tests never touch ~/.sigbook_history.
    let environment =
      "cd '\(directory.path)' && SIGBOOK_HISTORY='\(directory.path)/history' NO_COLOR=1 "
    let command =
      recordingExitStatus
      ? environment + "'\(binary.path)' repl; echo $? > '\(directory.path)/exit-status'"
      : environment + "exec '\(binary.path)' repl"
    try run(["new-session", "-d", "-s", name, "-x", "160", "-y", "50", command])
    // The pane stays after the REPL ends, so that a test can read how it ended.
    try run(["set-option", "-t", name, "remain-on-exit", "on"])
  }

  /// The exit status a REPL started with `recordingExitStatus` wrote, nil while it runs.
  func recordedExitStatus() -> Int32? {
    guard
      let text = try? String(
        contentsOf: directory.appendingPathComponent("exit-status"), encoding: .utf8)
    else { return nil }
    return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
  }

  /// Whether the REPL has ended (its pane is dead). Its exit status is not read from tmux,
  /// whose `pane_dead_status` stays empty when the terminal closes before tmux collects it: use
  /// `recordingExitStatus` for that.
  func hasEnded() throws -> Bool {
    try run(["list-panes", "-t", name, "-F", "#{pane_dead}"])
      .trimmingCharacters(in: .whitespacesAndNewlines) == "1"
  }

  /// Types `text` without pressing Enter.
  func typeWithoutEnter(_ text: String) throws { try run(["send-keys", "-t", name, "-l", text]) }

  /// The last line of the screen.
  func lastLine() throws -> String {
    String(try screen().split(separator: "\n", omittingEmptySubsequences: false).last ?? "")
  }

  /// Ends the REPL and the test's own tmux server (`-L`).
  func end() { _ = try? run(["kill-server"]) }

  /// Runs tmux with `arguments` on this test's own server; returns its standard output.
  ///
  /// Through `Spawn`, not Foundation's `Process`: `new-session` forks the tmux server, which
  /// would keep `Process`'s end-of-child socket open and hang `waitUntilExit()` for as long as
  /// the server lives.
  @discardableResult
  func run(_ arguments: [String]) throws -> String {
    let tmux = try #require(Self.tmux)
    // `new-session` prints nothing: its output goes to /dev/null, so the server holds no pipe.
    let result = try Spawn.run(
      tmux, ["-L", name, "-f", "/dev/null"] + arguments,
      capturesOutput: arguments.first != "new-session")
    return result.output
  }

  /// Types `text` and presses Enter.
  func type(_ text: String) throws {
    try run(["send-keys", "-t", name, "-l", text])
    try run(["send-keys", "-t", name, "Enter"])
  }

  /// Presses a key: `C-c`.
  func press(_ key: String) throws { try run(["send-keys", "-t", name, key]) }

  /// What the terminal shows, trailing blank lines removed.
  func screen() throws -> String {
    try run(["capture-pane", "-p", "-t", name, "-S", "-200"])
      .split(separator: "\n", omittingEmptySubsequences: false)
      .map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }
      .reversed().drop { $0.isEmpty }.reversed().joined(separator: "\n")
  }

  /// The process id of the REPL (the pane's process, since the REPL replaced the shell).
  func pid() throws -> Int32 {
    Int32(
      try run(["list-panes", "-t", name, "-F", "#{pane_pid}"])
        .trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
  }

  /// Waits until the screen satisfies `condition`; returns whether it did before the deadline.
  /// The deadline only stops a broken build from hanging the suite: nothing is timed.
  func wait(upTo seconds: Double = 120, until condition: (String) -> Bool) throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if condition(try screen()) { return true }
      Thread.sleep(forTimeInterval: 0.2)
    }
    return false
  }

  /// Waits for the prompt on the last line, after `count` prompts have been shown.
  func waitForPrompt(count: Int) throws -> Bool {
    try wait { screen in
      screen.components(separatedBy: "sigbook>").count - 1 >= count
        && screen.split(separator: "\n").last == "sigbook>"
    }
  }
}

@Suite("Ctrl-C and interrupted runs", .serialized) struct InterruptTests {
  static var hasTmux: Bool { REPLTests.binary != nil && TmuxREPL.tmux != nil }

  /// A long `fit` in the REPL: Ctrl-C (or SIGINT from `kill`) stops it, the REPL prints
  /// "interrupted" with where training stopped, and the earlier variables are still there.
  func interruptsAFit(sendInterrupt: (TmuxREPL) throws -> Void) throws {
    let directory = try REPLTests.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let repl = try TmuxREPL(binary: try #require(REPLTests.binary), directory: directory)
    defer { repl.end() }
    #expect(
      try repl.waitForPrompt(count: 1), "the REPL did not start: \((try? repl.screen()) ?? "")")
    try repl.type("kept = 42")
    #expect(try repl.waitForPrompt(count: 2))
    try repl.type("net = fit(mlp(784, 256, 128, 10), mnist_sample(), epochs: 200)")
    // Training has started once its progress bar is drawn.
    #expect(try repl.wait { $0.contains("fit ") && $0.contains("epoch ") })
    try sendInterrupt(repl)
    #expect(
      try repl.waitForPrompt(count: 3),
      "no prompt after the interrupt: \((try? repl.screen()) ?? "")")
    let screen = try repl.screen()
    #expect(screen.contains("interrupted (training cancelled at epoch "), "\(screen)")
    try repl.type(":vars")
    #expect(try repl.waitForPrompt(count: 4))
    let vars = try repl.screen()
    #expect(vars.contains("kept  number  42"), "the session survives: \(vars)")
    #expect(
      !vars.split(separator: "\n").contains { $0.hasPrefix("net ") },
      "the interrupted assignment did not happen: \(vars)")
  }

  @Test(.enabled(if: hasTmux, "needs tmux (scripts/setup installs it) and the built binary"))
  func ctrlCStopsAFitAndKeepsTheSession() throws {
    try interruptsAFit { try $0.press("C-c") }
  }

  @Test(.enabled(if: hasTmux, "needs tmux (scripts/setup installs it) and the built binary"))
  func sigintFromKillStopsAFit() throws {
    try interruptsAFit { repl in
      let pid = try repl.pid()
      #expect(kill(pid, SIGINT) == 0)
    }
  }

  @Test(.enabled(if: hasTmux, "needs tmux (scripts/setup installs it) and the built binary"))
  func repeatedCtrlCNeverEndsTheREPL() throws {
    let directory = try REPLTests.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let repl = try TmuxREPL(binary: try #require(REPLTests.binary), directory: directory)
    defer { repl.end() }
    #expect(try repl.waitForPrompt(count: 1))
    try repl.type("kept = 1")
    #expect(try repl.waitForPrompt(count: 2))
    try repl.type("net = fit(mlp(784, 256, 128, 10), mnist_sample(), epochs: 200)")
    #expect(try repl.wait { $0.contains("fit ") && $0.contains("epoch ") })
    for _ in 0..<5 { try repl.press("C-c") }
    #expect(try repl.waitForPrompt(count: 3), "\((try? repl.screen()) ?? "")")
    // Ctrl-C at the prompt clears the line and prompts again.
    try Self.runTmux(repl, keys: ["-l", "half typed"])
    try repl.press("C-c")
    #expect(try repl.waitForPrompt(count: 4))
    try repl.type(":vars")
    #expect(try repl.wait { $0.contains("kept  number  1") }, "\((try? repl.screen()) ?? "")")
    let pid = try repl.pid()
    #expect(kill(pid, 0) == 0, "the REPL is still running")
  }

  static func runTmux(_ repl: TmuxREPL, keys: [String]) throws {
    try repl.run(["send-keys", "-t", repl.name] + keys)
  }

  /// `sigbook run` on SIGINT: stops at the next cancellation point, says where, exits 130, and
  /// leaves no temporary file and no report behind.
  @Test(.enabled(if: REPLTests.binary != nil, "needs the built binary: run swift build first"))
  func runStopsOnSIGINTAndLeavesNoTemporaryFiles() throws {
    let directory = try REPLTests.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let workbook = """
      # Writes the same file again and again

      ```sigbook
      d = mnist_sample(per_class: 20)
      export(d, "first.npy")
      ```

      ```sigbook
      for i in 0..<1000000 {
        export(d, "again.npy")
      }
      ```

      """
    try Data(workbook.utf8).write(to: directory.appendingPathComponent("loop.sigbook"))
    let figures = directory.appendingPathComponent("loop.figures")
    let process = Process()
    process.executableURL = REPLTests.binary
    process.arguments = ["run", "--report", "loop.sigbook"]
    process.currentDirectoryURL = directory
    let (out, err) = (Pipe(), Pipe())
    process.standardOutput = out
    process.standardError = err
    // Both pipes are drained while the process runs, so that neither can fill and block it.
    let output = PipeReader(out), errors = PipeReader(err)
    try process.run()
    let deadline = Date().addingTimeInterval(300)
    while Date() < deadline && process.isRunning
      && !FileManager.default.fileExists(atPath: figures.appendingPathComponent("again.npy").path)
    {
      Thread.sleep(forTimeInterval: 0.1)
    }
    #expect(process.isRunning, "the loop ended before it could be interrupted")
    process.interrupt()
    process.waitUntilExit()
    let (stdout, stderr) = (output.text(), errors.text())
    #expect(process.terminationStatus == 130, "\(stderr)")
    #expect(stderr.contains("loop.sigbook:9: interrupted in cell 2"), "\(stderr)")
    #expect(stdout.contains("── cell 2 · line 9 ──"))
    let names = try FileManager.default.contentsOfDirectory(atPath: figures.path).sorted()
    #expect(names == ["again.npy", "first.npy"], "no temporary file is left: \(names)")
    let first = try Data(contentsOf: figures.appendingPathComponent("first.npy"))
    let again = try Data(contentsOf: figures.appendingPathComponent("again.npy"))
    #expect(first == again, "the file last written is whole")
    let besides = try FileManager.default.contentsOfDirectory(atPath: directory.path)
    #expect(!besides.contains { $0.contains("report") }, "no report of a run cut short: \(besides)")
  }

  /// A statement left open for a million lines is read in linear time and refused as too long,
  /// instead of being lexed again from its first line for every line (quadratic).
  @Test(.enabled(if: REPLTests.binary != nil, "needs the built binary: run swift build first"))
  func aMillionLineOpenBracketIsRefused() throws {
    let directory = try REPLTests.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let input = "x = 1\n[\n" + String(repeating: "1,\n", count: 1_000_000) + "]\nx + 1\n"
    let result = try REPLTests.sigbook(["repl"], input: input, in: directory)
    #expect(result.status == 1)
    #expect(
      result.errors.contains(
        "error: this input is longer than 1 MiB (1000002 lines), so it was not run"))
    #expect(result.output == "2\n", "the statements around it run")
  }
}

/// Collects what a pipe delivers on a thread of its own.
final class PipeReader: @unchecked Sendable {
  private let lock = NSLock()
  private var data = Data()
  private let done = DispatchSemaphore(value: 0)

  init(_ pipe: Pipe) {
    let handle = pipe.fileHandleForReading
    Thread.detachNewThread { [self] in
      let all = handle.readDataToEndOfFile()
      lock.withLock { data = all }
      done.signal()
    }
  }

  /// Everything the pipe delivered, once it is closed.
  func text() -> String {
    done.wait()
    return lock.withLock { String(decoding: data, as: UTF8.self) }
  }
}
