import Foundation
import SigbookTensor

extension Plot {
  /// A model's predictions on a regular grid over a 2-D input space.
  struct DecisionGrid: Sendable, Equatable {
    /// The left edge of the grid.
    var xMin: Double
    /// The right edge.
    var xMax: Double
    /// The bottom edge.
    var yMin: Double
    /// The top edge.
    var yMax: Double
    /// Cells per row.
    var columns: Int
    /// Rows of cells.
    var rows: Int
    /// The predicted class of every cell, row-major, row 0 at `yMin` (bottom), column 0 at `xMin`;
    /// cell (r, c) is centred at `xMin + (c + ½)·(xMax − xMin)/columns`, likewise for y.
    var classes: [Int]
    /// The probability of the predicted class in every cell (same order), or empty: regions
    /// where the model is sure are drawn stronger.
    var confidence: [Double]

    /// A grid from its extent, size, predictions and (optionally) their probabilities.
    init(
      xMin: Double, xMax: Double, yMin: Double, yMax: Double, columns: Int, rows: Int,
      classes: [Int], confidence: [Double] = []
    ) {
      self.xMin = xMin
      self.xMax = xMax
      self.yMin = yMin
      self.yMax = yMax
      self.columns = max(columns, 0)
      self.rows = max(rows, 0)
      self.classes = classes
      self.confidence = confidence
    }

    /// The centres of the cells, row-major from the bottom-left: the inputs to predict.
    var cellCentres: [(x: Double, y: Double)] {
      let dx = (xMax - xMin) / Double(max(columns, 1))
      let dy = (yMax - yMin) / Double(max(rows, 1))
      return (0..<(rows * columns)).map { i -> (x: Double, y: Double) in
        let cx: Double = xMin + (Double(i % columns) + 0.5) * dx
        let cy: Double = yMin + (Double(i / columns) + 0.5) * dy
        return (cx, cy)
      }
    }
  }

  /// `boundary`: the decision regions of a classifier over a 2-D input space, with the points.
  ///
  /// Each cell takes the colour of its predicted class mixed with white: more colour where the
  /// model is surer (five steps of the probability from 1/K to 1, when `confidence` is given).
  /// Neighbouring cells of a row with the same colour become one `<rect>`. Points are drawn on top
  /// as in ``scatter(x:y:categories:names:title:xLabel:yLabel:legendTitle:)``, coloured by their
  /// label with a white outline; a point whose region has another colour is a mistake.
  ///
  /// The grid covers the points' range along each axis widened by 8% of it (at least 10⁻³) at
  /// both ends, in `resolution × resolution` cells; `classify` is asked once, for the centres of
  /// all the cells.
  ///
  /// - Parameters:
  ///   - x: the points' first coordinates.
  ///   - y: the points' second coordinates.
  ///   - labels: the points' labels (class indices).
  ///   - classNames: the name of each class.
  ///   - resolution: cells along each axis.
  ///   - title: the figure's title.
  ///   - xLabel: the x axis title.
  ///   - yLabel: the y axis title.
  ///   - classify: given the cell centres `[cells, 2]`, row-major from the bottom-left (row 0 at
  ///     the lowest y, column 0 at the lowest x), the class predicted at each and the
  ///     probability of that class (or no probabilities: every region is drawn alike).
  /// - Returns: a figure of kind `boundary`.
  public static func boundary(
    x: [Double], y: [Double], labels: [Int], classNames: [String], resolution: Int,
    title: String, xLabel: String = "x₁", yLabel: String = "x₂",
    classify: (Tensor) -> (classes: [Int], confidence: [Double])
  ) -> Figure {
    func padded(_ v: [Double]) -> (Double, Double) {
      let lo = v.min() ?? -1, hi = v.max() ?? 1
      let pad = max((hi - lo) * 0.08, 1e-3)
      return (lo - pad, hi + pad)
    }
    let (x0, x1) = padded(x), (y0, y1) = padded(y)
    var grid = DecisionGrid(
      xMin: x0, xMax: x1, yMin: y0, yMax: y1, columns: resolution, rows: resolution, classes: [])
    let centres = grid.cellCentres
    (grid.classes, grid.confidence) = classify(
      Tensor(shape: [centres.count, 2], scalars: centres.flatMap { [Float($0.x), Float($0.y)] }))
    return boundary(
      grid, x: x, y: y, labels: labels, classNames: classNames, title: title, xLabel: xLabel,
      yLabel: yLabel)
  }

  /// `boundary` of predictions already made on a grid.
  static func boundary(
    _ grid: DecisionGrid, x: [Double], y: [Double], labels: [Int], classNames: [String],
    title: String, xLabel: String = "x₁", yLabel: String = "x₂"
  ) -> Figure {
    let n = min(x.count, y.count, labels.count)
    let kept = (0..<n).filter { x[$0].isFinite && y[$0].isFinite }
    let present = Set(kept.map { labels[$0] }).union(grid.classes)
    let legend = categoryLegend(names: classNames, present: present, title: "class", mark: .dot)
    let hasConfidence =
      !grid.confidence.isEmpty && grid.confidence.count >= grid.rows * grid.columns
    let confidenceNote = "paler: less sure"
    let xs = kept.map { x[$0] } + [grid.xMin, grid.xMax]
    let ys = kept.map { y[$0] } + [grid.yMin, grid.yMax]
    let probe = LinearScale(fitting: ys, start: 1, end: 0, padding: 0)
    let layout = ChartLayout(
      plotWidth: 400, plotHeight: 400, title: title, yTickLabels: probe.ticks.map(probe.tickLabel),
      hasXLabel: !xLabel.isEmpty, hasYLabel: !yLabel.isEmpty,
      legendSize: legend.map { withNote(hasConfidence ? confidenceNote : "", $0.size) })
    let area = layout.area
    let xScale = LinearScale(fitting: xs, start: area.x, end: area.maxX, padding: 0)
    let yScale = LinearScale(fitting: ys, start: area.maxY, end: area.y, padding: 0)
    var document = SVGDocument(
      width: layout.width, height: layout.height, title: title,
      description: "decision regions of \(present.count) classes and \(kept.count) points")
    addBaseStyles(to: &document)
    for category in present.sorted() {
      let name = category < 0 ? "sb-cx" : "sb-c\(category)"
      document.style("." + name, "fill: \(Palette.category(category).css)")
    }
    document.style(".sb-outlined", "stroke: #ffffff; stroke-width: 0.8")
    drawTitle(title, into: &document)
    drawRegions(grid, classCount: max(classNames.count, 2), x: xScale, y: yScale, into: &document)
    let radius = min(4, max(1.5, 12 / pow(Double(max(kept.count, 1)), 0.25)))
    document.open("g", ["class": "sb-outlined"])
    for i in drawingOrder(kept) {
      document.add(
        "circle",
        [
          "cx": xScale.position(x[i]), "cy": yScale.position(y[i]), "r": radius,
          "class": labels[i] < 0 ? "sb-cx" : "sb-c\(labels[i])",
        ])
    }
    document.close()
    document.add(
      "rect",
      ["class": "sb-frame", "x": area.x, "y": area.y, "width": area.width, "height": area.height])
    drawAxes(into: &document, area: area, x: xScale, y: yScale, xTitle: xLabel, yTitle: yLabel)
    if let legend {
      legend.draw(into: &document, x: layout.legendOrigin.x, y: layout.legendOrigin.y)
      if hasConfidence {
        document.text(
          confidenceNote, x: layout.legendOrigin.x,
          y: layout.legendOrigin.y + legend.size.height + 16, ["class": "sb-small"])
      }
    }
    return Figure(kind: "boundary", document: document)
  }

  /// The grid's cells as runs of equal colour along each row.
  static func drawRegions(
    _ grid: DecisionGrid, classCount: Int, x: LinearScale, y: LinearScale,
    into document: inout SVGDocument
  ) {
    let count = min(grid.rows * grid.columns, grid.classes.count)
    guard grid.columns > 0, grid.rows > 0, count > 0 else { return }
    let hasConfidence = grid.confidence.count >= count
    let floor = 1 / Double(max(classCount, 2))
    func level(_ i: Int) -> Int {
      guard hasConfidence, grid.confidence[i].isFinite else { return 2 }
      let t = (grid.confidence[i] - floor) / (1 - floor)
      return min(4, max(0, Int((t * 5).rounded(.down))))
    }
    func color(_ cls: Int, _ level: Int) -> Color {
      let strength = 0.18 + 0.09 * Double(level)
      return Color(hex: 0xFFFFFF).mixed(with: Palette.category(cls), by: strength)
    }
    let dx = (grid.xMax - grid.xMin) / Double(grid.columns)
    let dy = (grid.yMax - grid.yMin) / Double(grid.rows)
    document.open("g", ["class": "sb-regions", "shape-rendering": "crispEdges"])
    for r in 0..<grid.rows {
      var c = 0
      while c < grid.columns {
        let i = r * grid.columns + c
        guard i < count else { break }
        let key = (grid.classes[i], level(i))
        var end = c + 1
        while end < grid.columns, r * grid.columns + end < count,
          (grid.classes[r * grid.columns + end], level(r * grid.columns + end)) == key
        {
          end += 1
        }
        let x0 = x.position(grid.xMin + Double(c) * dx)
        let x1 = x.position(grid.xMin + Double(end) * dx)
        let yTop = y.position(grid.yMin + Double(r + 1) * dy)
        let yBottom = y.position(grid.yMin + Double(r) * dy)
        document.add(
          "rect",
          [
            "x": x0, "y": yTop, "width": x1 - x0, "height": yBottom - yTop,
            "fill": color(key.0, key.1).css,
          ])
        c = end
      }
    }
    document.close()
  }
}
