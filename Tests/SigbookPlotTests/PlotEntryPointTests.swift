import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookPlot

/// The public figure functions take plain arrays and tensors and draw exactly what the figure's
/// own value (images, curves, a grid of predictions…) would: each is checked against it.
@Suite("Plot entry points") struct PlotEntryPointTests {
  /// Two 2 × 3 images and two maps of the same size.
  static let pixels = Tensor(
    shape: [2, 2, 3], scalars: [0, 0.2, 0.4, 0.6, 0.8, 1, 1, 0, 1, 0, 1, 0])
  static let maps = Tensor(shape: [2, 6], scalars: [1, -1, 0, 0.5, 0, 2, 0, 0, 3, -3, 1, 1])

  @Test func imagesAreCutFromTheirTensor() throws {
    let images = Plot.GreyImage.slices(of: Self.pixels.scalars, count: 2, width: 3, height: 2)
    #expect(images.count == 2 && images[1].pixels == [1, 0, 1, 0, 1, 0])
    #expect(
      Plot.images(Self.pixels, labels: ["a", "b"], title: "t")
        == Plot.images(images, labels: ["a", "b"], title: "t"))
    #expect(
      try Plot.images(Self.pixels, labels: ["a"], columns: 1, title: "t") { _ in false }
        == Plot.images(images, labels: ["a"], columns: 1, title: "t"))
    #expect(
      Plot.reconstructions(
        originals: Self.pixels, reconstructions: Self.pixels, labels: [], title: "r")
        == Plot.reconstructions(originals: images, reconstructions: images, labels: [], title: "r"))
    #expect(
      Plot.attributions(inputs: Self.pixels, maps: Self.maps, labels: ["a", "b"], title: "m")
        == Plot.attributions(
          inputs: images, maps: [[1, -1, 0, 0.5, 0, 2], [0, 0, 3, -3, 1, 1]], labels: ["a", "b"],
          title: "m"))
  }

  @Test func curvesAreTheSeriesGiven() {
    let x: [[Double]] = [[1, 2, 3], [1, 2]], y: [[Double]] = [[0.5, 0.7, 0.9], [0.4, 0.6]]
    #expect(
      Plot.line(x: x, y: y, names: ["a", "b"], dashed: [1], title: "l", yRange: 0...1)
        == Plot.line(
          [
            Plot.LineSeries(name: "a", x: x[0], y: y[0]),
            Plot.LineSeries(name: "b", x: x[1], y: y[1], isDashed: true),
          ], title: "l", yRange: 0...1))
    #expect(
      Plot.silhouettePlot(
        names: ["L1", "L2"], ks: [[2, 3], [2, 3]], scores: [[0.2, 0.4], [0.5, 0.1]],
        chosenK: [3, 2], title: "s")
        == Plot.silhouettePlot(
          [
            Plot.SilhouetteCurve(name: "L1", ks: [2, 3], scores: [0.2, 0.4], chosenK: 3),
            Plot.SilhouetteCurve(name: "L2", ks: [2, 3], scores: [0.5, 0.1], chosenK: 2),
          ], title: "s"))
    #expect(
      Plot.lossPlot(
        loss: [[1, 0.5], [1, 0.8]], accuracy: [[0.5, 0.9], []], validationLoss: [[1.1, 0.6]],
        names: ["sgd", "adam"], title: "runs")
        == Plot.lossPlot(
          [
            Plot.TrainingCurves(
              loss: [1, 0.5], accuracy: [0.5, 0.9], validationLoss: [1.1, 0.6]),
            Plot.TrainingCurves(loss: [1, 0.8]),
          ], names: ["sgd", "adam"], title: "runs"))
    #expect(
      Plot.roc(names: ["knn"], scores: [[3, 1, 2]], isPositive: [[true, false, true]], title: "r")
        == Plot.roc(
          [Plot.ROCCurve(name: "knn", scores: [3, 1, 2], isPositive: [true, false, true])],
          title: "r"))
  }

  @Test func matricesAndFlowsAreTheValuesGiven() {
    #expect(
      Plot.heatmap(
        values: [[0, 1], [0.5, 0.25]], rowNames: ["a", "b"], columnNames: ["0", "1"],
        rowTitle: "class", valueTitle: "mean", domain: 0...1, showsValues: true, title: "h")
        == Plot.heatmap(
          Plot.HeatmapInput(
            values: [[0, 1], [0.5, 0.25]], rowNames: ["a", "b"], columnNames: ["0", "1"],
            rowTitle: "class", valueTitle: "mean", domain: 0...1, showsValues: true),
          title: "h"))
    let assignments = [[0, 0, 1, 1], [1, 0, 0, 1]], labels = [0, 1, 0, 1]
    #expect(
      Plot.sankey(
        assignments: assignments, labels: labels, labelNames: ["x", "y"],
        columnTitles: ["H1", "H2"],
        title: "p")
        == Plot.sankey(
          Plot.SankeyInput(
            assignments: assignments, labels: labels, labelNames: ["x", "y"],
            columnTitles: ["H1", "H2"]),
          title: "p"))
  }

  @Test func boundaryAsksForEveryCellCentreOnceOverThePaddedPoints() {
    let x: [Double] = [0, 1, 0.5], y: [Double] = [0, 2, 1]
    var asked: [Tensor] = []
    let figure = Plot.boundary(
      x: x, y: y, labels: [0, 1, 0], classNames: ["a", "b"], resolution: 3, title: "b"
    ) { centres in
      asked.append(centres)
      let classes = (0..<centres.rows).map { centres[flat: 2 * $0] > 0.5 ? 1 : 0 }
      return (classes, [Double](repeating: 0.75, count: centres.rows))
    }
    // Each axis widened by 8% of the points' range at both ends, three cells a side.
    let padX = (1.0 - 0) * 0.08, padY = (2.0 - 0) * 0.08
    var grid = Plot.DecisionGrid(
      xMin: 0 - padX, xMax: 1 + padX, yMin: 0 - padY, yMax: 2 + padY, columns: 3, rows: 3,
      classes: [])
    let centres = grid.cellCentres
    #expect(asked.count == 1 && asked[0].shape == [9, 2])
    for (i, c) in centres.enumerated() {
      #expect(abs(Double(asked[0][flat: 2 * i]) - c.x) < 1e-6)
      #expect(abs(Double(asked[0][flat: 2 * i + 1]) - c.y) < 1e-6)
    }
    grid.classes = (0..<9).map { Float(centres[$0].x) > 0.5 ? 1 : 0 }
    grid.confidence = [Double](repeating: 0.75, count: 9)
    #expect(
      figure
        == Plot.boundary(grid, x: x, y: y, labels: [0, 1, 0], classNames: ["a", "b"], title: "b"))
  }

  @Test func convolutionFiguresReadTheirTensors() {
    let weights = Tensor(shape: [2, 3, 1, 2], scalars: (0..<12).map { Float($0) - 6 })
    #expect(
      Plot.filters(weights, groups: 3, outputs: 2, inputs: 2, title: "f")
        == Plot.filters(
          Plot.FilterBank(
            weights: weights.scalars, outChannels: 2, inChannels: 3, kernelHeight: 1,
            kernelWidth: 2, groups: 3),
          outputs: 2, inputs: 2, title: "f"))
    // Two inputs of one 2 × 3 channel; one layer of three 1 × 2 maps each, two shown.
    let layer = Tensor(shape: [2, 3, 1, 2], scalars: (0..<12).map(Float.init))
    let captions = [["input 0"], ["input 1"]]
    let expected = (0..<2).map { n in
      Plot.FeatureMapInput(
        channels: [Plot.GreyImage.slices(of: Self.pixels)[n]], caption: captions[n],
        rows: [
          Plot.FeatureMapRow(
            name: "conv1", channels: 3,
            maps: [[Float(6 * n), Float(6 * n + 1)], [Float(6 * n + 2), Float(6 * n + 3)]],
            height: 1, width: 2)
        ])
    }
    #expect(
      Plot.featureMaps(
        inputs: Self.pixels.reshaped([2, 1, 2, 3]), captions: captions, layerNames: ["conv1"],
        maps: [layer], channels: 2, title: "m")
        == Plot.featureMaps(expected, title: "m"))
  }
}
