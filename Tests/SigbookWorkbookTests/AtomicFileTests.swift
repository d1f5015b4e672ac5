import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookWorkbook

@Suite("Atomic writes and where files go") struct AtomicFileTests {
  static func names(in folder: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
  }

  @Test func writesAndReplacesWholeLeavingNoTemporaryFile() throws {
    let folder = try TemporaryFolder()
    let path = folder.path("a.txt")
    try AtomicFile.write(Data("first".utf8), to: path)
    try AtomicFile.write(Data("second".utf8), to: path)
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "second")
    #expect(try Self.names(in: folder.url.path) == ["a.txt"])
  }

  @Test func aFailureLeavesTheTargetAndNoTemporaryFile() throws {
    let folder = try TemporaryFolder()
    let missing = folder.path("no-such-folder/a.txt")
    let error = try #require(throws: AtomicFileError.self) {
      try AtomicFile.write(Data("x".utf8), to: missing)
    }
    #expect(error.description.hasPrefix("cannot write '\(missing)': "))
    // The second file's folder does not exist: the first target keeps its old contents.
    let first = folder.path("first.txt")
    try AtomicFile.write(Data("old".utf8), to: first)
    #expect(throws: AtomicFileError.self) {
      try AtomicFile.write([(first, Data("new".utf8)), (missing, Data("new".utf8))])
    }
    #expect(try String(contentsOfFile: first, encoding: .utf8) == "old")
    #expect(try Self.names(in: folder.url.path) == ["first.txt"])
  }

  @Test func severalFilesAreAllReplaced() throws {
    let folder = try TemporaryFolder()
    let (html, md) = (folder.path("r.report.html"), folder.path("r.report.md"))
    try AtomicFile.write([(html, Data("<p>1</p>".utf8)), (md, Data("1".utf8))])
    try AtomicFile.write([(html, Data("<p>2</p>".utf8)), (md, Data("2".utf8))])
    #expect(try String(contentsOfFile: html, encoding: .utf8) == "<p>2</p>")
    #expect(try String(contentsOfFile: md, encoding: .utf8) == "2")
    #expect(try Self.names(in: folder.url.path) == ["r.report.html", "r.report.md"])
  }

  static let leaving: [(name: String, message: String)] = [
    ("../x.csv", "'../x.csv' leaves the figures folder: files are written inside 't.figures'"),
    ("/tmp/x.csv", "'/tmp/x.csv' leaves the figures folder: files are written inside 't.figures'"),
    ("~/x.csv", "'~/x.csv' leaves the figures folder: files are written inside 't.figures'"),
    (
      "sub/../../x.csv",
      "'sub/../../x.csv' leaves the figures folder: files are written inside 't.figures'"
    ),
    ("out/x.csv", "'out/x.csv' leads out of the figures folder through a symbolic link (to '"),
    ("link.csv", "'link.csv' leads out of the figures folder through a symbolic link (to '"),
    ("none/x.csv", "cannot write 'none/x.csv': there is no folder 'none' in 't.figures'"),
  ]

  @Test(arguments: leaving)
  func namesThatLeaveTheFiguresFolderAreRefused(_ c: (name: String, message: String)) throws {
    let folder = try TemporaryFolder()
    let figures = try folder.figuresFolderWithLinkOut()
    try FileManager.default.createSymbolicLink(
      atPath: figures + "/link.csv", withDestinationPath: folder.path("outside.csv"))
    try Data().write(to: URL(fileURLWithPath: folder.path("outside.csv")))
    let session = Session(file: "t", baseDirectory: folder.url.path, figuresDirectory: figures)
    let error = try #require(throws: WorkbookError.self) {
      _ = try runSource("export(synthetic(.two_gaussians, n: 4), \"\(c.name)\")", session: session)
    }
    #expect(error.message.hasPrefix(c.message), "\(error.message)")
    #expect(try Self.names(in: folder.url.path) == ["outside.csv", "t.figures"])
    #expect(try Self.names(in: figures) == ["link.csv", "out"])
  }

  /// A file read twice in a session is parsed once, and again once it changes.
  @Test func aFileReadAgainIsParsedOnceUntilItChanges() throws {
    let folder = try TemporaryFolder()
    let path = folder.path("a.txt")
    try AtomicFile.write(Data("first".utf8), to: path)
    let session = Session(file: "t", baseDirectory: folder.url.path, figuresDirectory: "f")
    var parses = 0
    func read() throws -> String {
      try session.cachedRead(of: path) {
        parses += 1
        return try String(contentsOfFile: path, encoding: .utf8)
      }
    }
    #expect(try read() == "first" && read() == "first" && parses == 1)
    try AtomicFile.write(Data("second, longer".utf8), to: path)
    #expect(try read() == "second, longer" && parses == 2)
    // Another session parses for itself.
    let other = Session(file: "t", baseDirectory: folder.url.path, figuresDirectory: "f")
    _ = try other.cachedRead(of: path) { parses += 1 }
    #expect(parses == 3)
  }

  @Test func namesInsideTheFiguresFolderAreWritten() throws {
    let folder = try TemporaryFolder()
    let figures = folder.path("t.figures")
    try FileManager.default.createDirectory(
      atPath: figures + "/runs", withIntermediateDirectories: true)
    let session = Session(file: "t", baseDirectory: folder.url.path, figuresDirectory: figures)
    _ = try runSource(
      "d = synthetic(.two_gaussians, n: 4)\nexport(d, \"runs/d.csv\")\nexport(d, \"./d.npy\")",
      session: session)
    #expect(try Self.names(in: figures) == ["d.npy", "runs"])
    #expect(try Self.names(in: figures + "/runs") == ["d.csv"])
  }
}
