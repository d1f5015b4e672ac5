import SigbookTensor

/// k-means for each of several numbers of clusters, the best k chosen by mean silhouette.
///
/// Every k is fitted by ``KMeans/fit(_:k:restarts:maxIterations:tolerance:seed:)`` with the same
/// seed, so the clustering for k = 3 in a sweep over 2...10 is the one `KMeans.fit(x, k: 3)` gives.
/// The data are centred once for all k; the mean silhouettes of all clusterings come from one
/// shared pass over the pairwise distances (see ``Silhouette``), exact or over one seeded sample.
/// The chosen k has the highest mean silhouette, the smaller k on ties; k = 1 (or k = n) has no
/// silhouette and is chosen only when nothing else is defined.
public struct KMeansSweep: Sendable {
  /// One k of the sweep.
  public struct Entry: Sendable, Equatable {
    /// The number of clusters.
    public let k: Int
    /// Its best clustering over the restarts.
    let result: KMeansResult
    /// Its mean silhouette, `nil` where undefined (k = 1 or k = n).
    public let silhouette: Double?
    /// Its inertia, `Σᵢ ‖xᵢ − c(xᵢ)‖²`.
    var inertia: Double { result.inertia }
  }

  /// One entry per k, in the order asked for.
  let entries: [Entry]
  /// The index in `entries` of the chosen k.
  let bestIndex: Int

  /// The chosen entry.
  public var best: Entry { entries[bestIndex] }

  /// Fits every k of `ks` and keeps the one of best mean silhouette.
  ///
  /// - Parameters:
  ///   - x: the points, `[n, d]` (any rank: rows are the first dimension, features the rest).
  ///   - ks: the numbers of clusters to try, each in `1 ... n`, at least one.
  ///   - restarts: k-means runs per k, the best by inertia kept (default 10).
  ///   - maxIterations: the cap on Lloyd iterations per run (default 300).
  ///   - tolerance: the centre-shift tolerance relative to the mean feature variance (1e-4).
  ///   - silhouetteSample: when given and below n, the silhouettes are over that many points drawn
  ///     once (seeded) for all k, as scikit-learn's `sample_size`; by default exact.
  ///   - seed: determines every random choice.
  ///   - progress: called after each k is fitted and once after the silhouettes, with the steps
  ///     done and the total (`ks.count + 1`), for a progress bar.
  ///   - isCancelled: checked before each k's restarts (which run concurrently) and every block
  ///     of silhouettes; when it returns true the sweep stops with `.cancelled`.
  /// - Throws: `AnalysisError` for an empty `ks`, a k outside `1 ... n`, data that are not finite,
  ///   or the other arguments out of range; a single k beyond the number of distinct points.
  ///   Of several ks, those beyond the number of distinct points are left out (an error when
  ///   that leaves none).
  /// - Complexity: the k-means fits plus 2·m²·(d + Σk) operations in GEMM for the silhouettes,
  ///   m = min(n, silhouetteSample).
  public init(
    _ x: Tensor, ks: [Int], restarts: Int = 10, maxIterations: Int = 300,
    tolerance: Double = 1e-4, silhouetteSample: Int? = nil, seed: Int = 0,
    progress: ((_ done: Int, _ total: Int) -> Void)? = nil, isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) {
    guard !ks.isEmpty else { throw .invalidArgument("a k-means sweep needs at least one k") }
    let data = try KMeansData(x)
    for k in ks {
      try KMeans.validate(
        k: k, points: data.n, restarts: restarts, maxIterations: maxIterations,
        tolerance: tolerance)
    }
    // A range reaching past the number of distinct points stops there; a single k that does is
    // refused by `KMeans.fit`.
    var ks = ks
    if ks.count > 1, let largest = ks.max() {
      let distinct = data.distinctRowCount(atMost: largest)
      let possible = ks.filter { $0 <= distinct }
      guard !possible.isEmpty else {
        throw .tooFewDistinctPoints(
          points: data.n, distinct: distinct, clusters: ks.min() ?? largest)
      }
      ks = possible
    }
    var results: [KMeansResult] = []
    for k in ks {
      results.append(
        try KMeans.fit(
          data, k: k, restarts: restarts, maxIterations: maxIterations, tolerance: tolerance,
          seed: seed, isCancelled: isCancelled))
      progress?(results.count, ks.count + 1)
    }
    // The sample for the silhouettes is drawn from its own stream, apart from the k-means seeds.
    let silhouettes = try Silhouette.means(
      centred: data.values, points: data.n, features: data.d,
      labelings: results.map(\.assignments), sample: silhouetteSample,
      seed: seed ^ 0x5349_4C48, isCancelled: isCancelled)
    progress?(ks.count + 1, ks.count + 1)
    entries = zip(ks, zip(results, silhouettes)).map {
      Entry(k: $0.0, result: $0.1.0, silhouette: $0.1.1)
    }
    bestIndex = Self.choose(entries)
  }

  /// Fits every k of a range, as
  /// ``init(_:ks:restarts:maxIterations:tolerance:silhouetteSample:seed:progress:)``.
  init(
    _ x: Tensor, k: ClosedRange<Int>, restarts: Int = 10, maxIterations: Int = 300,
    tolerance: Double = 1e-4, silhouetteSample: Int? = nil, seed: Int = 0,
    progress: ((_ done: Int, _ total: Int) -> Void)? = nil
  ) throws(AnalysisError) {
    try self.init(
      x, ks: Array(k), restarts: restarts, maxIterations: maxIterations, tolerance: tolerance,
      silhouetteSample: silhouetteSample, seed: seed, progress: progress)
  }

  /// The highest silhouette, the smaller k on ties; the first entry when none is defined.
  static func choose(_ entries: [Entry]) -> Int {
    var best: Int?
    for (i, e) in entries.enumerated() {
      guard let s = e.silhouette else { continue }
      if let b = best, let sb = entries[b].silhouette {
        if s > sb || (s == sb && e.k < entries[b].k) { best = i }
      } else {
        best = i
      }
    }
    return best ?? 0
  }
}
