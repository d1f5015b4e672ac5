import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookPlot

/// Fixed inputs for the figures that compare or combine: several results on one plot, a grid of
/// panels, captions by path, a Sankey diagram with an output column, ten long class names.
extension FigureSamples {
  static func comparisons(name: String = "digit") throws -> [(file: String, figure: Figure)] {
    [
      ("roc-two", rocOfTwoResults(name: name)),
      ("loss_plot-two", lossOfTwoModels(name: name)),
      ("loss_plot-batch", lossPerBatch(name: name)),
      ("line-two", lineOfTwoSeries(name: name)),
      ("grid", grid(name: name)),
      ("images-path", try imagesWithPaths(name: name)),
      ("sankey-output", sankeyWithOutput(name: name)),
      ("confusion_plot-10", fashionConfusion(name: name)),
    ]
  }

  static let fashionClasses = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
    "Ankle boot",
  ]

  /// Two novelty results as `roc(knn, softmax)` names them: per layer for k-NN, the output for
  /// the softmax baseline.
  static func rocOfTwoResults(name: String) -> Figure {
    var g = SeededGenerator(seed: 21)
    var curves: [Plot.ROCCurve] = []
    for (i, curve) in ["knn · H1", "knn · all", "\(name) · output"].enumerated() {
      var scores: [Double] = []
      var positive: [Bool] = []
      for j in 0..<160 {
        let isNovel = j % 2 == 1
        scores.append(g.nextNormal() + (isNovel ? 1.8 - 0.6 * Double(i) : 0))
        positive.append(isNovel)
      }
      curves.append(Plot.ROCCurve(name: curve, scores: scores, isPositive: positive))
    }
    return Plot.roc(curves, title: "novelty: knn, \(name)")
  }

  static func lossOfTwoModels(name: String) -> Figure {
    let sgd = Plot.TrainingCurves(
      loss: [0.62, 0.31, 0.19, 0.14, 0.11, 0.095, 0.083, 0.075],
      accuracy: [0.81, 0.93, 0.958, 0.967, 0.973, 0.977, 0.98, 0.982],
      validationLoss: [0.41, 0.24, 0.17, 0.14, 0.125, 0.118, 0.114, 0.113],
      validationAccuracy: [0.9, 0.945, 0.958, 0.963, 0.966, 0.968, 0.969, 0.969])
    let adam = Plot.TrainingCurves(
      loss: [0.35, 0.12, 0.07, 0.045, 0.03, 0.021, 0.015, 0.011],
      accuracy: [0.9, 0.965, 0.98, 0.987, 0.991, 0.994, 0.996, 0.997],
      validationLoss: [0.16, 0.11, 0.1, 0.105, 0.112, 0.121, 0.13, 0.14],
      validationAccuracy: [0.952, 0.965, 0.968, 0.967, 0.966, 0.965, 0.965, 0.964])
    return Plot.lossPlot([sgd, adam], names: ["sgd", name], title: "training of sgd, \(name)")
  }

  /// Two runs of 3 epochs of 20 batches, the batch losses decaying with seeded noise.
  static func lossPerBatch(name: String) -> Figure {
    var g = SeededGenerator(seed: 4)
    func run(rate: Double) -> Plot.TrainingCurves {
      let batches = (0..<60).map { b in
        max(0.01, 0.7 * exp(-Double(b) / rate) + 0.05 + 0.03 * g.nextNormal())
      }
      let epochs = (0..<3).map { e in batches[e * 20..<(e + 1) * 20].reduce(0, +) / 20 }
      return Plot.TrainingCurves(
        loss: epochs, accuracy: [0.8, 0.9, 0.93], validationLoss: epochs.map { $0 * 1.1 + 0.02 },
        validationAccuracy: [0.82, 0.89, 0.91], batchLoss: batches)
    }
    return Plot.lossPlot(
      [run(rate: 18), run(rate: 8)], names: ["sgd", name], perBatch: true,
      title: "loss per batch of sgd, \(name)")
  }

  static func lineOfTwoSeries(name: String) -> Figure {
    let x = (1...10).map(Double.init)
    return Plot.line(
      [
        Plot.LineSeries(name: "width 32", x: x, y: x.map { 0.9 + 0.08 * (1 - exp(-$0 / 3)) }),
        Plot.LineSeries(name: name, x: x, y: x.map { 0.85 + 0.1 * (1 - exp(-$0 / 2)) }),
      ], title: "accuracy by epoch (\(name))", xLabel: "epoch", yLabel: "accuracy")
  }

  static func grid(name: String) -> Figure {
    Plot.grid(
      [sankey(name: name), heatmap(name: name), lineOfTwoSeries(name: name)], columns: 2,
      title: "Three views (\(name))")
  }

  static func imagesWithPaths(name: String) throws -> Figure {
    let (images, labels) = try digits()
    let paths = labels.map {
      $0 == "1" ? "L1:c0 → L2:c1" : $0 == "7" ? "L1:c1 → L2:c0" : "L1:c1 → L2:\(name)"
    }
    return Plot.images(images, labels: paths, columns: 6, title: "Inputs and their paths (\(name))")
  }

  /// Paths of 200 inputs of two labels through two layers, then the network's prediction.
  static func sankeyWithOutput(name: String) -> Figure {
    var g = SeededGenerator(seed: 6)
    var labels: [Int] = []
    var columns: [[Int]] = [[], [], []]
    for i in 0..<200 {
      let label = i % 2
      labels.append(label)
      let u = g.nextDouble()
      let v = g.nextDouble()
      let w = g.nextDouble()
      columns[0].append(u < (label == 0 ? 0.7 : 0.3) ? 0 : 1)
      columns[1].append(v < (label == 0 ? 0.9 : 0.1) ? 1 : (v < 0.95 ? 0 : 2))
      columns[2].append(w < (label == 0 ? 0.96 : 0.06) ? 0 : 1)
    }
    let input = Plot.SankeyInput(
      assignments: columns, labels: labels, labelNames: ["1", name],
      nodeNames: [["L2:c0", "L2:c1"], ["L3:c0", "L3:c1", "L3:c2"], ["1", name]],
      columnTitles: ["H2", "H3", "prediction"])
    return Plot.sankey(input, title: "Paths of \(name)s to the predictions")
  }

  static func fashionConfusion(name: String) -> Figure {
    var g = SeededGenerator(seed: 10)
    let counts = (0..<10).map { r in
      (0..<10).map { c in
        r == c ? 70 + g.nextInt(below: 30) : (g.nextInt(below: 4) == 0 ? g.nextInt(below: 15) : 0)
      }
    }
    return Plot.confusionPlot(
      counts: counts, classNames: fashionClasses.map { $0 == "Bag" ? name : $0 },
      title: "Confusion of mlp(784, 128, 64, 10) on Fashion-MNIST (\(name))")
  }
}

@Suite("Figures that compare") struct PlotComparisonTests {
  @Test func everyComparisonIsWellFormedAndEscapesLabels() throws {
    let hostile = "a<b & c"
    for (file, figure) in try FigureSamples.comparisons(name: hostile) {
      #expect(!figure.svg.contains(hostile), "\(file) holds the raw text")
      let parsed = ParsedSVG(figure.svg)
      #expect(parsed.error == nil, "\(file) is not well-formed with \(hostile)")
      #expect(parsed.texts.contains { $0.contains(hostile) }, "\(file): label is not a <text>")
      #expect(!figure.svg.contains("url("), "\(file) refers to an id or URL")
    }
  }

  @Test func rocOfTwoResultsNamesEveryCurveInTheLegend() {
    let parsed = ParsedSVG(FigureSamples.rocOfTwoResults(name: "softmax").svg)
    let legend = parsed.texts.filter { $0.contains("AUROC") }
    #expect(legend.count == 3)
    #expect(legend.contains { $0.hasPrefix("knn · H1 (AUROC ") })
    #expect(legend.contains { $0.hasPrefix("softmax · output (AUROC ") })
  }

  @Test func lossPlotOfTwoModelsNamesEachAndDrawsTrainingAndValidation() {
    let figure = FigureSamples.lossOfTwoModels(name: "adam")
    let parsed = ParsedSVG(figure.svg)
    #expect(["sgd", "adam", "training", "validation"].allSatisfy(parsed.texts.contains))
    let paths = parsed.all("path").filter { $0.attributes["stroke-width"] == "2" }
    // Two models × (training, validation) × (loss, accuracy), and four legend marks.
    #expect(paths.count == 2 * 2 * 2 + 4)
    #expect(
      Set(paths.compactMap { $0.attributes["stroke"] }).isSuperset(of: ["#0072b2", "#e69f00"]))
  }

  @Test func lossPerBatchDrawsEveryBatchOnABatchAxis() {
    let parsed = ParsedSVG(FigureSamples.lossPerBatch(name: "adam").svg)
    #expect(parsed.texts.contains("batch") && !parsed.texts.contains("accuracy"))
    let curves = parsed.all("path").filter {
      $0.attributes["stroke-width"] == "2" && $0.attributes["stroke-dasharray"] == nil
        && ($0.attributes["d"]?.count ?? 0) > 100
    }
    // One polyline of 60 points per run.
    #expect(curves.count == 2)
    #expect(curves.allSatisfy { ($0.attributes["d"] ?? "").filter { $0 == "L" }.count == 59 })
  }

  @Test func gridNestsEachPanelWithItsOwnViewBoxAndScopedStyles() throws {
    let panels = [FigureSamples.sankey(name: "x"), FigureSamples.heatmap(name: "x")]
    let figure = Plot.grid(panels, columns: 1, title: "two")
    #expect(figure.kind == "grid")
    let parsed = ParsedSVG(figure.svg)
    #expect(parsed.error == nil)
    let nested = parsed.all("svg").dropFirst()
    #expect(nested.map { $0.attributes["class"] } == ["sb-p1", "sb-p2"])
    for (panel, element) in zip(panels, nested) {
      let inner = ParsedSVG(panel.svg)
      let root = try #require(inner.root)
      #expect(element.attributes["viewBox"] == root.attributes["viewBox"])
      #expect(element.attributes["width"] == root.attributes["width"])
    }
    // Stacked in one column: the second panel starts below the first.
    let y1 = try #require(nested.first?.attributes["y"].flatMap(Double.init))
    let y2 = try #require(nested.last?.attributes["y"].flatMap(Double.init))
    let h1 = try #require(nested.first?.attributes["height"].flatMap(Double.init))
    #expect(y2 >= y1 + h1)
    // Every rule of a panel's style sheet is scoped to it.
    let sheets = parsed.all("style").map(\.text)
    #expect(sheets.count == 3)
    for (i, sheet) in sheets.dropFirst().enumerated() {
      let rules = sheet.split(separator: "\n")
      #expect(!rules.isEmpty && rules.allSatisfy { $0.hasPrefix(".sb-p\(i + 1) .") })
    }
    #expect(figure.svg == Plot.grid(panels, columns: 1, title: "two").svg)
  }

  @Test func gridPrefixesIdsAndTheirReferencesPerPanel() {
    let svg = """
      <?xml version="1.0" encoding="UTF-8"?>
      <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="10" height="10" viewBox="0 0 10 10" font-family="x">
      <title>#g</title>
      <style type="text/css">
      #g, .a { fill: #ffffff }
      </style>
      <defs><linearGradient id="g"/><clipPath id="c"/></defs>
      <rect fill="url(#g)" clip-path="url(#c)" width="1" height="1"/>
      </svg>
      """
    let panel = Figure(kind: "x", title: "#g", svg: svg)
    let grid = Plot.grid([panel, panel], columns: 2).svg
    #expect(grid.contains("id=\"sb-p1-g\"") && grid.contains("id=\"sb-p2-g\""))
    #expect(grid.contains("url(#sb-p2-g)") && grid.contains("url(#sb-p2-c)"))
    #expect(grid.contains(".sb-p2 #sb-p2-g, .sb-p2 .a { fill: #ffffff }"))
    // Text is left as it is.
    #expect(grid.contains("<title>#g</title>"))
    #expect(!grid.contains("id=\"g\"") && ParsedSVG(grid).error == nil)
  }

  @Test func imagesCaptionedByPathShowEveryPath() throws {
    let parsed = ParsedSVG(try FigureSamples.imagesWithPaths(name: "x").svg)
    let captions = parsed.texts.filter { $0.hasPrefix("L1:") }
    #expect(captions.count == 12)
    #expect(captions.contains("L1:c0 → L2:c1"))
  }

  @Test func sankeyWithOutputHasAPredictionColumnWithRibbons() {
    let figure = FigureSamples.sankeyWithOutput(name: "7")
    let parsed = ParsedSVG(figure.svg)
    #expect(["H2", "H3", "prediction"].allSatisfy(parsed.texts.contains))
    #expect(parsed.texts.contains { $0.hasPrefix("L3:c1 (") })
    #expect(
      parsed.texts.contains { $0.hasPrefix("7 (") } && parsed.texts.contains { $0.hasPrefix("1 (") }
    )
    let bands = parsed.all("path").filter { $0.attributes["class"]?.hasPrefix("sb-b") == true }
    #expect(!bands.isEmpty)
  }

  /// Old code drew a box for a class the network never predicts (`coat (0)`), below the others
  /// and outside the plot area.
  @Test func sankeyLeavesOutNodesNoInputIsIn() {
    let input = Plot.SankeyInput(
      assignments: [[0, 0, 1, 1], [0, 2, 2, 2]], labels: [0, 1, 1, 1], labelNames: ["a", "b"],
      nodeNames: [[], ["yes", "never", "no"]])
    let layout = Plot.sankeyLayout(input)
    #expect(layout.nodes.map(\.label).sorted() == ["L1:c0 (2)", "L1:c1 (2)", "no (3)", "yes (1)"])
    #expect(layout.nodes.allSatisfy { $0.rect.maxY <= layout.area.maxY + 1e-9 })
  }

  /// Old code thinned the predicted-class names to every second one.
  @Test func confusionOfTenLongClassesNamesEveryClassInBothDirections() {
    let figure = Plot.confusionPlot(
      counts: (0..<10).map { r in (0..<10).map { r == $0 ? 50 : 1 } },
      classNames: FigureSamples.fashionClasses, title: "fashion")
    let texts = ParsedSVG(figure.svg).texts
    for name in FigureSamples.fashionClasses {
      #expect(texts.filter { $0 == name }.count == 2, "\(name) is not in both rows and columns")
    }
    // Slanted, so that they do not overlap.
    let slanted = ParsedSVG(figure.svg).all("text").filter {
      $0.attributes["transform"]?.hasPrefix("rotate(-45") == true
    }
    #expect(slanted.count == 10)
    // Inside the figure: the first name's left end is right of x = 0.
    #expect(!figure.svg.contains("x=\"-"))
  }

  /// Old code drew the colour bar as strips of fractional height that only abutted, leaving
  /// hairlines of background between them in some viewers.
  @Test func colourBarStripsOverlapSoNoBackgroundShowsThrough() throws {
    let parsed = ParsedSVG(FigureSamples.fashionConfusion(name: "x").svg)
    let bar = try #require(parsed.elements.firstIndex { $0.attributes["class"] == "sb-colorbar" })
    let strips = parsed.elements[(bar + 1)...].prefix { $0.name == "rect" }
    #expect(strips.count == 64)
    let spans = strips.compactMap { s -> (Double, Double)? in
      guard let y = s.attributes["y"].flatMap(Double.init),
        let h = s.attributes["height"].flatMap(Double.init)
      else { return nil }
      return (y, y + h)
    }
    // Drawn bottom to top; each strip reaches below the top of the one under it.
    for (lower, upper) in zip(spans, spans.dropFirst()) {
      #expect(upper.1 >= lower.0 + 0.25)
    }
  }

  /// Widths of DejaVu Sans Bold at 15 px (from the font's advance widths): estimates must not be
  /// narrower, or titles are cut at the right edge. The old flat 10% fell 15–22 px short here.
  @Test(arguments: [
    (
      "Confusion of MLP(784, 128, 64, 10) on Fashion-MNIST: T-shirt/top, Pullover, Ankle boot",
      739.15
    ),
    ("confusion of mlp(784, 32, 16, 10) on Fashion-MNIST test inputs", 536.4),
    ("Fit: filter tilt; Input layer (KPI), first jitter", 349.71),
  ])
  func boldTitleWidthsAreNeverUnderestimated(_ title: String, _ width: Double) {
    let estimate = Plot.textWidth(title, size: 15, bold: true)
    #expect(estimate >= width && estimate <= width * 1.1)
    let figure = Plot.confusionPlot(
      counts: [[1, 0], [0, 1]], classNames: ["a", "b"], title: title)
    let root = ParsedSVG(figure.svg).root
    #expect((root?.attributes["width"].flatMap(Double.init) ?? 0) >= width + 2 * 12)
  }
}
