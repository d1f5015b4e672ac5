import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor

#if canImport(Glibc)
  import Glibc
#endif

/// `sigbook run` ended abruptly: a second Ctrl-C, SIGKILL. The files it wrote before are whole,
/// and it leaves no temporary file behind (or the next run removes it).
@Suite("Runs ended abruptly", .serialized) struct KilledRunTests {
  /// Whether `process` has a file open in `folder` that has no name yet or a temporary's name:
  /// it is writing one there.
  static func isWriting(_ process: RunningProcess, in folder: URL) -> Bool {
    let fds = "/proc/\(process.pid)/fd"
    let links = (try? FileManager.default.contentsOfDirectory(atPath: fds)) ?? []
    return links.contains { fd in
      guard
        let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fds)/\(fd)")
      else { return false }
      return target.hasPrefix(folder.path + "/")
        && (target.hasSuffix("(deleted)") || AtomicFile.isTemporary(target))
    }
  }

  static func names(in folder: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
  }

  /// A second SIGINT within a second of the first ends a run at once, in the middle of a
  /// statement that polls seldom (`signatures` of a CNN polls once per batch of 1,024 images,
  /// a long stretch in a debug build), with status 130, the files written before whole and no
  /// temporary file.
  @Test(.enabled(if: Binary.isBuilt, "needs the built binary: run swift build first"))
  func aSecondCtrlCQuitsAtOnce() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let workbook = """
      # Writes a file and computes signatures batch by batch, again and again

      ```sigbook
      d = mnist_sample()
      export(d, "first.npy")
      ```

      ```sigbook
      for i in 0..<1000 {
        export(d, "again.npy")
        s = signatures(cnn(), d)
      }
      ```

      """
    try Data(workbook.utf8).write(to: directory.appendingPathComponent("train.sigbook"))
    let figures = directory.appendingPathComponent("train.figures")
    let run = try Binary.start(["run", "--progress", "train.sigbook"], in: directory)
    // `signatures` prints its first progress line once it has polled before its first batch:
    // the first SIGINT then lands in that batch, which it waits for.
    #expect(
      run.waitFor("progress: signatures ", in: .stderr), "the loop did not start: \(run.stderr)")
    #expect(run.isRunning, "the loop ended before it could be interrupted")
    run.send(SIGINT)
    // Two signals sent before the first is handled would be one: the second goes once the
    // first has left the process's pending set (no output says so).
    #expect(poll(every: 0.001, upTo: 30) { !run.isPending(SIGINT) }, "SIGINT never handled")
    run.send(SIGINT)
    let result = run.finish()
    #expect(result.status == 130 && !result.wasSignalled, "\(result.stderr)")
    #expect(result.stderr.contains("interrupted twice: quitting now"), "\(result.stderr)")
    #expect(!result.stderr.contains("interrupted in cell"), "it quit before the cell stopped")
    #expect(try Self.names(in: figures) == ["again.npy", "first.npy"], "no temporary file")
    let first = try Data(contentsOf: figures.appendingPathComponent("first.npy"))
    let again = figures.appendingPathComponent("again.npy")
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
  @Test(.enabled(if: Binary.isBuilt, "needs the built binary: run swift build first"))
  func sigkillMidWriteLeavesEarlierFilesIntact() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try Data(Self.writer.utf8).write(to: directory.appendingPathComponent("w.sigbook"))
    let figures = directory.appendingPathComponent("w.figures")
    let complete = try Binary.run(["run", "w.sigbook"], in: directory)
    #expect(complete.status == 0, "\(complete.stderr)")
    let files = ["d.npy", "grid.svg"]
    #expect(try Self.names(in: figures) == files)
    let earlier = try files.map { try Data(contentsOf: figures.appendingPathComponent($0)) }

    let run = try Binary.start(["run", "w.sigbook", "--set", "n=1000000"], in: directory)
    // Caught in the act by looking at its open files: a write announces itself nowhere.
    #expect(
      poll(every: 0.002, upTo: 120) { Self.isWriting(run, in: figures) || !run.isRunning },
      "never caught writing")
    #expect(run.isRunning, "the run ended before it was caught writing: \(run.stderr)")
    run.send(SIGKILL)
    let killed = run.finish()
    #expect(killed.wasSignalled && killed.status == SIGKILL)
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
    let next = try Binary.run(["run", "w.sigbook"], in: directory)
    #expect(next.status == 0, "\(next.stderr)")
    #expect(try Self.names(in: figures) == ([live] + files + ["notes.txt"]).sorted())
    #expect(try Self.names(in: directory) == ["w.figures", "w.sigbook"])
    for (name, data) in zip(files, earlier) {
      #expect(try Data(contentsOf: figures.appendingPathComponent(name)) == data, "\(name)")
    }
  }
}
