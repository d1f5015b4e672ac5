import Foundation
import SigbookTestSupport
import Testing

/// Ctrl-C while a file is read and inflated, or images are drawn: the prompt comes back saying
/// where it stopped, and the interrupted assignment never happens.
@Suite("Ctrl-C while reading and drawing", .serialized) struct ReadInterruptTests {
  /// A statement, what the REPL must have bound before it, and the title of its progress line.
  struct Case: CustomTestStringConvertible, Sendable {
    let name: String
    let setup: String?
    let statement: String
    let title: String
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(name: "csv", setup: nil, statement: "x = csv(\"big.csv\")", title: "csv"),
    Case(name: "csv.gz", setup: nil, statement: "x = csv(\"big.csv.gz\")", title: "csv"),
    Case(
      name: "images", setup: "data = mnist_sample()",
      statement: "f = images(data, count: 5000, columns: 100)", title: "images"),
    // About 6,300 × 6,400 pixels: drawn in bands, Ctrl-C seen between them.
    Case(
      name: "png", setup: "f = images(mnist_sample(), count: 3000, columns: 60)",
      statement: "save(f, \"big.png\")", title: "png"),
  ]

  /// About 90 MB of text (6.5 million rows of five fields), raw and gzipped.
  static func writeData(in directory: URL) throws {
    let block = String(repeating: "12,34,56,78,1\n", count: 1 << 16)
    let text = Data(String(repeating: block, count: 100).utf8)
    try text.write(to: directory.appendingPathComponent("big.csv"))
    let gzip = try RunningProcess.run(
      "/bin/sh", ["-c", "gzip -1 -c big.csv > big.csv.gz"], in: directory)
    guard gzip.status == 0 else { throw ToolFailure("gzip failed: \(gzip.stderr)") }
  }

  @Test(
    .enabled(if: TmuxREPL.isUsable, "needs tmux (scripts/setup installs it) and the binary"),
    arguments: cases)
  func ctrlCReturnsToThePrompt(_ c: Case) throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try Self.writeData(in: directory)
    let repl = try TmuxREPL(in: directory)
    defer { repl.end() }
    var prompts = 1
    #expect(try repl.waitForPrompt(count: prompts), "the REPL did not start")
    if let setup = c.setup {
      try repl.type(setup)
      prompts += 1
      #expect(try repl.waitForPrompt(count: prompts), "\((try? repl.screen()) ?? "")")
    }
    try repl.type(c.statement)
    // Running: its progress line is drawn; Ctrl-C goes at once.
    #expect(
      try repl.wait(upTo: 60) { screen in
        let last = screen.split(separator: "\n").last.map(String.init) ?? ""
        return last.hasPrefix(c.title + " ") && last.contains("%")
      }, "\(c.name) did not start: \((try? repl.screen()) ?? "")")
    try repl.press("C-c")
    prompts += 1
    #expect(
      try repl.waitForPrompt(count: prompts),
      "no prompt after Ctrl-C in \(c.name): \((try? repl.screen()) ?? "")")
    let screen = try repl.screen()
    #expect(screen.contains("interrupted (\(c.title) stopped at "), "\(screen)")
    try repl.type(":vars")
    prompts += 1
    #expect(try repl.waitForPrompt(count: prompts))
    let lines = try repl.screen().split(separator: "\n").drop { !$0.hasSuffix(":vars") }
    let assigned = c.statement.prefix { $0 != " " } + " "
    #expect(!lines.contains { $0.hasPrefix(assigned) }, "nothing assigned: \(lines)")
  }
}
