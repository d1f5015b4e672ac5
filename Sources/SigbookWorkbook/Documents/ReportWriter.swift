import CCmark
import Foundation
import SigbookTensor

/// Writes the report of a run: `NAME.report.md` (prose, code, text outputs, links to the
/// figures) and `NAME.report.html` (one standalone file with the SVGs inline).
public struct ReportWriter {
  public let runner: WorkbookRunner

  public init(runner: WorkbookRunner) { self.runner = runner }

  /// Writes both files atomically and returns their paths: both are written to temporary
  /// files first, then the `.html` replaces the old one and the `.md` last, so that a new `.md`
  /// never sits beside an old `.html` and a failure leaves both as they were.
  ///
  /// - Throws: `AtomicFileError` when either cannot be written.
  public func write() throws(AtomicFileError) -> [String] {
    let md = runner.stemPath + ".report.md", html = runner.stemPath + ".report.html"
    try AtomicFile.write([(html, Data(self.html.utf8)), (md, Data(markdown.utf8))])
    return [md, html]
  }

  /// A cell's run time, then what each `time(…)` in it measured.
  static func timings(_ record: CellRecord) -> [String] {
    var parts = [String(format: "cell %d ran in %.2f s", record.index, record.seconds)]
    for case .timing(let label, let seconds) in record.outputs {
      parts.append(label + String(format: ": %.3f s", seconds))
    }
    return parts
  }

  private var records: [Int: CellRecord] {
    Dictionary(runner.records.map { ($0.index, $0) }, uniquingKeysWith: { _, b in b })
  }

  private var figuresFolderName: String {
    URL(fileURLWithPath: runner.session.figuresDirectory).lastPathComponent
  }

  private var parameterNote: String? {
    guard !runner.appliedOverrides.isEmpty else { return nil }
    return "Run with "
      + runner.appliedOverrides.map { "`\($0.name) = \($0.value)`" }.joined(separator: ", ")
  }

  /// The Markdown report.
  public var markdown: String {
    var out = ""
    if let note = parameterNote { out += "> \(note)\n\n" }
    let records = self.records
    for block in runner.document.blocks {
      switch block {
      case .prose(let prose): out += prose.text
      case .cell(let cell):
        out += "```sigbook\n" + cell.source + (cell.source.hasSuffix("\n") ? "" : "\n") + "```\n"
        guard let record = records[cell.index] else {
          out += "\n*(not run)*\n"
          continue
        }
        let texts = record.outputs.compactMap { o -> String? in
          switch o {
          case .value(let t), .printed(let t): t
          case .figure, .timing: nil
          }
        }
        if !texts.isEmpty { out += "\n```text\n" + texts.joined(separator: "\n") + "\n```\n" }
        // PDF and PNG copies (--figures) are renders of the SVG; the report links the SVG.
        for case .figure(let name, _) in record.outputs where name.hasSuffix(".svg") {
          out += "\n![\(name)](\(figuresFolderName)/\(name))\n"
        }
        if let error = record.error {
          out +=
            "\n```text\n" + error.rendered(sourceLine: runner.line(error.location.line)) + "\n```\n"
        }
        out += "\n*" + ReportWriter.timings(record).joined(separator: " · ") + "*\n"
      }
    }
    return out
  }

  /// The standalone HTML report, figures inline.
  public var html: String {
    let title =
      runner.document.blocks.lazy.compactMap { block -> String? in
        guard case .prose(let p) = block else { return nil }
        return p.text.split(separator: "\n").first { $0.hasPrefix("# ") }.map {
          String($0.dropFirst(2))
        }
      }.first ?? URL(fileURLWithPath: runner.path).lastPathComponent
    var body = ""
    if let note = parameterNote { body += "<p class=\"note\">\(MarkdownHTML.inline(note))</p>\n" }
    let records = self.records
    for block in runner.document.blocks {
      switch block {
      case .prose(let prose): body += MarkdownHTML.render(prose.text)
      case .cell(let cell):
        body += "<pre class=\"code\"><code>\(escapeHTML(cell.source))</code></pre>\n"
        guard let record = records[cell.index] else { continue }
        for output in record.outputs {
          switch output {
          case .value(let t), .printed(let t):
            body += "<pre class=\"output\">\(escapeHTML(t))</pre>\n"
          case .figure(let name, _) where !name.hasSuffix(".svg"): break
          case .figure(let name, let path):
            let svg = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            body +=
              "<figure>\(svg.strippingXMLDeclaration)<figcaption>\(escapeHTML(name))</figcaption></figure>\n"
          case .timing: break
          }
        }
        if let error = record.error {
          body +=
            "<pre class=\"error\">\(escapeHTML(error.rendered(sourceLine: runner.line(error.location.line))))</pre>\n"
        }
        body +=
          "<p class=\"time\">\(escapeHTML(ReportWriter.timings(record).joined(separator: " · ")))</p>\n"
      }
    }
    return """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <title>\(escapeHTML(title))</title>
      <style>
      body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #222; }
      pre { padding: 0.6rem 0.8rem; overflow-x: auto; font-size: 0.85rem; }
      pre.code { background: #f4f4f8; border-left: 3px solid #6b6bd6; }
      pre.output { background: #fbfbfb; border-left: 3px solid #bbb; }
      pre.error { background: #fff0f0; border-left: 3px solid #d33; }
      code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
      figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; }
      figcaption { font-size: 0.8rem; color: #666; }
      .note { background: #fffbe6; padding: 0.4rem 0.8rem; }
      </style>
      </head>
      <body>
      \(body)</body>
      </html>

      """
  }
}

/// Text made safe inside HTML elements and double-quoted attributes (`&`, `<`, `>`, `"`).
public func escapeHTML(_ s: String) -> String {
  var out = ""
  out.reserveCapacity(s.count)
  for c in s {
    switch c {
    case "&": out += "&amp;"
    case "<": out += "&lt;"
    case ">": out += "&gt;"
    case "\"": out += "&quot;"
    default: out.append(c)
    }
  }
  return out
}

extension String {
  var strippingXMLDeclaration: String {
    guard hasPrefix("<?xml"), let end = range(of: "?>") else { return self }
    return String(self[end.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
  }
}

/// Workbook prose as HTML, through cmark, the reference implementation of CommonMark.
///
/// A library rather than a converter of our own: the hand-written one this replaces turned
/// `2 * 3 * 4` into emphasis, and so does Ink 0.6.0 (`2 <em> 3 </em> 4`, measured), which is
/// why cmark was chosen. Raw HTML in the prose is not passed through (cmark's safe default).
public enum MarkdownHTML {
  /// The HTML of a block of Markdown.
  public static func render(_ text: String) -> String {
    let bytes = Array(text.utf8)
    guard
      let pointer = bytes.withUnsafeBufferPointer({ buffer in
        buffer.withMemoryRebound(to: CChar.self) {
          cmark_markdown_to_html($0.baseAddress, $0.count, CMARK_OPT_DEFAULT)
        }
      })
    else { return "" }
    defer { free(pointer) }
    return String(cString: pointer)
  }

  /// The HTML of one line of Markdown, without its paragraph.
  public static func inline(_ text: String) -> String {
    var html = render(text).trimmingCharacters(in: .whitespacesAndNewlines)
    if html.hasPrefix("<p>"), html.hasSuffix("</p>") {
      html = String(html.dropFirst(3).dropLast(4))
    }
    return html
  }
}
