import ArgumentParser
import CPlatform
import Foundation
import SigbookONNX
import SigbookPlot
import SigbookWorkbook

/// `sigbook run FILE…`: runs workbooks headless, printing each cell's outputs as it finishes.
struct Run: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run workbooks top to bottom and write their figures.",
    discussion: """
      Each cell's outputs and figure paths go to standard output as the cell finishes; progress \
      and run times go to standard error. The run stops at the first failing cell with a \
      non-zero status unless --keep-going is given.
      """)

  @Argument(help: "The workbooks (.sigbook) to run.")
  var files: [String]

  @Flag(
    help: "Also write NAME.report.md, a standalone NAME.report.html and NAME.ipynb (nbformat 4).")
  var report = false

  @Option(help: "Run cells 1…N and show only cell N.")
  var cell: Int?

  @Option(name: .customLong("set"), help: "Replace a top-level assignment: --set lr=0.01.")
  var settings: [String] = []

  @Flag(help: "Run the remaining cells after a failing one.")
  var keepGoing = false

  @Flag(
    help: """
      Print the progress of long operations as lines on standard error when it is not a \
      terminal (for logs, and for scripts that wait until an operation runs).
      """)
  var progress = false

  @Option(
    help: ArgumentHelp(
      "The formats every figure is written in, among svg, pdf and png (SVG always).",
      valueName: "formats"))
  var figures = "svg"

  @Option(help: "The resolution of PNG figures, in dots per inch.")
  var dpi = SVGRenderer.defaultDPI

  @OptionGroup var memory: MemoryOption

  /// The formats of `--figures`, SVG first.
  var figureFormats: [FigureFormat] {
    let named = figures.split(separator: ",").compactMap {
      FigureFormat(rawValue: $0.trimmingCharacters(in: .whitespaces).lowercased())
    }
    return FigureFormat.allCases.filter { $0 == .svg || named.contains($0) }
  }

  func validate() throws {
    for setting in settings where !setting.contains("=") {
      throw ValidationError("--set takes NAME=VALUE, not '\(setting)'")
    }
    if let cell, cell < 1 { throw ValidationError("--cell counts from 1") }
    for name in figures.split(separator: ",")
    where FigureFormat(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased()) == nil {
      throw ValidationError("--figures takes svg, pdf and png separated by commas, not '\(name)'")
    }
    if !SVGRenderer.dpiRange.contains(dpi) {
      throw ValidationError(
        "--dpi must be between \(Int(SVGRenderer.dpiRange.lowerBound)) and \(Int(SVGRenderer.dpiRange.upperBound))"
      )
    }
  }

  func run() throws {
    // Ctrl-C (SIGINT) stops the running statement at its next cancellation point; the run then
    // ends with status 130, every file it wrote whole and no temporary file left behind. A
    // second Ctrl-C within a second quits at once (same status, files just as whole).
    Interrupt.install(.statement)
    Interrupt.quitOnSecondPress()
    var failed = false
    for file in files {
      switch runOne(file) {
      case .succeeded: break
      case .failed: failed = true
      case .interrupted: throw ExitCode(Interrupt.exitStatus)
      }
    }
    if failed { throw ExitCode.failure }
  }

  /// How the run of one workbook ended.
  private enum Outcome { case succeeded, failed, interrupted }

  /// Runs one workbook.
  private func runOne(_ file: String) -> Outcome {
    let runner: WorkbookRunner
    do {
      var sessions = SessionFactory.commandLine(memoryLimit: memory.limit)
      sessions.figureFormats = figureFormats
      sessions.figureDPI = dpi
      runner = try WorkbookRunner(path: file, sessions: sessions)
    } catch {
      Terminal.error(
        error.errors.map {
          render($0, sourceLine: WorkbookRunner.line($0.location.line, of: error.text))
        }.joined(separator: "\n") + "\n")
      return .failed
    }
    for setting in settings {
      let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
      do {
        try runner.override(parts[0], with: parts.count > 1 ? parts[1] : "")
      } catch {
        Terminal.error(error.rendered(sourceLine: nil) + "\n")
        return .failed
      }
    }
    if let cell, cell > runner.cells.count {
      Terminal.error(
        "\(file): error: --cell \(cell) but the workbook has \(runner.cells.count) cells\n")
      return .failed
    }
    let progress = ProgressBar(printsLines: self.progress)
    runner.session.progress = progress
    let shown = cell
    runner.session.emit = { output in
      guard shown == nil || runner.session.currentCell == shown else { return }
      Terminal.show(output)
    }
    if files.count > 1 { print("# \(file)") }
    let ok = runner.run(
      options: WorkbookRunner.Options(lastCell: cell, keepGoing: keepGoing),
      cellStarted: { c in
        if shown == nil || c.index == shown {
          print("── cell \(c.index) · line \(c.firstLine) ──")
          sigbook_flush_stdout()
        }
      },
      cellFinished: { record in
        sigbook_flush_stdout()
        if let error = record.error, error.kind == .interrupted {
          let detail = error.message == "interrupted" ? progress.stoppedAt : error.message
          let place = "\(error.location.file):\(error.location.line): "
          let stopped = detail.map { " (\($0))" } ?? ""
          Terminal.error(
            place + Terminal.red("interrupted") + " in cell \(record.index)" + stopped + "\n")
        } else if let error = record.error {
          Terminal.error(render(error, sourceLine: runner.line(error.location.line)) + "\n")
        }
        Terminal.error(
          Terminal.dim(String(format: "cell %d: %.2f s", record.index, record.seconds)) + "\n")
      })
    if runner.wasInterrupted || Interrupt.isRequested {
      if report { Terminal.error("\(file): the run was interrupted, so no report was written\n") }
      return .interrupted
    }
    if report {
      do {
        let paths =
          try ReportWriter(runner: runner).write() + [NotebookWriter(runner: runner).write()]
        for path in paths { print("report: \(relative(path))") }
      } catch {
        Terminal.error("\(file): error: \(error)\n")
        return .failed
      }
    }
    return ok ? .succeeded : .failed
  }
}

/// A path relative to the current directory when it lies inside it.
func relative(_ path: String) -> String {
  let cwd = FileManager.default.currentDirectoryPath + "/"
  return path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path
}

/// `sigbook check FILE…`: parses and resolves names, labels and options, runs nothing.
struct Check: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Find the mistakes of workbooks without running them.")

  @Argument(help: "The workbooks (.sigbook) to check.")
  var files: [String]

  func run() throws {
    var problems = 0
    for file in files {
      let url = URL(fileURLWithPath: file)
      guard let text = try? String(contentsOf: url, encoding: .utf8) else {
        Terminal.error("\(file): error: cannot read '\(file)'\n")
        problems += 1
        continue
      }
      let errors = Checker.check(text: text, file: url.lastPathComponent)
      for error in errors {
        print(error.rendered(sourceLine: WorkbookRunner.line(error.location.line, of: text)))
      }
      problems += errors.count
      if errors.isEmpty { print("\(file): ok") }
    }
    if problems > 0 {
      print("\(problems) problem\(problems == 1 ? "" : "s")")
      throw ExitCode.failure
    }
  }
}

/// `sigbook help [NAME]`: the function catalogue.
struct Help: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "help", abstract: "Show the function catalogue, or one function's entry.")

  @Argument(help: "A function's name.")
  var name: String?

  @Flag(help: .hidden)
  var markdown = false

  func run() throws {
    if markdown {
      print(Catalogue.markdown(formats: [ONNXFormat()]), terminator: "")
      return
    }
    guard let name else {
      print(Catalogue.overview)
      return
    }
    if Catalogue.entry(name) == nil,
      let command = Sigbook.configuration.subcommands.first(where: {
        ($0.configuration.commandName ?? String(describing: $0).lowercased()) == name
      })
    {
      print(Sigbook.helpMessage(for: command))
      return
    }
    guard let help = Catalogue.help(for: name, formats: [ONNXFormat()]) else {
      let hint =
        nearestName(to: name, among: Catalogue.helpNames()).map { " (did you mean '\($0)'?)" } ?? ""
      Terminal.error("error: unknown function '\(name)'\(hint)\n")
      throw ExitCode.failure
    }
    print(help)
  }
}
