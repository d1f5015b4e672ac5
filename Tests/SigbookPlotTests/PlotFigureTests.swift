import CZlib
import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookNN
@testable import SigbookAnalysis
@testable import SigbookPlot

@Suite("Figures") struct PlotFigureTests {
  static let kindsWithCategories: Set<String> = [
    "scatter", "sankey", "silhouette_plot", "loss_plot", "boundary", "roc",
  ]

  @Test func everyKindIsStandaloneSVGWithTitleAndViewBox() throws {
    let samples = try FigureSamples.all()
    #expect(
      Set(samples.map(\.figure.kind)) == [
        "scatter", "sankey", "silhouette_plot", "loss_plot", "images", "reconstructions",
        "heatmap", "confusion_plot", "boundary", "roc", "line",
      ])
    for (file, figure) in samples {
      let parsed = ParsedSVG(figure.svg)
      #expect(parsed.error == nil, "\(file) is not well-formed XML")
      let root = try #require(parsed.root)
      #expect(root.name == "svg")
      #expect(root.attributes["xmlns"] == "http://www.w3.org/2000/svg")
      #expect(root.attributes["version"] == "1.1")
      let viewBox = try #require(root.attributes["viewBox"], "\(file) has no viewBox")
      #expect(viewBox == "0 0 \(root.attributes["width"] ?? "") \(root.attributes["height"] ?? "")")
      // The <title> is the root's first child and the visible title is text.
      #expect(parsed.elements.dropFirst().first?.name == "title")
      #expect(parsed.all("title").first?.text == figure.title)
      #expect(parsed.texts.contains(figure.title), "\(file): title is not a <text>")
      #expect(parsed.all("style").count == 1)
      // No external resources, scripts or foreign content.
      for element in parsed.elements {
        #expect(!["script", "foreignObject", "use"].contains(element.name))
        if let href = element.attributes["xlink:href"] ?? element.attributes["href"] {
          #expect(href.hasPrefix("data:image/png;base64,"), "\(file): external \(href)")
        }
      }
      #expect(!figure.svg.contains("url("), "\(file) refers to an id or URL")
      let hasLegend = parsed.all("g").contains { $0.attributes["class"] == "sb-legend" }
      #expect(hasLegend == Self.kindsWithCategories.contains(file), "\(file): legend")
    }
  }

  @Test func labelsWithMarkupAreEscapedEverywhere() throws {
    let hostile = "a<b & c"
    for (file, figure) in try FigureSamples.all(name: hostile) {
      #expect(!figure.svg.contains(hostile), "\(file) holds the raw text")
      let parsed = ParsedSVG(figure.svg)
      #expect(parsed.error == nil, "\(file) is not well-formed with \(hostile)")
      #expect(
        parsed.texts.contains { $0.contains(hostile) }, "\(file): label is not a <text>")
      #expect(parsed.all("title").first?.text.contains(hostile) == true)
    }
  }

  @Test func tenThousandPointScatterIsSmall() {
    var g = SeededGenerator(seed: 1)
    let n = 10_000
    let x = (0..<n).map { _ in g.nextNormal() * 30 }
    let y = (0..<n).map { _ in g.nextNormal() * 20 }
    let c = (0..<n).map { $0 % 10 }
    let figure = Plot.scatter(
      x: x, y: y, categories: c, names: (0..<10).map(String.init), title: "10,000 points",
      xLabel: "UMAP 1", yLabel: "UMAP 2", legendTitle: "label")
    #expect(figure.svg.utf8.count < 1_500_000)
    let parsed = ParsedSVG(figure.svg)
    #expect(parsed.error == nil)
    #expect(
      parsed.all("circle").filter { $0.attributes["class"]?.hasPrefix("sb-c") == true }
        .count == n)
    #expect(parsed.all("g").first { $0.attributes["class"] == "sb-legend" } != nil)
    if let directory = ProcessInfo.processInfo.environment["SIGBOOK_FIGURES_OUT"] {
      try? Data(figure.svg.utf8).write(
        to: URL(fileURLWithPath: directory).appendingPathComponent("scatter-10000.svg"))
    }
  }

  @Test func scatterLeavesOutNonFinitePointsAndMixesCategories() {
    let figure = Plot.scatter(
      x: [0, 1, .nan, 3], y: [0, 1, 2, .infinity], categories: [0, 1, 0, 1], names: ["a", "b"],
      title: "t")
    #expect(ParsedSVG(figure.svg).all("circle").filter { $0.attributes["class"] != nil }.count == 2)
    let order = Plot.drawingOrder(Array(0..<1000))
    #expect(Set(order) == Set(0..<1000) && order != Array(0..<1000))
    #expect(order == Plot.drawingOrder(Array(0..<1000)))
  }

  @Test func unseenClassesAreCrossesOverTheDots() {
    let figure = Plot.scatter(
      x: [0, 1, 2, 3], y: [0, 1, 2, 3], categories: [0, 1, 2, 2], names: ["a", "b", "c"],
      title: "t", legendTitle: "label", crossed: [2])
    let parsed = ParsedSVG(figure.svg)
    #expect(parsed.error == nil)
    #expect(parsed.all("circle").filter { $0.attributes["class"] != nil }.count == 2)
    let crosses = parsed.all("path").filter {
      $0.attributes["stroke"] == Plot.Palette.category(2).css
    }
    // Two points and the legend's mark; the legend names the class as unseen.
    #expect(crosses.count == 3)
    #expect(figure.svg.contains("c (unseen)") && !figure.svg.contains("a (unseen)"))
  }

  /// The tick labels of a figure, in document order.
  static func tickLabels(_ svg: String) -> [String] {
    ParsedSVG(svg).all("text").filter { $0.attributes["class"] == "sb-tick" }.map(\.text)
  }

  @Test func aFewPointsAreEachLabelled() {
    let figure = Plot.line(
      x: [10, 100, 200, 500], y: [0.85, 0.89, 0.88, 0.89], title: "t", xLabel: "hidden units",
      yLabel: "accuracy")
    let labels = Self.tickLabels(figure.svg)
    #expect(["10", "100", "200", "500"].allSatisfy(labels.contains))
    #expect(figure.svg.contains(">hidden units<") && figure.svg.contains(">accuracy<"))
  }

  @Test func panelsShareTheirYScaleUnlessFreed() {
    let low = Plot.line(x: [10, 20, 30], y: [0, 0.5, 1], title: "low")
    let high = Plot.line(x: [10, 20, 30], y: [0, 1.5, 3], title: "high")
    let shared = Plot.grid([low, high], shareY: true)
    let free = Plot.grid([low, high], shareY: false)
    // Shared: the low panel's axis reaches 3 like the high one's; freed: it stops near 1.
    #expect(
      shared.svg.contains(">3<") && Self.tickLabels(shared.svg).filter { $0 == "3" }.count == 2)
    #expect(Self.tickLabels(free.svg).filter { $0 == "3" }.count == 1)
    // Different kinds are never rescaled.
    let mixed = Plot.grid(
      [low, Plot.lossPlot(Plot.TrainingCurves(loss: [3, 2]), title: "l")], shareY: true)
    #expect(mixed.svg.contains("low"))
  }

  @Test func aLegendListsOnlyWhatIsDrawn() {
    let runs = [Plot.TrainingCurves(loss: [1, 0.5]), Plot.TrainingCurves(loss: [1, 0.8])]
    let plain = Plot.lossPlot(runs, names: ["a", "b"], title: "t")
    #expect(!plain.svg.contains(">training<") && !plain.svg.contains(">validation<"))
    let validated = [Plot.TrainingCurves(loss: [1, 0.5], validationLoss: [1.1, 0.6]), runs[1]]
    let both = Plot.lossPlot(validated, names: ["a", "b"], title: "t")
    #expect(both.svg.contains(">training<") && both.svg.contains(">validation<"))
  }

  @Test func emptyInputsStillGiveValidFigures() {
    let figures = [
      Plot.scatter(x: [], y: [], categories: [], names: [], title: "empty"),
      Plot.sankey(Plot.SankeyInput(clusterCounts: [], flows: [], labelNames: []), title: "empty"),
      Plot.silhouettePlot([], title: "empty"),
      Plot.lossPlot(Plot.TrainingCurves(loss: []), title: "empty"),
      Plot.images([], labels: [], title: "empty"),
      Plot.reconstructions(originals: [], reconstructions: [], labels: [], title: "empty"),
      Plot.heatmap(Plot.HeatmapInput(values: [], rowNames: [], columnNames: []), title: "empty"),
      Plot.confusionPlot(counts: [], classNames: [], title: "empty"),
      Plot.boundary(
        Plot.DecisionGrid(xMin: 0, xMax: 1, yMin: 0, yMax: 1, columns: 0, rows: 0, classes: []),
        x: [], y: [], labels: [], classNames: [], title: "empty"),
      Plot.roc([], title: "empty"),
      Plot.line(x: [], y: [], title: "empty"),
    ]
    for figure in figures {
      let parsed = ParsedSVG(figure.svg)
      #expect(parsed.error == nil, "\(figure.kind)")
      #expect(!figure.svg.contains("nan") && !figure.svg.contains("inf"), "\(figure.kind)")
    }
  }

  /// Larger figures to look at (`SIGBOOK_FIGURES_OUT=DIR swift test --filter reviewFigures`, then
  /// `scripts/render-figures DIR`): ten labels in a Sankey diagram, a log-scale line chart, many
  /// classes in a confusion matrix, a heatmap of a wide layer, a boundary without probabilities.
  @Test(
    .enabled(
      if: ProcessInfo.processInfo.environment["SIGBOOK_FIGURES_OUT"] != nil,
      "writes figures to look at: set SIGBOOK_FIGURES_OUT=DIR"))
  func reviewFigures() throws {
    let directory = URL(
      fileURLWithPath: ProcessInfo.processInfo.environment["SIGBOOK_FIGURES_OUT"] ?? ".")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    var g = SeededGenerator(seed: 8)
    var figures: [(String, Figure)] = []
    figures.append(
      (
        "sankey-10-labels",
        Plot.sankey(
          PlotSankeyTests.randomInput(seed: 1, n: 1000, layers: 4, labels: 10),
          title: "Paths of 1,000 digits through 4 layers")
      ))
    let steps = (1...60).map(Double.init)
    figures.append(
      (
        "line-log",
        Plot.line(
          [
            Plot.LineSeries(name: "sgd", x: steps, y: steps.map { 2 * exp(-$0 / 9) + 0.004 }),
            Plot.LineSeries(
              name: "adam", x: steps, y: steps.map { 2 * exp(-$0 / 4) + 0.0007 }, isDashed: true),
          ], title: "Loss on a log scale", xLabel: "step", yLabel: "loss", logY: true)
      ))
    let classes = (0..<10).map(String.init)
    let counts = (0..<10).map { r in
      (0..<10).map { c in r == c ? 900 + g.nextInt(below: 100) : g.nextInt(below: 12) }
    }
    figures.append(
      ("confusion-10", Plot.confusionPlot(counts: counts, classNames: classes, title: "MNIST")))
    let wide: [[Double]] = (0..<10).map { r in
      (0..<128).map { c -> Double in max(0, sin(Double(r * c) / 40) * 3) }
    }
    figures.append(
      (
        "heatmap-128",
        Plot.heatmap(
          Plot.HeatmapInput(
            values: wide, rowNames: classes, columnNames: (0..<128).map(String.init),
            rowTitle: "class", columnTitle: "neuron of L2", valueTitle: "mean activation"),
          title: "Mean activation of L2 (128 neurons) by digit")
      ))
    var grid = Plot.DecisionGrid(
      xMin: -1, xMax: 1, yMin: -1, yMax: 1, columns: 60, rows: 60, classes: [])
    for (x, y) in grid.cellCentres { grid.classes.append((x * y > 0) ? 0 : 1) }
    let px = (0..<400).map { _ in g.nextDouble() * 2 - 1 }
    let py = (0..<400).map { _ in g.nextDouble() * 2 - 1 }
    let pl = zip(px, py).map { $0 * $1 > 0 ? 0 : 1 }
    figures.append(
      (
        "boundary-checkerboard",
        Plot.boundary(
          grid, x: px, y: py, labels: pl, classNames: ["a", "b"], title: "Checkerboard")
      ))
    let layers = (1...6).map { l in
      Plot.SilhouetteCurve(
        name: "L\(l)", ks: Array(2...10),
        scores: (2...10).map { k -> Double in
          let base: Double = 0.1 * Double(l) / Double(k)
          return base + 0.05 * Double(l)
        },
        chosenK: 2)
    }
    figures.append(("silhouette-6", Plot.silhouettePlot(layers, title: "Six layers")))
    let many: [Plot.GreyImage] = (0..<64).map { i in
      let pixels: [Float] = (0..<784).map { p in
        let v: Int = ((p % 28) * (p / 28) + i * 7) % 97
        return Float(v) / 96
      }
      return Plot.GreyImage(width: 28, height: 28, pixels: pixels)
    }
    figures.append(
      (
        "images-64",
        Plot.images(many, labels: (0..<64).map { "n\($0)" }, columns: 16, title: "64 images")
      ))
    for (name, figure) in figures {
      try Data(figure.svg.utf8).write(to: directory.appendingPathComponent(name + ".svg"))
      #expect(ParsedSVG(figure.svg).error == nil)
    }
  }

  // MARK: - ROC

  @Test func rocCurveFromScoresMatchesMannWhitney() {
    let curve = Plot.ROCCurve(
      name: "s", scores: [0.9, 0.8, 0.7, 0.6], isPositive: [true, false, true, false])
    #expect(curve.auroc == 0.75)
    #expect(curve.falsePositiveRate == [0, 0, 0.5, 0.5, 1])
    #expect(curve.truePositiveRate == [0, 0.5, 0.5, 1, 1])
    let ties = Plot.ROCCurve(name: "t", scores: [1, 1, 0], isPositive: [true, false, false])
    #expect(ties.auroc == 0.75)
    let none = Plot.ROCCurve(name: "n", scores: [1, 2], isPositive: [false, false])
    #expect(none.auroc == 0.5)
  }

  // MARK: - PNG

  @Test func pngIsValidAndHoldsThePixels() throws {
    let pixels: [Float] = (0..<(28 * 28)).map { Float($0 % 29) / 28 } + []
    let image = Plot.GreyImage(width: 28, height: 28, pixels: pixels)
    for scale in [1, 4] {
      let png = Plot.png(image, scale: scale)
      #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
      let chunks = try Self.chunks(png)
      #expect(chunks.map(\.type) == ["IHDR", "IDAT", "IEND"])
      let side = UInt32(28 * scale)
      #expect(Array(chunks[0].data.prefix(8)) == Self.bigEndian(side) + Self.bigEndian(side))
      #expect(Array(chunks[0].data.suffix(5)) == [8, 0, 0, 0, 0])
      let raw = try Self.inflate(chunks[1].data, expected: (28 * scale + 1) * 28 * scale)
      let bytes = image.bytes
      for row in 0..<(28 * scale) {
        let line = raw[row * (28 * scale + 1)..<(row + 1) * (28 * scale + 1)]
        #expect(line.first == 0)
        let expected = (0..<(28 * scale)).map { bytes[(row / scale) * 28 + $0 / scale] }
        #expect(Array(line.dropFirst()) == expected)
      }
    }
  }

  @Test func deflateRoundTripsThroughZlib() throws {
    var g = SeededGenerator(seed: 4)
    let random = (0..<5000).map { _ in UInt8(truncatingIfNeeded: g.next()) }
    let runs = (0..<70_000).map { UInt8(($0 / 300) % 7) }
    let rows: [UInt8] = (0..<(113 * 112)).map { i in
      let column: Int = i % 113
      return UInt8((column / 4 * 9) % 256)
    }
    for (data, row) in [(random, 0), (runs, 113), (rows, 113), ([], 0), ([7, 7, 7, 7], 1)] {
      let stream = Deflate.zlib(data, rowLength: row)
      #expect(try Self.inflate(stream, expected: data.count) == data)
    }
    #expect(Deflate.zlib(rows, rowLength: 113).count < rows.count / 20)
  }

  private static func bigEndian(_ v: UInt32) -> [UInt8] {
    [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
  }

  private struct PNGError: Error { var message: String }

  /// The chunks of a PNG file, each CRC checked with zlib.
  private static func chunks(_ png: [UInt8]) throws -> [(type: String, data: [UInt8])] {
    var out: [(String, [UInt8])] = []
    var i = 8
    while i + 12 <= png.count {
      let length = png[i..<i + 4].reduce(0) { $0 << 8 | Int($1) }
      let typeAndData = Array(png[i + 4..<i + 8 + length])
      let crc = png[i + 8 + length..<i + 12 + length].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
      let computed = typeAndData.withUnsafeBufferPointer {
        UInt32(crc32(0, $0.baseAddress, uInt($0.count)))
      }
      guard crc == computed else { throw PNGError(message: "bad CRC") }
      out.append(
        (String(decoding: typeAndData.prefix(4), as: UTF8.self), Array(typeAndData.dropFirst(4))))
      i += 12 + length
    }
    return out
  }

  /// zlib's `uncompress` of a zlib stream (checks the Adler-32 too).
  private static func inflate(_ stream: [UInt8], expected: Int) throws -> [UInt8] {
    var out = [UInt8](repeating: 0, count: max(expected, 1))
    var length = uLongf(out.count)
    let status = out.withUnsafeMutableBufferPointer { o in
      stream.withUnsafeBufferPointer { s in
        uncompress(o.baseAddress, &length, s.baseAddress, uLong(s.count))
      }
    }
    guard status == Z_OK else { throw PNGError(message: "zlib status \(status)") }
    return Array(out.prefix(Int(length)))
  }
}
