import SigbookTensor

/// Points projected to two dimensions, keeping what colours them: labels, predictions and
/// clusters.
public struct Projection: Sendable {
  /// `[n, 2]`.
  public var points: Tensor
  /// How they were projected: `pca`, `tsne`, `umap`.
  public var method: String
  /// What was projected: `H2`, `mnist_sample`.
  public var source: String
  public var labels: [Int]
  public var classNames: [String]
  public var predictions: [Int]?
  public var predictionNames: [String]
  /// The cluster of each point, when a clustering was projected.
  public var clusters: [Int]?
  /// How well the projection keeps neighbourhoods (k = 10), in [0, 1].
  public var trustworthiness: Double?
  /// A line on the method's own measures (variance explained, KL divergence…).
  var details: String

  init(
    points: Tensor, method: String, of set: PointSet, clusters: [Int]? = nil,
    trustworthiness: Double? = nil, details: String = ""
  ) {
    self.points = points
    self.method = method
    self.source = set.name
    self.labels = set.labels
    self.classNames = set.classNames
    self.predictions = set.predictions
    self.predictionNames = set.predictionNames
    self.clusters = clusters
    self.trustworthiness = trustworthiness
    self.details = details
  }

  public var count: Int { labels.count }

  /// The projection as a table row summary (shown when displayed).
  public var summary: String {
    var text = "\(method) of \(source): \(NumberFormat.grouped(count)) points in 2-D"
    if let trustworthiness {
      text += " · trustworthiness \(NumberFormat.display(trustworthiness)) (k = 10)"
    }
    if !details.isEmpty { text += " · " + details }
    return text
  }
}
