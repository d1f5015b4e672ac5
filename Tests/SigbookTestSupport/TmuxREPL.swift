import Foundation

/// A `sigbook repl` running inside a detached tmux session: a real terminal, so readline, the
/// prompt and Ctrl-C behave as they do for a person.
public final class TmuxREPL {
  /// tmux's path, if it is installed (`scripts/setup` installs it).
  public static let tmux: String? = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"]
    .first { FileManager.default.isExecutableFile(atPath: $0) }

  public let name = "sigbook-test-\(UUID().uuidString.prefix(8))"
  public let directory: URL

  /// Starts the REPL in `directory`. With `recordingExitStatus`, a shell runs it and writes its
  /// exit status to `exit-status` there (tmux's `pane_dead_status` stays empty when the terminal
  /// closes before tmux collects the status); the pane's process is then that shell.
  public init(binary: URL, directory: URL, recordingExitStatus: Bool = false) throws {
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
  public func recordedExitStatus() -> Int32? {
    guard
      let text = try? String(
        contentsOf: directory.appendingPathComponent("exit-status"), encoding: .utf8)
    else { return nil }
    return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
  }

  /// Whether the REPL has ended (its pane is dead). Its exit status is not read from tmux,
  /// whose `pane_dead_status` stays empty when the terminal closes before tmux collects it: use
  /// `recordingExitStatus` for that.
  public func hasEnded() throws -> Bool {
    try run(["list-panes", "-t", name, "-F", "#{pane_dead}"])
      .trimmingCharacters(in: .whitespacesAndNewlines) == "1"
  }

  /// Types `text` without pressing Enter.
  public func typeWithoutEnter(_ text: String) throws {
    try run(["send-keys", "-t", name, "-l", text])
  }

  /// The last line of the screen.
  public func lastLine() throws -> String {
    String(try screen().split(separator: "\n", omittingEmptySubsequences: false).last ?? "")
  }

  /// Ends the REPL and the test's own tmux server (`-L`).
  public func end() { _ = try? run(["kill-server"]) }

  /// Runs tmux with `arguments` on this test's own server; returns its standard output.
  ///
  /// Through `Spawn`, not Foundation's `Process`: `new-session` forks the tmux server, which
  /// would keep `Process`'s end-of-child socket open and hang `waitUntilExit()` for as long as
  /// the server lives.
  @discardableResult
  public func run(_ arguments: [String]) throws -> String {
    guard let tmux = Self.tmux else { throw Spawn.Failure(description: "tmux is not installed") }
    // `new-session` prints nothing: its output goes to /dev/null, so the server holds no pipe.
    let result = try Spawn.run(
      tmux, ["-L", name, "-f", "/dev/null"] + arguments,
      capturesOutput: arguments.first != "new-session")
    return result.output
  }

  /// Types `text` and presses Enter.
  public func type(_ text: String) throws {
    try run(["send-keys", "-t", name, "-l", text])
    try run(["send-keys", "-t", name, "Enter"])
  }

  /// Presses a key: `C-c`.
  public func press(_ key: String) throws { try run(["send-keys", "-t", name, key]) }

  /// What the terminal shows, trailing blank lines removed.
  public func screen() throws -> String {
    try run(["capture-pane", "-p", "-t", name, "-S", "-200"])
      .split(separator: "\n", omittingEmptySubsequences: false)
      .map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }
      .reversed().drop { $0.isEmpty }.reversed().joined(separator: "\n")
  }

  /// The process id of the REPL (the pane's process, since the REPL replaced the shell).
  public func pid() throws -> Int32 {
    Int32(
      try run(["list-panes", "-t", name, "-F", "#{pane_pid}"])
        .trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
  }

  /// Waits until the screen satisfies `condition`; returns whether it did before the deadline.
  /// The screen is read every 50 ms (a terminal has no stream to block on); the deadline only
  /// stops a broken build from hanging the suite: nothing is timed.
  public func wait(upTo seconds: Double = 120, until condition: (String) -> Bool) throws -> Bool {
    try poll(every: 0.05, upTo: seconds) { condition(try screen()) }
  }

  /// Waits for the prompt on the last line, after `count` prompts have been shown.
  public func waitForPrompt(count: Int) throws -> Bool {
    try wait { screen in
      screen.components(separatedBy: "sigbook>").count - 1 >= count
        && screen.split(separator: "\n").last == "sigbook>"
    }
  }
}

extension TmuxREPL {
  /// Whether tmux and the built binary are both there, as the terminal tests need.
  public static var isUsable: Bool { tmux != nil && Binary.isBuilt }

  /// A REPL of the built binary in `directory`.
  public convenience init(in directory: URL, recordingExitStatus: Bool = false) throws {
    try self.init(
      binary: Binary.url, directory: directory, recordingExitStatus: recordingExitStatus)
  }
}
