import ArgumentParser
import SigbookTensor

/// `--max-memory SIZE`, shared by the commands that run workbooks (`run`, `repl`, `serve`).
struct MemoryOption: ParsableArguments {
  @Option(
    name: .customLong("max-memory"),
    help: ArgumentHelp(
      "The most memory the session may hold, the program included (4G, 512M, 1.5G); operations that would pass it are refused with a message. Default: 75% of the physical memory.",
      valueName: "size"))
  var maxMemory: String?

  func validate() throws {
    if let maxMemory, MemoryLimit(parsing: maxMemory) == nil {
      throw ValidationError(
        "--max-memory takes a size such as 4G, 512M or 1.5G, not '\(maxMemory)'")
    }
  }

  /// The limit asked for, else 75% of the physical memory.
  /// The whole process counts against it (see `MemoryLimit.countsProcess`).
  var limit: MemoryLimit {
    var limit = maxMemory.flatMap { MemoryLimit(parsing: $0) } ?? .standard()
    limit.countsProcess = true
    return limit
  }
}
