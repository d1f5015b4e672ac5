import Foundation
import SigbookTestSupport
import Testing

/// The built `sigbook` binary, run as `sigbook repl` with statements piped to its standard input.
@Suite("REPL, piped") struct REPLTests {
  @Test(.enabled(if: Binary.isBuilt, "needs the built binary: run swift build first"))
  func anErrorDoesNotEndTheSessionAndExportRuns() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let input = """
      x = 6
      x * 7
      y = mnist_sampel(digits: [1])
      sizes = [784,
        16,
        2]
      sizes.count
      d = mnist_sample(digits: [1, 7], per_class: 5)
      d.count
      :vars
      :export session

      """
    let result = try Binary.run(["repl"], input: input, in: directory)
    #expect(result.status == 1, "a failed statement makes the status non-zero")
    #expect(result.stdout.contains("42\n"))
    #expect(result.stdout.contains("3\n"), "a statement spread over lines runs once it is closed")
    #expect(result.stdout.contains("10\n"), "statements after the error still run")
    #expect(
      result.stderr.contains(
        """
        <repl>:1:5: error: unknown function 'mnist_sampel'
          y = mnist_sampel(digits: [1])
              ^~~~~~~~~~~~
          hint: did you mean 'mnist_sample'?
        """))
    // :vars: a table of name, kind and size, aligned.
    #expect(result.stdout.contains("name   kind     size"))
    #expect(result.stdout.contains("x      number   6"))
    #expect(result.stdout.contains("sizes  list     3 items"))
    #expect(result.stdout.contains("d      dataset  10 inputs"))
    #expect(result.stdout.contains("wrote session.sigbook (6 cells)"))

    let workbook = try String(
      contentsOf: directory.appendingPathComponent("session.sigbook"), encoding: .utf8)
    #expect(workbook.hasPrefix("# session\n"))
    #expect(workbook.contains("```sigbook\nsizes = [784, 16, 2]\n```"))
    #expect(!workbook.contains("mnist_sampel"), "failed statements are not exported")

    let run = try Binary.run(["run", "session.sigbook"], in: directory)
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.contains("42\n") && run.stdout.contains("10\n"))
  }

  @Test(.enabled(if: Binary.isBuilt, "needs the built binary: run swift build first"))
  func aCleanSessionSucceeds() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let result = try Binary.run(
      ["repl"], input: "n = 2\nprint(\"n is\", n)\n:time on\nn + 1\n:quit\nn + 100\n", in: directory
    )
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout == "n is 2\n3\n", "nothing runs after :quit")
    #expect(result.stderr.hasSuffix(" s\n"), ":time on shows the time of each statement")
  }

  @Test(.enabled(if: Binary.isBuilt, "needs the built binary: run swift build first"))
  func loadsAWorkbookAndRunsItsCells() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let text = """
      # Two cells

      ```sigbook
      a = 20
      ```

      ```sigbook
      a + 1
      b = nothing_here
      ```

      """
    try Data(text.utf8).write(to: directory.appendingPathComponent("two.sigbook"))
    let result = try Binary.run(
      ["repl", "two.sigbook"], input: ":cells\n:step\n:step\n:cells\n:run 3\n:exprot x\n",
      in: directory)
    #expect(result.status == 1)
    #expect(result.stdout.contains("loaded two.sigbook: 2 cells"))
    #expect(result.stdout.contains("› 1  line 4  a = 20"))
    #expect(result.stdout.contains("── cell 2 · line 8 ──\n21\n"))
    #expect(result.stdout.contains("✓ 1  line 4  a = 20\n✗ 2  line 8  a + 1"))
    #expect(
      result.stderr.contains(
        "two.sigbook:9:5: error: unknown name 'nothing_here'\n  b = nothing_here\n"))
    #expect(result.stderr.contains("there is no cell '3'"))
    #expect(
      result.stderr.contains("error: unknown command ':exprot'\n  hint: did you mean ':export'?"))
  }
}
