/// Which inputs a novelty result scored as unusual: the selection behind
/// `where(data, novelty:, above:)`.
extension NoveltyResult {
  /// The inputs a result scored: the held-out inputs of known classes, or the novel ones.
  public enum Group: String, Sendable, CaseIterable {
    case novel, normal
  }

  /// A result from rows already scored (for tests and results read back).
  init(method: NoveltyMethod, rows: [Row], normalLabels: [String], novelLabels: [String]) {
    self.method = method
    self.rows = rows
    self.normalLabels = normalLabels
    self.novelLabels = novelLabels
  }

  /// The scores a selection reads: layer `layer` (H1 = 1), else all layers together (the
  /// network's output for `.softmax`, the only layer for a one-layer network).
  ///
  /// - Throws: `AnalysisError.invalidArgument` naming the layers scored when `layer` is not one.
  func row(layer: Int?) throws(AnalysisError) -> Row {
    guard let layer else {
      guard let last = rows.last else {
        throw .invalidArgument("the novelty result scored nothing")
      }
      return last
    }
    guard let row = rows.first(where: { $0.name == "H\(layer)" }) else {
      throw .invalidArgument(
        "the novelty result has no scores of layer \(layer); it scored "
          + rows.map(\.name).joined(separator: ", "))
    }
    return row
  }

  /// The class name of each input of a group, in the order scored.
  public func labels(of group: Group) -> [String] {
    group == .novel ? novelLabels : normalLabels
  }

  /// The inputs of `group`, by index, whose score is above `above` and below `below` (both
  /// strict), keeping only the `top` highest-scored when given.
  ///
  /// Without `top` the indices keep their order; with it they come most unusual first (ties in
  /// index order). A higher score is always more unusual, whatever the method.
  ///
  /// - Parameters:
  ///   - candidates: the indices to choose among (all inputs of the group when nil).
  /// - Throws: `AnalysisError.invalidArgument` for a layer that was not scored or a negative
  ///   `top`.
  public func inputs(
    _ group: Group, layer: Int? = nil, above: Double? = nil, below: Double? = nil,
    top: Int? = nil, among candidates: [Int]? = nil
  ) throws(AnalysisError) -> [Int] {
    let row = try row(layer: layer)
    let scores = group == .novel ? row.novelScores : row.normalScores
    if let top, top < 0 { throw .invalidArgument("top: must be at least 0, not \(top)") }
    var kept = (candidates ?? Array(scores.indices)).filter { i in
      (above.map { scores[i] > $0 } ?? true) && (below.map { scores[i] < $0 } ?? true)
    }
    if let top {
      kept.sort { a, b in scores[a] != scores[b] ? scores[a] > scores[b] : a < b }
      kept = Array(kept.prefix(top))
    }
    return kept
  }
}
