import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookPlot

#if canImport(FoundationXML)
  import FoundationXML
#endif

@Suite("Number formatting") struct SVGNumberFormatTests {
  static let cases: [(value: Double, text: String)] = [
    (12.3456, "12.35"), (3.10, "3.1"), (100, "100"), (0, "0"), (-0.0, "0"), (-0.001, "0"),
    (-0.004, "0"), (-0.006, "-0.01"), (0.1 + 0.2, "0.3"), (-2.5, "-2.5"), (1e6, "1000000"),
    (0.07, "0.07"), (-123.4, "-123.4"), (.nan, "0"), (.infinity, "0"), (-.infinity, "0"),
  ]

  @Test(arguments: cases)
  func writesAtMostTwoDecimalsAndNeverMinusZero(_ c: (value: Double, text: String)) {
    #expect(Plot.number(c.value) == c.text)
  }

  @Test func decimalsCanBeFewer() {
    #expect(Plot.number(3.14159, decimals: 0) == "3")
    #expect(Plot.number(3.14159, decimals: 1) == "3.1")
    #expect(Plot.number(-0.04, decimals: 1) == "0")
  }

  @Test func fixedKeepsTrailingZeros() {
    #expect(Plot.fixed(0.9, decimals: 2) == "0.90")
    #expect(Plot.fixed(1, decimals: 2) == "1.00")
    #expect(Plot.fixed(-0.001, decimals: 2) == "0.00")
    #expect(Plot.fixed(0.8765, decimals: 2) == "0.88")
    #expect(Plot.fixed(7, decimals: 0) == "7")
  }

  static let tickCases: [(value: Double, step: Double, text: String)] = [
    (0.30000000000000004, 0.1, "0.3"), (0.1 * 3, 0.1, "0.3"), (-0.0, 0.5, "0"),
    (0.05, 0.05, "0.05"), (0.002, 0.002, "0.002"), (1500, 500, "1500"), (1e-7, 1e-7, "1e-7"),
    (2.5e9, 5e8, "2.5e9"), (-0.6, 0.2, "-0.6"), (0.95, 0.05, "0.95"), (20, 20, "20"),
  ]

  @Test(arguments: tickCases)
  func tickLabelsHaveNoNoise(_ c: (value: Double, step: Double, text: String)) {
    #expect(Plot.tickLabel(c.value, step: c.step) == c.text)
  }

  @Test func everySampleFigureHasShortNumbersAndNoMinusZero() throws {
    let number = try Regex(#"-?\d+(\.\d+)?"#)
    for (file, figure) in try FigureSamples.all() {
      let parsed = ParsedSVG(figure.svg)
      for element in parsed.elements {
        for (key, value) in element.attributes where key != "xlink:href" {
          for match in value.matches(of: number) {
            let text = String(value[match.range])
            #expect(text != "-0", "\(file): -0 in \(key)=\"\(value)\"")
            if let dot = text.firstIndex(of: ".") {
              #expect(text.distance(from: dot, to: text.endIndex) - 1 <= 2, "\(file): \(text)")
            }
          }
        }
      }
    }
  }
}

@Suite("SVG document") struct SVGDocumentTests {
  @Test func escapesTextAndAttributes() {
    #expect(SVGDocument.escape("a<b & c", inAttribute: false) == "a&lt;b &amp; c")
    #expect(SVGDocument.escape("x > \"y\"", inAttribute: false) == "x &gt; \"y\"")
    #expect(SVGDocument.escape("x > \"y\"", inAttribute: true) == "x &gt; &quot;y&quot;")
    #expect(SVGDocument.escape("tab\there", inAttribute: true) == "tab here")
    #expect(SVGDocument.escape("bell\u{7}\u{0}!", inAttribute: false) == "bell!")
    #expect(SVGDocument.escape("plain é ∑ 7", inAttribute: false) == "plain é ∑ 7")
  }

  @Test func rendersAStandaloneSVG11File() throws {
    var doc = SVGDocument(width: 200, height: 100.5, title: "a<b & c", description: "d & e")
    doc.style(".sb-dot", "fill: #0072b2")
    doc.open("g", ["class": "sb-points"])
    doc.add("circle", ["cx": 10.004, "cy": -0.001, "r": 3, "class": "sb-dot"])
    doc.text("a<b & c", x: 100, y: 50, ["text-anchor": "middle"])
    // Left open on purpose: render closes it.
    let svg = doc.render()
    #expect(svg.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "))
    #expect(svg.contains("xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\""))
    #expect(svg.contains("viewBox=\"0 0 200 100.5\""))
    #expect(svg.contains("<circle cx=\"10\" cy=\"0\" r=\"3\" class=\"sb-dot\"/>"))
    #expect(!svg.contains("xmlns:xlink"))
    #expect(svg.hasSuffix("</g>\n</svg>\n"))
    let parsed = ParsedSVG(svg)
    #expect(parsed.error == nil)
    #expect(parsed.root?.name == "svg")
    #expect(parsed.root?.attributes["font-family"] == SVGDocument.fontFamily)
    #expect(parsed.elements.dropFirst().first?.name == "title")
    #expect(parsed.all("title").first?.text == "a<b & c")
    #expect(parsed.all("desc").first?.text == "d & e")
    #expect(parsed.texts == ["a<b & c"])
    #expect(parsed.all("style").first?.text.contains(".sb-dot { fill: #0072b2 }") == true)
  }

  @Test func declaresXLinkOnlyWhenUsed() {
    var doc = SVGDocument(width: 10, height: 10, title: "t")
    doc.add("image", ["xlink:href": "data:image/png;base64,AAAA", "width": 1, "height": 1])
    let svg = doc.render()
    #expect(svg.contains("xmlns:xlink=\"http://www.w3.org/1999/xlink\""))
    #expect(ParsedSVG(svg).error == nil)
  }

  @Test func coloursAreHexAndPalettesAreComplete() {
    #expect(Plot.Color(hex: 0x0072B2).css == "#0072b2")
    #expect(Set(Plot.Palette.categorical).count == 10)
    #expect(Plot.Palette.category(10) == Plot.Palette.category(0))
    #expect(Plot.Palette.viridis(0).css == "#440154")
    #expect(Plot.Palette.viridis(1).css == "#fde725")
    #expect(Plot.Palette.viridis(.nan) == Plot.Palette.viridis(0))
    #expect(
      Plot.Palette.viridis(0.05)
        == Plot.Color(hex: 0x440154).mixed(
          with: Plot.Color(hex: 0x482576), by: 0.5))
    #expect(Plot.Palette.viridis(0).readableText.css == "#ffffff")
    #expect(Plot.Palette.viridis(1).readableText.css == "#000000")
  }
}
