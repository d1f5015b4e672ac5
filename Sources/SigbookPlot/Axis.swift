extension Plot {
  /// Draws light grid lines across `area` at the ticks of the scales given (one `<path>` each).
  ///
  /// Draw it before the data so that marks cover the grid.
  static func drawGrid(
    into document: inout SVGDocument, area: Rect, x: (any AxisScale)?, y: (any AxisScale)?
  ) {
    var d = ""
    if let x {
      for t in x.ticks {
        let px = x.position(t)
        guard px >= area.x - 0.01, px <= area.maxX + 0.01 else { continue }
        d += "M\(number(px)) \(number(area.y))V\(number(area.maxY))"
      }
    }
    if let y {
      for t in y.ticks {
        let py = y.position(t)
        guard py >= area.y - 0.01, py <= area.maxY + 0.01 else { continue }
        d += "M\(number(area.x)) \(number(py))H\(number(area.maxX))"
      }
    }
    if !d.isEmpty { document.add("path", ["class": "sb-grid", "d": d]) }
  }

  /// Draws an x axis along the bottom of `area`: the line, ticks pointing down, tick labels and
  /// the axis title centred below them.
  ///
  /// Tick labels that would overlap their neighbours are thinned (every second, third… tick keeps
  /// its label) so that they stay readable.
  static func drawXAxis(
    into document: inout SVGDocument, area: Rect, scale: any AxisScale, title: String
  ) {
    let y0 = area.maxY
    var d = "M\(number(area.x)) \(number(y0))H\(number(area.maxX))"
    let ticks = scale.ticks.filter {
      let px = scale.position($0)
      return px >= area.x - 0.01 && px <= area.maxX + 0.01
    }
    for t in ticks {
      d += "M\(number(scale.position(t))) \(number(y0))v\(number(ChartLayout.tickLength))"
    }
    document.add("path", ["class": "sb-axis", "d": d])
    let labels = ticks.map { scale.tickLabel($0) }
    let every = labelStride(
      positions: ticks.map { scale.position($0) },
      widths: labels.map { textWidth($0, size: FontSize.tick) })
    for (i, t) in ticks.enumerated() where i % every == 0 {
      document.text(
        labels[i], x: scale.position(t), y: y0 + ChartLayout.tickLength + FontSize.tick + 2,
        ["class": "sb-tick", "text-anchor": "middle"])
    }
    if !title.isEmpty {
      document.text(
        title, x: area.midX,
        y: y0 + ChartLayout.tickLength + FontSize.tick + 8 + FontSize.label,
        ["class": "sb-label", "text-anchor": "middle"])
    }
  }

  /// Draws a y axis along the left of `area`: the line, ticks pointing left, right-aligned tick
  /// labels and the axis title turned a quarter left, `titleOffset` pixels left of the axis.
  static func drawYAxis(
    into document: inout SVGDocument, area: Rect, scale: any AxisScale, title: String,
    titleOffset: Double? = nil
  ) {
    let x0 = area.x
    var d = "M\(number(x0)) \(number(area.y))V\(number(area.maxY))"
    let ticks = scale.ticks.filter {
      let py = scale.position($0)
      return py >= area.y - 0.01 && py <= area.maxY + 0.01
    }
    for t in ticks {
      d += "M\(number(x0)) \(number(scale.position(t)))h\(number(-ChartLayout.tickLength))"
    }
    document.add("path", ["class": "sb-axis", "d": d])
    let labels = ticks.map { scale.tickLabel($0) }
    // Vertical labels collide when ticks are closer than a line of text.
    let every = labelStride(
      positions: ticks.map { -scale.position($0) },
      widths: labels.map { _ in FontSize.tick + 2 })
    for (i, t) in ticks.enumerated() where i % every == 0 {
      document.text(
        labels[i], x: x0 - ChartLayout.tickLength - 3,
        y: scale.position(t) + FontSize.tick * 0.35,
        ["class": "sb-tick", "text-anchor": "end"])
    }
    if !title.isEmpty {
      let widest = labels.map { textWidth($0, size: FontSize.tick) }.max() ?? 0
      let offset = titleOffset ?? (ChartLayout.tickLength + 4 + widest + 8)
      let tx = x0 - offset
      let ty = area.midY
      document.text(
        title, x: tx, y: ty,
        [
          "class": "sb-label", "text-anchor": "middle",
          "transform": "rotate(-90 \(number(tx)) \(number(ty)))",
        ])
    }
  }

  /// Draws a y axis and an x axis for `area` (see ``drawXAxis(into:area:scale:title:)``).
  static func drawAxes(
    into document: inout SVGDocument, area: Rect, x: any AxisScale, y: any AxisScale,
    xTitle: String, yTitle: String
  ) {
    drawYAxis(into: &document, area: area, scale: y, title: yTitle)
    drawXAxis(into: &document, area: area, scale: x, title: xTitle)
  }

  /// The smallest k such that labels at every k-th position do not overlap (3 px apart at least).
  static func labelStride(positions: [Double], widths: [Double]) -> Int {
    guard positions.count > 1 else { return 1 }
    for k in 1..<positions.count {
      var fits = true
      var i = 0
      while i + k < positions.count {
        let gap = abs(positions[i + k] - positions[i])
        if gap < (widths[i] + widths[i + k]) / 2 + 3 {
          fits = false
          break
        }
        i += k
      }
      if fits { return k }
    }
    return positions.count
  }

  /// The smallest of 1, 2, 5, 10, 20, 50… that is at least `k`.
  static func niceStride(_ k: Int) -> Int {
    var base = 1
    while true {
      for m in [1, 2, 5] where m * base >= k { return m * base }
      base *= 10
    }
  }
}
