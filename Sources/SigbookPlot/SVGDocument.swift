/// A value that can be written as an SVG attribute: numbers through ``Plot/number(_:decimals:)``,
/// text as it is (the document escapes it).
protocol SVGAttributeValue: Sendable {
  /// The attribute's text before escaping.
  var svgAttributeText: String { get }
}

extension Double: SVGAttributeValue {
  /// The number with at most two decimals and never `-0`.
  var svgAttributeText: String { Plot.number(self) }
}

extension Int: SVGAttributeValue {
  /// The integer in decimal.
  var svgAttributeText: String { String(self) }
}

extension String: SVGAttributeValue {
  /// The text itself; the document escapes it when it writes it.
  var svgAttributeText: String { self }
}

/// An SVG 1.1 document being built: elements with escaped attributes, text, a `<title>`, a
/// `<style>` sheet of CSS classes and a `viewBox`.
///
/// Elements are written in the order they are added, one a line, indented by depth, so a document
/// is a pure function of the calls made on it. Rendering gives a standalone file: XML declaration,
/// `xmlns`, `width`/`height` in pixels equal to the `viewBox`, the generic font stack on the root
/// (``fontFamily``) and no external resources.
///
/// ```swift
/// var doc = SVGDocument(width: 200, height: 100, title: "a<b & c")
/// doc.style(".sb-dot", "fill: #0072B2")
/// doc.add("circle", ["cx": 10.0, "cy": 20.0, "r": 3.0, "class": "sb-dot"])
/// doc.text("a<b & c", x: 100, y: 50, ["text-anchor": "middle"])
/// let svg = doc.render()
/// ```
struct SVGDocument: Sendable {
  /// The font stack every text inherits: the system's UI font, then common sans-serif fonts.
  static let fontFamily =
    "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"

  /// Width of the drawing in user units (pixels).
  private(set) var width: Double
  /// Height of the drawing in user units (pixels).
  private(set) var height: Double
  /// The document's `<title>`: its accessible name, shown by viewers as a tooltip.
  var title: String
  /// An optional `<desc>` saying what the figure shows.
  public var description: String

  private var rules: [(selector: String, declarations: String)] = []
  private var body: String = ""
  private var openElements: [String] = []
  private var usesXLink = false

  /// An empty document of the given size.
  ///
  /// - Parameters:
  ///   - width: width in pixels; also the `viewBox` width.
  ///   - height: height in pixels; also the `viewBox` height.
  ///   - title: the `<title>` of the document.
  ///   - description: the `<desc>`, left out when empty.
  init(width: Double, height: Double, title: String, description: String = "") {
    self.width = width
    self.height = height
    self.title = title
    self.description = description
  }

  /// Changes the size of the drawing (a figure may grow once its labels are measured).
  mutating func resize(width: Double, height: Double) {
    self.width = width
    self.height = height
  }

  /// Reserves room for `bytes` more characters of body, before adding many elements.
  mutating func reserveCapacity(_ bytes: Int) {
    body.reserveCapacity(body.utf8.count + bytes)
  }

  /// Adds a CSS rule to the document's style sheet, in order: `style(".c0", "fill: #0072B2")`.
  ///
  /// - Parameters:
  ///   - selector: a selector without `<`, `>` or `&` (class and element names).
  ///   - declarations: the declarations, without braces.
  mutating func style(_ selector: String, _ declarations: String) {
    rules.append((selector, declarations))
  }

  /// Adds an empty element: `<circle cx="1" cy="2" r="3"/>`.
  ///
  /// - Parameters:
  ///   - name: the element name.
  ///   - attributes: attribute names and values, written in this order and escaped.
  mutating func add(
    _ name: String, _ attributes: KeyValuePairs<String, any SVGAttributeValue> = [:]
  ) {
    startTag(name, attributes)
    body += "/>\n"
  }

  /// Opens an element (a group `<g>` usually); what is added next goes inside it until ``close()``.
  mutating func open(
    _ name: String, _ attributes: KeyValuePairs<String, any SVGAttributeValue> = [:]
  ) {
    startTag(name, attributes)
    body += ">\n"
    openElements.append(name)
  }

  /// Closes the element opened last; does nothing when none is open.
  mutating func close() {
    guard let name = openElements.popLast() else { return }
    indent()
    body += "</\(name)>\n"
  }

  /// Adds `<text>` at (x, y) with escaped content: the baseline starts at y unless attributes
  /// say otherwise (`dominant-baseline`, `text-anchor`).
  ///
  /// - Parameters:
  ///   - content: the text, escaped when written; control characters XML forbids are dropped.
  ///   - x: the anchor's x.
  ///   - y: the baseline's y.
  ///   - attributes: further attributes (`class`, `text-anchor`, `transform`…).
  mutating func text(
    _ content: String, x: Double, y: Double,
    _ attributes: KeyValuePairs<String, any SVGAttributeValue> = [:]
  ) {
    indent()
    body += "<text x=\"\(Plot.number(x))\" y=\"\(Plot.number(y))\""
    appendAttributes(attributes)
    body += ">" + SVGDocument.escape(content, inAttribute: false) + "</text>\n"
  }

  /// Adds an element with text content and no children: `<title>…</title>` inside a mark, say.
  mutating func element(
    _ name: String, content: String,
    _ attributes: KeyValuePairs<String, any SVGAttributeValue> = [:]
  ) {
    startTag(name, attributes)
    body += ">" + SVGDocument.escape(content, inAttribute: false) + "</\(name)>\n"
  }

  /// Adds markup exactly as it is (not indented, so text keeps its bytes): a whole figure nested
  /// as a panel (``Plot/grid(_:columns:title:)``). The caller vouches that it is well-formed.
  mutating func appendMarkup(_ markup: String) {
    body += markup
    if !markup.hasSuffix("\n") { body += "\n" }
  }

  /// Declares the `xlink` namespace on the root, for nested markup that uses `xlink:href`.
  mutating func declareXLink() { usesXLink = true }

  /// The complete file: XML declaration, `<svg>` with `xmlns`, `viewBox` and the font stack,
  /// `<title>`, `<desc>`, `<style>`, the elements, and closing tags for any left open.
  func render() -> String {
    let w = Plot.number(width)
    let h = Plot.number(height)
    var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    out.reserveCapacity(body.utf8.count + 2048)
    out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\""
    if usesXLink { out += " xmlns:xlink=\"http://www.w3.org/1999/xlink\"" }
    out += " width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\""
    out += " font-family=\"\(SVGDocument.escape(SVGDocument.fontFamily, inAttribute: true))\">\n"
    out += "<title>" + SVGDocument.escape(title, inAttribute: false) + "</title>\n"
    if !description.isEmpty {
      out += "<desc>" + SVGDocument.escape(description, inAttribute: false) + "</desc>\n"
    }
    if !rules.isEmpty {
      out += "<style type=\"text/css\">\n"
      for rule in rules {
        out += SVGDocument.escape(rule.selector, inAttribute: false) + " { "
        out += SVGDocument.escape(rule.declarations, inAttribute: false) + " }\n"
      }
      out += "</style>\n"
    }
    out += body
    for name in openElements.reversed() { out += "</\(name)>\n" }
    out += "</svg>\n"
    return out
  }

  /// Escapes text for XML: `&`, `<`, `>` always, `"` inside attributes; drops the characters XML
  /// 1.0 forbids (C0 controls other than tab, line feed and carriage return; U+FFFE, U+FFFF).
  ///
  /// - Parameters:
  ///   - text: any string.
  ///   - inAttribute: whether the text goes between double quotes.
  static func escape(_ text: String, inAttribute: Bool) -> String {
    // Most labels need nothing: keep them as they are.
    let needsWork = text.utf8.contains { byte in
      byte == UInt8(ascii: "&") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
        || (inAttribute && byte == UInt8(ascii: "\"")) || byte < 0x20 || byte == 0xEF
    }
    guard needsWork else { return text }
    var out = ""
    out.reserveCapacity(text.utf8.count + 16)
    for scalar in text.unicodeScalars {
      switch scalar {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"" where inAttribute: out += "&quot;"
      case "\t", "\n", "\r":
        // In attributes a parser would normalise these to spaces; say so explicitly.
        out.unicodeScalars.append(inAttribute ? " " : scalar)
      case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF:
        continue
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  private mutating func indent() {
    if !openElements.isEmpty { body += String(repeating: "  ", count: openElements.count) }
  }

  private mutating func startTag(
    _ name: String, _ attributes: KeyValuePairs<String, any SVGAttributeValue>
  ) {
    indent()
    body += "<" + name
    appendAttributes(attributes)
  }

  private mutating func appendAttributes(
    _ attributes: KeyValuePairs<String, any SVGAttributeValue>
  ) {
    for (key, value) in attributes {
      if key.hasPrefix("xlink:") { usesXLink = true }
      body +=
        " " + key + "=\"" + SVGDocument.escape(value.svgAttributeText, inAttribute: true)
        + "\""
    }
  }
}
