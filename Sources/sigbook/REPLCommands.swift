import Foundation
import SigbookWorkbook

/// The REPL's `:commands`.
extension REPLSession {
  /// Runs a command line such as `:run 2` or `:load one-vs-seven.sigbook`.
  func command(_ line: String) {
    let name = String(line.prefix { !$0.isWhitespace })
    let argument = Self.unquoted(
      String(line.dropFirst(name.count)).trimmingCharacters(in: .whitespaces))
    guard let command = REPLCommand(name: name) else {
      let names = REPLCommand.allCases.map(\.name)
      fail(
        "unknown command '\(name)'",
        hint: nearestName(to: name, among: names).map { "did you mean '\($0)'?" }
          ?? "the commands: " + names.joined(separator: " "))
      return
    }
    if command.argument == .nothing, !argument.isEmpty {
      fail("\(command.name) takes no argument", hint: "write \(command.usage)")
      return
    }
    switch command {
    case .help: help(argument)
    case .vars: vars()
    case .load:
      guard !argument.isEmpty else {
        return fail("\(command.name) needs a file", hint: "write \(command.usage)")
      }
      load(argument)
    case .cells: cells()
    case .run: runCells(argument)
    case .step: step()
    case .export:
      guard !argument.isEmpty else {
        return fail("\(command.name) needs a file", hint: "write \(command.usage)")
      }
      export(argument)
    case .reset:
      session.reset()
      transcript.clear()
      workbook?.outcomes = [:]
      print("every variable forgotten")
    case .time:
      switch argument {
      case "on": showsTimes = true
      case "off": showsTimes = false
      case "": print("timing is \(showsTimes ? "on" : "off")")
      default:
        fail("\(command.name) takes on or off, not '\(argument)'", hint: "write \(command.usage)")
      }
    case .quit: quit()
    }
  }

  /// A file name as typed, without surrounding quotes.
  static func unquoted(_ text: String) -> String {
    guard text.count >= 2, text.first == "\"", text.last == "\"" else { return text }
    return String(text.dropFirst().dropLast())
  }

  // MARK: Help and variables

  private func help(_ name: String) {
    if name.isEmpty {
      print(Catalogue.overview)
      print()
      print(REPLCommand.overview)
      print()
      print("  :help NAME shows a function's entry; Tab completes; Ctrl-C stops a statement.")
      return
    }
    if let command = REPLCommand(name: name) ?? REPLCommand(name: ":" + name),
      Catalogue.entry(name) == nil
    {
      print("\(command.usage)  \(command.summary)")
      return
    }
    guard let help = Catalogue.help(for: name, session: session) else {
      let candidates = Catalogue.helpNames(session: session) + REPLCommand.allCases.map(\.name)
      fail(
        "unknown function '\(name)'",
        hint: nearestName(to: name, among: candidates).map { "did you mean '\($0)'?" })
      return
    }
    print(help)
  }

  private func vars() {
    guard !session.variableOrder.isEmpty || !session.functions.isEmpty else {
      print("no variables yet")
      return
    }
    print(session.variablesTable.rendered)
  }

  // MARK: Workbooks

  /// Reads a workbook and keeps its cells; files are then read from its folder and figures
  /// written to its `NAME.figures/`. Its syntax errors are shown; the cells without errors
  /// can still run.
  func load(_ path: String) {
    let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
    guard let parsed = try? WorkbookFile(path: url.path) else {
      fail("cannot read '\(path)'")
      return
    }
    let text = parsed.text
    for error in parsed.errors {
      Terminal.error(
        render(error, sourceLine: WorkbookRunner.line(error.location.line, of: text)) + "\n")
    }
    failures += parsed.errors.isEmpty ? 0 : 1
    var loaded = LoadedWorkbook(
      path: url.path, text: text, document: parsed.document, cells: parsed.cells)
    // Loading the same file again after editing it: the cells whose code changed and those
    // that depend on them become stale; the others keep their results.
    if let previous = workbook, previous.path == url.path, !previous.outcomes.isEmpty {
      let changed = DependencyGraph.changedCells(from: previous.cells, to: parsed.cells)
      var formerWrites: [Int: Set<String>] = [:]
      for number in changed where number <= previous.cells.count {
        formerWrites[number] = DependencyGraph.names(of: previous.cells[number - 1]).writes
      }
      let stale = DependencyGraph(cells: parsed.cells).staleCells(
        changed: changed, formerWrites: formerWrites)
      loaded.outcomes = previous.outcomes.filter {
        !stale.contains($0.key) && $0.key <= parsed.cells.count
      }
      loaded.stale = stale.union(previous.stale).filter { $0 <= parsed.cells.count }
    }
    workbook = loaded
    let folder = url.deletingLastPathComponent().path
    session.baseDirectory = folder
    session.figuresDirectory =
      folder + "/" + url.deletingPathExtension().lastPathComponent + ".figures"
    let count = parsed.cells.count
    let broken = parsed.cells.filter(\.hasErrors).count
    let stale = loaded.stale.sorted()
    print(
      "loaded \(relative(url.path)): \(count) cell\(count == 1 ? "" : "s")"
        + (broken > 0 ? ", \(broken) with errors" : "")
        + (stale.isEmpty
          ? ""
          : ", stale: " + stale.map(String.init).joined(separator: ", ") + " (:run re-runs them)")
        + " · files are read from \(relative(folder) == folder ? folder : "./" + relative(folder))")
  }

  private func cells() {
    guard let workbook else { return fail("no workbook loaded", hint: "write :load FILE") }
    guard !workbook.cells.isEmpty else { return print("\(workbook.name) has no cells") }
    let next = workbook.cells.first { workbook.outcomes[$0.index] != true }?.index
    let lineWidth = String(workbook.cells.map(\.firstLine).max() ?? 0).count
    let numberWidth = String(workbook.cells.count).count
    for (cell, source) in zip(workbook.cells, workbook.document.cells) {
      let mark: String
      switch workbook.outcomes[cell.index] {
      case true?: mark = "✓"
      case false?: mark = "✗"
      case nil: mark = cell.index == next ? "›" : " "
      }
      let code =
        source.source.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        .first { !$0.isEmpty && !$0.hasPrefix("#") } ?? ""
      let number = String(cell.index).leftPadded(to: numberWidth)
      let line = String(cell.firstLine).leftPadded(to: lineWidth)
      print("\(mark) \(number)  line \(line)  \(code)\(cell.hasErrors ? "  (syntax errors)" : "")")
    }
  }

  private func runCells(_ argument: String) {
    guard let workbook else { return fail("no workbook loaded", hint: "write :load FILE") }
    if argument.isEmpty, !workbook.stale.isEmpty {
      // After :load of an edited file, only the stale cells run again.
      for number in workbook.stale.sorted() where !runCell(number) { break }
      return
    }
    if argument.isEmpty || argument == "all" {
      for cell in workbook.cells where !runCell(cell.index) { break }
      return
    }
    guard let number = Int(argument), number >= 1, number <= workbook.cells.count else {
      fail(
        "\(workbook.name) has \(workbook.cells.count) cells; there is no cell '\(argument)'",
        hint: "write :run N with N from 1 to \(workbook.cells.count), or :run all")
      return
    }
    runCell(number)
  }

  private func step() {
    guard let workbook else { return fail("no workbook loaded", hint: "write :load FILE") }
    guard let next = workbook.cells.first(where: { workbook.outcomes[$0.index] != true }) else {
      print("every cell of \(workbook.name) has run")
      return
    }
    runCell(next.index)
  }

  // MARK: Export

  private func export(_ path: String) {
    guard !transcript.isEmpty else {
      return fail("nothing has succeeded yet, so there is nothing to export")
    }
    do {
      let written = try transcript.write(to: path)
      let count = transcript.entries.count
      print("wrote \(relative(written)) (\(count) cell\(count == 1 ? "" : "s"))")
    } catch {
      fail(error.message)
    }
  }
}

extension String {
  /// The string with spaces before it up to `width` characters.
  func leftPadded(to width: Int) -> String {
    String(repeating: " ", count: max(0, width - count)) + self
  }
}
