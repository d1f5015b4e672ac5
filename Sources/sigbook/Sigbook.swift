import ArgumentParser
import CPlatform
import Foundation
import SigbookONNX
import SigbookTensor
import SigbookWorkbook

/// The `sigbook` command line: run, check, help, repl, serve, kernel, convert, bench and render
/// (see DESIGN.md §4).
@main
struct Sigbook: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sigbook",
    abstract: "Open the black box of neural networks: signatures, clusters, paths.",
    version: "0.1.0",
    subcommands: [
      Run.self, Check.self, Help.self, Repl.self, Serve.self, KernelCommand.self, Convert.self,
      Bench.self, Render.self,
    ])

  static func main() {
    Platform.prepare()
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      exit(withError: error)
    }
  }
}

/// Process-wide settings made once, before any work.
enum Platform {
  static func prepare() {
    selectBLASKernels()
    // Training allocates megabyte-sized tensors every batch. With glibc's dynamic thresholds they
    // are mapped and unmapped again and again and every page faults when first touched; keeping
    // them in the heap makes convolutional training markedly faster. A user's own glibc malloc
    // settings (environment variables or tunables) are respected: `mallopt` would override them.
    let environment = ProcessInfo.processInfo.environment
    let userTunes =
      environment.keys.contains { $0.hasPrefix("MALLOC_") && $0.hasSuffix("_THRESHOLD_") }
      || environment["GLIBC_TUNABLES"]?.contains("glibc.malloc.") == true
    if !userTunes { sigbook_tune_malloc(256 << 20, 512 << 20) }
  }

  /// Restarts the process with `OPENBLAS_CORETYPE` set when OpenBLAS did not recognise the
  /// processor.
  ///
  /// OpenBLAS 0.3.21 (Debian 12) does not know recent Intel processors (Sapphire Rapids) and
  /// falls back to its generic `Prescott` kernels, about 7× slower than the AVX-512 ones the
  /// processor runs. The kernel set is chosen when the library loads, before `main`, so the only
  /// way to change it is to set the variable and start again. A user's own `OPENBLAS_CORETYPE`
  /// is always respected.
  static func selectBLASKernels() {
    let environment = ProcessInfo.processInfo.environment
    guard environment["OPENBLAS_CORETYPE"] == nil, environment["SIGBOOK_BLAS_CHECKED"] == nil,
      BLAS.coreName == "Prescott"
    else { return }
    let core: String
    switch sigbook_cpu_vector_level() {
    case 2: core = "SkylakeX"
    case 1: core = "Haswell"
    default: return
    }
    setenv("OPENBLAS_CORETYPE", core, 1)
    setenv("SIGBOOK_BLAS_CHECKED", "1", 1)
    var arguments = CommandLine.arguments.map { strdup($0) }
    arguments.append(nil)
    execv("/proc/self/exe", &arguments)
    // execv returns only on failure: carry on with the generic kernels.
  }
}

extension SessionFactory {
  /// The sessions of every command that runs workbook code (`run`, `repl`, `serve`): the ONNX
  /// format this executable links, the `--max-memory` limit, and Ctrl-C as cancellation.
  static func commandLine(memoryLimit: MemoryLimit) -> SessionFactory {
    SessionFactory(
      modelFormats: [ONNXFormat()], memoryLimit: memoryLimit,
      isCancelled: { Interrupt.isRequested })
  }
}
