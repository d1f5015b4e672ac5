import ArgumentParser
import Foundation
import SigbookKernel
import SigbookTensor
import SigbookWorkbook

/// `sigbook kernel`: the workbook language as a Jupyter kernel, and its kernelspec.
struct KernelCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "kernel",
    abstract: "The Jupyter kernel: JupyterLab, Notebook, VS Code and nbclient run sigbook cells.",
    discussion: """
      `sigbook kernel install --user` once; then pick "sigbook" as the notebook's kernel. \
      Jupyter starts `sigbook kernel --connection-file FILE` itself.
      """,
    subcommands: [Start.self, Install.self, Remove.self], defaultSubcommand: Start.self)

  /// Where a kernelspec goes: `--user`, `--prefix DIR`, or the system folder.
  struct Place: ParsableArguments {
    @Flag(help: "The user's Jupyter folder (~/.local/share/jupyter, or $JUPYTER_DATA_DIR).")
    var user = false

    @Option(help: "The prefix of a Python environment: DIR/share/jupyter.")
    var prefix: String?

    func validate() throws {
      if user && prefix != nil { throw ValidationError("give --user or --prefix, not both") }
    }

    var location: KernelSpec.Location {
      if let prefix { return .prefix(prefix) }
      return user ? .user : .system
    }
  }

  /// `sigbook kernel --connection-file FILE`: what Jupyter runs.
  struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "start",
      abstract: "Serve the channels of a Jupyter connection file (Jupyter runs this).",
      discussion: """
        One session for the notebook, as the REPL's. Figures are shown inline and written in \
        the notebook's NAME.figures folder (from $JPY_SESSION_NAME), else in \
        ./sigbook.figures. Interrupt (or SIGINT) stops the running cell like Ctrl-C.
        """)

    @Option(help: "The connection file Jupyter wrote (ports, address, signing key).")
    var connectionFile: String

    @OptionGroup var memory: MemoryOption

    func run() throws {
      // SIGINT (Jupyter's interrupt in "signal" mode, or a user's kill -INT) stops the running
      // cell at its next cancellation point, as Ctrl-C in the REPL; it never ends the kernel.
      Interrupt.install(.statement)
      let kernel: Kernel
      do {
        let connection = try ConnectionFile.read(connectionFile)
        kernel = try Kernel(
          connection: connection,
          options: Kernel.Options(
            version: Sigbook.configuration.version,
            sessions: .commandLine(memoryLimit: memory.limit),
            notebook: ProcessInfo.processInfo.environment["JPY_SESSION_NAME"],
            folder: FileManager.default.currentDirectoryPath,
            clearSignals: { Interrupt.clear() }))
      } catch {
        Terminal.error("error: \(error.description)\n")
        throw ExitCode.failure
      }
      kernel.run()
    }
  }

  /// `sigbook kernel install`.
  struct Install: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write the kernelspec (kernel.json and a logo) where Jupyter finds it.",
      discussion: """
        Default: /usr/local/share/jupyter/kernels/sigbook (Jupyter's system path). kernel.json \
        names this binary by its absolute path.
        """)

    @OptionGroup var place: Place

    func run() throws {
      let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
      do {
        let folder = try KernelSpec.install(binary: binary, at: place.location)
        print("installed the sigbook kernel in \(folder)")
      } catch {
        Terminal.error("error: \(error.description)\n")
        throw ExitCode.failure
      }
    }
  }

  /// `sigbook kernel remove`.
  struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Remove the kernelspec that install wrote (same --user / --prefix).")

    @OptionGroup var place: Place

    func run() throws {
      do {
        if let folder = try KernelSpec.remove(at: place.location) {
          print("removed \(folder)")
        } else {
          print("no sigbook kernelspec in \(place.location.folder)")
        }
      } catch {
        Terminal.error("error: \(error.description)\n")
        throw ExitCode.failure
      }
    }
  }
}

/// `sigbook convert NOTEBOOK.ipynb`: a sigbook notebook as a workbook.
struct Convert: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a sigbook notebook (.ipynb) as a workbook: prose and sigbook cells.",
    discussion: """
      Markdown cells become prose, code cells ```sigbook cells; outputs are left out. \
      Notebooks of another language are refused. An existing file is not replaced without \
      --force.
      """)

  @Argument(help: "The notebook to read.")
  var notebook: String

  @Option(name: .shortAndLong, help: "The workbook to write (default: NAME.sigbook beside it).")
  var output: String?

  @Flag(help: "Replace the output file if it exists.")
  var force = false

  func run() throws {
    let reader: NotebookReader
    do {
      reader = try NotebookReader(path: notebook)
    } catch {
      Terminal.error("error: \(error.description)\n")
      throw ExitCode.failure
    }
    let target =
      output
      ?? URL(fileURLWithPath: notebook).deletingPathExtension().appendingPathExtension("sigbook")
      .path
    if !force && FileManager.default.fileExists(atPath: target) {
      Terminal.error("error: '\(target)' exists; give -o OUT, or --force to replace it\n")
      throw ExitCode.failure
    }
    do {
      try AtomicFile.write(Data(reader.workbook.utf8), to: target)
    } catch {
      Terminal.error("error: \(error.description)\n")
      throw ExitCode.failure
    }
    print("wrote \(target)")
  }
}
