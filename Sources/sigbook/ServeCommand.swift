import ArgumentParser
import CPlatform
import Foundation
import SigbookCore
import SigbookServe
import Synchronization

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
    let live: LiveWorkbook
    do {
      live = try LiveWorkbook(path: file, memoryLimit: memory.limit)
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
    Task.detached {
      do {
        try await server.run(handleSignals: true) { port in
          print("sigbook serve: \(name)\(watch ? " (watching the file)" : "")")
          print("    \(server.address(port: port))")
          print("Open the address above (it holds the token); Ctrl-C stops the server.")
          sigbook_flush_stdout()
        }
      } catch {
        failure.withLock { $0 = "\(error)" }
      }
      done.signal()
    }
    done.wait()
    if let message = failure.withLock({ $0 }) {
      Terminal.error("error: cannot serve on \(host):\(port): \(message)\n")
      throw ExitCode.failure
    }
  }
}
