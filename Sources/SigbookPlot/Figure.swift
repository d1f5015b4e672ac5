/// A figure: an SVG document and the kind of plot it is (`scatter`, `sankey`…).
public struct Figure: Sendable, Equatable {
  /// The plot kind, used to name unnamed figures (`cell4-scatter.svg`).
  public var kind: String
  /// The title drawn at its top (empty when it has none).
  public var title: String
  /// The complete SVG document.
  public var svg: String

  /// Creates a figure from its kind, title and SVG text.
  public init(kind: String, title: String, svg: String) {
    self.kind = kind
    self.title = title
    self.svg = svg
  }
}
