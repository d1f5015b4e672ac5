import Foundation
import SigbookTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// One long statement for the REPL to interrupt, and what the REPL says when it does.
struct LongOperation: CustomTestStringConvertible, Sendable {
  /// The function (or form) that runs long: `kmeans`, `for`.
  let name: String
  /// The statement, on data `data` (a dataset bound before it).
  let statement: String
  /// What follows "interrupted (" once it stops: where it stopped.
  let detail: String

  var testDescription: String { name }
}

@Suite("Ctrl-C in every long operation", .serialized) struct LongOperationInterruptTests {
  /// Data big enough that each operation runs for several seconds in a debug build, small
  /// enough to load in about a second: 5,000 Fashion-MNIST images when the files are
  /// installed, else the 5,000-image MNIST sample embedded with sigbook.
  static let data =
    FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")
    ? "data = fashion_mnist(per_class: 500)" : "data = mnist_sample()"

  static let operations: [LongOperation] = [
    LongOperation(
      name: "kmeans", statement: "c = kmeans(data, k: 2...10)", detail: "kmeans stopped at "),
    LongOperation(name: "tsne", statement: "t = tsne(data)", detail: "tsne stopped at "),
    LongOperation(name: "umap", statement: "u = umap(data)", detail: "umap stopped at "),
    LongOperation(
      name: "signatures", statement: "s = signatures(cnn(), data)",
      detail: "signatures stopped at "),
    LongOperation(
      name: "novelty",
      statement: "r = novelty(mlp(784, 64, 64, 10), reference: data, normal: data, novel: data)",
      detail: "novelty stopped at "),
    LongOperation(name: "pca", statement: "p = pca(data)", detail: "pca stopped at "),
    LongOperation(
      name: "probe",
      statement: "p = probe(signatures(mlp(784, 64, 64, 10), data, input: true), control: true)",
      detail: "probe stopped at "),
    LongOperation(
      name: "cka",
      statement: "k = cka(signatures(mlp(784, 64, 64, 10), data, input: true), kernel: .rbf)",
      detail: "cka stopped at "),
    LongOperation(
      name: "attribution", statement: "m = attribution(mlp(784, 64, 64, 10), data)",
      detail: "attribution stopped at "),
    LongOperation(
      name: "for",
      statement: "for i in 0..<100000000 { if i == 1 { print(\"looping\") } else { x = i } }",
      detail: "for loop stopped at i = "),
  ]

  /// Starts the operation in a REPL at a terminal, presses Ctrl-C once it runs, and checks
  /// that the prompt comes back saying where it stopped, with the earlier variables intact
  /// and the interrupted one never assigned.
  @Test(
    .enabled(if: TmuxREPL.isUsable, "needs tmux (scripts/setup installs it) and the binary"),
    arguments: operations)
  func ctrlCReturnsToThePrompt(_ operation: LongOperation) throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let repl = try TmuxREPL(in: directory)
    defer { repl.end() }
    #expect(try repl.waitForPrompt(count: 1), "the REPL did not start")
    try repl.type(Self.data)
    #expect(try repl.waitForPrompt(count: 2), "\((try? repl.screen()) ?? "")")
    try repl.type(operation.statement)
    // Running: its progress bar is drawn (a loop draws none: it prints a line once it runs).
    let title = operation.name + " "
    #expect(
      try repl.wait(upTo: 60) { screen in
        let lines = screen.split(separator: "\n")
        let last = lines.last.map(String.init) ?? ""
        return operation.name == "for"
          ? lines.contains("looping") : last.hasPrefix(title) && last.contains("%")
      }, "\(operation.name) did not start: \((try? repl.screen()) ?? "")")
    try repl.press("C-c")
    #expect(
      try repl.waitForPrompt(count: 3),
      "no prompt after Ctrl-C in \(operation.name): \((try? repl.screen()) ?? "")")
    let screen = try repl.screen()
    #expect(screen.contains("interrupted (" + operation.detail), "\(screen)")
    try repl.type(":vars")
    #expect(try repl.waitForPrompt(count: 4))
    let lines = try repl.screen().split(separator: "\n").drop {
      !$0.hasSuffix(":vars")
    }
    #expect(lines.contains { $0.hasPrefix("data ") }, "the session survives: \(lines)")
    let assigned = operation.statement.prefix { $0 != " " } + " "
    #expect(
      operation.name == "for" || !lines.contains { $0.hasPrefix(assigned) },
      "the interrupted assignment did not happen: \(lines)")
  }
}
