import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData
@testable import SigbookAnalysis
@testable import SigbookPlot

/// Small fixed inputs for every figure kind, shared by the snapshot, structure and escaping tests.
///
/// `name` goes into titles, axis titles and category names, so that the escaping test can pass
/// `a<b & c` through every place a user's text reaches.
enum FigureSamples {
  static func all(name: String = "digit") throws -> [(file: String, figure: Figure)] {
    [
      ("scatter", scatter(name: name)),
      ("sankey", sankey(name: name)),
      ("silhouette_plot", silhouette(name: name)),
      ("loss_plot", loss(name: name)),
      ("images", try images(name: name)),
      ("reconstructions", try reconstructions(name: name)),
      ("heatmap", heatmap(name: name)),
      ("confusion_plot", confusion(name: name)),
      ("boundary", boundary(name: name)),
      ("roc", roc(name: name)),
      ("line", line(name: name)),
    ]
  }

  /// Three gaussian blobs, 60 points each, interleaved by class.
  static func scatter(name: String) -> Figure {
    var g = SeededGenerator(seed: 11)
    var x: [Double] = []
    var y: [Double] = []
    var c: [Int] = []
    let centres = [(-2.0, 1.0), (1.5, 2.0), (0.5, -1.5)]
    for i in 0..<180 {
      let k = i % 3
      x.append(centres[k].0 + 0.7 * g.nextNormal())
      y.append(centres[k].1 + 0.6 * g.nextNormal())
      c.append(k)
    }
    return Plot.scatter(
      x: x, y: y, categories: c, names: ["0", "1", name], title: "t-SNE of L2 by \(name)",
      xLabel: "t-SNE 1", yLabel: "t-SNE 2", legendTitle: "label")
  }

  /// Paths of 200 inputs of two labels through three layers.
  static func sankeyInput(name: String) -> Plot.SankeyInput {
    var g = SeededGenerator(seed: 5)
    var labels: [Int] = []
    var layers: [[Int]] = [[], [], []]
    for i in 0..<200 {
      let label = i % 2
      labels.append(label)
      // Layer 1 mixes the labels; later layers separate them more and more.
      let u = g.nextDouble()
      let v = g.nextDouble()
      let w = g.nextDouble()
      layers[0].append(u < 0.5 ? 0 : (u < 0.8 ? 1 : 2))
      layers[1].append(v < (label == 0 ? 0.8 : 0.2) ? 1 : (v < 0.9 ? 0 : 2))
      layers[2].append(w < (label == 0 ? 0.95 : 0.05) ? 0 : 1)
    }
    return Plot.SankeyInput(assignments: layers, labels: labels, labelNames: ["1", name])
  }

  static func sankey(name: String) -> Figure {
    Plot.sankey(sankeyInput(name: name), title: "Paths of \(name)s through the clusters")
  }

  static func silhouette(name: String) -> Figure {
    let ks = Array(2...10)
    let curves = [
      Plot.SilhouetteCurve(
        name: "L1", ks: ks, scores: [0.21, 0.24, 0.2, 0.18, 0.17, 0.15, 0.16, 0.14, 0.13],
        chosenK: 3),
      Plot.SilhouetteCurve(
        name: "L2", ks: ks, scores: [0.45, 0.38, 0.33, 0.3, 0.29, 0.27, 0.26, 0.24, 0.23],
        chosenK: 2),
      Plot.SilhouetteCurve(
        name: "L3 \(name)", ks: ks, scores: [0.71, 0.52, 0.44, 0.4, 0.36, 0.33, 0.31, 0.3, 0.28],
        chosenK: 2),
    ]
    return Plot.silhouettePlot(curves, title: "Silhouette by layer (\(name))")
  }

  static func loss(name: String) -> Figure {
    let curves = Plot.TrainingCurves(
      loss: [0.62, 0.31, 0.19, 0.14, 0.11, 0.095, 0.083, 0.075, 0.069, 0.064],
      accuracy: [0.81, 0.93, 0.958, 0.967, 0.973, 0.977, 0.98, 0.982, 0.984, 0.985],
      validationLoss: [0.41, 0.24, 0.17, 0.14, 0.125, 0.118, 0.114, 0.113, 0.115, 0.118],
      validationAccuracy: [0.9, 0.945, 0.958, 0.963, 0.966, 0.968, 0.969, 0.969, 0.968, 0.967])
    return Plot.lossPlot(curves, title: "Training of 784-32-64-2 on \(name)s")
  }

  static func digits() throws -> (images: [Plot.GreyImage], labels: [String]) {
    let data = try Dataset.mnistSample(digits: [1, 7, 3], perClass: 4, seed: 2)
    let images = Plot.GreyImage.slices(of: data.features.scalars, count: data.count)
    return (images, data.labels.map { data.classNames[$0] })
  }

  static func images(name: String) throws -> Figure {
    let (images, labels) = try digits()
    return Plot.images(
      images, labels: labels.map { $0 == "3" ? name : $0 }, columns: 6, title: "Inputs (\(name))")
  }

  /// "Reconstructions": the originals blurred by a 3 × 3 box filter.
  static func reconstructions(name: String) throws -> Figure {
    let (originals, labels) = try digits()
    let blurred = originals.map { image in
      var out = [Float](repeating: 0, count: image.pixels.count)
      for r in 0..<image.height {
        for c in 0..<image.width {
          var s: Float = 0
          for dr in -1...1 {
            for dc in -1...1 {
              let rr = min(max(r + dr, 0), image.height - 1)
              let cc = min(max(c + dc, 0), image.width - 1)
              s += image.pixels[rr * image.width + cc]
            }
          }
          out[r * image.width + c] = s / 9
        }
      }
      return Plot.GreyImage(width: image.width, height: image.height, pixels: out)
    }
    return Plot.reconstructions(
      originals: Array(originals.prefix(8)), reconstructions: Array(blurred.prefix(8)),
      labels: labels.map { $0 == "3" ? name : $0 }, columns: 8,
      title: "Autoencoder 784-100-10 (\(name))")
  }

  static func heatmap(name: String) -> Figure {
    let classes = ["0", "1", "2", name]
    let values: [[Double]] = (0..<classes.count).map { r in
      (0..<32).map { c in
        let wave: Double = sin(Double(c) * 0.7 + Double(r) * 1.3) * 1.5
        return max(0, wave + Double(r) * 0.2)
      }
    }
    let input = Plot.HeatmapInput(
      values: values, rowNames: classes, columnNames: (0..<32).map(String.init),
      rowTitle: "class", columnTitle: "neuron of L1", valueTitle: "mean activation")
    return Plot.heatmap(input, title: "Mean activation of L1 by \(name)")
  }

  static func confusion(name: String) -> Figure {
    let counts = [
      [96, 0, 3, 1],
      [0, 112, 2, 0],
      [4, 1, 88, 9],
      [2, 0, 11, 1071],
    ]
    return Plot.confusionPlot(
      counts: counts, classNames: ["0", "1", "2", name], title: "Confusion on test (\(name))")
  }

  /// Two gaussian blobs and the regions of a linear classifier with a logistic confidence.
  static func boundary(name: String) -> Figure {
    var g = SeededGenerator(seed: 3)
    var x: [Double] = []
    var y: [Double] = []
    var labels: [Int] = []
    for i in 0..<120 {
      let k = i % 2
      x.append((k == 0 ? -0.6 : 0.6) + 0.35 * g.nextNormal())
      y.append((k == 0 ? -0.3 : 0.4) + 0.35 * g.nextNormal())
      labels.append(k)
    }
    let columns = 40
    let rows = 40
    var grid = Plot.DecisionGrid(
      xMin: -2, xMax: 2, yMin: -2, yMax: 2, columns: columns, rows: rows, classes: [])
    for (cx, cy) in grid.cellCentres {
      let z = 2.5 * (1.2 * cx + 0.7 * cy)
      let p = 1 / (1 + exp(-z))
      grid.classes.append(p > 0.5 ? 1 : 0)
      grid.confidence.append(max(p, 1 - p))
    }
    return Plot.boundary(
      grid, x: x, y: y, labels: labels, classNames: ["0", name], title: "Decision regions (\(name))"
    )
  }

  static func roc(name: String) -> Figure {
    var g = SeededGenerator(seed: 9)
    var curves: [Plot.ROCCurve] = []
    for (i, scorer) in ["knn", "mahalanobis", name].enumerated() {
      var scores: [Double] = []
      var positive: [Bool] = []
      for j in 0..<200 {
        let isNovel = j % 2 == 0
        scores.append(g.nextNormal() + (isNovel ? 1.6 - 0.5 * Double(i) : 0))
        positive.append(isNovel)
      }
      curves.append(Plot.ROCCurve(name: scorer, scores: scores, isPositive: positive))
    }
    return Plot.roc(curves, title: "Novelty of unseen \(name)s")
  }

  static func line(name: String) -> Figure {
    let x = (0..<50).map { Double($0) / 49 * 6 }
    return Plot.line(
      x: x, y: x.map { exp(-0.4 * $0) * cos(2 * $0) }, title: "A damped cosine (\(name))",
      xLabel: "time (s)", yLabel: "\(name) amplitude")
  }
}

@Suite("Figure snapshots") struct FigureSnapshotTests {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/figures")
  static let updating = ProcessInfo.processInfo.environment["SIGBOOK_UPDATE_SNAPSHOTS"] == "1"

  /// Every kind, from its fixed input, is byte-identical to the committed SVG; with
  /// `SIGBOOK_UPDATE_SNAPSHOTS=1` the files are rewritten instead (review them as PNGs with
  /// `scripts/render-figures Tests/SigbookPlotTests/Fixtures/figures` before committing).
  @Test func everyKindMatchesItsGoldenFile() throws {
    for (file, figure) in try FigureSamples.all() + FigureSamples.comparisons() {
      let url = Self.directory.appendingPathComponent(file + ".svg")
      if Self.updating {
        try FileManager.default.createDirectory(
          at: Self.directory, withIntermediateDirectories: true)
        try Data(figure.svg.utf8).write(to: url)
        continue
      }
      let golden = try String(contentsOf: url, encoding: .utf8)
      #expect(figure.svg == golden, "\(file).svg differs; rerun with SIGBOOK_UPDATE_SNAPSHOTS=1")
      #expect(figure.kind == file || file.hasPrefix(figure.kind + "-"))
    }
  }

  @Test func renderingTwiceGivesTheSameBytes() throws {
    let first = try (FigureSamples.all() + FigureSamples.comparisons()).map(\.figure.svg)
    let second = try (FigureSamples.all() + FigureSamples.comparisons()).map(\.figure.svg)
    #expect(first == second)
  }
}
