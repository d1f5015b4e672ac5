import Foundation

extension Plot {
  /// One curve of a line chart: points in order, a name for the legend.
  struct LineSeries: Sendable, Equatable {
    /// The legend text (unused when a chart has a single series).
    var name: String
    /// The horizontal values.
    var x: [Double]
    /// The vertical values; the first `min(x.count, y.count)` points are drawn and a non-finite
    /// value breaks the line.
    var y: [Double]
    /// A dashed line, to tell curves apart without colour.
    var isDashed: Bool

    /// A series from its name and points.
    init(name: String, x: [Double], y: [Double], isDashed: Bool = false) {
      self.name = name
      self.x = x
      self.y = y
      self.isDashed = isDashed
    }
  }

  /// One layer's curve of mean silhouette against the number of clusters.
  struct SilhouetteCurve: Sendable, Equatable {
    /// The layer's name (`L1`).
    var name: String
    /// The numbers of clusters tried.
    var ks: [Int]
    /// The mean silhouette for each k, in −1…1.
    var scores: [Double]
    /// The k that was kept, marked with a ring; `nil` for none.
    var chosenK: Int?

    /// A curve from its layer name, ks, scores and chosen k.
    init(name: String, ks: [Int], scores: [Double], chosenK: Int?) {
      self.name = name
      self.ks = ks
      self.scores = scores
      self.chosenK = chosenK
    }
  }

  /// Loss and accuracy per epoch of a training run (epochs numbered from 1).
  struct TrainingCurves: Sendable, Equatable {
    /// Training loss of each epoch.
    var loss: [Double]
    /// Training accuracy of each epoch, 0…1 (empty when not measured, as for an autoencoder).
    var accuracy: [Double]
    /// Validation loss of each epoch (empty without validation data).
    var validationLoss: [Double]
    /// Validation accuracy of each epoch (empty without validation data).
    var validationAccuracy: [Double]
    /// Training loss of every batch, in order (empty when not recorded).
    var batchLoss: [Double]

    /// Curves from per-epoch values; leave the validation arrays empty when there are none.
    init(
      loss: [Double], accuracy: [Double] = [], validationLoss: [Double] = [],
      validationAccuracy: [Double] = [], batchLoss: [Double] = []
    ) {
      self.loss = loss
      self.accuracy = accuracy
      self.validationLoss = validationLoss
      self.validationAccuracy = validationAccuracy
      self.batchLoss = batchLoss
    }

    /// Batches per epoch, from the per-batch and per-epoch losses (0 when unknown).
    var batchesPerEpoch: Int { loss.isEmpty ? 0 : batchLoss.count / loss.count }
  }

  /// The receiver operating characteristic of one scorer.
  struct ROCCurve: Sendable, Equatable {
    /// The scorer's name (`knn · L2`, `softmax`).
    var name: String
    /// False positive rates, increasing from 0 to 1.
    var falsePositiveRate: [Double]
    /// True positive rates, one per false positive rate.
    var truePositiveRate: [Double]
    /// The area under the curve, shown in the legend.
    var auroc: Double

    /// A curve from its points and area (as computed elsewhere).
    init(
      name: String, falsePositiveRate: [Double], truePositiveRate: [Double], auroc: Double
    ) {
      self.name = name
      self.falsePositiveRate = falsePositiveRate
      self.truePositiveRate = truePositiveRate
      self.auroc = auroc
    }

    /// The curve of a scorer whose higher scores mean "positive" (novel).
    ///
    /// Thresholds run from the highest score down; tied scores move the curve diagonally, once.
    /// The area is the trapezoidal sum over these points, equal to the Mann–Whitney probability
    /// that a positive scores above a negative, ties counting one half. With no positives or no
    /// negatives the curve is the diagonal and the area 0.5.
    ///
    /// - Parameters:
    ///   - name: the scorer's name.
    ///   - scores: one score per input (non-finite scores count as the lowest).
    ///   - isPositive: whether each input is a positive (novel) one.
    /// - Complexity: O(n log n).
    init(name: String, scores: [Double], isPositive: [Bool]) {
      let n = min(scores.count, isPositive.count)
      let positives = (0..<n).filter { isPositive[$0] }.count
      let negatives = n - positives
      guard positives > 0, negatives > 0 else {
        self.init(name: name, falsePositiveRate: [0, 1], truePositiveRate: [0, 1], auroc: 0.5)
        return
      }
      let key = (0..<n).map { scores[$0].isNaN ? -Double.infinity : scores[$0] }
      let order = (0..<n).sorted { key[$0] != key[$1] ? key[$0] > key[$1] : $0 < $1 }
      var fpr: [Double] = [0]
      var tpr: [Double] = [0]
      var tp = 0
      var fp = 0
      var area = 0.0
      var i = 0
      while i < n {
        var j = i
        let lastTP = tp
        let lastFP = fp
        while j < n && key[order[j]] == key[order[i]] {
          if isPositive[order[j]] { tp += 1 } else { fp += 1 }
          j += 1
        }
        area += Double(fp - lastFP) * Double(tp + lastTP) / 2
        fpr.append(Double(fp) / Double(negatives))
        tpr.append(Double(tp) / Double(positives))
        i = j
      }
      self.init(
        name: name, falsePositiveRate: fpr, truePositiveRate: tpr,
        auroc: area / (Double(positives) * Double(negatives)))
    }
  }

  // MARK: - line

  /// `line`: y against x, with a title and axis titles; several series get a legend.
  ///
  /// - Parameters:
  ///   - x: the horizontal values of each series.
  ///   - y: the vertical values of each series; the first `min(x[i].count, y[i].count)` points
  ///     of series `i` are drawn and a non-finite value breaks its line.
  ///   - names: the legend text of each series (no legend for a single series).
  ///   - dashed: the series (by index) drawn dashed, to tell curves apart without colour; each
  ///     series gets the next categorical colour, dashed or not.
  ///   - title: the figure's title.
  ///   - xLabel: the x axis title.
  ///   - yLabel: the y axis title.
  ///   - yRange: a fixed y axis (accuracies from 0 to 1); nil fits the values.
  /// - Returns: a figure of kind `line`, with `min(x.count, y.count)` series. When every x is a
  ///   whole number (layers, epochs), the x ticks are whole numbers.
  public static func line(
    x: [[Double]], y: [[Double]], names: [String], dashed: Set<Int> = [], title: String,
    xLabel: String = "", yLabel: String = "", yRange: ClosedRange<Double>? = nil
  ) -> Figure {
    let series = (0..<min(x.count, y.count)).map { i in
      LineSeries(
        name: i < names.count ? names[i] : "", x: x[i], y: y[i], isDashed: dashed.contains(i))
    }
    return line(series, title: title, xLabel: xLabel, yLabel: yLabel, yRange: yRange)
  }

  /// `line` of series already paired with their names.
  ///
  /// - Parameters:
  ///   - logY: a base-10 logarithmic y axis (non-positive values are left out).
  ///   - yFit: values the y axis fits besides the series' own (a grid's shared scale).
  static func line(
    _ series: [LineSeries], title: String, xLabel: String = "", yLabel: String = "",
    logY: Bool = false, yRange: ClosedRange<Double>? = nil, yFit: ClosedRange<Double>? = nil
  ) -> Figure {
    var xs: [Double] = []
    var ys: [Double] = []
    for s in series {
      for i in 0..<min(s.x.count, s.y.count) where s.x[i].isFinite && s.y[i].isFinite {
        if logY && s.y[i] <= 0 { continue }
        xs.append(s.x[i])
        ys.append(s.y[i])
      }
    }
    let ownValues = ys
    if let yFit, !logY { ys += [yFit.lowerBound, yFit.upperBound] }
    let legend: Legend? =
      series.count > 1
      ? Legend(
        entries: series.enumerated().map { i, s in
          Legend.Entry(name: s.name, color: Palette.category(i), mark: .line(dashed: s.isDashed))
        }) : nil
    func yScale(_ start: Double, _ end: Double) -> any AxisScale {
      if logY {
        return LogScale(
          lower: ys.min() ?? 1, upper: ys.max() ?? 10, start: start, end: end, nice: true)
      }
      if let yRange {
        return LinearScale(
          lower: yRange.lowerBound, upper: yRange.upperBound, start: start, end: end)
      }
      return LinearScale(fitting: ys, start: start, end: end)
    }
    let probe = yScale(1, 0)
    let layout = ChartLayout(
      plotWidth: 480, plotHeight: 320, title: title, yTickLabels: probe.ticks.map(probe.tickLabel),
      hasXLabel: !xLabel.isEmpty, hasYLabel: !yLabel.isEmpty, legendSize: legend?.size)
    let area = layout.area
    var x = LinearScale(fitting: xs, start: area.x, end: area.maxX, padding: 0.02)
    if !xs.isEmpty, xs.allSatisfy({ $0 == $0.rounded() }) { x = x.integerTicks() }
    // A few points (widths 10, 100, 200, 500): a tick at each, so every point is labelled.
    if Set(xs).count <= 12 { x = x.ticks(at: xs) }
    let y = yScale(area.maxY, area.y)
    var document = SVGDocument(
      width: layout.width, height: layout.height, title: title,
      description: "line chart of \(series.count) series")
    addBaseStyles(to: &document)
    drawTitle(title, into: &document)
    drawGrid(into: &document, area: area, x: x, y: y)
    for (i, s) in series.enumerated() {
      let points = (0..<min(s.x.count, s.y.count)).map { (s.x[$0], s.y[$0]) }
        .map { logY && $0.1 <= 0 ? ($0.0, Double.nan) : $0 }
      drawCurve(
        points, color: Palette.category(i), dashed: s.isDashed, markers: points.count <= 30,
        x: x, y: y, into: &document)
    }
    drawAxes(into: &document, area: area, x: x, y: y, xTitle: xLabel, yTitle: yLabel)
    legend?.draw(into: &document, x: layout.legendOrigin.x, y: layout.legendOrigin.y)
    var figure = Figure(kind: "line", document: document)
    if !logY, yRange == nil, let lower = ownValues.min(), let upper = ownValues.max() {
      figure.sharedY = Figure.SharedY(values: lower...upper) { fit in
        line(series, title: title, xLabel: xLabel, yLabel: yLabel, yFit: fit)
      }
    }
    return figure
  }

  /// `line` for one series: y against x.
  static func line(
    x: [Double], y: [Double], title: String, xLabel: String = "", yLabel: String = ""
  ) -> Figure {
    line([LineSeries(name: yLabel, x: x, y: y)], title: title, xLabel: xLabel, yLabel: yLabel)
  }

  // MARK: - silhouette_plot

  /// `silhouette_plot`: mean silhouette against k, one line per layer, the chosen k ringed.
  ///
  /// - Parameters:
  ///   - names: the name of each layer (`L1`), in layer order: one curve each.
  ///   - ks: per layer, the numbers of clusters tried.
  ///   - scores: per layer, the mean silhouette for each k, in −1…1.
  ///   - chosenK: per layer, the k that was kept, marked with a ring (none for a layer past the
  ///     end of the list).
  ///   - title: the figure's title.
  /// - Returns: a figure of kind `silhouette_plot`.
  public static func silhouettePlot(
    names: [String], ks: [[Int]], scores: [[Double]], chosenK: [Int], title: String
  ) -> Figure {
    let curves = names.indices.map { i in
      SilhouetteCurve(
        name: names[i], ks: i < ks.count ? ks[i] : [], scores: i < scores.count ? scores[i] : [],
        chosenK: i < chosenK.count ? chosenK[i] : nil)
    }
    return silhouettePlot(curves, title: title)
  }

  /// `silhouette_plot` of curves already paired with their layers.
  static func silhouettePlot(_ curves: [SilhouetteCurve], title: String) -> Figure {
    let ks = curves.flatMap { $0.ks.map(Double.init) }
    let scores = curves.flatMap(\.scores).filter(\.isFinite)
    let legend = Legend(
      title: "layer",
      entries: curves.enumerated().map { i, c in
        let chosen = c.chosenK.map { " (k = \($0))" } ?? ""
        return Legend.Entry(name: c.name + chosen, color: Palette.category(i), mark: .dot)
      })
    let probe = LinearScale(fitting: scores, start: 1, end: 0, nice: true)
    let layout = ChartLayout(
      plotWidth: 440, plotHeight: 320, title: title, yTickLabels: probe.ticks.map(probe.tickLabel),
      hasXLabel: true, hasYLabel: true,
      legendSize: curves.isEmpty ? nil : withNote("ring: chosen k", legend.size))
    let area = layout.area
    let x = LinearScale(fitting: ks, start: area.x, end: area.maxX, padding: 0.05)
      .integerTicks()
    let y = LinearScale(fitting: scores, start: area.maxY, end: area.y, nice: true)
    var document = SVGDocument(
      width: layout.width, height: layout.height, title: title,
      description: "mean silhouette against k for \(curves.count) layers")
    addBaseStyles(to: &document)
    drawTitle(title, into: &document)
    drawGrid(into: &document, area: area, x: x, y: y)
    for (i, c) in curves.enumerated() {
      let points = (0..<min(c.ks.count, c.scores.count)).map { (Double(c.ks[$0]), c.scores[$0]) }
      let color = Palette.category(i)
      drawCurve(points, color: color, dashed: false, markers: true, x: x, y: y, into: &document)
      if let k = c.chosenK, let j = c.ks.firstIndex(of: k), j < c.scores.count,
        c.scores[j].isFinite
      {
        document.add(
          "circle",
          [
            "cx": x.position(Double(k)), "cy": y.position(c.scores[j]), "r": 7.0, "fill": "none",
            "stroke": color.css, "stroke-width": 2.0,
          ])
      }
    }
    drawAxes(
      into: &document, area: area, x: x, y: y, xTitle: "k (number of clusters)",
      yTitle: "mean silhouette")
    if !curves.isEmpty {
      legend.draw(into: &document, x: layout.legendOrigin.x, y: layout.legendOrigin.y)
      document.text(
        "ring: chosen k", x: layout.legendOrigin.x,
        y: layout.legendOrigin.y + legend.size.height + 16, ["class": "sb-small"])
    }
    return Figure(kind: "silhouette_plot", document: document)
  }

  // MARK: - loss_plot

  /// `loss_plot` of one run: loss and accuracy per epoch in two panels side by side, training
  /// solid and validation dashed (see ``lossPlot(_:names:perBatch:title:)``).
  static func lossPlot(_ curves: TrainingCurves, title: String) -> Figure {
    lossPlot([curves], names: [], title: title)
  }

  /// `loss_plot`: loss and accuracy of one or several training runs, per epoch in two panels side
  /// by side, or per batch in one; training solid and validation dashed.
  ///
  /// Two panels rather than two y axes on one: loss and accuracy have unrelated units, and a
  /// second axis makes crossings of the curves look meaningful when they only reflect the choice
  /// of ranges. Each panel keeps an honest axis; the epochs line up. Without accuracy (an
  /// autoencoder) only the loss panel is drawn. One run is drawn in two colours (training,
  /// validation); several runs get a colour each, named in the legend, with a solid and a dashed
  /// grey line saying which is training and which validation.
  ///
  /// Per batch, the x axis counts batches from 1 over the whole run, the training loss of every
  /// batch is a line without markers, and the validation loss of each epoch is marked at the
  /// epoch's last batch; accuracy is left out (it is measured per epoch).
  ///
  /// - Parameters:
  ///   - loss: per run, in legend order, the training loss of each epoch (epochs from 1): one
  ///     run each.
  ///   - accuracy: per run, the training accuracy of each epoch, 0…1 (empty when not measured,
  ///     as for an autoencoder).
  ///   - validationLoss: per run, the validation loss of each epoch (empty without validation
  ///     data).
  ///   - validationAccuracy: per run, the validation accuracy of each epoch (likewise).
  ///   - batchLoss: per run, the training loss of every batch, in order (empty when not
  ///     recorded).
  ///   - names: the legend name of each run (used when there are two or more runs).
  ///   - perBatch: draws the loss of every batch instead of every epoch.
  ///   - title: the figure's title.
  /// - Returns: a figure of kind `loss_plot`.
  public static func lossPlot(
    loss: [[Double]], accuracy: [[Double]] = [], validationLoss: [[Double]] = [],
    validationAccuracy: [[Double]] = [], batchLoss: [[Double]] = [], names: [String],
    perBatch: Bool = false, title: String
  ) -> Figure {
    func run(_ values: [[Double]], _ i: Int) -> [Double] { i < values.count ? values[i] : [] }
    let runs = loss.indices.map { i in
      TrainingCurves(
        loss: loss[i], accuracy: run(accuracy, i), validationLoss: run(validationLoss, i),
        validationAccuracy: run(validationAccuracy, i), batchLoss: run(batchLoss, i))
    }
    return lossPlot(runs, names: names, perBatch: perBatch, title: title)
  }

  /// `loss_plot` of runs already gathered.
  ///
  /// - Parameter lossFit: values the loss axis fits besides the runs' own (a grid's shared
  ///   scale).
  static func lossPlot(
    _ runs: [TrainingCurves], names: [String], perBatch: Bool = false, title: String,
    lossFit: ClosedRange<Double>? = nil
  ) -> Figure {
    let epochs = max(
      runs.map {
        max($0.loss.count, $0.accuracy.count, $0.validationLoss.count, $0.validationAccuracy.count)
      }
      .max() ?? 0, 1)
    let batches = max(runs.map(\.batchLoss.count).max() ?? 0, 1)
    let hasValidation = runs.contains {
      !$0.validationLoss.isEmpty || (!perBatch && !$0.validationAccuracy.isEmpty)
    }
    let hasAccuracy =
      !perBatch && runs.contains { !$0.accuracy.isEmpty || !$0.validationAccuracy.isEmpty }
    let isSingle = runs.count <= 1
    let grey = Color(hex: 0x555555)
    func trainingColor(_ i: Int) -> Color { isSingle ? Palette.category(0) : Palette.category(i) }
    func validationColor(_ i: Int) -> Color { isSingle ? Palette.category(1) : Palette.category(i) }
    var entries: [Legend.Entry] = []
    if isSingle {
      entries.append(
        Legend.Entry(name: "training", color: trainingColor(0), mark: .line(dashed: false)))
      if hasValidation {
        entries.append(
          Legend.Entry(name: "validation", color: validationColor(0), mark: .line(dashed: true)))
      }
    } else {
      for i in runs.indices {
        let name = i < names.count ? names[i] : "run \(i + 1)"
        entries.append(
          Legend.Entry(name: name, color: trainingColor(i), mark: .line(dashed: false)))
      }
      // Which line is training and which validation, only when both are drawn: the legend lists
      // only what the plot shows.
      if hasValidation {
        entries.append(Legend.Entry(name: "training", color: grey, mark: .line(dashed: false)))
        entries.append(Legend.Entry(name: "validation", color: grey, mark: .line(dashed: true)))
      }
    }
    let legend = Legend(entries: entries)

    let panelWidth = perBatch ? 480.0 : 300.0
    let panelHeight = 260.0
    let ownLosses = runs.flatMap { (perBatch ? $0.batchLoss : $0.loss) + $0.validationLoss }
      .filter(\.isFinite)
    let lossValues = ownLosses + (lossFit.map { [$0.lowerBound, $0.upperBound] } ?? [])
    let accuracyValues = runs.flatMap { $0.accuracy + $0.validationAccuracy }.filter(\.isFinite)
    func lossScale(_ start: Double, _ end: Double) -> LinearScale {
      // Losses are non-negative: start the axis at 0 and pad only the top.
      LinearScale(
        lower: min(0, lossValues.min() ?? 0), upper: (lossValues.max() ?? 1) * 1.04,
        start: start, end: end, nice: true)
    }
    let lossProbe = lossScale(1, 0)
    let accuracyProbe = accuracyScale(accuracyValues, start: 1, end: 0)
    func leftRoom(_ scale: LinearScale) -> Double {
      let widest = scale.ticks.map { textWidth(scale.tickLabel($0), size: FontSize.tick) }.max()
      return FontSize.label + 8 + (widest ?? 0) + 4 + ChartLayout.tickLength
    }
    let top = ChartLayout.titleHeight + 10
    let lossArea = Rect(
      x: ChartLayout.pad + leftRoom(lossProbe), y: top, width: panelWidth, height: panelHeight)
    let accuracyArea = Rect(
      x: lossArea.maxX + 24 + leftRoom(accuracyProbe), y: top, width: panelWidth,
      height: panelHeight)
    let lastArea = hasAccuracy ? accuracyArea : lossArea
    let legendX = lastArea.maxX + 20
    var width = legendX + legend.size.width + ChartLayout.pad
    width = max(width, textWidth(title, size: FontSize.title, bold: true) + 2 * ChartLayout.pad)
    let height =
      top
      + max(
        panelHeight + ChartLayout.tickLength + FontSize.tick + FontSize.label + 18,
        legend.size.height)
      + ChartLayout.pad

    var document = SVGDocument(
      width: width, height: height, title: title,
      description: perBatch
        ? "training loss of every batch (\(batches) batches) of \(runs.count) run\(runs.count == 1 ? "" : "s")"
        : isSingle
          ? "training loss and accuracy over \(epochs) epochs"
          : "training loss and accuracy over \(epochs) epochs of \(runs.count) runs")
    addBaseStyles(to: &document)
    drawTitle(title, into: &document)

    // Per run, the training points and the validation points, (x, y) each.
    func panel(
      _ area: Rect, _ heading: String, _ yScale: LinearScale,
      _ series: [(train: [(Double, Double)], valid: [(Double, Double)])]
    ) {
      let steps = perBatch ? batches : epochs
      let x = LinearScale(
        fitting: [1, Double(steps)], start: area.x, end: area.maxX, padding: 0.03
      ).integerTicks()
      drawGrid(into: &document, area: area, x: x, y: yScale)
      for (i, s) in series.enumerated() {
        drawCurve(
          s.train, color: trainingColor(i), dashed: false, markers: !perBatch && epochs <= 30,
          x: x, y: yScale, into: &document)
        drawCurve(
          s.valid, color: validationColor(i), dashed: true, markers: epochs <= 30, x: x,
          y: yScale, into: &document)
      }
      drawAxes(
        into: &document, area: area, x: x, y: yScale, xTitle: perBatch ? "batch" : "epoch",
        yTitle: heading)
    }
    func byEpoch(_ values: [Double]) -> [(Double, Double)] {
      values.enumerated().map { (Double($0.offset + 1), $0.element) }
    }
    panel(
      lossArea, "loss", lossScale(lossArea.maxY, lossArea.y),
      runs.map { run in
        guard perBatch else { return (byEpoch(run.loss), byEpoch(run.validationLoss)) }
        let perEpoch = Double(max(run.batchesPerEpoch, 1))
        return (
          byEpoch(run.batchLoss),
          run.validationLoss.enumerated().map { (Double($0.offset + 1) * perEpoch, $0.element) }
        )
      })
    if hasAccuracy {
      panel(
        accuracyArea, "accuracy",
        accuracyScale(accuracyValues, start: accuracyArea.maxY, end: accuracyArea.y),
        runs.map { (byEpoch($0.accuracy), byEpoch($0.validationAccuracy)) })
    }
    legend.draw(into: &document, x: legendX, y: top)
    var figure = Figure(kind: "loss_plot", document: document)
    if let lower = ownLosses.min(), let upper = ownLosses.max() {
      figure.sharedY = Figure.SharedY(values: min(0, lower)...upper) { fit in
        lossPlot(runs, names: names, perBatch: perBatch, title: title, lossFit: fit)
      }
    }
    return figure
  }

  /// An accuracy axis: from a nice value below the lowest accuracy up to 1.
  static func accuracyScale(_ values: [Double], start: Double, end: Double) -> LinearScale {
    let lowest = min(values.min() ?? 0, 1)
    let ticks = niceTicks(lower: lowest, upper: 1, count: 5)
    let lower = max(0, floor(lowest / ticks.step + 1e-9) * ticks.step)
    return LinearScale(lower: min(lower, 1 - ticks.step), upper: 1, start: start, end: end)
  }

  // MARK: - roc

  /// `roc`: ROC curves (false positive rate against true positive rate) of several scorers, the
  /// AUROC of each in the legend, and the diagonal of a scorer that guesses.
  ///
  /// Thresholds run from the highest score down; tied scores move a curve diagonally, once. The
  /// AUROC is the trapezoidal area, equal to the Mann–Whitney probability that a positive scores
  /// above a negative, ties counting one half; a scorer without positives or without negatives
  /// gets the diagonal and 0.5.
  ///
  /// - Parameters:
  ///   - names: the name of each scorer (`knn · L2`, `softmax`): one curve each.
  ///   - scores: per scorer, one score per input, higher meaning "positive" (novel); non-finite
  ///     scores count as the lowest.
  ///   - isPositive: per scorer, whether each input is a positive (novel) one.
  ///   - title: the figure's title.
  /// - Returns: a figure of kind `roc`.
  /// - Complexity: O(n log n) per scorer.
  public static func roc(
    names: [String], scores: [[Double]], isPositive: [[Bool]], title: String
  ) -> Figure {
    let curves = names.indices.map { i in
      ROCCurve(
        name: names[i], scores: i < scores.count ? scores[i] : [],
        isPositive: i < isPositive.count ? isPositive[i] : [])
    }
    return roc(curves, title: title)
  }

  /// `roc` of curves already computed.
  static func roc(_ curves: [ROCCurve], title: String) -> Figure {
    let legend = Legend(
      entries: curves.enumerated().map { i, c in
        Legend.Entry(
          name: "\(c.name) (AUROC \(fixed(c.auroc, decimals: 2)))", color: Palette.category(i),
          mark: .line(dashed: false))
      } + [Legend.Entry(name: "chance", color: Color(hex: 0x999999), mark: .line(dashed: true))])
    let probe = LinearScale(lower: 0, upper: 1, start: 1, end: 0)
    let layout = ChartLayout(
      plotWidth: 340, plotHeight: 340, title: title, yTickLabels: probe.ticks.map(probe.tickLabel),
      hasXLabel: true, hasYLabel: true, legendSize: legend.size)
    let area = layout.area
    let x = LinearScale(lower: 0, upper: 1, start: area.x, end: area.maxX)
    let y = LinearScale(lower: 0, upper: 1, start: area.maxY, end: area.y)
    var document = SVGDocument(
      width: layout.width, height: layout.height, title: title,
      description: "ROC curves of \(curves.count) scorers")
    addBaseStyles(to: &document)
    drawTitle(title, into: &document)
    drawGrid(into: &document, area: area, x: x, y: y)
    document.add(
      "path",
      [
        "d": "M\(number(area.x)) \(number(area.maxY))L\(number(area.maxX)) \(number(area.y))",
        "stroke": "#999999", "stroke-width": 1.5, "stroke-dasharray": "4 3", "fill": "none",
      ])
    for (i, c) in curves.enumerated() {
      let points = (0..<min(c.falsePositiveRate.count, c.truePositiveRate.count)).map {
        (c.falsePositiveRate[$0], c.truePositiveRate[$0])
      }
      drawCurve(
        points, color: Palette.category(i), dashed: false, markers: false, x: x, y: y,
        into: &document)
    }
    drawAxes(
      into: &document, area: area, x: x, y: y, xTitle: "false positive rate",
      yTitle: "true positive rate")
    legend.draw(into: &document, x: layout.legendOrigin.x, y: layout.legendOrigin.y)
    return Figure(kind: "roc", document: document)
  }

  // MARK: - Curves

  /// Draws a polyline through the finite points (a non-finite one breaks it), with small dots at
  /// the points when `markers`.
  static func drawCurve(
    _ points: [(Double, Double)], color: Color, dashed: Bool, markers: Bool,
    x: any AxisScale, y: any AxisScale, into document: inout SVGDocument
  ) {
    var d = ""
    var pen = false
    var dots: [(Double, Double)] = []
    for (px, py) in points {
      guard px.isFinite, py.isFinite else {
        pen = false
        continue
      }
      let sx = x.position(px)
      let sy = y.position(py)
      d += (pen ? "L" : "M") + number(sx) + " " + number(sy)
      pen = true
      dots.append((sx, sy))
    }
    guard !d.isEmpty else { return }
    if dashed {
      document.add(
        "path",
        [
          "d": d, "stroke": color.css, "stroke-width": 2.0, "stroke-dasharray": "6 4",
          "fill": "none", "stroke-linejoin": "round",
        ])
    } else {
      document.add(
        "path",
        [
          "d": d, "stroke": color.css, "stroke-width": 2.0, "fill": "none",
          "stroke-linejoin": "round",
        ])
    }
    if markers {
      document.open("g", ["fill": color.css])
      for (sx, sy) in dots { document.add("circle", ["cx": sx, "cy": sy, "r": 3.0]) }
      document.close()
    }
  }
}
