import Foundation

extension Plot {
  /// `scatter`: 2-D points coloured by category (label, cluster or prediction), with axes, a
  /// legend and a title.
  ///
  /// Each point is one `<circle>` whose colour comes from a CSS class per category (`.c0`, `.c1`…),
  /// so 10,000 points take about 550 kB. The radius shrinks with the number of points
  /// (`12 / n^¼`, between 1.2 and 4 px) and points are slightly transparent so that dense regions
  /// show. Points are drawn in a fixed pseudo-random order (a hash of their index), so that no
  /// category is always on top when the inputs are sorted by class, and the file depends only on
  /// the inputs. Points with a non-finite coordinate are left out.
  ///
  /// - Parameters:
  ///   - x: the horizontal coordinates.
  ///   - y: the vertical coordinates (up is larger).
  ///   - categories: the category index of each point (0-based; negative means "none", grey).
  ///   - names: the name of each category, by index; categories without a name show their index.
  ///   - title: the figure's title.
  ///   - xLabel: the x axis title (`PC 1`, `t-SNE 1`).
  ///   - yLabel: the y axis title.
  ///   - legendTitle: the legend's heading (`label`, `cluster`, `prediction`).
  ///   - crossed: the categories drawn as crosses instead of dots (classes the network never saw,
  ///     among the known ones), named "… (crossed)" in the legend by `crossedNote`.
  ///   - crossedNote: what the legend adds to a crossed category's name (`unseen`).
  /// - Returns: a figure of kind `scatter`. Only the first `min(x.count, y.count, categories.count)`
  ///   points are drawn.
  /// - Complexity: O(n log n) for the drawing order.
  public static func scatter(
    x: [Double], y: [Double], categories: [Int], names: [String], title: String,
    xLabel: String = "", yLabel: String = "", legendTitle: String = "", crossed: Set<Int> = [],
    crossedNote: String = "unseen"
  ) -> Figure {
    let n = min(x.count, y.count, categories.count)
    let kept = (0..<n).filter { x[$0].isFinite && y[$0].isFinite }
    let present = Set(kept.map { categories[$0] })
    let legend = categoryLegend(
      names: names, present: present, title: legendTitle, mark: .dot, crossed: crossed,
      crossedNote: crossedNote)

    let xs = kept.map { x[$0] }
    let ys = kept.map { y[$0] }
    let probe = LinearScale(fitting: ys, start: 0, end: 1)
    let layout = ChartLayout(
      plotWidth: 440, plotHeight: 400, title: title, yTickLabels: probe.ticks.map(probe.tickLabel),
      hasXLabel: !xLabel.isEmpty, hasYLabel: !yLabel.isEmpty, legendSize: legend?.size)
    let area = layout.area
    let xScale = LinearScale(fitting: xs, start: area.x, end: area.maxX)
    let yScale = LinearScale(fitting: ys, start: area.maxY, end: area.y)

    var document = SVGDocument(
      width: layout.width, height: layout.height, title: title,
      description: "scatter plot of \(kept.count) points in \(present.count) categories")
    addBaseStyles(to: &document)
    for category in present.sorted() {
      let name = category < 0 ? "sb-cx" : "sb-c\(category)"
      document.style("." + name, "fill: \(Palette.category(category).css)")
    }
    drawTitle(title, into: &document)
    drawGrid(into: &document, area: area, x: xScale, y: yScale)

    let radius = min(4, max(1.2, 12 / pow(Double(max(kept.count, 1)), 0.25)))
    let opacity = kept.count > 2000 ? 0.6 : 0.8
    document.reserveCapacity(kept.count * 56)
    document.open("g", ["class": "sb-points", "fill-opacity": opacity])
    // Crosses after the dots, opaque and a little larger, so that the few marked inputs show
    // among many known ones.
    let order = drawingOrder(kept)
    for i in order where !crossed.contains(categories[i]) {
      let category = categories[i]
      document.add(
        "circle",
        [
          "cx": xScale.position(x[i]), "cy": yScale.position(y[i]), "r": radius,
          "class": category < 0 ? "sb-cx" : "sb-c\(category)",
        ])
    }
    document.close()
    if !crossed.isEmpty {
      document.open("g", ["class": "sb-crosses", "stroke-width": 1.5])
      for i in order where crossed.contains(categories[i]) {
        document.add(
          "path",
          [
            "d": crossPath(x: xScale.position(x[i]), y: yScale.position(y[i]), r: radius * 1.3),
            "stroke": Palette.category(categories[i]).css,
          ])
      }
      document.close()
    }
    drawAxes(into: &document, area: area, x: xScale, y: yScale, xTitle: xLabel, yTitle: yLabel)
    legend?.draw(into: &document, x: layout.legendOrigin.x, y: layout.legendOrigin.y)
    return Figure(kind: "scatter", document: document)
  }

  /// An SVG path of a diagonal cross centred at (x, y), `r` from the centre to each end along
  /// each axis.
  static func crossPath(x: Double, y: Double, r: Double) -> String {
    func n(_ v: Double) -> String { number(v) }
    return
      "M\(n(x - r)) \(n(y - r))L\(n(x + r)) \(n(y + r))M\(n(x - r)) \(n(y + r))L\(n(x + r)) \(n(y - r))"
  }

  /// The legend of categorical colours: every named category, then any unnamed one present.
  ///
  /// - Parameters:
  ///   - crossed: categories drawn as crosses, their names followed by `(crossedNote)`.
  static func categoryLegend(
    names: [String], present: Set<Int>, title: String, mark: Legend.Mark,
    crossed: Set<Int> = [], crossedNote: String = ""
  ) -> Legend? {
    var indices = Array(names.indices)
    indices += present.filter { $0 >= names.count }.sorted()
    if present.contains(where: { $0 < 0 }) { indices.append(-1) }
    guard !indices.isEmpty else { return nil }
    let entries = indices.map { i in
      Legend.Entry(
        name: (i < 0 ? "none" : i < names.count ? names[i] : String(i))
          + (crossed.contains(i) ? " (\(crossedNote))" : ""),
        color: Palette.category(i), mark: crossed.contains(i) ? .cross : mark)
    }
    return Legend(title: title, entries: entries)
  }

  /// The indices in a fixed order that mixes categories: sorted by a hash of the index
  /// (SplitMix64's finaliser), which is the same on every run and machine.
  static func drawingOrder(_ indices: [Int]) -> [Int] {
    func mix(_ i: Int) -> UInt64 {
      var z: UInt64 = UInt64(truncatingIfNeeded: i) &+ 0x9E37_79B9_7F4A_7C15
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    var keyed: [(index: Int, key: UInt64)] = indices.map { ($0, mix($0)) }
    keyed.sort { a, b in a.key != b.key ? a.key < b.key : a.index < b.index }
    return keyed.map(\.index)
  }
}
