import Foundation
import SigbookTensor

/// Writes a run as a Jupyter notebook, `NAME.ipynb` (nbformat 4.5), which GitHub renders and
/// Jupyter opens: prose as Markdown cells; code cells with their text outputs (`stream` for
/// `print`, `execute_result` for shown values), figures as `image/svg+xml`, and errors.
///
/// The file is byte-identical for identical runs: keys are sorted, cell ids are their position
/// (`prose-1`, `cell-3`), and run times are left out (they live in the report).
public struct NotebookWriter {
  public let runner: WorkbookRunner

  public init(runner: WorkbookRunner) { self.runner = runner }

  /// The notebook's path: next to the workbook, `NAME.ipynb`.
  public var path: String { runner.stemPath + ".ipynb" }

  /// Writes the notebook atomically and returns its path.
  ///
  /// - Throws: `AtomicFileError` when it cannot be written.
  public func write() throws(AtomicFileError) -> String {
    try AtomicFile.write(Data(json.utf8), to: path)
    return path
  }

  /// The notebook as JSON text.
  public var json: String {
    let data =
      (try? JSONSerialization.data(
        withJSONObject: notebook, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]))
      ?? Data()
    return String(decoding: data, as: UTF8.self) + "\n"
  }

  /// The notebook as a JSON object.
  var notebook: [String: Any] {
    var cells: [[String: Any]] = []
    let records = Dictionary(runner.records.map { ($0.index, $0) }, uniquingKeysWith: { _, b in b })
    var proseCount = 0
    if !runner.appliedOverrides.isEmpty {
      proseCount += 1
      let note =
        "> Run with "
        + runner.appliedOverrides.map { "`\($0.name) = \($0.value)`" }.joined(separator: ", ")
      cells.append(markdownCell(note, id: "prose-\(proseCount)"))
    }
    for block in runner.document.blocks {
      switch block {
      case .prose(let prose):
        guard !prose.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { continue }
        proseCount += 1
        cells.append(markdownCell(prose.text, id: "prose-\(proseCount)"))
      case .cell(let source):
        let record = records[source.index]
        var code = source.source
        if code.hasSuffix("\n") { code.removeLast() }
        cells.append([
          "cell_type": "code", "id": "cell-\(source.index)",
          "execution_count": record == nil ? NSNull() : source.index as Any,
          "metadata": [String: Any](), "source": Self.lines(code),
          "outputs": record.map { outputs($0, count: source.index) } ?? [],
        ])
      }
    }
    // The kernelspec that `sigbook kernel install` writes, so that Jupyter re-runs the notebook
    // with the sigbook kernel (and offers to pick one when it is not installed).
    return [
      "nbformat": 4, "nbformat_minor": 5, "cells": cells,
      "metadata": [
        "kernelspec": JupyterLanguage.kernelspec,
        "language_info": JupyterLanguage.info(version: nil),
      ],
    ]
  }

  private func markdownCell(_ text: String, id: String) -> [String: Any] {
    var text = text
    while text.hasSuffix("\n") { text.removeLast() }
    while text.hasPrefix("\n") { text.removeFirst() }
    return [
      "cell_type": "markdown", "id": id, "metadata": [String: Any](), "source": Self.lines(text),
    ]
  }

  private func outputs(_ record: CellRecord, count: Int) -> [[String: Any]] {
    var outputs: [[String: Any]] = []
    for output in record.outputs {
      switch output {
      case .printed(let text):
        // Consecutive prints make one stream, as Jupyter shows them.
        if var last = outputs.last, last["output_type"] as? String == "stream",
          var lines = last["text"] as? [String]
        {
          lines += Self.lines(text + "\n")
          last["text"] = lines
          outputs[outputs.count - 1] = last
        } else {
          outputs.append([
            "output_type": "stream", "name": "stdout", "text": Self.lines(text + "\n"),
          ])
        }
      case .value(let text):
        outputs.append([
          "output_type": "execute_result", "execution_count": count,
          "metadata": [String: Any](), "data": ["text/plain": Self.lines(text)],
        ])
      case .figure(let name, let path) where name.hasSuffix(".svg"):
        let svg = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        outputs.append([
          "output_type": "display_data", "metadata": [String: Any](),
          "data": ["image/svg+xml": Self.lines(svg.strippingXMLDeclaration), "text/plain": [name]],
        ])
      case .figure, .timing: break
      }
    }
    if let error = record.error {
      outputs.append([
        "output_type": "error",
        "ename": error.kind == .interrupted ? "Interrupted" : "WorkbookError",
        "evalue": error.message,
        "traceback": Self.lines(error.rendered(sourceLine: runner.line(error.location.line))),
      ])
    }
    return outputs
  }

  /// Text as nbformat's list of lines, each but the last with its line break.
  static func lines(_ text: String) -> [String] {
    var lines: [String] = []
    var current = ""
    for character in text {
      current.append(character)
      if character.isNewline {
        lines.append(current)
        current = ""
      }
    }
    if !current.isEmpty { lines.append(current) }
    return lines
  }
}

/// How Jupyter names the workbook language: the kernelspec `sigbook kernel install` writes, the
/// `language_info` of notebooks and of the kernel's `kernel_info_reply`.
public enum JupyterLanguage {
  /// The language's name, and the kernelspec's.
  public static let name = "sigbook"
  /// The MIME type of a code cell's text.
  static let mimetype = "text/x-sigbook"
  /// The extension of a file of code: a workbook.
  static let fileExtension = ".sigbook"
  /// The highlighting mode for Pygments and CodeMirror. No highlighter knows the language; it
  /// is Python's that fits it best: `#` comments, `and`/`or`/`not`, `for … in`, `if`/`else`,
  /// double-quoted strings and numbers are highlighted as the language reads them (Swift's
  /// would take `#` for a directive).
  static let highlighting = "python"

  /// A notebook's `metadata.kernelspec`.
  static var kernelspec: [String: Any] {
    ["name": name, "display_name": name, "language": name]
  }

  /// `language_info`, with the kernel's version when it is known.
  public static func info(version: String?) -> [String: Any] {
    var info: [String: Any] = [
      "name": name, "mimetype": mimetype, "file_extension": fileExtension,
      "pygments_lexer": highlighting, "codemirror_mode": highlighting,
      "nbconvert_exporter": "script",
    ]
    if let version { info["version"] = version }
    return info
  }
}
