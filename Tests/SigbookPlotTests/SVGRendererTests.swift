import CZlib
import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookPlot

@Suite("SVG to PDF and PNG") struct SVGRendererTests {
  /// A 640 × 480 figure with text, a thin line and a filled shape.
  static func figure640x480() -> Figure {
    var document = SVGDocument(width: 640, height: 480, title: "640 × 480")
    document.add(
      "rect", ["x": 20.0, "y": 20.0, "width": 200.0, "height": 100.0, "fill": "#0072B2"])
    document.add("line", ["x1": 0.0, "y1": 240.0, "x2": 640.0, "y2": 240.0, "stroke": "#000000"])
    document.text("a<b & c", x: 320, y: 300, ["text-anchor": "middle", "font-size": "24px"])
    return Figure(kind: "test", title: "640 × 480", svg: document.render())
  }

  @Test func pngAt300DPIOfA640By480FigureIs2000By1500Pixels() throws {
    let png = try SVGRenderer.png(Self.figure640x480().svg, dpi: 300)
    let image = try RGBImage(png: png)
    #expect(image.width == 2000 && image.height == 1500)
    // pHYs: 300 dpi is 11811 pixels per metre on both axes, unit metre.
    let pHYs = try #require(png.firstRange(of: Array("pHYs".utf8)))
    #expect(
      Array(png[pHYs.upperBound..<pHYs.upperBound + 9]) == [0, 0, 0x2E, 0x23, 0, 0, 0x2E, 0x23, 1])
  }

  @Test func pngDefaultsTo150DPIAndIsWhiteBehindTheDrawing() throws {
    let image = try RGBImage(png: try SVGRenderer.png(Self.figure640x480().svg))
    #expect(image.width == 1000 && image.height == 750)
    #expect(Array(image.pixels[0..<3]) == [255, 255, 255])
    // Inside the blue rectangle (x 20…220, y 20…120 user units; 150/96 pixels a unit).
    let p = (100 * image.width + 150) * 3
    #expect(Array(image.pixels[p..<p + 3]) == [0x00, 0x72, 0xB2])
  }

  /// The tolerance of the PDF-versus-PNG test (0.5% of pixels unmatched) is loose enough for two
  /// rasterisers and tight enough that one box of 200 × 100 units moved by 20 fails it (a move
  /// of 4 units, 0.26% of this figure, would not).
  @Test func theComparisonNoticesAnElementMovedBy20Units() throws {
    let figure = Self.figure640x480()
    let moved = figure.svg.replacingOccurrences(of: "x=\"20\" y=\"20\"", with: "x=\"40\" y=\"20\"")
    #expect(moved != figure.svg)
    let a = try RGBImage(png: try SVGRenderer.png(figure.svg, dpi: 96))
    let b = try RGBImage(png: try SVGRenderer.png(moved, dpi: 96))
    #expect(a.unmatchedFraction(in: a, tolerance: 0) == 0)
    #expect(a.unmatchedFraction(in: b, tolerance: 96) > 0.005)
  }

  @Test func resolutionsOutsideTheRangeAreRefused() {
    for dpi in [0.0, 5, 5000, .nan] {
      let error = #expect(throws: SVGRenderError.self) {
        _ = try SVGRenderer.png(Self.figure640x480().svg, dpi: dpi)
      }
      #expect(error?.message.hasPrefix("dpi must be between 10 and 1200") == true)
    }
  }

  @Test func unreadableSVGIsAnError() {
    let error = #expect(throws: SVGRenderError.self) { _ = try SVGRenderer.pdf("<svg") }
    #expect(error?.message.hasPrefix("librsvg cannot read the SVG") == true)
  }

  @Test func renderingTheSameFigureTwiceGivesTheSameBytes() throws {
    for (name, figure) in try FigureSamples.all() {
      #expect(try SVGRenderer.pdf(figure.svg) == SVGRenderer.pdf(figure.svg), "\(name)")
      #expect(try SVGRenderer.png(figure.svg) == SVGRenderer.png(figure.svg), "\(name)")
    }
  }

  /// Every figure kind: the PDF has one page of the figure's size in points with every font
  /// embedded (DejaVu Sans), and poppler's rendering of it matches the PNG export.
  @Test(
    .enabled(
      if: Poppler.isInstalled,
      "needs poppler-utils (pdfinfo, pdffonts, pdftoppm); run scripts/setup"),
    arguments: try FigureSamples.all().map(\.file))
  func pdfOpensWithEmbeddedFontsAndMatchesThePNG(kind: String) throws {
    let figure = try #require(try FigureSamples.all().first { $0.file == kind }).figure
    let folder = try TemporaryFolder()
    let pdf = try folder.write(kind + ".pdf", try SVGRenderer.pdf(figure.svg, title: figure.title))

    let info = try Poppler.run("pdfinfo", [pdf])
    let fields = Dictionary(
      info.split(separator: "\n").compactMap { line -> (String, String)? in
        guard let colon = line.firstIndex(of: ":") else { return nil }
        return (
          String(line[..<colon]),
          line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        )
      }, uniquingKeysWith: { a, _ in a })
    #expect(fields["Pages"] == "1", "\(kind)")
    let size = try SVGRenderer.size(of: figure.svg)
    let page = (fields["Page size"] ?? "").split(separator: " ").compactMap { Double($0) }
    #expect(page.count == 2, "\(kind): \(fields["Page size"] ?? "no page size")")
    if page.count == 2 {
      #expect(
        abs(page[0] - size.width * 0.75) <= 0.01 && abs(page[1] - size.height * 0.75) <= 0.01,
        "\(kind)")
    }
    #expect(fields["CreationDate"]?.contains("2000") == true, "\(kind)")

    let fonts = try Poppler.run("pdffonts", [pdf]).split(separator: "\n").dropFirst(2)
    #expect(!fonts.isEmpty, "\(kind) has no fonts")
    for font in fonts {
      let columns = font.split(separator: " ", omittingEmptySubsequences: true)
      #expect(columns.first?.contains("DejaVuSans") == true, "\(kind): \(font)")
      // Columns: name, type (may hold spaces), encoding, emb, sub, uni, object ID, generation.
      #expect(
        columns.count >= 7 && columns[columns.count - 5] == "yes", "\(kind): not embedded: \(font)")
    }

    let stem = folder.url.appendingPathComponent(kind).path
    _ = try Poppler.run("pdftoppm", ["-r", "150", "-singlefile", pdf, stem])
    let poppler = try RGBImage(
      ppm: Array(try Data(contentsOf: URL(fileURLWithPath: stem + ".ppm"))))
    let png = try RGBImage(png: try SVGRenderer.png(figure.svg, dpi: 150))
    // pdftoppm rounds the page's pixel size up, the PNG to the nearest pixel.
    #expect(abs(poppler.width - png.width) <= 1 && abs(poppler.height - png.height) <= 1, "\(kind)")
    // Measured: at most 0.3% of pixels unmatched at tolerance 96 (antialiased text edges, the
    // block edges of smoothed embedded images); a shifted or missing element is far more.
    let a = png.unmatchedFraction(in: poppler, tolerance: 96)
    let b = poppler.unmatchedFraction(in: png, tolerance: 96)
    #expect(a <= 0.005 && b <= 0.005, "\(kind): \(a), \(b) of pixels differ")
  }
}
