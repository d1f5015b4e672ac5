import Foundation
import Testing

@testable import SigbookTensor

#if canImport(Glibc)
  import Glibc
#endif

/// `sigbook run` ended abruptly: a second Ctrl-C, SIGKILL. The files it wrote before are whole,
/// and it leaves no temporary file behind (or the next run removes it).
@Suite("Runs ended abruptly", .serialized) struct KilledRunTests {
  /// A running `sigbook run` with both of its outputs drained.
  struct RunningWorkbook {
    let process: Process
    let output: PipeReader
    let errors: PipeReader

    init(_ arguments: [String], in directory: URL) throws {
      process = Process()
      process.executableURL = REPLTests.binary
      process.arguments = ["run"] + arguments
      process.currentDirectoryURL = directory
      let (out, err) = (Pipe(), Pipe())
      process.standardOutput = out
      process.standardError = err
      output = PipeReader(out)
      errors = PipeReader(err)
      try process.run()
    }

    /// Waits (at most `seconds`, only so that a broken build cannot hang) until `condition`.
    func wait(upTo seconds: Double = 120, until condition: () -> Bool) -> Bool {
      let deadline = Date().addingTimeInterval(seconds)
      while Date() < deadline && process.isRunning {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.002)
      }
      return condition()
    }

    /// Whether the process has a file open in `folder` that has no name yet or a temporary's
    /// name: it is writing one there.
    func isWriting(in folder: URL) -> Bool {
      let fds = "/proc/\(process.processIdentifier)/fd"
      let links = (try? FileManager.default.contentsOfDirectory(atPath: fds)) ?? []
      return links.contains { fd in
        guard
          let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fds)/\(fd)")
        else { return false }
        return target.hasPrefix(folder.path + "/")
          && (target.hasSuffix("(deleted)") || AtomicFile.isTemporary(target))
      }
    }

    func finish() -> (status: Int32, reason: Process.TerminationReason, out: String, err: String) {
      process.waitUntilExit()
      return (process.terminationStatus, process.terminationReason, output.text(), errors.text())
    }
  }

  static func names(in folder: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
  }

  /// A second SIGINT within a second of the first ends a run at once, in the middle of a
  /// statement that polls seldom (one training batch of 5,000 images through a CNN, seconds in
  /// a debug build), with status 130, the files written before whole and no temporary file.
  @Test(.enabled(if: REPLTests.binary != nil, "needs the built binary: run swift build first"))
  func aSecondCtrlCQuitsAtOnce() throws {
    let directory = try REPLTests.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let workbook = """
      # Writes a file and trains in one long batch, again and again

      ```sigbook
      d = mnist_sample()
      export(d, "first.npy")
      ```

      ```sigbook
      for i in 0..<1000 {
        export(d, "again.npy")
        net = fit(cnn(), d, epochs: 1, batch: 5000)
      }
      ```

      """
    try Data(workbook.utf8).write(to: directory.appendingPathComponent("train.sigbook"))
    let figures = directory.appendingPathComponent("train.figures")
    let run = try RunningWorkbook(["train.sigbook"], in: directory)
    let again = figures.appendingPathComponent("again.npy")
    #expect(
      run.wait { FileManager.default.fileExists(atPath: again.path) }, "the loop did not start")
    // Into the training batch, which the first Ctrl-C waits for.
    Thread.sleep(forTimeInterval: 0.5)
    #expect(run.process.isRunning, "the loop ended before it could be interrupted")
    run.process.interrupt()
    Thread.sleep(forTimeInterval: 0.2)
    run.process.interrupt()
    let result = run.finish()
    #expect(result.status == 130, "\(result.err)")
    #expect(result.err.contains("interrupted twice: quitting now"), "\(result.err)")
    #expect(!result.err.contains("interrupted in cell"), "it quit before the cell stopped")
    #expect(try Self.names(in: figures) == ["again.npy", "first.npy"], "no temporary file")
    let first = try Data(contentsOf: figures.appendingPathComponent("first.npy"))
    #expect(try Data(contentsOf: again) == first, "the file last written is whole")
    #expect(try Self.names(in: directory) == ["train.figures", "train.sigbook"], "no report")
  }

  static let writer = """
    # Writes an export and a figure again and again

    ```sigbook
    n = 1
    d = mnist_sample()
    ```

    ```sigbook
    for i in 0..<n {
      export(d, "d.npy")
      save(images(d, count: 64), "grid.svg")
    }
    ```

    """

  /// SIGKILL in the middle of writing a file: the files of a completed earlier run are intact
  /// (byte-identical), at most the one temporary being written is left (none where the file
  /// system creates temporaries without a name), and the next run removes stale temporaries
  /// of its own naming pattern while leaving a running process's alone.
  @Test(.enabled(if: REPLTests.binary != nil, "needs the built binary: run swift build first"))
  func sigkillMidWriteLeavesEarlierFilesIntact() throws {
    let directory = try REPLTests.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try Data(Self.writer.utf8).write(to: directory.appendingPathComponent("w.sigbook"))
    let figures = directory.appendingPathComponent("w.figures")
    let complete = try RunningWorkbook(["w.sigbook"], in: directory).finish()
    #expect(complete.status == 0, "\(complete.err)")
    let files = ["d.npy", "grid.svg"]
    #expect(try Self.names(in: figures) == files)
    let earlier = try files.map { try Data(contentsOf: figures.appendingPathComponent($0)) }

    let run = try RunningWorkbook(["w.sigbook", "--set", "n=1000000"], in: directory)
    #expect(run.wait { run.isWriting(in: figures) }, "never caught writing")
    kill(run.process.processIdentifier, SIGKILL)
    let killed = run.finish()
    #expect(killed.reason == .uncaughtSignal && killed.status == SIGKILL)
    let left = try Self.names(in: figures)
    #expect(left.filter { !files.contains($0) }.count <= 1, "at most one temporary: \(left)")
    for (name, data) in zip(files, earlier) {
      #expect(try Data(contentsOf: figures.appendingPathComponent(name)) == data, "\(name)")
    }

    // Temporaries a killed run left (a process that no longer exists, and an earlier
    // version's name without one), and one of a process still running: this test's.
    let stale = [".d.npy.sigbook-tmp-2147483646-a1", ".grid.svg.sigbook-tmp-zz9"]
    let live = ".d.npy.sigbook-tmp-\(getpid())-b2"
    for name in stale + [live, "notes.txt"] {
      try Data("partial".utf8).write(to: figures.appendingPathComponent(name))
    }
    try Data("partial".utf8).write(
      to: directory.appendingPathComponent(".w.report.md.sigbook-tmp-2147483646-c3"))
    let next = try RunningWorkbook(["w.sigbook"], in: directory).finish()
    #expect(next.status == 0, "\(next.err)")
    #expect(try Self.names(in: figures) == ([live] + files + ["notes.txt"]).sorted())
    #expect(try Self.names(in: directory) == ["w.figures", "w.sigbook"])
    for (name, data) in zip(files, earlier) {
      #expect(try Data(contentsOf: figures.appendingPathComponent(name)) == data, "\(name)")
    }
  }
}
