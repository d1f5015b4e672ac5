import Foundation
import SigbookData
import SigbookPlot
import SigbookWorkbook

extension Kernel {
  /// Runs an `execute_request`'s code as one cell of the session, streaming its outputs on
  /// IOPub as they happen: `print` on stdout, shown values as `execute_result` (tables also as
  /// HTML), figures as `display_data` (SVG, PNG and their file name), progress and timings on
  /// stderr, a failure as `error` with the message and caret of `sigbook run`.
  func execute(_ request: Message) {
    let code = request.content.string("code") ?? ""
    let isSilent = request.content.bool("silent") ?? false
    let storesHistory = (request.content.bool("store_history") ?? true) && !isSilent
    if storesHistory { executionCount += 1 }
    let count = executionCount
    let parent = request.header
    if !isSilent {
      publisher.publish("execute_input", parent: parent, ["code": code, "execution_count": count])
    }
    state.clearInterrupt()
    options.clearSignals()
    let progress = StreamProgress(publisher: publisher, parent: parent, isSilent: isSilent)
    var text: [String] = []
    session.emit = { [unowned self] output in
      if let shown = self.show(output, count: count, parent: parent, isSilent: isSilent) {
        text.append(shown)
      }
    }
    session.progress = progress
    var failure: WorkbookError?
    let trimmed = code.trimmingCharacters(in: .whitespacesAndNewlines)
    if trimmed.hasPrefix(":") && !trimmed.contains("\n") {
      let result = runCommand(trimmed, count: count, parent: parent, isSilent: isSilent)
      text += result.shown
      failure = result.failure
    } else {
      do {
        let cell = try parseCell(code, file: "In[\(count)]", index: count)
        try session.run(cell)
      } catch {
        failure = error
      }
    }
    session.emit = { _ in }
    session.progress = nil
    progress.finishLine()
    if storesHistory {
      history.append((count, code, text.joined(separator: "\n")))
    }
    guard let failure else {
      reply(
        to: request, "execute_reply",
        [
          "status": "ok", "execution_count": count, "user_expressions": [:],
          "payload": [JSONObject](),
        ])
      return
    }
    var error: JSONObject
    if failure.kind == .interrupted {
      let detail = failure.message == "interrupted" ? progress.stoppedAt : failure.message
      let message = "interrupted" + (detail.map { " (\($0))" } ?? "")
      error = ["ename": "Interrupted", "evalue": message, "traceback": [message]]
    } else {
      let line = WorkbookRunner.line(failure.location.line, of: code)
      error = [
        "ename": "WorkbookError", "evalue": failure.message,
        "traceback": failure.rendered(sourceLine: line).split(
          separator: "\n", omittingEmptySubsequences: false
        ).map(String.init),
      ]
    }
    if !isSilent { publisher.publish("error", parent: parent, error) }
    error["status"] = "error"
    error["execution_count"] = count
    reply(to: request, "execute_reply", error)
  }

  /// Publishes one output of a running cell; returns its text for history (nil for none).
  private func show(_ output: SessionOutput, count: Int, parent: Data, isSilent: Bool)
    -> String?
  {
    switch output {
    case .printed(let text):
      if !isSilent { publisher.stream("stdout", text + "\n", parent: parent) }
      return text
    case .value(let text):
      var data: JSONObject = ["text/plain": text]
      if let table = session.shownValue?.displayTable { data["text/html"] = table.html }
      if !isSilent {
        publisher.publish(
          "execute_result", parent: parent,
          ["execution_count": count, "data": data, "metadata": [:]])
      }
      return text
    case .figure(let name, let path):
      // PDF and PNG copies (`save(f, "f.pdf")`) show as the SVG they were rendered from.
      guard name.hasSuffix(".svg"), !isSilent,
        let svg = try? String(contentsOfFile: path, encoding: .utf8)
      else { return nil }
      var data: JSONObject = ["image/svg+xml": svg, "text/plain": name]
      let state = self.state
      if let png = try? SVGRenderer.png(svg, dpi: 96, isCancelled: { _ in state.isInterrupted }) {
        data["image/png"] = Data(png).base64EncodedString()
      }
      publisher.publish("display_data", parent: parent, ["data": data, "metadata": [:]])
      return nil
    case .timing(let label, let seconds):
      if !isSilent {
        publisher.stream(
          "stderr", "time \(label): " + String(format: "%.3f s", seconds) + "\n", parent: parent)
      }
      return nil
    }
  }
}

/// The progress of a cell's long operations (`fit`, `kmeans`, `tsne`…) as one line on the
/// cell's standard error, rewritten in place (`\r`) at most four times a second.
final class StreamProgress: ProgressSink {
  private let publisher: Publisher
  private let parent: Data
  private let isSilent: Bool
  private var title = ""
  private var lastSent = Date.distantPast
  private var lastPercent = -1
  /// Whether a line was begun and not yet ended by a line break.
  private var isLineOpen = false
  /// The last operation begun and how far it got, kept after it ends (for "interrupted").
  private var last: (title: String, fraction: Double)?

  init(publisher: Publisher, parent: Data, isSilent: Bool) {
    self.publisher = publisher
    self.parent = parent
    self.isSilent = isSilent
  }

  func begin(_ title: String) {
    self.title = title
    lastPercent = -1
    lastSent = .distantPast
    unsent = nil
    last = (title, 0)
  }

  func update(fraction: Double, detail: String) {
    last = (title, fraction)
    let percent = Int((fraction * 100).rounded(.down))
    guard !isSilent, percent != lastPercent else { return }
    let status = detail.isEmpty ? "" : " · " + detail
    unsent = "\r\(title) \(percent)%\(status)"
    let now = Date()
    guard now.timeIntervalSince(lastSent) >= 0.25 else { return }
    lastPercent = percent
    lastSent = now
    sendUnsent()
  }

  func end() { finishLine() }

  /// The latest state not yet sent (kept back by the rate limit), shown when the line ends.
  private var unsent: String?

  private func sendUnsent() {
    guard let unsent else { return }
    publisher.stream("stderr", unsent, parent: parent)
    isLineOpen = true
    self.unsent = nil
  }

  /// Ends the progress line with its last state, so that what follows starts on a line of its
  /// own.
  func finishLine() {
    sendUnsent()
    guard isLineOpen else { return }
    isLineOpen = false
    publisher.stream("stderr", "\n", parent: parent)
  }

  /// `fit stopped at 40%`: where the last operation was when it stopped.
  var stoppedAt: String? {
    last.map { "\($0.title) stopped at \(Int($0.fraction * 100))%" }
  }
}

extension Table {
  /// The table as an HTML `<table>` (its title as the caption, numbers right-aligned), every
  /// text escaped.
  var html: String {
    func escape(_ text: String) -> String {
      text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
    var html = "<table>"
    if let title { html += "<caption>\(escape(title))</caption>" }
    html += "<thead><tr>" + columns.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead>"
    html += "<tbody>"
    for row in rows {
      html += "<tr>"
      for cell in row {
        if case .number = cell {
          html += "<td style=\"text-align: right\">\(escape(cell.display))</td>"
        } else {
          html += "<td style=\"text-align: left\">\(escape(cell.display))</td>"
        }
      }
      html += "</tr>"
    }
    return html + "</tbody></table>"
  }
}
