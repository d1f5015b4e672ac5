import SigbookTensor

/// The projections to two dimensions: PCA, t-SNE and UMAP, each a ``Projection`` of a
/// ``PointSet`` that keeps what colours its points (labels, predictions, clusters).
extension Projection {
  /// Principal component analysis of the points, through the covariance matrix and its
  /// eigen-decomposition (Householder tridiagonalisation and implicit QL, in Double); components
  /// ordered by variance and signed so that each one's largest-magnitude entry is positive, so
  /// the result is deterministic (scikit-learn's `PCA(svd_solver="full")` up to rounding).
  ///
  /// The projection's trustworthiness is measured at k = 10 (fewer on tiny sets; none below 3
  /// points), on a seeded sample of 5,000 points above that many (it costs O(n²·d)); its details
  /// give the variance explained by the first two components.
  ///
  /// - Parameters:
  ///   - set: the points.
  ///   - clusters: the cluster of each point, when a clustering is projected.
  ///   - dims: how many components to keep, `1 ... d` (default 2).
  ///   - isCancelled: polled once per block of 1,024 rows of the covariance, about three times
  ///     per feature in the eigensolver and once per block of trustworthiness rows; when it
  ///     returns true the fit stops.
  /// - Returns: the points on the first `dims` components.
  /// - Throws: `AnalysisError.invalidDimensions` when there are fewer than two points or `dims`
  ///   is outside `1 ... d`; `.nonFiniteValues`; `.cancelled` when interrupted.
  /// - Complexity: n·d² operations for the covariance, about 9·d³ for its eigenvectors.
  public static func pca(
    _ set: PointSet, clusters: [Int]? = nil, dims: Int = 2, isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) -> Projection {
    let result = try PCA.fit(set.points, dims: dims, isCancelled: isCancelled)
    let explained = result.explainedVarianceRatio.prefix(2).map {
      NumberFormat.display($0 * 100) + "%"
    }
    // Trustworthiness costs O(n²·d): above 5,000 points it is measured on a seeded sample.
    var original = set.points, embedding = result.projected, note = ""
    if set.count > 5000 {
      var g = SeededGenerator(seed: 0)
      let rows = g.sample(5000, from: set.count).sorted()
      original = original.rows(at: rows)
      embedding = embedding.rows(at: rows)
      note = " (trustworthiness on 5,000 of the points)"
    }
    return Projection(
      points: result.projected, method: "pca", of: set, clusters: clusters,
      trustworthiness: try trustworthiness(original, embedding, isCancelled),
      details: "variance explained " + explained.joined(separator: ", ") + note)
  }

  /// t-SNE (van der Maaten and Hinton, 2008) of the points: affinities from the 3·perplexity
  /// nearest neighbours calibrated by binary search, Barnes–Hut gradients (θ = 0.5), early
  /// exaggeration 12 for the first 250 iterations, PCA initialisation (which makes the result
  /// independent of the seed, as in openTSNE). The defaults are openTSNE's and scikit-learn's.
  ///
  /// Single-threaded and deterministic: the same points and arguments give bit-identical
  /// output. The details give the final KL divergence.
  ///
  /// - Parameters:
  ///   - set: the points.
  ///   - clusters: the cluster of each point, when a clustering is projected.
  ///   - perplexity: the effective number of neighbours (default 30), lowered to (n − 1)/3 for
  ///     small sets.
  ///   - iterations: gradient steps, the exaggerated ones included (default 1,000).
  ///   - seed: the seed of the generator (used only when the points have no variance to start
  ///     from).
  ///   - measuresTrustworthiness: measures the trustworthiness at k = 10 (default true).
  ///   - progress: called with the fraction done (0…1) after every iteration.
  ///   - isCancelled: checked before every iteration; when it returns true the embedding stops.
  /// - Returns: the embedding, `[n, 2]`, centred on the origin.
  /// - Throws: `AnalysisError.tooFewInputs` for fewer than 4 points; `.nonFiniteInput`;
  ///   `.invalidArgument` for a non-positive perplexity or iteration count; `.cancelled`.
  /// - Complexity: O(n² d) for the neighbours, then O(n log n) per iteration.
  public static func tsne(
    _ set: PointSet, clusters: [Int]? = nil, perplexity: Double = 30, iterations: Int = 1000,
    seed: Int = 0, measuresTrustworthiness: Bool = true, progress: ((Double) -> Void)? = nil,
    isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) -> Projection {
    let options = TSNEOptions(perplexity: perplexity, iterations: iterations, seed: seed)
    let result = try TSNE.embed(
      set.points, options: options, progress: progress, isCancelled: isCancelled)
    let trust =
      measuresTrustworthiness
      ? try trustworthiness(set.points, result.embedding, isCancelled) : nil
    return Projection(
      points: result.embedding, method: "tsne", of: set, clusters: clusters,
      trustworthiness: trust, details: "KL divergence \(NumberFormat.display(result.klDivergence))")
  }

  /// UMAP (McInnes, Healy and Melville, 2018) of the points, following umap-learn 0.5: a fuzzy
  /// simplicial set from the nearest neighbours (exact up to 8,192 points, NN-descent above),
  /// spectral initialisation, and a seeded layout by stochastic gradient descent with negative
  /// sampling. The defaults are umap-learn's.
  ///
  /// Seeded, and independent of the number of threads: the same points and arguments give
  /// bit-identical output.
  ///
  /// - Parameters:
  ///   - set: the points.
  ///   - clusters: the cluster of each point, when a clustering is projected.
  ///   - neighbors: the size of the local neighbourhood, the point itself included (default 15).
  ///   - minDistance: how tightly points may be packed in the embedding (default 0.1).
  ///   - seed: the seed of every random choice: initial noise, negative samples, NN-descent.
  ///   - measuresTrustworthiness: measures the trustworthiness at k = 10 (default true).
  ///   - progress: called with the fraction done (0…1) after every epoch.
  ///   - isCancelled: checked before every epoch; when it returns true the embedding stops.
  /// - Returns: the embedding, `[n, 2]`.
  /// - Throws: `AnalysisError.tooFewInputs` for fewer than 4 points; `.nonFiniteInput`;
  ///   `.invalidArgument` for fewer than 2 neighbours or a negative minimum distance;
  ///   `.cancelled`.
  /// - Complexity: O(n² d) for exact neighbours (O(n k² d) per NN-descent round), then
  ///   O(epochs · edges) for the layout.
  public static func umap(
    _ set: PointSet, clusters: [Int]? = nil, neighbors: Int = 15, minDistance: Double = 0.1,
    seed: Int = 0, measuresTrustworthiness: Bool = true, progress: ((Double) -> Void)? = nil,
    isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) -> Projection {
    let options = UMAPOptions(neighbors: neighbors, minDistance: minDistance, seed: seed)
    let embedding = try UMAP.embed(
      set.points, options: options, progress: progress, isCancelled: isCancelled
    ).embedding
    return Projection(
      points: embedding, method: "umap", of: set, clusters: clusters,
      trustworthiness: measuresTrustworthiness
        ? try trustworthiness(set.points, embedding, isCancelled) : nil)
  }

  /// T(k) of `embedding` as a projection of `original` at k = 10, as every projection reports
  /// it, or fewer neighbours on tiny sets; nil below 3 points.
  ///
  /// - Throws: `AnalysisError.cancelled` when `isCancelled` returns true (the measure stops
  ///   unfinished).
  private static func trustworthiness(
    _ original: Tensor, _ embedding: Tensor, _ isCancelled: () -> Bool
  ) throws(AnalysisError) -> Double? {
    let k = min(10, (original.rows - 1) / 2)
    let trust =
      k >= 1
      ? Trustworthiness.score(
        original: original, embedding: embedding, k: k, isCancelled: isCancelled)
      : nil
    if isCancelled() { throw .cancelled }
    return trust
  }

  /// The trustworthiness T(k) of these points as a projection of `set` (Venna and Kaski, 2001;
  /// scikit-learn's `trustworthiness` with the Euclidean metric): 1 when every neighbourhood of
  /// the projection is one of the original points, about 0.5 for a random layout.
  ///
  /// - Parameters:
  ///   - set: the points that were projected, in the same order.
  ///   - k: the neighbourhood size (default 10, as the projections measure it).
  /// - Returns: T(k), at most 1.
  /// - Precondition: `set` has as many points as the projection, and `1 ≤ k < n / 2`.
  /// - Complexity: O(n² (d + k)) time.
  public func trustworthiness(of set: PointSet, k: Int = 10) -> Double {
    Trustworthiness.score(original: set.points, embedding: points, k: k)
  }
}
