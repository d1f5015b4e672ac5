import ArgumentParser
import CPlatform
import Foundation
import SigbookServe
import Synchronization
import SigbookWorkbook

/// `sigbook serve FILE`: the workbook as a live page (DESIGN.md §4).
struct Serve: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Serve a workbook as a live page: parameters as controls, reactive re-runs.",
    discussion: """
      Runs the workbook once and serves it at the printed address, which holds a random token \
      (every request needs it). Parameters (top-level assignments of a value, as --set \
      replaces) become controls; a change re-runs only the cells that depend on it. With \
      --watch, saving the file re-runs the cells whose code changed and their dependents. \
      Bounds and choices are declared with a comment line in a cell: `# param: lr in 0.001...0.5`.
      """)

  @Argument(help: "The workbook (.sigbook) to serve.")
  var file: String

  @Option(help: "The port to listen on (0 picks a free one).")
  var port = 8765

  @Option(
    help: "The address to listen on; other machines can reach the page only if you change it.")
  var host = "127.0.0.1"

  @Flag(help: "Re-run the cells whose code changed when the file is saved.")
  var watch = false

  @OptionGroup var memory: MemoryOption

  func validate() throws {
    if !(0...65535).contains(port) { throw ValidationError("--port takes 0 to 65535") }
  }

  func run() throws {
    // One malloc arena: the server's threads mostly wait on sockets, and memory freed in the
    // other arenas' tops is never given back (malloc_trim returns only the main arena's top).
    // Measured with 1,000 idle streams and 100 changes of 200 KB, after they left: 22 MB of
    // anonymous memory kept with an arena per thread, 12 MB with one.
    sigbook_limit_malloc_arenas(1)
    let live: LiveWorkbook
    do {
      live = try LiveWorkbook(
        path: file, sessions: .commandLine(memoryLimit: memory.limit),
        cellFailed: { error, line in Terminal.error(render(error, sourceLine: line) + "\n") })
    } catch {
      Terminal.error(
        error.errors.map {
          render($0, sourceLine: WorkbookRunner.line($0.location.line, of: error.text))
        }.joined(separator: "\n") + "\n")
      throw ExitCode.failure
    }
    let server = WorkbookServer(
      live: live, options: WorkbookServer.Options(host: host, port: port, watch: watch))
    let name = file
    let done = DispatchSemaphore(value: 0)
    let failure = Mutex<String?>(nil)
    let task = Task.detached {
      do {
        try await server.run { port in
          print("sigbook serve: \(name)\(watch ? " (watching the file)" : "")")
          print("    \(server.address(port: port))")
          print("Open the address above (it holds the token); Ctrl-C stops the server.")
          sigbook_flush_stdout()
        }
      } catch is CancellationError {
      } catch {
        failure.withLock { $0 = "\(error)" }
      }
      done.signal()
    }
    StopSignals.watch { count in
      if count == 1 {
        // Cancelling the server ends the event streams and closes the connections; should a
        // connection still not close, the process ends anyway.
        task.cancel()
        Thread.sleep(forTimeInterval: 0.9)
      }
      sigbook_flush_stdout()
      _exit(0)
    }
    done.wait()
    if let message = failure.withLock({ $0 }) {
      Terminal.error("error: cannot serve on \(host):\(port): \(message)\n")
      throw ExitCode.failure
    }
  }
}

/// SIGINT and SIGTERM for `serve`: the handler writes a byte to a pipe, and a thread reading
/// the pipe acts on each signal outside the handler.
enum StopSignals {
  /// The pipe, made before the handler is installed.
  private static let pipeEnds: (read: Int32, write: Int32) = {
    var ends: [Int32] = [-1, -1]
    _ = pipe(&ends)
    for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
    return (ends[0], ends[1])
  }()

  /// Calls `action` on a thread of its own with 1 for the first signal, 2 for the second…;
  /// `action` may block (the next signal is then handled on another thread).
  static func watch(_ action: @escaping @Sendable (Int) -> Void) {
    let ends = pipeEnds
    signalWriteEnd.store(ends.write, ordering: .relaxed)
    var signals = sigset_t()
    sigemptyset(&signals)
    for signal in [SIGINT, SIGTERM] { sigaddset(&signals, signal) }
    _ = pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    var handler = sigaction()
    handler.__sigaction_handler.sa_handler = { _ in
      var byte: UInt8 = 1
      _ = write(signalWriteEnd.load(ordering: .relaxed), &byte, 1)
    }
    sigemptyset(&handler.sa_mask)
    handler.sa_flags = Int32(SA_RESTART)
    _ = sigaction(SIGINT, &handler, nil)
    _ = sigaction(SIGTERM, &handler, nil)
    let reader = Thread {
      var count = 0
      var byte: UInt8 = 0
      while true {
        let n = read(ends.read, &byte, 1)
        if n < 0 && errno == EINTR { continue }
        guard n == 1 else { return }
        count += 1
        let number = count
        Thread { action(number) }.start()
      }
    }
    reader.name = "sigbook-signals"
    reader.start()
  }
}

/// The pipe's write end, read by the signal handler (an atomic: the handler may run on any
/// thread).
private let signalWriteEnd = Atomic<Int32>(-1)
