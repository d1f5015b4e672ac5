extension Plot {
  /// A rectangle in pixels, y growing downwards as in SVG.
  struct Rect: Sendable, Equatable {
    /// The left edge.
    var x: Double
    /// The top edge.
    var y: Double
    /// The width (non-negative).
    var width: Double
    /// The height (non-negative).
    var height: Double

    /// A rectangle from its top-left corner and size.
    init(x: Double, y: Double, width: Double, height: Double) {
      self.x = x
      self.y = y
      self.width = width
      self.height = height
    }

    /// The right edge.
    var maxX: Double { x + width }
    /// The bottom edge.
    var maxY: Double { y + height }
    /// The horizontal centre.
    var midX: Double { x + width / 2 }
    /// The vertical centre.
    var midY: Double { y + height / 2 }
  }

  /// Font sizes of the figures, in pixels.
  enum FontSize {
    static let title = 15.0
    static let label = 12.0
    static let tick = 11.0
    static let legend = 11.0
    static let small = 10.0
  }

  /// The estimated width of `text` set in the figures' font at `size` pixels.
  ///
  /// Figures cannot measure text, so layout uses per-character advance widths of DejaVu Sans (the
  /// widest common fallback of the font stack; Helvetica, Arial and Segoe UI are narrower), so that
  /// space reserved for a label is enough in every viewer. DejaVu Sans Bold is 5–16% wider than
  /// the regular face for most characters and up to 26% for some (`f i j l r t F I J K P Y` and
  /// punctuation): a flat 10% left long titles cut at the right edge.
  static func textWidth(_ text: String, size: Double, bold: Bool = false) -> Double {
    var em = 0.0
    for scalar in text.unicodeScalars {
      em += advance(scalar) * (bold ? boldFactor(scalar) : 1)
    }
    return em * size
  }

  /// How much wider a character is in DejaVu Sans Bold than in the regular face (rounded up).
  private static func boldFactor(_ scalar: Unicode.Scalar) -> Double {
    switch scalar {
    case "f", "i", "j", "l", "r", "t", "F", "I", "J", "K", "P", "Y", "(", ")", "[", "]", ",", ".",
      ":", ";", "-", "'", "·":
      return 1.27
    default: return 1.16
    }
  }

  private static func advance(_ scalar: Unicode.Scalar) -> Double {
    let v = scalar.value
    switch v {
    case 0x30...0x39: return 0.636
    case 0x61...0x7A: return lowercase[Int(v - 0x61)]
    case 0x41...0x5A: return uppercase[Int(v - 0x41)]
    case 0x20: return 0.318
    case 0x2E, 0x2C, 0xB7: return 0.318  // . , ·
    case 0x3A, 0x3B, 0x2F: return 0.337  // : ; /
    case 0x2D: return 0.361  // -
    case 0x28, 0x29, 0x5B, 0x5D, 0x7B, 0x7D: return 0.39
    case 0x27, 0x7C: return 0.275
    case 0x22: return 0.46
    case 0x21, 0x69: return 0.4
    case 0x3C, 0x3D, 0x3E, 0x2B, 0x23, 0x7E, 0xD7: return 0.838
    case 0x26: return 0.78
    case 0x25: return 0.95
    case 0x40: return 1.0
    case 0x2080...0x2089, 0xB2, 0xB3, 0xB9: return 0.4  // sub- and superscript digits
    case 0x2192, 0x2190: return 0.838  // arrows
    case 0x2E80...0x9FFF, 0xAC00...0xD7AF, 0xF900...0xFAFF, 0xFF00...0xFFEF: return 1.0
    default: return 0.65
    }
  }

  private static let lowercase: [Double] = [
    0.613, 0.635, 0.55, 0.635, 0.615, 0.352, 0.635, 0.634, 0.278, 0.278, 0.579, 0.278, 0.974,
    0.634, 0.612, 0.635, 0.635, 0.411, 0.521, 0.392, 0.634, 0.592, 0.818, 0.592, 0.592, 0.525,
  ]
  private static let uppercase: [Double] = [
    0.684, 0.686, 0.698, 0.77, 0.632, 0.575, 0.775, 0.752, 0.295, 0.295, 0.656, 0.557, 0.863,
    0.748, 0.787, 0.603, 0.787, 0.695, 0.635, 0.611, 0.732, 0.684, 0.989, 0.685, 0.611, 0.685,
  ]

  /// Adds the CSS classes every figure shares: title, axis labels, ticks, grid, axes, legend.
  static func addBaseStyles(to document: inout SVGDocument) {
    document.style(".sb-title", "font-size: \(number(FontSize.title))px; font-weight: bold")
    document.style(".sb-label", "font-size: \(number(FontSize.label))px")
    document.style(".sb-tick", "font-size: \(number(FontSize.tick))px; fill: #444444")
    document.style(".sb-legend", "font-size: \(number(FontSize.legend))px")
    document.style(".sb-small", "font-size: \(number(FontSize.small))px")
    document.style(".sb-grid", "stroke: #e8e8e8; stroke-width: 1; fill: none")
    document.style(".sb-axis", "stroke: #555555; stroke-width: 1; fill: none")
    document.style(".sb-frame", "stroke: #bbbbbb; stroke-width: 1; fill: none")
  }

  /// Where the parts of a chart with one plot area go: title on top, y tick labels and y label on
  /// the left, x ticks and label below, legend (if any) right of the plot area, outside the data.
  struct ChartLayout {
    /// The whole figure's size.
    var width: Double
    var height: Double
    /// The plot area (the scales' pixel ranges).
    var area: Rect
    /// The top-left corner of the legend.
    var legendOrigin: (x: Double, y: Double)

    static let pad = 12.0
    static let titleHeight = 34.0
    static let tickLength = 5.0

    /// - Parameters:
    ///   - plotWidth: width of the plot area.
    ///   - plotHeight: height of the plot area.
    ///   - title: the figure's title (widens the figure if it is longer than the rest).
    ///   - yTickLabels: the y tick labels, to reserve their width.
    ///   - hasXLabel: whether an x axis title goes below the ticks.
    ///   - hasYLabel: whether a (rotated) y axis title goes left of the ticks.
    ///   - legendSize: the legend's size, `nil` for none.
    init(
      plotWidth: Double, plotHeight: Double, title: String, yTickLabels: [String],
      hasXLabel: Bool, hasYLabel: Bool, legendSize: (width: Double, height: Double)?
    ) {
      let tickWidth = yTickLabels.map { Plot.textWidth($0, size: FontSize.tick) }.max() ?? 0
      let left =
        ChartLayout.pad + (hasYLabel ? FontSize.label + 8 : 0) + tickWidth + 4
        + ChartLayout.tickLength
      let top = ChartLayout.titleHeight + 6
      let bottom =
        ChartLayout.tickLength + FontSize.tick + 6 + (hasXLabel ? FontSize.label + 10 : 0)
        + ChartLayout.pad
      var right = ChartLayout.pad + 8
      if let legend = legendSize { right = 20 + legend.width + ChartLayout.pad }
      area = Rect(x: left, y: top, width: plotWidth, height: plotHeight)
      legendOrigin = (left + plotWidth + 20, top)
      width = left + plotWidth + right
      height = top + max(plotHeight + bottom, (legendSize?.height ?? 0) + ChartLayout.pad)
      let titleWidth = Plot.textWidth(title, size: FontSize.title, bold: true)
      width = max(width, titleWidth + 2 * ChartLayout.pad)
    }
  }

  /// Draws the title at the top left of the figure.
  static func drawTitle(_ title: String, into document: inout SVGDocument) {
    guard !title.isEmpty else { return }
    document.text(title, x: ChartLayout.pad, y: 24, ["class": "sb-title"])
  }
}
