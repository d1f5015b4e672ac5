import Foundation
import Testing

/// The built `sigbook` binary, run as `sigbook repl` with statements piped to its standard input.
@Suite("REPL, piped") struct REPLTests {
  /// `.build/debug/sigbook` (or whichever build folder holds the test bundle), if it was built.
  static let binary: URL? = {
    var candidates = [
      Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("sigbook")
    ]
    candidates.append(Bundle.main.bundleURL.appendingPathComponent("sigbook"))
    // Tests/sigbookTests/REPLTests.swift → the package root.
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    candidates.append(root.appendingPathComponent(".build/debug/sigbook"))
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
  }()

  struct Result {
    var status: Int32
    var output: String
    var errors: String
  }

  /// Runs `sigbook ARGUMENTS` in `directory` with `input` on standard input.
  static func sigbook(_ arguments: [String], input: String = "", in directory: URL) throws -> Result
  {
    let binary = try #require(binary)
    let outURL = directory.appendingPathComponent(".stdout")
    let errURL = directory.appendingPathComponent(".stderr")
    let inURL = directory.appendingPathComponent(".stdin")
    try Data(input.utf8).write(to: inURL)
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.currentDirectoryURL = directory
    process.standardInput = try FileHandle(forReadingFrom: inURL)
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    try process.run()
    process.waitUntilExit()
    return Result(
      status: process.terminationStatus,
      output: try String(contentsOf: outURL, encoding: .utf8),
      errors: try String(contentsOf: errURL, encoding: .utf8))
  }

  static func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("sigbook-repl-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  @Test(.enabled(if: binary != nil, "needs the built binary: run swift build first"))
  func anErrorDoesNotEndTheSessionAndExportRuns() throws {
    let directory = try Self.temporaryDirectory()
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
    let result = try Self.sigbook(["repl"], input: input, in: directory)
    #expect(result.status == 1, "a failed statement makes the status non-zero")
    #expect(result.output.contains("42\n"))
    #expect(result.output.contains("3\n"), "a statement spread over lines runs once it is closed")
    #expect(result.output.contains("10\n"), "statements after the error still run")
    #expect(
      result.errors.contains(
        """
        <repl>:1:5: error: unknown function 'mnist_sampel'
          y = mnist_sampel(digits: [1])
              ^~~~~~~~~~~~
          hint: did you mean 'mnist_sample'?
        """))
    // :vars: a table of name, kind and size, aligned.
    #expect(result.output.contains("name   kind     size"))
    #expect(result.output.contains("x      number   6"))
    #expect(result.output.contains("sizes  list     3 items"))
    #expect(result.output.contains("d      dataset  10 inputs"))
    #expect(result.output.contains("wrote session.sigbook (6 cells)"))

    let workbook = try String(
      contentsOf: directory.appendingPathComponent("session.sigbook"), encoding: .utf8)
    #expect(workbook.hasPrefix("# session\n"))
    #expect(workbook.contains("```sigbook\nsizes = [784, 16, 2]\n```"))
    #expect(!workbook.contains("mnist_sampel"), "failed statements are not exported")

    let run = try Self.sigbook(["run", "session.sigbook"], in: directory)
    #expect(run.status == 0, "\(run.errors)")
    #expect(run.output.contains("42\n") && run.output.contains("10\n"))
  }

  @Test(.enabled(if: binary != nil, "needs the built binary: run swift build first"))
  func aCleanSessionSucceeds() throws {
    let directory = try Self.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let result = try Self.sigbook(
      ["repl"], input: "n = 2\nprint(\"n is\", n)\n:time on\nn + 1\n:quit\nn + 100\n", in: directory
    )
    #expect(result.status == 0, "\(result.errors)")
    #expect(result.output == "n is 2\n3\n", "nothing runs after :quit")
    #expect(result.errors.hasSuffix(" s\n"), ":time on shows the time of each statement")
  }

  @Test(.enabled(if: binary != nil, "needs the built binary: run swift build first"))
  func loadsAWorkbookAndRunsItsCells() throws {
    let directory = try Self.temporaryDirectory()
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
    let result = try Self.sigbook(
      ["repl", "two.sigbook"], input: ":cells\n:step\n:step\n:cells\n:run 3\n:exprot x\n",
      in: directory)
    #expect(result.status == 1)
    #expect(result.output.contains("loaded two.sigbook: 2 cells"))
    #expect(result.output.contains("› 1  line 4  a = 20"))
    #expect(result.output.contains("── cell 2 · line 8 ──\n21\n"))
    #expect(result.output.contains("✓ 1  line 4  a = 20\n✗ 2  line 8  a + 1"))
    #expect(
      result.errors.contains(
        "two.sigbook:9:5: error: unknown name 'nothing_here'\n  b = nothing_here\n"))
    #expect(result.errors.contains("there is no cell '3'"))
    #expect(
      result.errors.contains("error: unknown command ':exprot'\n  hint: did you mean ':export'?"))
  }
}
