import Foundation
import SigbookWorkbook

extension Kernel {
  /// Runs a cell that is one of the REPL's commands: `:vars` (every variable, as a table),
  /// `:help [NAME]` (the catalogue, or one entry) and `:reset` (forget every variable). The
  /// commands that read or run workbook files (`:load`, `:run`, `:step`, `:cells`, `:export`),
  /// `:time` and `:quit` belong to the REPL: a notebook runs its own cells, and Jupyter stops
  /// the kernel. They are refused with a word on what to do instead.
  ///
  /// - Returns: the text shown (for history), and the failure if the command failed.
  func runCommand(_ line: String, count: Int, parent: Data, isSilent: Bool)
    -> (shown: [String], failure: WorkbookError?)
  {
    let name = String(line.prefix { !$0.isWhitespace })
    let argument = line.dropFirst(name.count).trimmingCharacters(in: .whitespacesAndNewlines)
    let location = SourceLocation(file: "In[\(count)]", line: 1, column: 1)
    func failure(_ message: String, hint: String?) -> ([String], WorkbookError?) {
      ([], WorkbookError(kind: .name, message: message, location: location, hint: hint))
    }
    func printed(_ text: String) -> ([String], WorkbookError?) {
      if !isSilent { publisher.stream("stdout", text + "\n", parent: parent) }
      return ([text], nil)
    }
    let kernelCommands = ":help [NAME], :vars and :reset"
    guard let command = REPLCommand(name: name) else {
      return failure(
        "unknown command '\(name)'",
        hint: nearestName(to: name, among: [":help", ":vars", ":reset"]).map {
          "did you mean '\($0)'?"
        } ?? "the kernel's commands: \(kernelCommands)")
    }
    switch command {
    case .vars:
      let table = session.variablesTable
      if !isSilent {
        publisher.publish(
          "execute_result", parent: parent,
          [
            "execution_count": count, "metadata": [:],
            "data": ["text/plain": table.rendered, "text/html": table.html],
          ])
      }
      return ([table.rendered], nil)
    case .help where argument.isEmpty:
      return printed(
        Catalogue.overview
          + "\n\n  help(NAME) or :help NAME shows a function's entry (Shift-Tab on a name too); "
          + "Tab completes; Interrupt stops a cell.")
    case .help:
      guard let help = Catalogue.help(for: argument, session: session) else {
        return failure(
          "unknown function '\(argument)'",
          hint: nearestName(to: argument, among: Catalogue.helpNames(session: session)).map {
            "did you mean '\($0)'?"
          })
      }
      return printed(help)
    case .reset:
      session.reset()
      return printed("every variable forgotten")
    case .load, .run, .step, .cells, .export, .time, .quit:
      return failure(
        "\(command.name) is a command of the REPL, not of the kernel",
        hint: "a notebook runs its own cells; the kernel's commands: \(kernelCommands)")
    }
  }
}
