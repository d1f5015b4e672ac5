/// A figure: an SVG document and the kind of plot it is (`scatter`, `sankey`…).
public struct Figure: Sendable, Equatable {
  /// The plot kind, used to name unnamed figures (`cell4-scatter.svg`).
  public var kind: String
  /// The title drawn at its top (empty when it has none).
  public var title: String
  /// The complete SVG document.
  public var svg: String
  /// For a plot whose y axis can be shared with other panels of a grid (line and loss plots):
  /// the values its y axis fits, and how to draw it again fitting others too.
  var sharedY: SharedY?

  /// What a grid needs to give several panels one y scale.
  struct SharedY: Sendable {
    /// The smallest and largest value the y axis fits (a loss plot's losses, 0 included).
    var values: ClosedRange<Double>
    /// The figure drawn again with a y axis that fits these values as well as its own.
    var redraw: @Sendable (ClosedRange<Double>) -> Figure
  }

  /// Creates a figure from its kind, title and SVG text.
  init(kind: String, title: String, svg: String) {
    self.kind = kind
    self.title = title
    self.svg = svg
  }

  /// Figures are equal when they draw the same: same kind, title and SVG.
  public static func == (a: Figure, b: Figure) -> Bool {
    a.kind == b.kind && a.title == b.title && a.svg == b.svg
  }
}
