extension Plot {
  /// A legend: an optional title and one row per entry, a mark in the entry's colour and its name.
  ///
  /// Figures place it right of the plot area, so it never covers data.
  struct Legend: Sendable {
    /// How an entry is marked.
    enum Mark: Sendable {
      /// A filled circle (points).
      case dot
      /// A short line, dashed or solid (curves).
      case line(dashed: Bool)
      /// A filled square (regions, ribbons).
      case box
      /// A diagonal cross (points of classes marked apart: unseen ones).
      case cross
    }

    /// One row of the legend.
    struct Entry: Sendable {
      /// The text shown.
      var name: String
      /// The mark's colour.
      var color: Color
      /// The mark.
      var mark: Mark
      /// The mark's opacity, as the marks it stands for (translucent ribbons).
      var opacity: Double

      /// An entry from its text, colour, mark and opacity.
      init(name: String, color: Color, mark: Mark, opacity: Double = 1) {
        self.name = name
        self.color = color
        self.mark = mark
        self.opacity = opacity
      }
    }

    /// A heading above the entries (`label`, `cluster`…), left out when empty.
    var title: String
    /// The rows, in order.
    var entries: [Entry]

    static let rowHeight = 18.0
    static let markWidth = 18.0

    /// A legend from its heading and rows.
    init(title: String = "", entries: [Entry]) {
      self.title = title
      self.entries = entries
    }

    /// The legend's estimated size in pixels.
    var size: (width: Double, height: Double) {
      let names = entries.map { textWidth($0.name, size: FontSize.legend) }.max() ?? 0
      let heading = title.isEmpty ? 0 : textWidth(title, size: FontSize.legend, bold: true)
      let width = max(Legend.markWidth + 6 + names, heading)
      let height = Double(entries.count) * Legend.rowHeight + (title.isEmpty ? 0 : Legend.rowHeight)
      return (width, height)
    }

    /// Draws the legend with its top-left corner at (x, y).
    func draw(into document: inout SVGDocument, x: Double, y: Double) {
      document.open("g", ["class": "sb-legend"])
      var rowY = y
      if !title.isEmpty {
        document.text(title, x: x, y: rowY + 12, ["font-weight": "bold"])
        rowY += Legend.rowHeight
      }
      for entry in entries {
        let cy = rowY + Legend.rowHeight / 2
        let color = entry.color.css
        switch entry.mark {
        case .dot:
          document.add("circle", ["cx": x + 9, "cy": cy, "r": 4.5, "fill": color])
        case .cross:
          document.add(
            "path",
            ["d": Plot.crossPath(x: x + 9, y: cy, r: 4.5), "stroke": color, "stroke-width": 2])
        case .box:
          if entry.opacity < 1 {
            document.add(
              "rect",
              [
                "x": x + 3, "y": cy - 6, "width": 12.0, "height": 12.0, "fill": color,
                "fill-opacity": entry.opacity,
              ])
          } else {
            document.add(
              "rect", ["x": x + 3, "y": cy - 6, "width": 12.0, "height": 12.0, "fill": color])
          }
        case .line(let dashed):
          if dashed {
            document.add(
              "path",
              [
                "d": "M\(number(x)) \(number(cy))h\(number(Legend.markWidth))", "stroke": color,
                "stroke-width": 2.0, "stroke-dasharray": "4 3", "fill": "none",
              ])
          } else {
            document.add(
              "path",
              [
                "d": "M\(number(x)) \(number(cy))h\(number(Legend.markWidth))", "stroke": color,
                "stroke-width": 2.0, "fill": "none",
              ])
          }
        }
        document.text(entry.name, x: x + Legend.markWidth + 6, y: cy + FontSize.legend * 0.35)
        rowY += Legend.rowHeight
      }
      document.close()
    }
  }

  /// The size of a legend with a line of small text under it (`ring: chosen k`); none when empty.
  static func withNote(
    _ note: String, _ size: (width: Double, height: Double)
  ) -> (width: Double, height: Double) {
    guard !note.isEmpty else { return size }
    return (max(size.width, textWidth(note, size: FontSize.small)), size.height + 20)
  }
}
