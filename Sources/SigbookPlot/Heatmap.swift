import SigbookTensor

extension Plot {
  /// A matrix of values to show as coloured cells.
  struct HeatmapInput: Sendable, Equatable {
    /// The values, `values[row][column]`; rows may be ragged (missing cells are blank) and
    /// non-finite values are drawn grey.
    var values: [[Double]]
    /// The name of each row (left of it).
    var rowNames: [String]
    /// The name of each column (below it; thinned when they would overlap).
    var columnNames: [String]
    /// The title of the rows' axis (`class`).
    var rowTitle: String
    /// The title of the columns' axis (`neuron`).
    var columnTitle: String
    /// The colour bar's title (`mean activation`).
    var valueTitle: String
    /// The values the colours run between; nil: the smallest and largest finite value.
    var domain: ClosedRange<Double>?
    /// Whether each cell shows its value (two decimals), where the cells are large enough.
    var showsValues: Bool

    /// A heatmap input from its matrix, names and titles.
    init(
      values: [[Double]], rowNames: [String], columnNames: [String], rowTitle: String = "",
      columnTitle: String = "", valueTitle: String = "", domain: ClosedRange<Double>? = nil,
      showsValues: Bool = false
    ) {
      self.values = values
      self.rowNames = rowNames
      self.columnNames = columnNames
      self.rowTitle = rowTitle
      self.columnTitle = columnTitle
      self.valueTitle = valueTitle
      self.domain = domain
      self.showsValues = showsValues
    }
  }

  /// `heatmap`: a matrix as cells coloured by value (viridis), with a colour bar.
  ///
  /// For the catalogue's `heatmap(sig, layer:, by: .label)` the rows are the classes and the columns
  /// the neurons of the layer (`values[class][neuron]` is the mean activation), so that wide layers
  /// spread across the page. The colour scale runs from the smallest to the largest finite value.
  ///
  /// - Parameters:
  ///   - values: the matrix, `values[row][column]`; rows may be ragged (missing cells are blank)
  ///     and non-finite values are drawn grey.
  ///   - rowNames: the name of each row (left of it).
  ///   - columnNames: the name of each column (below it; thinned when they would overlap).
  ///   - rowTitle: the title of the rows' axis (`class`).
  ///   - columnTitle: the title of the columns' axis (`neuron`).
  ///   - valueTitle: the colour bar's title (`mean activation`).
  ///   - domain: the values the colours run between; nil: the smallest and largest finite value.
  ///   - showsValues: whether each cell shows its value (two decimals), where the cells are large
  ///     enough.
  ///   - title: the figure's title.
  /// - Returns: a figure of kind `heatmap`.
  public static func heatmap(
    values: [[Double]], rowNames: [String], columnNames: [String], rowTitle: String = "",
    columnTitle: String = "", valueTitle: String = "", domain: ClosedRange<Double>? = nil,
    showsValues: Bool = false, title: String
  ) -> Figure {
    heatmap(
      HeatmapInput(
        values: values, rowNames: rowNames, columnNames: columnNames, rowTitle: rowTitle,
        columnTitle: columnTitle, valueTitle: valueTitle, domain: domain,
        showsValues: showsValues),
      title: title)
  }

  /// `heatmap` of a matrix with its names and titles in one value.
  static func heatmap(_ input: HeatmapInput, title: String) -> Figure {
    let rows = input.values.count
    let columns = max(input.values.map(\.count).max() ?? 0, input.columnNames.count)
    let finite = input.values.flatMap { $0 }.filter(\.isFinite)
    let (lo, hi) = usableDomain(
      input.domain?.lowerBound ?? finite.min() ?? 0, input.domain?.upperBound ?? finite.max() ?? 1)
    // Cells that show their values are wide enough for "0.00".
    let cellWidth = min(input.showsValues ? 56 : 40, max(4, 520 / Double(max(columns, 1))))
    let cellHeight = min(input.showsValues ? 40 : 36, max(14, 320 / Double(max(rows, 1))))
    let grid = MatrixLayout(
      rows: rows, columns: columns, cellWidth: cellWidth, cellHeight: cellHeight,
      rowNames: input.rowNames, columnNames: input.columnNames, thinsColumnNames: true,
      rowTitle: input.rowTitle, columnTitle: input.columnTitle, valueTitle: input.valueTitle,
      lower: lo, upper: hi, title: title)
    var document = SVGDocument(
      width: grid.width, height: grid.height, title: title,
      description: "heatmap of \(rows) rows and \(columns) columns")
    addBaseStyles(to: &document)
    drawTitle(title, into: &document)
    // crispEdges: no hairlines of background between neighbouring cells.
    document.open("g", ["class": "sb-cells", "shape-rendering": "crispEdges"])
    for (r, row) in input.values.enumerated() {
      for (c, v) in row.enumerated() {
        let fill =
          v.isFinite ? Palette.viridis(min(max((v - lo) / (hi - lo), 0), 1)).css : "#cccccc"
        document.add(
          "rect",
          [
            "x": grid.area.x + Double(c) * cellWidth, "y": grid.area.y + Double(r) * cellHeight,
            "width": cellWidth, "height": cellHeight, "fill": fill,
          ])
      }
    }
    document.close()
    if input.showsValues, cellWidth >= 30, cellHeight >= 16 {
      document.open("g", ["class": "sb-values", "text-anchor": "middle"])
      for (r, row) in input.values.enumerated() {
        for (c, v) in row.enumerated() where v.isFinite {
          // Dark text on the light end of viridis, white on the dark end.
          let share = min(max((v - lo) / (hi - lo), 0), 1)
          document.text(
            Plot.number(v, decimals: 2), x: grid.area.x + (Double(c) + 0.5) * cellWidth,
            y: grid.area.y + (Double(r) + 0.5) * cellHeight + FontSize.tick * 0.35,
            ["font-size": FontSize.tick, "fill": share > 0.6 ? "#000000" : "#ffffff"])
        }
      }
      document.close()
    }
    grid.drawLabels(rowNames: input.rowNames, columnNames: input.columnNames, into: &document)
    return Figure(kind: "heatmap", document: document)
  }

  /// `confusion_plot`: a confusion matrix, true classes as rows and predicted classes as columns,
  /// the count in every cell.
  ///
  /// Every class name is written in both directions: when the column names would overlap side
  /// by side (ten Fashion-MNIST classes, say) they are slanted at 45°, and the figure grows to
  /// hold them and the title.
  ///
  /// Cells are coloured by the share of their row (the fraction of a true class predicted as each
  /// class), so small classes read as clearly as large ones; the counts are written in black or
  /// white, whichever contrasts more with the cell. A line under the matrix gives the accuracy.
  ///
  /// - Parameters:
  ///   - counts: `counts[true][predicted]`, square or not (missing cells count 0).
  ///   - classNames: the name of each class, for rows and columns.
  ///   - title: the figure's title.
  /// - Returns: a figure of kind `confusion_plot`.
  public static func confusionPlot(counts: [[Int]], classNames: [String], title: String) -> Figure {
    let n = max(counts.count, counts.map(\.count).max() ?? 0, classNames.count)
    func count(_ r: Int, _ c: Int) -> Int {
      r < counts.count && c < counts[r].count ? max(counts[r][c], 0) : 0
    }
    let cell = min(60, max(28, 360 / Double(max(n, 1))))
    let names = (0..<n).map { $0 < classNames.count ? classNames[$0] : String($0) }
    // Every class is named in both directions: column names that do not fit side by side are
    // slanted, never dropped.
    let grid = MatrixLayout(
      rows: n, columns: n, cellWidth: cell, cellHeight: cell, rowNames: names,
      columnNames: names, thinsColumnNames: false, rowTitle: "true class",
      columnTitle: "predicted class", valueTitle: "share of true class", lower: 0, upper: 1,
      title: title, captionLines: 1)
    let widest =
      (0..<n).flatMap { r in (0..<n).map { c in String(count(r, c)) } }
      .map { textWidth($0, size: FontSize.tick) }.max() ?? 0
    let fontSize = widest > cell - 6 ? FontSize.small * (cell - 6) / widest : FontSize.tick
    var document = SVGDocument(
      width: grid.width, height: grid.height, title: title,
      description: "confusion matrix of \(n) classes")
    addBaseStyles(to: &document)
    drawTitle(title, into: &document)
    var total = 0
    var correct = 0
    var cells: [(x: Double, y: Double, value: Int, color: Color)] = []
    for r in 0..<n {
      let rowTotal = (0..<n).reduce(0) { $0 + count(r, $1) }
      for c in 0..<n {
        let value = count(r, c)
        total += value
        if r == c { correct += value }
        let share = rowTotal > 0 ? Double(value) / Double(rowTotal) : 0
        cells.append(
          (
            grid.area.x + Double(c) * cell, grid.area.y + Double(r) * cell, value,
            Palette.viridis(share)
          ))
      }
    }
    // White lines between cells separate them at any zoom.
    document.open("g", ["class": "sb-cells", "stroke": "#ffffff", "stroke-width": 1.0])
    for c in cells {
      document.add(
        "rect", ["x": c.x, "y": c.y, "width": cell, "height": cell, "fill": c.color.css])
    }
    document.close()
    document.open("g", ["class": "sb-counts", "text-anchor": "middle"])
    for c in cells {
      document.text(
        String(c.value), x: c.x + cell / 2, y: c.y + cell / 2 + fontSize * 0.35,
        ["font-size": "\(number(fontSize))px", "fill": c.color.readableText.css])
    }
    document.close()
    grid.drawLabels(rowNames: names, columnNames: names, into: &document)
    let accuracy = total > 0 ? Double(correct) / Double(total) : 0
    document.text(
      "accuracy \(fixed(accuracy, decimals: 2)) on \(NumberFormat.grouped(total)) inputs",
      x: grid.area.x,
      y: grid.captionY, ["class": "sb-small"])
    return Figure(kind: "confusion_plot", document: document)
  }

  /// Where a matrix of cells, its row and column labels and its colour bar go.
  struct MatrixLayout {
    var area: Rect
    var width: Double
    var height: Double
    var columnTitle: String
    var rowTitle: String
    var rowTitleX: Double
    var colorBar: Rect
    var valueTitle: String
    var lower: Double
    var upper: Double
    var captionY: Double
    let cellWidth: Double
    let cellHeight: Double
    /// Every how many columns a name is written (1: all).
    let columnStride: Int
    /// Whether column names are slanted at 45° (when they do not fit side by side and may not
    /// be thinned).
    let slantsColumnNames: Bool
    /// Where the column names start below the matrix.
    let columnNamesY: Double
    /// The baseline of the columns' title.
    let columnTitleY: Double

    /// The sine (and cosine) of the 45° slant.
    static let slant = 0.5.squareRoot()

    init(
      rows: Int, columns: Int, cellWidth: Double, cellHeight: Double, rowNames: [String],
      columnNames: [String], thinsColumnNames: Bool, rowTitle: String, columnTitle: String,
      valueTitle: String, lower: Double, upper: Double, title: String, captionLines: Int = 0
    ) {
      let nameWidth = rowNames.map { textWidth($0, size: FontSize.tick) }.max() ?? 0
      let columnWidths = columnNames.map { textWidth($0, size: FontSize.tick) }
      let stride = labelStride(
        positions: columnNames.indices.map { (Double($0) + 0.5) * cellWidth }, widths: columnWidths)
      columnStride = thinsColumnNames ? niceStride(stride) : 1
      slantsColumnNames = !thinsColumnNames && stride > 1
      var left = ChartLayout.pad + (rowTitle.isEmpty ? 0 : FontSize.label + 10) + nameWidth + 8
      if slantsColumnNames {
        // A slanted name runs down and to the left of its column: keep the first ones inside.
        for (c, w) in columnWidths.enumerated() {
          left = max(left, ChartLayout.pad + w * Self.slant - (Double(c) + 0.5) * cellWidth)
        }
      }
      let top = ChartLayout.titleHeight + 8
      area = Rect(
        x: left, y: top, width: Double(columns) * cellWidth, height: Double(rows) * cellHeight)
      self.cellWidth = cellWidth
      self.cellHeight = cellHeight
      self.columnTitle = columnTitle
      self.rowTitle = rowTitle
      rowTitleX = left - nameWidth - 8 - 10
      self.valueTitle = valueTitle
      self.lower = lower
      self.upper = upper
      let barHeight = max(area.height, 120)
      colorBar = Rect(x: area.maxX + 24, y: top + 20, width: 14, height: barHeight - 20)
      let scale = LinearScale(lower: lower, upper: upper, start: 1, end: 0)
      let tickWidth =
        scale.ticks.map { textWidth(scale.tickLabel($0), size: FontSize.tick) }
        .max() ?? 0
      let barRoom = max(
        colorBar.width + ChartLayout.tickLength + 3 + tickWidth,
        textWidth(valueTitle, size: FontSize.tick))
      width = colorBar.x + barRoom + ChartLayout.pad
      width = max(width, textWidth(title, size: FontSize.title, bold: true) + 2 * ChartLayout.pad)
      columnNamesY = area.maxY + ChartLayout.tickLength
      let namesHeight =
        slantsColumnNames
        ? ((columnWidths.max() ?? 0) + FontSize.tick) * Self.slant + 4
        : FontSize.tick + 6
      let bottomOfColumns =
        columnNamesY + namesHeight + (columnTitle.isEmpty ? 0 : FontSize.label + 10)
      captionY = bottomOfColumns + FontSize.small + 4
      columnTitleY = bottomOfColumns - 8
      height =
        max(bottomOfColumns + Double(captionLines) * (FontSize.small + 8), colorBar.maxY + 8)
        + ChartLayout.pad
    }

    /// Row names at the left, column names below (thinned or slanted), titles, the colour bar.
    func drawLabels(rowNames: [String], columnNames: [String], into document: inout SVGDocument) {
      document.open("g", ["class": "sb-tick"])
      for (r, name) in rowNames.enumerated() where Double(r) * cellHeight < area.height - 0.01 {
        document.text(
          name, x: area.x - 6, y: area.y + (Double(r) + 0.5) * cellHeight + FontSize.tick * 0.35,
          ["text-anchor": "end"])
      }
      for (c, name) in columnNames.enumerated() where c % columnStride == 0 {
        let x = area.x + (Double(c) + 0.5) * cellWidth
        if slantsColumnNames {
          // The end of the name at the column's centre; the text runs up to it from the left.
          let ax = x + FontSize.tick * 0.35
          let ay = columnNamesY + FontSize.tick * 0.35
          document.text(
            name, x: ax, y: ay,
            ["text-anchor": "end", "transform": "rotate(-45 \(number(ax)) \(number(ay)))"])
        } else {
          document.text(
            name, x: x, y: columnNamesY + FontSize.tick + 2, ["text-anchor": "middle"])
        }
      }
      document.close()
      if !columnTitle.isEmpty {
        document.text(
          columnTitle, x: area.midX, y: columnTitleY,
          ["class": "sb-label", "text-anchor": "middle"])
      }
      if !rowTitle.isEmpty {
        document.text(
          rowTitle, x: rowTitleX, y: area.midY,
          [
            "class": "sb-label", "text-anchor": "middle",
            "transform": "rotate(-90 \(number(rowTitleX)) \(number(area.midY)))",
          ])
      }
      drawColorBar(into: &document)
    }

    /// The colour bar at `colorBar`: viridis from `lower` to `upper`
    /// (``Plot/drawColorBar(_:lower:upper:title:color:into:)``).
    func drawColorBar(into document: inout SVGDocument) {
      Plot.drawColorBar(
        colorBar, lower: lower, upper: upper, title: valueTitle, color: Palette.viridis,
        into: &document)
    }
  }
}

extension Plot {
  /// A vertical bar of 64 strips coloured by `color` (of a fraction 0…1 from `lower` to
  /// `upper`), low at the bottom, ticks on its right, `title` above.
  ///
  /// Strips of fractional height that only abut leave hairlines of background between them in
  /// some viewers (anti-aliased edges, or edges snapped apart by `crispEdges`): each strip but
  /// the top one reaches half a pixel into the next, which is drawn over it, so the bar has no
  /// seam at any zoom. No gradient: a figure has no ids, so that several can share one HTML page.
  static func drawColorBar(
    _ colorBar: Rect, lower: Double, upper: Double, title: String, color: (Double) -> Color,
    into document: inout SVGDocument
  ) {
    let strips = 64
    let h = colorBar.height / Double(strips)
    document.open("g", ["class": "sb-colorbar"])
    for i in 0..<strips {
      let t = (Double(i) + 0.5) / Double(strips)
      let overlap = i < strips - 1 ? 0.5 : 0
      document.add(
        "rect",
        [
          "x": colorBar.x, "y": colorBar.maxY - Double(i + 1) * h - overlap,
          "width": colorBar.width, "height": h + overlap, "fill": color(t).css,
        ])
    }
    document.close()
    let scale = LinearScale(lower: lower, upper: upper, start: colorBar.maxY, end: colorBar.y)
    var d = ""
    for t in scale.ticks {
      d +=
        "M\(number(colorBar.maxX)) \(number(scale.position(t)))h\(number(ChartLayout.tickLength))"
    }
    document.add("path", ["class": "sb-axis", "d": d])
    for t in scale.ticks {
      document.text(
        scale.tickLabel(t), x: colorBar.maxX + ChartLayout.tickLength + 3,
        y: scale.position(t) + FontSize.tick * 0.35, ["class": "sb-tick"])
    }
    if !title.isEmpty {
      document.text(title, x: colorBar.x, y: colorBar.y - 11, ["class": "sb-tick"])
    }
  }
}
