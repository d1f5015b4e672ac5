import Foundation
import SigbookWorkbook

/// The HTML of the live page: prose rendered from Markdown, each cell's code, outputs and
/// figures, and the parameters as controls. Styles and script are served by the page's own
/// server (`app.css`, `app.js`); nothing is loaded from elsewhere.
enum Page {
  /// The whole page.
  static func html(_ live: LiveWorkbook) -> String {
    let view = live.view
    var title = view.document.file
    for case .prose(let prose) in view.document.blocks {
      if let heading = prose.text.split(separator: "\n").first(where: { $0.hasPrefix("# ") }) {
        title = String(heading.dropFirst(2))
        break
      }
    }
    let text = view.document.text
    var body = ""
    for block in view.document.blocks {
      switch block {
      case .prose(let prose):
        body += "<div class=\"prose\">\(MarkdownHTML.render(prose.text))</div>\n"
      case .cell(let source):
        let number = source.index
        guard number <= view.states.count else { continue }
        let state = view.states[number - 1]
        body += """
          <section class="cell" id="cell-\(number)" data-cell="\(number)" data-status="\(state.status.rawValue)" data-runs="\(state.runs)">
          <div class="cell-head"><span class="cell-name">cell \(number)</span> <span class="badge">\(state.status.rawValue)</span> <span class="runs">runs: \(state.runs)</span> <span class="progress"></span></div>
          <pre class="code"><code>\(escape(currentSource(source, view: view)))</code></pre>
          <div class="live"></div>
          <div class="outputs">\(outputsHTML(state, text: text))</div>
          </section>

          """
      }
    }
    let controls = view.parameters.map(controlHTML).joined(separator: "\n")
    return """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>\(escape(title))</title>
      <link rel="stylesheet" href="app.css">
      <script src="app.js" defer></script>
      </head>
      <body>
      <aside class="panel">
      <div class="panel-title">\(escape(view.document.file))</div>
      <div id="state" class="state">connecting…</div>
      <div class="buttons"><button id="stop" type="button">Stop</button> <button id="run" type="button">Run stale</button></div>
      <div id="problem" class="problem" hidden></div>
      <form id="controls" class="controls">
      \(controls.isEmpty ? "<p class=\"none\">no parameters</p>" : controls)
      </form>
      </aside>
      <main>
      \(body)</main>
      </body>
      </html>

      """
  }

  /// A cell's code as it runs now: the values of the parameters set from the page in place of
  /// those written in the file.
  static func currentSource(_ cell: WorkbookDocument.CellSource, view: LiveWorkbook.View)
    -> String
  {
    guard cell.index <= view.writtenCells.count else { return cell.source }
    let changed = Dictionary(
      view.parameters.filter { $0.value != $0.original }.map { ($0.name, $0.value.source) },
      uniquingKeysWith: { a, _ in a })
    guard !changed.isEmpty else { return cell.source }
    // Where each line of the cell starts, in characters ("\r\n" is one character).
    var characters = Array(cell.source)
    var lineStarts = [0]
    for (i, c) in characters.enumerated() where c == "\n" || c == "\r\n" {
      lineStarts.append(i + 1)
    }
    func offset(_ location: SourceLocation) -> Int? {
      let line = location.line - cell.firstLine
      guard line >= 0, line < lineStarts.count else { return nil }
      let at = lineStarts[line] + location.column - 1
      return at <= characters.count ? at : nil
    }
    var replacements: [(Range<Int>, String)] = []
    for statement in view.writtenCells[cell.index - 1].statements {
      guard case .assignment(let target, let value, _) = statement,
        let text = changed[target.name], let start = offset(value.span.start),
        let end = offset(value.span.end), start <= end
      else { continue }
      replacements.append((start..<end, text))
    }
    for (range, text) in replacements.sorted(by: { $0.0.lowerBound > $1.0.lowerBound }) {
      characters.replaceSubrange(range, with: Array(text))
    }
    return String(characters)
  }

  /// The control of one parameter.
  static func controlHTML(_ parameter: Parameter) -> String {
    let name = escape(parameter.name)
    let id = "param-" + name
    let label = "<label for=\"\(id)\">\(name)</label>"
    let attributes = "id=\"\(id)\" name=\"\(name)\" data-param=\"\(name)\""
    let input: String
    switch (parameter.control, parameter.value) {
    case (.slider, .number(let value)):
      let bounds = parameter.bounds ?? value...value
      let isWhole =
        bounds.lowerBound == bounds.lowerBound.rounded()
        && bounds.upperBound == bounds.upperBound.rounded()
        && value == value.rounded()
      let step = isWhole ? "1" : "any"
      let range =
        "min=\"\(Literal.format(bounds.lowerBound))\" max=\"\(Literal.format(bounds.upperBound))\" step=\"\(step)\""
      input =
        "<input type=\"range\" \(range) value=\"\(Literal.format(value))\" data-mirror=\"\(id)\" aria-label=\"\(name) slider\">"
        + "<input type=\"number\" \(attributes) data-kind=\"number\" \(range) value=\"\(Literal.format(value))\">"
    case (.number, .number(let value)):
      input =
        "<input type=\"number\" \(attributes) data-kind=\"number\" step=\"any\" value=\"\(Literal.format(value))\">"
    case (.checkbox, .bool(let value)):
      input = "<input type=\"checkbox\" \(attributes) data-kind=\"bool\"\(value ? " checked" : "")>"
    case (.choice, let value):
      let options = (parameter.choices ?? []).map { choice -> String in
        let shown: String
        let raw: String
        switch choice {
        case .option(let n): (shown, raw) = ("." + n, n)
        case .text(let t): (shown, raw) = (t, t)
        default: (shown, raw) = (choice.source, choice.source)
        }
        return
          "<option value=\"\(escape(raw))\"\(choice == value ? " selected" : "")>\(escape(shown))</option>"
      }.joined()
      input = "<select \(attributes) data-kind=\"text\">\(options)</select>"
    case (.classes, .list(let items)):
      let chosen = Set(items.compactMap { if case .number(let n) = $0 { n } else { nil } })
      input =
        "<span class=\"classes\" \(attributes) data-kind=\"classes\">"
        + parameter.classChoices.map { c in
          "<label class=\"class\"><input type=\"checkbox\" value=\"\(Literal.format(c))\"\(chosen.contains(c) ? " checked" : "")>\(Literal.format(c))</label>"
        }.joined() + "</span>"
    case (_, .text(let value)):
      input = "<input type=\"text\" \(attributes) data-kind=\"text\" value=\"\(escape(value))\">"
    case (_, .option(let value)):
      input = "<input type=\"text\" \(attributes) data-kind=\"text\" value=\".\(escape(value))\">"
    default:
      input =
        "<input type=\"text\" \(attributes) data-kind=\"source\" value=\"\(escape(parameter.value.source))\">"
    }
    return
      "<div class=\"control\" data-control=\"\(parameter.control.rawValue)\">\(label)\(input)<span class=\"where\">cell \(parameter.cell)</span><span class=\"reason\" data-reason=\"\(name)\" role=\"alert\" hidden></span></div>"
  }

  /// What a cell showed in its last run: outputs, figures, error, time.
  static func outputsHTML(_ state: LiveWorkbook.CellState, text: String) -> String {
    var html = state.outputs.map { outputHTML($0, generation: state.generation) }.joined()
    if let error = state.error {
      html +=
        "<pre class=\"error\">\(escape(error.rendered(sourceLine: WorkbookRunner.line(error.location.line, of: text))))</pre>"
    }
    if state.runs > 0 {
      html += "<p class=\"time\">" + String(format: "ran in %.2f s", state.seconds) + "</p>"
    }
    return html
  }

  /// One output. Figures are images of the figures folder; the generation in their address
  /// changes with each run, so the browser fetches the new file.
  static func outputHTML(_ output: SessionOutput, generation: Int) -> String {
    switch output {
    case .value(let text), .printed(let text):
      return "<pre class=\"output\">\(escape(text))</pre>"
    case .figure(let name, _):
      guard name.hasSuffix(".svg") else { return "" }
      let url = "figures/" + percentEncode(name) + "?v=\(generation)"
      return
        "<figure class=\"figure\" data-figure=\"\(escape(name))\"><img src=\"\(url)\" alt=\"\(escape(name))\"><figcaption><a href=\"\(url)\">\(escape(name))</a></figcaption></figure>"
    case .timing(let label, let seconds):
      return "<p class=\"time\">\(escape(label))" + String(format: ": %.3f s", seconds) + "</p>"
    }
  }

  /// The report's HTML escaping, plus `'` for the page's single-quoted attributes.
  static func escape(_ s: String) -> String {
    escapeHTML(s).replacingOccurrences(of: "'", with: "&#39;")
  }

  static func percentEncode(_ name: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name
  }

  /// The page's styles.
  static let css = """
    body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #222; line-height: 1.5; }
    main { max-width: 52rem; margin: 0 auto 4rem 20rem; padding: 1rem 1.5rem; }
    .panel { position: fixed; top: 0; left: 0; bottom: 0; width: 17rem; overflow-y: auto; padding: 1rem; background: #f6f6fa; border-right: 1px solid #ddd; box-sizing: border-box; font-size: 0.9rem; }
    .panel-title { font-weight: 600; margin-bottom: 0.4rem; word-break: break-all; }
    .state { margin-bottom: 0.5rem; color: #555; }
    .state.running { color: #b36b00; font-weight: 600; }
    .buttons button { font: inherit; padding: 0.2rem 0.7rem; margin-right: 0.3rem; }
    .problem { background: #fff0f0; border-left: 3px solid #d33; padding: 0.3rem; white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 0.75rem; margin: 0.5rem 0; }
    .controls { margin-top: 1rem; }
    .control { margin-bottom: 0.8rem; }
    .control > label { display: block; font-family: ui-monospace, monospace; font-weight: 600; }
    .control input[type=number], .control input[type=text], .control select { width: 9rem; font: inherit; }
    .control input[type=range] { width: 100%; }
    .control .where { color: #888; font-size: 0.75rem; margin-left: 0.4rem; }
    .classes { display: flex; flex-wrap: wrap; gap: 0.2rem 0.6rem; }
    .class { font-family: ui-monospace, monospace; }
    pre { padding: 0.6rem 0.8rem; overflow-x: auto; font-size: 0.85rem; margin: 0.4rem 0; }
    pre.code { background: #f4f4f8; border-left: 3px solid #6b6bd6; }
    pre.output { background: #fbfbfb; border-left: 3px solid #bbb; }
    pre.error { background: #fff0f0; border-left: 3px solid #d33; }
    code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
    .cell { margin: 1rem 0 1.5rem; padding: 0.3rem 0.6rem; border-radius: 4px; border: 1px solid transparent; }
    .cell-head { font-size: 0.8rem; color: #666; }
    .badge { display: inline-block; padding: 0 0.4rem; border-radius: 3px; background: #e4efe4; color: #2a6a2a; }
    .cell[data-status=stale] { border-color: #e0b040; background: #fffaf0; }
    .cell[data-status=stale] .badge, .cell[data-status=stopped] .badge { background: #fbe7b5; color: #7a5200; }
    .cell[data-status=stale] .outputs, .cell[data-status=running] .outputs, .cell[data-status=stopped] .outputs { opacity: 0.45; }
    .cell[data-status=running] { border-color: #6b6bd6; }
    .cell[data-status=running] .badge { background: #dcdcfb; color: #33337a; }
    .cell[data-status=stopped] { border-color: #d33; }
    .cell[data-status=failed] .badge { background: #fbdcdc; color: #7a2020; }
    .progress { color: #6b6bd6; margin-left: 0.5rem; }
    figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; display: block; }
    figcaption { font-size: 0.8rem; color: #666; }
    .time { font-size: 0.75rem; color: #888; margin: 0.2rem 0; }
    .reason { display: block; color: #a11; font-size: 0.8rem; } .reason[hidden] { display: none; }
    """

  /// The page's script: one event stream (Server-Sent Events) updates cells in place; controls
  /// post their values.
  static let javascript = """
    "use strict";
    (function () {
      const stateLine = document.getElementById("state");
      const problem = document.getElementById("problem");
      function cellElement(n) { return document.getElementById("cell-" + n); }
      function setStatus(n, status, runs) {
        const el = cellElement(n);
        if (!el) return;
        el.dataset.status = status;
        if (runs !== undefined) { el.dataset.runs = runs; el.querySelector(".runs").textContent = "runs: " + runs; }
        el.querySelector(".badge").textContent = status;
      }
      // Replaces a cell's outputs; a figure already shown keeps its place and gets the new image
      // once it has loaded, so the page does not jump.
      function setOutputs(n, html) {
        const el = cellElement(n);
        if (!el) return;
        const outputs = el.querySelector(".outputs");
        const fresh = document.createElement("div");
        fresh.innerHTML = html;
        for (const fig of fresh.querySelectorAll("figure[data-figure]")) {
          const old = outputs.querySelector('figure[data-figure="' + CSS.escape(fig.dataset.figure) + '"]');
          if (!old) continue;
          const src = fig.querySelector("img").getAttribute("src");
          const img = old.querySelector("img");
          const loader = new Image();
          loader.onload = function () { img.setAttribute("src", src); };
          loader.src = src;
          old.querySelector("a").setAttribute("href", src);
          fig.replaceWith(old);
        }
        outputs.replaceChildren(...fresh.childNodes);
        el.querySelector(".live").replaceChildren();
        el.querySelector(".progress").textContent = "";
      }
      // What each control shows for the value in effect, from the last status.
      let inEffect = {};
      function showValue(name, value) {
        const input = document.querySelector('[data-param="' + CSS.escape(name) + '"]');
        if (!input || value === undefined) return;
        switch (input.dataset.kind) {
          case "bool": input.checked = value; break;
          case "classes":
            for (const box of input.querySelectorAll("input")) box.checked = value.indexOf(Number(box.value)) >= 0;
            break;
          default: {
            input.value = value;
            const slider = document.querySelector('input[data-mirror="' + CSS.escape(input.id) + '"]');
            if (slider) slider.value = value;
          }
        }
      }
      // A refused value: the control goes back to the value in effect, the reason beside it.
      function showReason(name, reason) {
        const el = document.querySelector('[data-reason="' + CSS.escape(name) + '"]');
        if (!el) return;
        el.hidden = !reason;
        el.textContent = reason || "";
        if (reason) showValue(name, inEffect[name]);
      }
      function applyStatus(event) {
        if (event.controls) inEffect = event.controls;
        for (const c of event.cells) setStatus(c.cell, c.status, c.runs);
        const stale = event.cells.filter(function (c) { return c.status !== "fresh"; }).length;
        let text;
        if (event.running) text = "running…";
        else if (event.paused && stale > 0) text = "stopped · " + stale + " cell(s) not fresh";
        else if (stale > 0) text = stale + " cell(s) waiting";
        else text = "idle · every cell fresh";
        stateLine.textContent = text;
        stateLine.className = "state" + (event.running ? " running" : "");
        document.body.dataset.running = event.running ? "true" : "false";
        document.getElementById("stop").disabled = !event.running;
        document.getElementById("run").disabled = event.running || stale === 0;
        problem.hidden = !event.problem;
        problem.textContent = event.problem || "";
      }
      const source = new EventSource("events");
      source.onmessage = function (message) {
        const event = JSON.parse(message.data);
        switch (event.type) {
          case "sync":
            event.outputs.forEach(function (html, i) { setOutputs(i + 1, html); });
            applyStatus(event);
            break;
          case "status": applyStatus(event); break;
          case "start": {
            const el = cellElement(event.cell);
            if (el) el.querySelector(".live").replaceChildren();
            break;
          }
          case "output": {
            const el = cellElement(event.cell);
            if (el) el.querySelector(".live").insertAdjacentHTML("beforeend", event.html);
            break;
          }
          case "progress": {
            const el = cellElement(event.cell);
            if (el) el.querySelector(".progress").textContent = event.text;
            break;
          }
          case "cell": setOutputs(event.cell, event.html); setStatus(event.cell, event.status, event.runs); break;
          case "reload": window.location.reload(); break;
        }
      };
      source.onerror = function () { stateLine.textContent = "disconnected · retrying…"; };
      function post(path, body) {
        return fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}) })
          .then(function (r) { return r.ok ? null : r.text().then(function (t) { problem.hidden = false; problem.textContent = t; }); });
      }
      document.getElementById("stop").addEventListener("click", function () { post("api/stop"); });
      document.getElementById("run").addEventListener("click", function () { post("api/run"); });
      function valueOf(input) {
        switch (input.dataset.kind) {
          case "number": return Number(input.value);
          case "bool": return input.checked;
          case "classes": return Array.from(input.querySelectorAll("input:checked")).map(function (c) { return Number(c.value); });
          default: return input.value;
        }
      }
      function send(input) {
        // A number field being cleared to type a new value sends nothing.
        if (input.dataset.kind === "number" && (input.value.trim() === "" || isNaN(Number(input.value)))) return;
        const name = input.dataset.param;
        fetch("api/set", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name: name, value: valueOf(input) }) })
          .then(function (r) { return r.ok ? showReason(name, "") : r.text().then(function (t) { showReason(name, t.trim()); }); })
          .catch(function () { showReason(name, "the server did not answer"); });
      }
      for (const input of document.querySelectorAll("[data-param]")) {
        input.addEventListener("change", function () { send(input); });
      }
      for (const slider of document.querySelectorAll("input[data-mirror]")) {
        const field = document.getElementById(slider.dataset.mirror);
        slider.addEventListener("input", function () { field.value = slider.value; });
        slider.addEventListener("change", function () { field.value = slider.value; send(field); });
        field.addEventListener("input", function () { slider.value = field.value; });
      }
      document.getElementById("controls").addEventListener("submit", function (e) { e.preventDefault(); });
    })();
    """
}
