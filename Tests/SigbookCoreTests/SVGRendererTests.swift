import CZlib
import Foundation
import Testing

@testable import SigbookPlot
@testable import SigbookWorkbook

/// poppler-utils (`pdfinfo`, `pdffonts`, `pdftoppm`), which read the PDFs the way a user's
/// viewer does.
enum Poppler {
  /// The folder holding all three tools, if they are installed.
  static let folder: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").map(String.init).first { dir in
      ["pdfinfo", "pdffonts", "pdftoppm"].allSatisfy {
        FileManager.default.isExecutableFile(atPath: dir + "/" + $0)
      }
    }
  }()

  static let isInstalled = folder != nil

  /// Runs a tool and returns its standard output; standard error is discarded, so one pipe is
  /// read and the tool cannot block on a full one.
  static func run(_ tool: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: (folder ?? "/usr/bin") + "/" + tool)
    process.arguments = arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "\(tool) \(arguments.joined(separator: " ")) failed")
    return String(decoding: data, as: UTF8.self)
  }
}

/// An 8-bit RGB image read back from a file, to compare renderings.
struct RGBImage {
  var width: Int
  var height: Int
  /// `width · height · 3` bytes, row-major.
  var pixels: [UInt8]

  /// Reads a binary PPM (`P6`, what `pdftoppm` writes without `-png`).
  init(ppm data: [UInt8]) throws {
    var fields: [Int] = []
    var i = 2
    while fields.count < 3 {
      while i < data.count, data[i] == 0x20 || data[i] == 0x0A || data[i] == 0x0D { i += 1 }
      var value = 0
      while i < data.count, (0x30...0x39).contains(data[i]) {
        value = value * 10 + Int(data[i] - 0x30)
        i += 1
      }
      fields.append(value)
    }
    try #require(data.starts(with: Array("P6".utf8)) && fields[2] == 255)
    width = fields[0]
    height = fields[1]
    pixels = Array(data[(i + 1)...])
    try #require(pixels.count == width * height * 3)
  }

  /// Reads the PNGs `SVGRenderer` writes: 8-bit RGB, filter 0 on every row.
  init(png data: [UInt8]) throws {
    var i = 8
    var compressed: [UInt8] = []
    var header: [UInt8] = []
    while i + 8 <= data.count {
      let length = data[i..<i + 4].reduce(0) { $0 << 8 | Int($1) }
      let type = String(decoding: data[i + 4..<i + 8], as: UTF8.self)
      let body = Array(data[i + 8..<i + 8 + length])
      if type == "IHDR" { header = body }
      if type == "IDAT" { compressed += body }
      i += 12 + length
    }
    try #require(header.count == 13 && header[8] == 8 && header[9] == 2)
    width = header[0..<4].reduce(0) { $0 << 8 | Int($1) }
    height = header[4..<8].reduce(0) { $0 << 8 | Int($1) }
    var raw = [UInt8](repeating: 0, count: (width * 3 + 1) * height)
    var rawCount = uLongf(raw.count)
    let status = uncompress(&raw, &rawCount, compressed, uLong(compressed.count))
    try #require(status == Z_OK && Int(rawCount) == raw.count)
    pixels = []
    pixels.reserveCapacity(width * height * 3)
    for row in 0..<height {
      let start = row * (width * 3 + 1)
      try #require(raw[start] == 0)
      pixels += raw[start + 1..<start + 1 + width * 3]
    }
  }

  /// The fraction of pixels (over the area both images cover) with no pixel of `other` within
  /// one pixel's distance whose channels all differ by at most `tolerance`.
  ///
  /// Two rasterisers of the same vector drawing disagree on antialiased edges and may place an
  /// edge one pixel apart; a neighbourhood comparison forgives that and nothing else.
  func unmatchedFraction(in other: RGBImage, tolerance: Int) -> Double {
    let w = min(width, other.width)
    let h = min(height, other.height)
    var unmatched = 0
    for y in 0..<h {
      for x in 0..<w {
        let p = (y * width + x) * 3
        var found = false
        search: for dy in -1...1 {
          for dx in -1...1 {
            let yy = min(max(y + dy, 0), h - 1)
            let xx = min(max(x + dx, 0), w - 1)
            let q = (yy * other.width + xx) * 3
            if (0..<3).allSatisfy({
              abs(Int(pixels[p + $0]) - Int(other.pixels[q + $0])) <= tolerance
            }) {
              found = true
              break search
            }
          }
        }
        if !found { unmatched += 1 }
      }
    }
    return Double(unmatched) / Double(max(w * h, 1))
  }
}

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
    let folder = try DataTestFolder()
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

/// `save` and the session's figure formats: the workbook side of PDF and PNG.
@Suite("Figures as PDF and PNG in a session") struct FigureFormatSessionTests {
  static let source = """
    pts = synthetic(.two_gaussians, n: 120, sigma: 0.3, seed: 3)
    net = fit(mlp(2, 6, 4, 2), pts, epochs: 3, seed: 3)
    clusters = kmeans(signatures(net, pts), k: 2...3, restarts: 2, seed: 3)
    flows = sankey(clusters)
    curve = loss_plot(net)
    save(scatter(pca(clusters[1])), "points.png", dpi: 300)
    save(flows, "flows-copy.pdf")
    """

  /// Runs `source` in a fresh session in a fresh folder; returns the folder and the names emitted.
  static func run(
    _ source: String, formats: [FigureFormat] = [.svg]
  ) throws -> (folder: DataTestFolder, emitted: [String]) {
    let folder = try DataTestFolder()
    let session = Session(
      file: "t.sigbook", baseDirectory: folder.url.path, figuresDirectory: folder.path("t.figures"))
    session.figureFormats = formats
    var emitted: [String] = []
    session.emit = { if case .figure(let name, _) = $0 { emitted.append(name) } }
    try session.run(try parseCell(source, file: "t.sigbook").statements, cellNumber: 1)
    return (folder, emitted)
  }

  @Test func saveWritesTheSVGAndTheFormatItsNameAsksFor() throws {
    let (_, emitted) = try Self.run(Self.source)
    #expect(
      emitted == [
        "points.svg", "points.png", "flows-copy.svg", "flows-copy.pdf", "flows.svg", "curve.svg",
      ])
  }

  @Test func everyFigureIsWrittenInEveryListedFormat() throws {
    let (folder, emitted) = try Self.run(Self.source, formats: [.svg, .pdf, .png])
    #expect(
      emitted == [
        "points.svg", "points.pdf", "points.png", "flows-copy.svg", "flows-copy.pdf",
        "flows-copy.png", "flows.svg", "flows.pdf", "flows.png", "curve.svg", "curve.pdf",
        "curve.png",
      ])
    // save's dpi: 300 holds for its PNG; the others use the session's 150.
    let svg = try String(contentsOfFile: folder.path("t.figures/points.svg"), encoding: .utf8)
    let size = try SVGRenderer.size(of: svg)
    let points = try RGBImage(
      png: Array(try Data(contentsOf: folder.url.appendingPathComponent("t.figures/points.png"))))
    #expect(points.width == Int((size.width * 300 / 96).rounded()))
    let curveSVG = try String(contentsOfFile: folder.path("t.figures/curve.svg"), encoding: .utf8)
    let curve = try RGBImage(
      png: Array(try Data(contentsOf: folder.url.appendingPathComponent("t.figures/curve.png"))))
    #expect(curve.width == Int((try SVGRenderer.size(of: curveSVG).width * 150 / 96).rounded()))
  }

  @Test func theSameWorkbookRunTwiceGivesByteIdenticalPDFAndPNGFiles() throws {
    let first = try Self.run(Self.source, formats: [.svg, .pdf, .png])
    let second = try Self.run(Self.source, formats: [.svg, .pdf, .png])
    #expect(first.emitted == second.emitted)
    for name in first.emitted {
      let a = try Data(contentsOf: first.folder.url.appendingPathComponent("t.figures/" + name))
      let b = try Data(contentsOf: second.folder.url.appendingPathComponent("t.figures/" + name))
      #expect(a == b, "\(name) differs between two runs")
    }
  }

  @Test func pdfAndPNGNamesFollowTheSVGRules() throws {
    for name in ["../x.pdf", "/tmp/x.png", "sub/x.pdf", ".pdf"] {
      let error = try #require(throws: WorkbookError.self) {
        _ = try Self.run("save(line(x: [1, 2], y: [2, 1]), \"\(name)\")")
      }
      #expect(
        error.message
          == "a figure name must be a plain file name inside the figures folder, not '\(name)'")
    }
    #expect((try? Session.figureFileName("x.pdf")) == "x.svg")
    #expect((try? Session.figureFileName("x.png")) == "x.svg")
  }

  @Test func saveRefusesAResolutionOutOfRangeAndBlamesIt() throws {
    let error = try #require(throws: WorkbookError.self) {
      _ = try Self.run("save(line(x: [1, 2], y: [2, 1]), \"x.png\", dpi: 5000)")
    }
    #expect(error.message == "dpi must be between 10 and 1200, not 5000")
    #expect(error.location.column == 48)
  }
}
