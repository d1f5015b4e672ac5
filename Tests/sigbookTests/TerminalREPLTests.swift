import Foundation
import SigbookTestSupport
import Testing

/// The REPL as a person sees it at a terminal (tmux): Ctrl-D, Tab completion, history.
@Suite("The REPL at a terminal", .serialized) struct TerminalREPLTests {
  /// Starts a REPL in `directory` and waits for its first prompt.
  static func start(in directory: URL) throws -> TmuxREPL {
    let repl = try TmuxREPL(in: directory)
    #expect(try repl.waitForPrompt(count: 1), "the REPL did not start")
    return repl
  }

  /// Ctrl-D at an empty prompt ends the REPL with status 0, and the statements typed are in the
  /// history file.
  @Test(
    .enabled(if: TmuxREPL.isUsable, "needs tmux (scripts/setup installs it) and the binary"))
  func ctrlDAtAnEmptyPromptQuitsAndSavesTheHistory() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let repl = try TmuxREPL(in: directory, recordingExitStatus: true)
    defer { repl.end() }
    #expect(try repl.waitForPrompt(count: 1), "the REPL did not start")
    try repl.type("answer = 41 + 1")
    #expect(try repl.waitForPrompt(count: 2))
    // Pressed again if the REPL has not ended within 5 s, as a person would (a key sent at the
    // very moment the prompt is drawn may reach the terminal before readline reads it).
    var status: Int32?
    for _ in 0..<6 where status == nil {
      try repl.press("C-d")
      _ = try repl.wait(upTo: 5) { _ in
        status = repl.recordedExitStatus()
        return status != nil
      }
    }
    #expect(status == 0, "\((try? repl.screen()) ?? "")")
    let history = try String(
      contentsOf: directory.appendingPathComponent("history"), encoding: .utf8)
    #expect(history.split(separator: "\n").contains("answer = 41 + 1"), "\(history)")
  }

  /// Ctrl-C at the prompt drops the half-typed line and shows a new, empty prompt.
  @Test(
    .enabled(if: TmuxREPL.isUsable, "needs tmux (scripts/setup installs it) and the binary"))
  func ctrlCAtThePromptClearsTheLine() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let repl = try Self.start(in: directory)
    defer { repl.end() }
    try repl.typeWithoutEnter("never_run = 1")
    #expect(try repl.wait(upTo: 30) { $0.hasSuffix("sigbook> never_run = 1") })
    try repl.press("C-c")
    #expect(try repl.waitForPrompt(count: 2), "\((try? repl.screen()) ?? "")")
    try repl.type(":vars")
    #expect(try repl.waitForPrompt(count: 3))
    #expect(try !repl.screen().contains("never_run  number"), "the dropped line did not run")
  }

  /// What Tab completes, as typed → as shown after Tab (the line is then dropped with Ctrl-C).
  static let completions: [(typed: String, shown: String)] = [
    ("kmea", "kmeans("),
    ("x = threshold_v", "x = threshold_value"),
    ("fit(net, data, epo", "fit(net, data, epochs: "),
    ("mlp(784, 2, activation: .ta", "mlp(784, 2, activation: .tanh"),
    (":va", ":vars"),
    ("csv(\"notes-f", "csv(\"notes-for-completion.csv\""),
  ]

  /// Tab completes functions, variables, labels, options, commands and file names in strings.
  @Test(
    .enabled(if: TmuxREPL.isUsable, "needs tmux (scripts/setup installs it) and the binary"))
  func tabCompletesWhatAPersonTypes() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try Data("a,b\n".utf8).write(to: directory.appendingPathComponent("notes-for-completion.csv"))
    let repl = try Self.start(in: directory)
    defer { repl.end() }
    try repl.type("threshold_value = 3")
    var prompts = 2
    #expect(try repl.waitForPrompt(count: prompts))
    for c in Self.completions {
      try repl.typeWithoutEnter(c.typed)
      try repl.press("Tab")
      let expected = "sigbook> " + c.shown
      // A trailing space is trimmed from the screen: compare without it.
      let trimmed = expected.trimmingCharacters(in: .whitespaces)
      #expect(
        try repl.wait(upTo: 30) { _ in (try? repl.lastLine()) == trimmed },
        "\(c.typed) + Tab: \((try? repl.lastLine()) ?? "")")
      try repl.press("C-c")
      prompts += 1
      #expect(try repl.waitForPrompt(count: prompts))
    }
  }

  /// Up recalls the previous statement, in the same session and in a new one that reads the
  /// same history file.
  @Test(
    .enabled(if: TmuxREPL.isUsable, "needs tmux (scripts/setup installs it) and the binary"))
  func upRecallsStatementsAcrossSessions() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    do {
      let repl = try Self.start(in: directory)
      defer { repl.end() }
      try repl.type("first_one = 1")
      #expect(try repl.waitForPrompt(count: 2))
      try repl.type("second_one = first_one + 1")
      #expect(try repl.waitForPrompt(count: 3))
      try repl.press("Up")
      #expect(
        try repl.wait(upTo: 30) { _ in
          (try? repl.lastLine()) == "sigbook> second_one = first_one + 1"
        })
      try repl.press("Up")
      #expect(try repl.wait(upTo: 30) { _ in (try? repl.lastLine()) == "sigbook> first_one = 1" })
      try repl.press("C-c")
      #expect(try repl.waitForPrompt(count: 4))
      try repl.press("C-d")
      #expect(try repl.wait(upTo: 30) { _ in (try? repl.hasEnded()) == true })
    }
    let next = try Self.start(in: directory)
    defer { next.end() }
    try next.press("Up")
    #expect(
      try next.wait(upTo: 30) { _ in (try? next.lastLine()) == "sigbook> second_one = first_one + 1"
      },
      "\((try? next.screen()) ?? "")")
    // Recalled, it runs in the new session (where first_one does not exist yet).
    try next.press("Up")
    #expect(try next.wait(upTo: 30) { _ in (try? next.lastLine()) == "sigbook> first_one = 1" })
    try next.press("Enter")
    #expect(try next.waitForPrompt(count: 2))
    try next.type(":vars")
    #expect(try next.wait(upTo: 30) { $0.contains("first_one  number  1") })
  }
}
