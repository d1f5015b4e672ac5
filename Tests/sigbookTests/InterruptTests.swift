import Foundation
import SigbookTestSupport
import Testing

@Suite("Ctrl-C and interrupted runs", .serialized) struct InterruptTests {
  static var hasTmux: Bool { Binary.isBuilt && TmuxREPL.tmux != nil }

  /// A long `fit` in the REPL: Ctrl-C (or SIGINT from `kill`) stops it, the REPL prints
  /// "interrupted" with where training stopped, and the earlier variables are still there.
  func interruptsAFit(sendInterrupt: (TmuxREPL) throws -> Void) throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let repl = try TmuxREPL(in: directory)
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
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let repl = try TmuxREPL(in: directory)
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
  @Test(.enabled(if: Binary.isBuilt, "needs the built binary: run swift build first"))
  func runStopsOnSIGINTAndLeavesNoTemporaryFiles() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let workbook = """
      # Writes the same file again and again

      ```sigbook
      d = mnist_sample(per_class: 20)
      export(d, "first.npy")
      ```

      ```sigbook
      for i in 0..<1000000 {
        written = [export(d, "again.npy"), print("written", i)]
      }
      ```

      """
    try Data(workbook.utf8).write(to: directory.appendingPathComponent("loop.sigbook"))
    let figures = directory.appendingPathComponent("loop.figures")
    let run = try Binary.start(["run", "--report", "loop.sigbook"], in: directory)
    // The loop says when each write is done, in the same statement (statements are where an
    // interrupt is seen): once the first is, the interrupt is seen where the loop checks before
    // the next item (line 9) or, when the signal comes after that check, in the body's next
    // write (line 10): a loaded machine gives either.
    #expect(run.waitFor("written 0\n", in: .stdout), "the loop did not start: \(run.stderr)")
    #expect(run.isRunning, "the loop ended before it could be interrupted")
    run.send(SIGINT)
    let result = run.finish()
    let (stdout, stderr) = (result.stdout, result.stderr)
    #expect(result.status == 130 && !result.wasSignalled, "\(stderr)")
    #expect(
      stderr.contains("loop.sigbook:9: interrupted in cell 2")
        || stderr.contains("loop.sigbook:10: interrupted in cell 2"), "\(stderr)")
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
  @Test(.enabled(if: Binary.isBuilt, "needs the built binary: run swift build first"))
  func aMillionLineOpenBracketIsRefused() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let input = "x = 1\n[\n" + String(repeating: "1,\n", count: 1_000_000) + "]\nx + 1\n"
    let result = try Binary.run(["repl"], input: input, in: directory)
    #expect(result.status == 1)
    #expect(
      result.stderr.contains(
        "error: this input is longer than 1 MiB (1000002 lines), so it was not run"))
    #expect(result.stdout == "2\n", "the statements around it run")
  }
}
