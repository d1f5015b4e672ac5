extension Plot {
  /// The gap between two panels of a grid, in pixels.
  static let gridGap = 16.0

  /// `grid`: several figures as the panels of one, left to right, then top to bottom.
  ///
  /// Each panel is its figure's whole SVG nested as an `<svg>` element with its own `viewBox`, at
  /// its own size, placed at the top left of its cell; a column is as wide as its widest panel and
  /// a row as high as its highest. So that panels cannot disturb each other, every rule of a
  /// panel's style sheet is scoped to its panel (`.sb-p2 .sb-title`, the nested `<svg>` having
  /// the class `sb-p2`): a style sheet anywhere in an SVG file applies to the whole file. Should a
  /// panel hold ids (a gradient, a clip path), each one and every reference to it (`url(#…)`,
  /// `href="#…"`) gets the prefix `sb-p2-`. The panels themselves get a class, not an id, so that
  /// two grids inlined in one HTML report do not repeat an id. The bytes depend only on the
  /// figures, their order, `columns` and `title`.
  ///
  /// - Parameters:
  ///   - figures: the panels, in order.
  ///   - columns: panels per row (at least 1).
  ///   - title: a title above the panels; none when empty.
  ///   - shareY: when every panel is a plot of the same kind whose y axis can be shared (line
  ///     plots, loss plots), draw them all on one y scale that fits every panel's values, so that
  ///     heights compare across panels; false keeps each panel's own scale.
  /// - Returns: a figure of kind `grid`.
  public static func grid(
    _ figures: [Figure], columns: Int = 2, title: String = "", shareY: Bool = false
  ) -> Figure {
    var figures = figures
    if shareY, figures.count > 1, Set(figures.map(\.kind)).count == 1,
      case let shared = figures.compactMap(\.sharedY), shared.count == figures.count,
      let lower = shared.map(\.values.lowerBound).min(),
      let upper = shared.map(\.values.upperBound).max()
    {
      figures = shared.map { $0.redraw(lower...upper) }
    }
    let panels = figures.enumerated().map { i, f in NestedPanel(f.svg, number: i + 1) }
    let columns = max(1, min(columns, max(panels.count, 1)))
    let rows = (panels.count + columns - 1) / columns
    var columnWidths = [Double](repeating: 0, count: columns)
    var rowHeights = [Double](repeating: 0, count: rows)
    for (i, p) in panels.enumerated() {
      columnWidths[i % columns] = max(columnWidths[i % columns], p.width)
      rowHeights[i / columns] = max(rowHeights[i / columns], p.height)
    }
    let top = title.isEmpty ? ChartLayout.pad : ChartLayout.titleHeight + 4
    func offset(_ sizes: [Double], _ index: Int) -> Double {
      sizes.prefix(index).reduce(0, +) + Double(index) * gridGap
    }
    var width = 2 * ChartLayout.pad + offset(columnWidths, columns) - gridGap
    width = max(width, textWidth(title, size: FontSize.title, bold: true) + 2 * ChartLayout.pad)
    let height = top + max(offset(rowHeights, rows) - gridGap, 0) + ChartLayout.pad
    let names = figures.map(\.title).filter { !$0.isEmpty }
    var document = SVGDocument(
      width: width, height: max(height, top + ChartLayout.pad),
      title: title.isEmpty
        ? "\(figures.count) figures" + (names.isEmpty ? "" : ": " + names.joined(separator: "; "))
        : title,
      description: "\(figures.count) figures as panels, \(columns) per row")
    addBaseStyles(to: &document)
    drawTitle(title, into: &document)
    for (i, p) in panels.enumerated() {
      if p.usesXLink { document.declareXLink() }
      let x = ChartLayout.pad + offset(columnWidths, i % columns)
      let y = top + offset(rowHeights, i / columns)
      document.appendMarkup(p.markup(x: x, y: y))
    }
    return Figure(kind: "grid", document: document)
  }

  /// A figure's SVG made ready to nest: its size, and its content with ids and styles scoped.
  struct NestedPanel {
    /// The panel's own width and height (its root's `width` and `height`).
    var width: Double
    var height: Double
    var viewBox: String
    var fontFamily: String
    /// Everything after the root's start tag, up to and including `</svg>`, rewritten.
    var content: String
    /// The class of the nested `<svg>`, which its style rules are scoped to: `sb-p3`.
    var name: String
    var usesXLink: Bool

    init(_ svg: String, number: Int) {
      name = "sb-p\(number)"
      var text = Substring(svg)
      if text.hasPrefix("<?xml"), let end = text.firstIndex(of: "\n") {
        text = text[text.index(after: end)...]
      }
      let rootStart = text.range(of: "<svg")?.lowerBound ?? text.startIndex
      let rootEnd = text[rootStart...].firstIndex(of: ">") ?? text.endIndex
      let attributes = NestedPanel.attributes(of: text[rootStart..<rootEnd])
      width = attributes["width"].flatMap(Double.init) ?? 0
      height = attributes["height"].flatMap(Double.init) ?? 0
      viewBox = attributes["viewBox"] ?? "0 0 \(Plot.number(width)) \(Plot.number(height))"
      fontFamily = attributes["font-family"] ?? SVGDocument.fontFamily
      usesXLink = attributes["xmlns:xlink"] != nil
      let rest = rootEnd < text.endIndex ? text[text.index(after: rootEnd)...] : ""
      content = NestedPanel.scoped(String(rest), prefix: name + "-", panel: name)
    }

    /// The nested `<svg>` at (x, y).
    func markup(x: Double, y: Double) -> String {
      "<svg class=\"\(name)\" x=\"\(Plot.number(x))\" y=\"\(Plot.number(y))\" width=\"\(Plot.number(width))\" "
        + "height=\"\(Plot.number(height))\" viewBox=\"\(viewBox)\" font-family=\""
        + SVGDocument.escape(fontFamily, inAttribute: true) + "\">" + content
    }

    /// The attributes of a start tag, values as written (escapes left in place).
    static func attributes(of tag: Substring) -> [String: String] {
      var result: [String: String] = [:]
      var rest = tag.drop { $0 != " " }
      while let eq = rest.firstIndex(of: "=") {
        let name = rest[..<eq].trimmingSpaces
        let afterEq = rest.index(after: eq)
        guard afterEq < rest.endIndex, rest[afterEq] == "\"" else { break }
        let valueStart = rest.index(after: afterEq)
        guard let close = rest[valueStart...].firstIndex(of: "\"") else { break }
        result[String(name)] = String(rest[valueStart..<close])
        rest = rest[rest.index(after: close)...]
      }
      return result
    }

    /// The content with every id (and reference to it) prefixed and every style rule scoped to
    /// the panel; text between tags other than the style sheet is left as it is.
    static func scoped(_ content: String, prefix: String, panel: String) -> String {
      let ids = Set(ids(in: content))
      var out = ""
      out.reserveCapacity(content.utf8.count + 256)
      var rest = Substring(content)
      while let open = rest.firstIndex(of: "<") {
        out += rest[..<open]
        guard let close = rest[open...].firstIndex(of: ">") else {
          out += rest[open...]
          return out
        }
        let tag = rest[open...close]
        out += renamed(tag, ids: ids, prefix: prefix, inTag: true)
        rest = rest[rest.index(after: close)...]
        if tag.hasPrefix("<style"), let end = rest.range(of: "</style>") {
          out += scopedRules(rest[..<end.lowerBound], ids: ids, prefix: prefix, panel: panel)
          rest = rest[end.lowerBound...]
        }
      }
      out += rest
      return out
    }

    /// The values of every `id="…"` attribute.
    static func ids(in content: String) -> [String] {
      var found: [String] = []
      var rest = Substring(content)
      while let r = rest.range(of: " id=\"") {
        let start = r.upperBound
        guard let end = rest[start...].firstIndex(of: "\"") else { break }
        found.append(String(rest[start..<end]))
        rest = rest[end...]
      }
      return found
    }

    /// `id="x"` becomes `id="P-x"` (in a tag) and `#x` becomes `#P-x` wherever x is an id.
    static func renamed(_ text: Substring, ids: Set<String>, prefix: String, inTag: Bool) -> String
    {
      guard !ids.isEmpty else { return String(text) }
      var out = ""
      var i = text.startIndex
      func isNameCharacter(_ c: Character) -> Bool {
        c.isLetter || c.isNumber || c == "-" || c == "_" || c == "."
      }
      while i < text.endIndex {
        let c = text[i]
        if c == "#" || (inTag && text[i...].hasPrefix(" id=\"")) {
          let nameStart = c == "#" ? text.index(after: i) : text.index(i, offsetBy: 5)
          let nameEnd = text[nameStart...].firstIndex { !isNameCharacter($0) } ?? text.endIndex
          let name = String(text[nameStart..<nameEnd])
          out += text[i..<nameStart]
          out += ids.contains(name) ? prefix + name : name
          i = nameEnd
        } else {
          out.append(c)
          i = text.index(after: i)
        }
      }
      return out
    }

    /// Each rule `selectors { declarations }` (one a line) with every selector prefixed by the
    /// panel's class and its id references renamed.
    static func scopedRules(_ sheet: Substring, ids: Set<String>, prefix: String, panel: String)
      -> String
    {
      sheet.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
        guard let brace = line.firstIndex(of: "{") else { return String(line) }
        let selectors = line[..<brace].split(separator: ",").map { selector in
          ".\(panel) "
            + renamed(Substring(selector.trimmingSpaces), ids: ids, prefix: prefix, inTag: false)
        }
        return selectors.joined(separator: ", ") + " " + line[brace...]
      }.joined(separator: "\n")
    }
  }
}

extension StringProtocol {
  /// The text without leading and trailing spaces.
  fileprivate var trimmingSpaces: Substring {
    let s = self[...]
    let start = s.firstIndex { $0 != " " } ?? s.endIndex
    let end = s.lastIndex { $0 != " " }.map { s.index(after: $0) } ?? start
    return Substring(s[start..<end])
  }
}
