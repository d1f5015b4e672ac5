import ArgumentParser
import SigbookCore

/// The `sigbook` command line: run, check, help and repl (see DESIGN.md §4).
@main
struct Sigbook: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sigbook",
    abstract: "Open the black box of neural networks: signatures, clusters, paths.",
    version: "0.1.0",
    subcommands: [Bench.self])
}
