/// An error a user can cause when clustering or projecting data: too few points for the number
/// of clusters or dimensions asked for, or for the method, values that are not finite numbers, or
/// an argument out of its range.
///
/// Every message is complete on its own, so the evaluator only adds the workbook location:
/// `cannot make 10 clusters of 6 points`.
public enum AnalysisError: Error, Equatable, Sendable, CustomStringConvertible {
  /// More clusters asked for than there are points.
  case tooFewPoints(points: Int, clusters: Int)
  /// More clusters asked for than there are distinct points (identical signatures, say).
  case tooFewDistinctPoints(points: Int, distinct: Int, clusters: Int)
  /// A number of clusters below 1.
  case invalidClusterCount(Int)
  /// A PCA with fewer than two points, or a number of dimensions outside `1 ... features`.
  case invalidDimensions(dims: Int, points: Int, features: Int)
  /// A projection (`tsne`, `umap`) needs more points than it was given.
  case tooFewInputs(method: String, needed: Int, found: Int)
  /// The data hold NaN or infinite values (a network whose training diverged, say).
  case nonFiniteValues(what: String)
  /// The points given to a projection (`tsne`, `umap`) hold NaN or infinite values.
  case nonFiniteInput(method: String)
  /// An argument outside its valid range; the message says which and why.
  case invalidArgument(String)
  /// The user stopped the computation (Ctrl-C).
  case cancelled

  /// The complete message, lower case.
  public var description: String {
    switch self {
    case .tooFewPoints(let points, let clusters):
      return "cannot make \(clusters) clusters of \(points) point\(points == 1 ? "" : "s")"
    case .tooFewDistinctPoints(let points, let distinct, let clusters):
      return "cannot make \(clusters) clusters of \(points) points: only \(distinct) of them "
        + "\(distinct == 1 ? "is" : "are") distinct"
    case .invalidClusterCount(let k):
      return "the number of clusters must be at least 1, not \(k)"
    case .invalidDimensions(let dims, let points, let features):
      if points < 2 { return "pca needs at least 2 points, not \(points)" }
      return "pca of \(features) features can keep 1 to \(features) dimensions, not \(dims)"
    case .tooFewInputs(let method, let needed, let found):
      return "\(method) needs at least \(needed) inputs but got \(found)"
    case .nonFiniteValues(let what):
      return "\(what) holds values that are not finite numbers (NaN or infinity)"
    case .nonFiniteInput(let method):
      return "\(method) input contains NaN or infinite values"
    case .cancelled:
      return "interrupted"
    case .invalidArgument(let message):
      return message
    }
  }
}
