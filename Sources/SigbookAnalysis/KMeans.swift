import SigbookTensor

/// One k-means clustering of a set of points: its centres, the cluster of every point and the
/// within-cluster sum of squares.
public struct KMeansResult: Sendable, Equatable {
  /// The number of clusters asked for. After the last assignment step a cluster may be left
  /// without points (when the data hold fewer distinct points than k, say, as in scikit-learn);
  /// `clusterSizes` tells.
  let k: Int
  /// The centres, `[k, d]`, in the coordinates of the data.
  public let centres: Tensor
  /// The cluster of each point, in `0 ..< k`.
  public let assignments: [Int]
  /// The inertia `Σᵢ ‖xᵢ − c(xᵢ)‖²`: the sum of squared distances of the points to the centres of
  /// their clusters, computed directly (not through the GEMM expansion) in Double.
  public let inertia: Double
  /// The Lloyd iterations run by the best restart.
  let iterations: Int
  /// Whether the best restart's transfers ended with a pass that moved no point, rather than at
  /// the cap on passes.
  let converged: Bool

  /// Creates a result from its parts.
  init(
    k: Int, centres: Tensor, assignments: [Int], inertia: Double, iterations: Int,
    converged: Bool
  ) {
    self.k = k
    self.centres = centres
    self.assignments = assignments
    self.inertia = inertia
    self.iterations = iterations
    self.converged = converged
  }

  /// The number of points in each cluster, `[k]`.
  public var clusterSizes: [Int] {
    var sizes = [Int](repeating: 0, count: k)
    for a in assignments { sizes[a] += 1 }
    return sizes
  }

  /// Puts new points into the existing clusters: the index of the nearest centre (Euclidean) of
  /// each row of `x`, the first one on ties.
  ///
  /// - Parameter x: `[m, d]` with the same number of features as the centres.
  /// - Returns: `m` cluster indices in `0 ..< k`.
  /// - Precondition: `x` has `d` features.
  /// - Complexity: 2·m·k·d operations, by `CentreProducts` or one GEMM per block of rows.
  func assign(_ x: Tensor) -> [Int] {
    let d = centres.rowSize
    precondition(x.rowSize == d, "assigning \(x.shape) to centres \(centres.shape)")
    let m = x.rows
    var labels = [Int](repeating: 0, count: m)
    var distances = [Float](repeating: 0, count: m)
    x.withUnsafeBufferPointer { px in
      centres.withUnsafeBufferPointer { pc in
        let norms = Distances.rowSquaredNorms(px, rows: m, columns: d)
        // Packed as the fit packs its data, so that points seen in the fit get its labels.
        let panels =
          CentreProducts.variant(centres: k) == nil
          ? [] : CentreProducts.pack(px, rows: m, columns: d)
        labels.withUnsafeMutableBufferPointer { l in
          distances.withUnsafeMutableBufferPointer { dist in
            norms.withUnsafeBufferPointer { xn in
              panels.withUnsafeBufferPointer { p in
                KMeans.assignNearest(
                  x: px, panels: p.isEmpty ? nil : p.baseAddress, norms: xn, features: d,
                  centres: pc, k: k, labels: l, distances: dist)
              }
            }
          }
        }
      }
    }
    return labels
  }
}

/// k-means clustering: k-means++ seeding, Lloyd iterations, single-point transfers, best of
/// several seeded restarts.
///
/// The algorithm follows scikit-learn's `KMeans(init="k-means++", algorithm="lloyd")`, then
/// improves each run's end point with Hartigan's transfers, so that the best of the restarts
/// lands in minima as low as scikit-learn's or lower (within 0.5% of `KMeans(n_init=10)`'s
/// inertia on real signatures, k = 2…10; `KMeansReferenceTests`):
/// - **Seeding**: greedy k-means++ (Arthur and Vassilvitskii, "k-means++: the advantages of careful
///   seeding", SODA 2007). The first centre is a uniformly drawn point; each further centre is the
///   best, by resulting potential `Σᵢ min_c ‖xᵢ − c‖²`, of `2 + ⌊ln k⌋` candidates drawn with
///   probability proportional to their squared distance to the nearest chosen centre.
/// - **Lloyd iterations**: assign each point to its nearest centre, move each centre to the mean
///   of its points. Distances are `‖x‖² − 2·x·c + ‖c‖²` with the cross terms one GEMM per block of
///   rows (about 1 MB, summed into the centres while in cache; memory stays O(block · k) whatever
///   n), on data centred at their mean for accuracy.
/// - **Stopping Lloyd**: when the assignments no longer change, when at most 2% of the points
///   changed cluster, when the squared centre shift `Σ_c ‖c_new − c_old‖²` is at most
///   `tolerance × (mean variance of the features)`, or after `maxIterations`.
/// - **Transfers** (Hartigan and Wong 1979; ``transfer(_:run:k:maxPasses:isCancelled:)``): a
///   point moves to another cluster whenever that lowers the inertia, both centres updated at
///   once, until a pass over the points moves none (at most `maxIterations` passes). This
///   finishes what Lloyd's last iterations would do, and also leaves the minima of Lloyd's where
///   moving a point lowers the inertia though its own centre is the nearest. Centres are the
///   means of their points at the end.
/// - **Empty clusters**: a cluster left without points takes the point farthest from its centre
///   (among clusters of two or more points; ties to the lower index), as in scikit-learn.
/// - **Restarts**: the run of least inertia is kept (ties to the earlier run). Restart `r` is
///   seeded by the `r`-th number of `SeededGenerator(seed: seed)`: results depend on the seed only.
enum KMeans {
  /// Clusters the rows of `x` into `k` clusters.
  ///
  /// - Parameters:
  ///   - x: the points, `[n, d]` (any rank: rows are the first dimension, features the rest).
  ///   - k: the number of clusters, `1 ... n`.
  ///   - restarts: runs from different seedings, the best by inertia kept (default 10); they
  ///     run concurrently, with the same result on any number of cores.
  ///   - maxIterations: the cap on Lloyd iterations per run, and on passes of transfers
  ///     (default 300).
  ///   - tolerance: the centre-shift tolerance, relative to the mean variance of the features
  ///     (default 1e-4, as scikit-learn).
  ///   - seed: determines every random choice.
  /// - Returns: the best run's clustering.
  /// - Throws: `AnalysisError` when `k < 1`, `n < k`, the data hold fewer than k distinct
  ///   points, the data are not finite, or `restarts`, `maxIterations` or `tolerance` are out of
  ///   range.
  /// - Complexity: per Lloyd iteration 2·n·k·d operations in GEMM plus O(n·(k + d)); per pass of
  ///   transfers the same GEMM plus O(n·k), and O(k·d) for every point that moves.
  static func fit(
    _ x: Tensor, k: Int, restarts: Int = 10, maxIterations: Int = 300, tolerance: Double = 1e-4,
    seed: Int = 0, isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) -> KMeansResult {
    let data = try KMeansData(x)
    return try fit(
      data, k: k, restarts: restarts, maxIterations: maxIterations, tolerance: tolerance,
      seed: seed, isCancelled: isCancelled)
  }

  /// `fit` on data prepared once (centred, with row norms), shared by the sweep over k.
  static func fit(
    _ data: KMeansData, k: Int, restarts: Int, maxIterations: Int, tolerance: Double, seed: Int,
    isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) -> KMeansResult {
    try validate(
      k: k, points: data.n, restarts: restarts, maxIterations: maxIterations,
      tolerance: tolerance)
    // Fewer distinct points than clusters would leave a cluster empty, or split identical points.
    let distinct = data.distinctRowCount(atMost: k)
    guard distinct >= k else {
      throw .tooFewDistinctPoints(points: data.n, distinct: distinct, clusters: k)
    }
    var master = SeededGenerator(seed: seed)
    let seeds = (0..<restarts).map { _ in master.next() }
    if isCancelled() { throw .cancelled }
    // The restarts are independent fits on all cores (ParallelFits); the best is picked in
    // restart order, so the result is the same on any number of cores. Once the caller's check
    // says stop, every restart stops at its next check.
    let shiftTolerance = tolerance * data.meanVariance
    // Lloyd's iterations until at most 2% of the points change cluster, then transfers.
    let handOff = data.n / 50
    let runs = ParallelFits.map(restarts, isCancelled: isCancelled) { r, check -> LloydRun? in
      var generator = SeededGenerator(seed: seeds[r])
      guard
        let initial = try? seedCentres(data, k: k, generator: &generator, isCancelled: check)
      else { return nil }
      guard
        let run = try? lloyd(
          data, centres: initial, k: k, maxIterations: maxIterations,
          shiftTolerance: shiftTolerance, handOff: handOff, isCancelled: check)
      else { return nil }
      return try? transfer(data, run: run, k: k, maxPasses: maxIterations, isCancelled: check)
    }
    var best: LloydRun?
    for run in runs {
      guard let run else { throw .cancelled }
      if let b = best, b.inertia <= run.inertia { continue }
      best = run
    }
    guard let best else { throw .invalidArgument("k-means needs at least 1 restart") }
    return data.result(of: best, k: k)
  }

  static func validate(
    k: Int, points n: Int, restarts: Int, maxIterations: Int, tolerance: Double
  ) throws(AnalysisError) {
    guard k >= 1 else { throw .invalidClusterCount(k) }
    guard n >= k else { throw .tooFewPoints(points: n, clusters: k) }
    guard restarts >= 1 else {
      throw .invalidArgument("restarts must be at least 1, not \(restarts)")
    }
    guard maxIterations >= 1 else {
      throw .invalidArgument("the iteration cap must be at least 1, not \(maxIterations)")
    }
    guard tolerance >= 0, tolerance.isFinite else {
      throw .invalidArgument("tolerance must be a finite number ≥ 0, not \(tolerance)")
    }
  }
}

/// Data prepared once for k-means: centred rows, their squared norms and the scale of the
/// tolerance. A sweep over k prepares once and fits every k from it.
struct KMeansData: Sendable {
  let n: Int
  let d: Int
  /// The rows minus their mean, `[n · d]`.
  let values: [Float]
  /// The column means that were subtracted.
  let mean: [Double]
  /// `‖xᵢ − mean‖²` per row.
  let norms: [Float]
  /// `values` packed for the centre-product kernels (``CentreProducts/pack(_:rows:columns:)``),
  /// empty where no variant of them runs.
  let panels: [Float]
  /// The mean over features of their (population) variances: `Σᵢ ‖xᵢ − mean‖² / (n · d)`.
  let meanVariance: Double

  init(_ x: Tensor) throws(AnalysisError) {
    guard x.isFinite else { throw .nonFiniteValues(what: "the data to cluster") }
    n = x.rows
    d = x.rowSize
    (values, mean) = Distances.centred(x)
    norms = values.withUnsafeBufferPointer {
      Distances.rowSquaredNorms($0, rows: x.rows, columns: x.rowSize)
    }
    panels =
      VectorVariant.best == nil
      ? []
      : values.withUnsafeBufferPointer { CentreProducts.pack($0, rows: x.rows, columns: x.rowSize) }
    var total = 0.0
    for v in norms { total += Double(v) }
    meanVariance = n * d > 0 ? total / Double(n * d) : 0
  }

  /// `body` with the packed points, or nil where there are none.
  func withPanels<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
    panels.withUnsafeBufferPointer { p in body(p.isEmpty ? nil : p.baseAddress) }
  }

  /// The number of distinct rows, counting no further than `limit`.
  ///
  /// Each row is compared with the distinct rows found so far: O(n · limit · d) at worst, and
  /// usually a few rows suffice to reach the limit.
  func distinctRowCount(atMost limit: Int) -> Int {
    var found: [Int] = []
    values.withUnsafeBufferPointer { v in
      for i in 0..<n where found.count < limit {
        let isNew = found.allSatisfy { r in
          (0..<d).contains { j in v[i * d + j] != v[r * d + j] }
        }
        if isNew { found.append(i) }
      }
    }
    return found.count
  }

  /// A run's result in the coordinates of the original data.
  func result(of run: KMeans.LloydRun, k: Int) -> KMeansResult {
    var centres = run.centres
    for c in 0..<k {
      for j in 0..<d { centres[c * d + j] = Float(Double(centres[c * d + j]) + mean[j]) }
    }
    return KMeansResult(
      k: k, centres: Tensor(shape: [k, d], scalars: centres), assignments: run.labels,
      inertia: run.inertia, iterations: run.iterations, converged: run.converged)
  }
}
