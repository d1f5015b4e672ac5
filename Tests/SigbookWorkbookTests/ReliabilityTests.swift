import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookWorkbook

/// The reliability checklist, one area after another: interrupts, the terminal, fuzzing,
/// readers, memory, numbers and files. Each area has its new cases here and one representative
/// of the suites that cover it in depth (`InterruptTests`, `FuzzTests`, `BadInputTests`,
/// `MemoryGuardTests`, `NumericFaultTests`, `AtomicFileTests`).
@Suite("Reliability") struct ReliabilityTests {
  // MARK: 1. interrupts

  /// A long operation polls the session's cancellation hook and stops with `interrupted`: here
  /// `fit`, whose hook answers "stop" after the statement has started.
  @Test func aLongOperationStopsWhenTheHookSaysSo() throws {
    let session = Session(file: "t", baseDirectory: "/tmp", figuresDirectory: "/tmp/r.figures")
    _ = try runSource("d = synthetic(.two_gaussians, n: 2000)", session: session)
    let budget = StepBudget(steps: 3)
    session.isCancelled = { budget.take() }
    let error = try #require(throws: WorkbookError.self) {
      _ = try runSource("net = fit(mlp(2, 8, 2), d, epochs: 1000, batch: 8)", session: session)
    }
    #expect(error.kind == .interrupted)
    #expect(session.variables["net"] == nil)
  }

  // MARK: 2. the terminal: covered by the tmux-driven tests of sigbookTests (InterruptTests,
  // REPLTests), which need the binary.

  // MARK: 3. no crash on the fuzz corpus

  /// Every input of `Fixtures/fuzz-corpus/` (inputs that found bugs, the slowest of long runs)
  /// goes through the front end and the evaluator without a broken invariant.
  @Test func theFuzzCorpusReplays() throws {
    let names = try FuzzCheck.corpusNames()
    #expect(names.count >= 10)
    for name in names {
      let input = try FuzzCheck.corpusInput(name)
      var validCells = 0
      var evaluated = 0
      for problem in FuzzCheck.exercise(
        input, evaluate: true, validCells: &validCells, evaluated: &evaluated)
      {
        Issue.record("\(problem) for corpus input \(name)")
      }
    }
  }

  // MARK: 4. readers trust nothing

  /// One broken file per reader, each refused with a message naming the file.
  @Test func everyReaderNamesTheFileItRefuses() throws {
    let folder = try TemporaryFolder()
    let csv = try folder.write("empty.csv", text: "")
    let npy = try folder.write("bad.npy", Array("not numpy".utf8))
    let idx = try folder.write("bad-idx3-ubyte", [0, 0, 8, 1, 0, 0, 0, 0])
    let model = try folder.write("bad.safetensors", [255, 255])
    let cases: [(source: String, path: String)] = [
      ("csv(\"\(csv)\")", csv),
      ("npy(\"\(npy)\")", npy),
      ("idx(images: \"\(idx)\", labels: \"\(idx)\")", idx),
      ("load_model(\"\(model)\")", model),
      ("signatures_from([\"\(npy)\"])", npy),
    ]
    for c in cases {
      let error = try errorOf(c.source)
      #expect(error.message.contains("'\(c.path)'"), "\(error.message)")
    }
  }

  // MARK: 5. memory guard

  @Test func aHugeModelIsRefusedBeforeItIsBuilt() throws {
    let error = try memoryErrorOf("mlp(784, 1000, 1000, 10)", limit: 1 << 20)
    #expect(error.message.hasSuffix("more than the memory limit of 1 MiB"))
    #expect(error.hint?.contains("--max-memory") == true)
  }

  // MARK: 6. numeric faults

  @Test func constantDataProjectsWithoutNaN() throws {
    let outputs = try runSource(
      "c = synthetic(.two_gaussians, n: 20, sigma: 0)\nprint(pca(c).count, umap(c).count)")
    #expect(outputs == ["20 20"])
  }

  // MARK: 7. atomic, contained writes

  static let refusedNames: [(name: String, message: String)] = [
    ("../x.csv", "'../x.csv' leaves the figures folder: files are written inside 't.figures'"),
    ("/tmp/x.csv", "'/tmp/x.csv' leaves the figures folder: files are written inside 't.figures'"),
    (
      "a\u{0}b.csv",
      "a file name cannot hold a NUL, a line break or another control character: \"a\\0b.csv\""
    ),
    (
      "a\nb.csv",
      "a file name cannot hold a NUL, a line break or another control character: \"a\\nb.csv\""
    ),
    (
      String(repeating: "x", count: 256) + ".csv",
      "a file name is at most 255 bytes, but '\(String(repeating: "x", count: 40))…' is 260"
    ),
    ("out/x.csv", "'out/x.csv' leads out of the figures folder through a symbolic link (to '"),
  ]

  @Test(arguments: refusedNames)
  func writesStayInsideTheFiguresFolder(_ c: (name: String, message: String)) throws {
    let folder = try TemporaryFolder()
    let figures = try folder.figuresFolderWithLinkOut()
    let session = Session(file: "t", baseDirectory: folder.url.path, figuresDirectory: figures)
    _ = try runSource("d = synthetic(.two_gaussians, n: 4)", session: session)
    let name = String(reflecting: c.name).dropFirst().dropLast()
    let error = try #require(throws: WorkbookError.self) {
      _ = try runSource("export(d, \"\(name)\")", session: session)
    }
    #expect(error.message.hasPrefix(c.message), "\(error.message)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: figures) == ["out"])
  }

  /// What a workbook writes by a relative name it reads back by the same name, and the write
  /// leaves no temporary file.
  @Test func savedFilesLoadByTheSameName() throws {
    let folder = try TemporaryFolder()
    let figures = folder.path("t.figures")
    let session = Session(file: "t", baseDirectory: folder.url.path, figuresDirectory: figures)
    let outputs = try runSource(
      "d = synthetic(.two_gaussians, n: 20)\nnet = fit(mlp(2, 4, 2), d, epochs: 1)\nsave(net, \"m.safetensors\")\nexport(d, \"d.npy\")\nagain = load_model(\"m.safetensors\")\nprint(accuracy(again, d) == accuracy(net, d), npy(\"d.npy\").count)",
      session: session)
    #expect(outputs.last == "true 20")
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: figures).sorted()
        == ["d.npy", "m.safetensors"])
  }
}
