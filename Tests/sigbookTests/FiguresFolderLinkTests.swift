import Foundation
import SigbookTestSupport
import Testing

/// A `NAME.figures` folder that is a symbolic link would let a workbook write wherever it
/// points: `run`, `repl` and `serve` refuse it, naming it, and write nothing through it.
@Suite(
  "Figures folder links",
  .enabled(if: Binary.isBuilt, "needs the built sigbook binary (swift build)"))
struct FiguresFolderLinkTests {
  static let exporting = """
    ```sigbook
    export(synthetic(.two_gaussians, n: 10), "target.csv")
    ```

    """

  /// A folder with `w.sigbook`, a victim folder holding `target.csv`, and `LINK` pointing to it.
  static func setUp(link: String) throws -> (folder: TemporaryFolder, victim: TemporaryFolder) {
    let folder = try TemporaryFolder()
    let victim = try TemporaryFolder()
    try victim.write("target.csv", "precious\n")
    try folder.write("w.sigbook", exporting)
    try FileManager.default.createSymbolicLink(
      atPath: folder.url.appendingPathComponent(link).path, withDestinationPath: victim.url.path)
    return (folder, victim)
  }

  @Test func runRefusesALinkedFiguresFolder() throws {
    let (folder, victim) = try Self.setUp(link: "w.figures")
    let run = try Binary.run(["run", "w.sigbook"], in: folder.url)
    #expect(run.status != 0)
    #expect(
      run.stderr.contains("the figures folder 'w.figures' is a symbolic link"), "\(run.stderr)")
    #expect(try victim.read("target.csv") == "precious\n")
  }

  @Test func serveRefusesALinkedFiguresFolder() throws {
    let (folder, victim) = try Self.setUp(link: "w.figures")
    let serve = try Binary.run(["serve", "--port", "0", "w.sigbook"], in: folder.url)
    #expect(serve.status != 0)
    #expect(
      serve.stderr.contains("the figures folder 'w.figures' is a symbolic link"), "\(serve.stderr)")
    #expect(try victim.read("target.csv") == "precious\n")
  }

  @Test func theREPLRefusesALinkedFiguresFolder() throws {
    let (folder, victim) = try Self.setUp(link: "sigbook.figures")
    let repl = try Binary.run(
      ["repl"], input: "export(synthetic(.two_gaussians, n: 10), \"target.csv\")\n", in: folder.url)
    #expect(repl.status != 0)
    #expect(repl.stderr.contains("the figures folder 'sigbook.figures' is a symbolic link"))
    #expect(try victim.read("target.csv") == "precious\n")
  }

  @Test func aLinkMadeAfterTheStartIsRefusedWhenWriting() throws {
    // The REPL starts with no figures folder; `:load` moves it to w.figures, a link.
    let (folder, victim) = try Self.setUp(link: "w.figures")
    let repl = try Binary.run(["repl"], input: ":load w.sigbook\n:run all\n", in: folder.url)
    #expect(repl.stderr.contains("the figures folder 'w.figures' is a symbolic link"))
    #expect(try victim.read("target.csv") == "precious\n")
  }

  @Test func serveDoesNotServeAFolderThatBecameALink() throws {
    let folder = try TemporaryFolder()
    try folder.write("w.sigbook", Self.exporting)
    let served = try ServeProcess("w.sigbook", in: folder.url)
    _ = try ServeCommandTests.settledState(served)
    #expect(try served.request("GET", "/figures/target.csv").status == 200)
    let figures = folder.url.appendingPathComponent("w.figures")
    let victim = try TemporaryFolder()
    try victim.write("target.csv", "secret\n")
    try FileManager.default.removeItem(at: figures)
    try FileManager.default.createSymbolicLink(
      atPath: figures.path, withDestinationPath: victim.url.path)
    let reply = try served.request("GET", "/figures/target.csv")
    #expect(reply.status == 404 && !reply.body.contains("secret"))
    served.send(SIGTERM)
    #expect(served.waitForExit())
  }
}

/// `run --set` goes through the same check as the page's controls.
@Suite(
  "Run --set checks", .enabled(if: Binary.isBuilt, "needs the built sigbook binary"))
struct RunSetCheckTests {
  static let workbook = """
    ```sigbook
    # param: per_class in 10...500
    per_class = 20
    act = .relu
    print(per_class, act)
    ```

    """

  @Test(arguments: [
    ("per_class=5000", "'per_class' must lie in 10...500, not 5000"),
    ("per_class=true", "'per_class' takes a number such as 20, not true"),
    ("act=.x²", "unexpected character '²'"), ("per_class=1e400", "number '1e400' is too large"),
    ("act=[1]", "'act' takes an option such as .relu, not [1]"),
  ])
  func runRefusesWhatServeRefuses(_ c: (setting: String, message: String)) throws {
    let folder = try TemporaryFolder()
    try folder.write("w.sigbook", Self.workbook)
    let run = try Binary.run(["run", "w.sigbook", "--set", c.setting], in: folder.url)
    #expect(run.status != 0)
    #expect(run.stderr.contains(c.message), "\(run.stderr)")
    #expect(!run.stdout.contains("cell 1"))
  }

  @Test func anAllowedValueRuns() throws {
    let folder = try TemporaryFolder()
    try folder.write("w.sigbook", Self.workbook)
    let run = try Binary.run(["run", "w.sigbook", "--set", "per_class=400"], in: folder.url)
    #expect(run.status == 0 && run.stdout.contains("400 .relu"), "\(run.stderr)")
  }
}
