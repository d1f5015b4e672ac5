import Foundation
import SigbookTensor

/// How UMAP places the points before optimising.
enum UMAPInitialization: Sendable, Equatable {
  /// The eigenvectors of the 2nd and 3rd smallest eigenvalues of the graph's normalised
  /// Laplacian, per connected component (umap-learn's default); PCA for a component where the
  /// eigensolver does not converge.
  case spectral
  /// The first two principal components of the data.
  case pca
  /// Uniform in [−10, 10)² from the seeded generator.
  case random
}

/// Settings of `UMAP.embed`. The defaults are umap-learn's.
struct UMAPOptions: Sendable, Equatable {
  /// The size of the local neighbourhood, the point itself included (default 15).
  var neighbors: Int
  /// How tightly points may be packed in the embedding (default 0.1).
  var minDistance: Double
  /// The scale of the embedded distances (default 1).
  var spread: Double
  /// Optimisation epochs; `nil` means 500 for n ≤ 10,000 and 200 above.
  var epochs: Int?
  /// The initial SGD step, decaying linearly to 0 (default 1).
  var learningRate: Double
  /// Negative samples per positive sample (default 5).
  var negativeSampleRate: Int
  /// The weight of the repulsive (negative) samples, umap-learn's γ (default 1).
  var repulsionStrength: Double
  /// The initial layout (default `.spectral`).
  var initialization: UMAPInitialization = .spectral
  /// Above this many points the neighbours come from NN-descent instead of exact search
  /// (default 8,192). umap-learn switches at 4,096, but exact search here is one GEMM per block:
  /// on 5,000 × 784 it takes 0.44 s against NN-descent's 0.79 s, and its cost grows as n²
  /// against NN-descent's n log n, so they meet near 8,000 points.
  var exactNeighborsLimit: Int
  /// The seed of every random choice: initial noise, negative samples, NN-descent.
  var seed: Int

  /// Creates UMAP settings; every argument has the default documented on its property.
  init(
    neighbors: Int = 15, minDistance: Double = 0.1, spread: Double = 1, epochs: Int? = nil,
    learningRate: Double = 1, negativeSampleRate: Int = 5, repulsionStrength: Double = 1,
    exactNeighborsLimit: Int = 8192,
    seed: Int = 0
  ) {
    self.neighbors = neighbors
    self.minDistance = minDistance
    self.spread = spread
    self.epochs = epochs
    self.learningRate = learningRate
    self.negativeSampleRate = negativeSampleRate
    self.repulsionStrength = repulsionStrength
    self.exactNeighborsLimit = exactNeighborsLimit
    self.seed = seed
  }
}

/// What `UMAP.embed` returns.
struct UMAPResult: Sendable, Equatable {
  /// The embedding, `[n, 2]`.
  var embedding: Tensor
  /// The a of the fitted curve 1 / (1 + a d^{2b}) of the embedded similarities.
  var a: Double
  /// The b of the same curve.
  var b: Double
}

/// Uniform manifold approximation and projection (McInnes, Healy and Melville, "UMAP: uniform
/// manifold approximation and projection for dimension reduction", arXiv:1802.03426, 2018),
/// following umap-learn 0.5.
enum UMAP {
  /// Embeds the rows of `x` in the plane by UMAP.
  ///
  /// 1. The `neighbors − 1` nearest other points of each point: exact (`NearestNeighbors.exact`)
  ///    up to `exactNeighborsLimit` points, NN-descent above.
  /// 2. Smooth k-NN distances: ρᵢ the distance to the nearest neighbour, σᵢ by bisection so that
  ///    Σⱼ exp(−max(0, dᵢⱼ − ρᵢ)/σᵢ) = log₂(neighbors) (64 steps, tolerance 10⁻⁵, σᵢ at least
  ///    10⁻³ times the mean neighbour distance); memberships wᵢⱼ = exp(−max(0, dᵢⱼ − ρᵢ)/σᵢ).
  /// 3. Fuzzy union: A + Aᵀ − A∘Aᵀ; edges lighter than max / epochs are dropped.
  /// 4. Curve parameters a, b: least squares of 1/(1 + a d^{2b}) against 1 for d < minDistance
  ///    and exp(−(d − minDistance)/spread) beyond, on 300 points of [0, 3·spread]
  ///    (`curveParameters`).
  /// 5. Initial layout (`UMAPInitialization`), scaled so its largest coordinate is 10, plus
  ///    N(0, 10⁻⁴) noise, then each axis rescaled to [0, 10].
  /// 6. SGD over the edges (umap-learn's `optimize_layout_euclidean`): edge e is sampled every
  ///    max(w)/wₑ epochs; each sample pulls both ends together and pushes the head away from
  ///    `negativeSampleRate` random points; gradients clipped to ±4; step `learningRate`
  ///    decaying linearly to 0.
  ///
  /// Seeded, and independent of the number of threads (the layout runs on two cores, see
  /// `optimizeLayout`): the same input and options give bit-identical output.
  ///
  /// - Parameters:
  ///   - x: the data, `[n, d]` (higher ranks are flattened to rows).
  ///   - options: neighbours, curve, epochs, initialisation, seed.
  ///   - progress: called with the fraction done (0…1) after every epoch.
  ///   - isCancelled: checked before every epoch; when it returns true the embedding stops.
  /// - Returns: the embedding `[n, 2]` and the curve parameters.
  /// - Throws: `AnalysisError.cancelled` when cancelled; `.tooFewInputs` for fewer than 4
  ///   inputs; `.nonFiniteInput`; `.invalidArgument` for an option out of range.
  /// - Complexity: O(n² d) for exact neighbours (O(n k² d) per NN-descent round), then
  ///   O(epochs · edges · negativeSampleRate) for the layout.
  static func embed(
    _ x: Tensor, options: UMAPOptions = UMAPOptions(), progress: ((Double) -> Void)? = nil,
    isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) -> UMAPResult {
    let data = x.rank == 2 ? x : x.flattenedRows
    let n = data.rows
    guard n >= 4 else { throw .tooFewInputs(method: "umap", needed: 4, found: n) }
    guard data.isFinite else { throw .nonFiniteInput(method: "umap") }
    try validate(options)
    if isCancelled() { throw .cancelled }
    let neighbors = min(options.neighbors, n)
    let knn =
      n > options.exactNeighborsLimit
      ? NearestNeighbors.descent(
        data, k: neighbors - 1, options: NNDescentOptions(seed: options.seed),
        isCancelled: isCancelled)
      : NearestNeighbors.exact(data, k: neighbors - 1, isCancelled: isCancelled)
    if isCancelled() { throw .cancelled }
    let epochs = options.epochs ?? (n <= 10_000 ? 500 : 200)
    let fuzzy = fuzzySimplicialSet(knn, neighbors: neighbors)
    let graph = fuzzy.pruned(below: fuzzy.maxWeight / Double(epochs))
    let (a, b) = curveParameters(minDistance: options.minDistance, spread: options.spread)

    var generator = SeededGenerator(seed: options.seed)
    let initial = initialLayout(data, graph: graph, options: options, generator: &generator)
    var positions = normalizedLayout(initial, generator: &generator)
    if isCancelled() { throw .cancelled }
    try optimizeLayout(
      &positions, graph: graph, epochs: epochs, a: Float(a), b: Float(b), options: options,
      generator: &generator, progress: progress, isCancelled: isCancelled)

    return UMAPResult(embedding: Tensor(shape: [n, 2], scalars: positions), a: a, b: b)
  }

  private static func validate(_ options: UMAPOptions) throws(AnalysisError) {
    guard options.neighbors >= 2 else {
      throw .invalidArgument("neighbors must be at least 2, not \(options.neighbors)")
    }
    guard options.minDistance >= 0, options.minDistance.isFinite else {
      throw .invalidArgument("min_dist must be ≥ 0, not \(options.minDistance)")
    }
    guard options.spread > 0, options.spread.isFinite, options.minDistance <= options.spread
    else {
      throw .invalidArgument(
        "spread must be positive and at least min_dist, not \(options.spread)")
    }
    if let epochs = options.epochs, epochs <= 0 {
      throw .invalidArgument("epochs must be positive, not \(epochs)")
    }
    guard options.learningRate > 0, options.learningRate.isFinite else {
      throw .invalidArgument("the learning rate must be positive, not \(options.learningRate)")
    }
    guard options.negativeSampleRate >= 0, options.repulsionStrength >= 0 else {
      throw .invalidArgument("negative samples and repulsion must be ≥ 0")
    }
  }

  /// The fuzzy simplicial set of a k-NN graph (umap-learn's `fuzzy_simplicial_set` with
  /// `local_connectivity` 1 and fuzzy union), `neighbors` counting the point itself.
  static func fuzzySimplicialSet(_ knn: NearestNeighbors, neighbors: Int) -> SparseGraph {
    let n = knn.count, k = knn.k
    let target = log2(Double(neighbors))
    var meanAll = 0.0
    for d in knn.distances { meanAll += Double(d) }
    // umap-learn's rows include the point itself at distance 0.
    meanAll /= Double(n * (k + 1))
    var memberships = [Double](repeating: 0, count: n * k)
    for i in 0..<n {
      let row = knn.distances(of: i).map { Double($0) }
      let rho = row.first { $0 > 0 } ?? 0
      let sigma = smoothDistance(row, rho: rho, target: target)
      let meanRow = row.reduce(0, +) / Double(k + 1)
      let floor = 1e-3 * (rho > 0 ? meanRow : meanAll)
      let s = max(sigma, floor)
      for t in 0..<k {
        let excess = row[t] - rho
        memberships[i * k + t] = excess <= 0 || s == 0 ? 1 : exp(-excess / s)
      }
    }
    return SparseGraph.symmetrized(knn, weights: memberships) { a, b in a + b - a * b }
  }

  /// σ such that Σⱼ exp(−max(0, dⱼ − ρ)/σ) = target, by bisection (umap-learn's
  /// `smooth_knn_dist`: 64 steps, tolerance 10⁻⁵, doubling while unbounded above).
  static func smoothDistance(_ distances: [Double], rho: Double, target: Double) -> Double {
    var low = 0.0, high = Double.infinity, mid = 1.0
    for _ in 0..<64 {
      var sum = 0.0
      for d in distances {
        let excess = d - rho
        sum += excess > 0 ? exp(-excess / mid) : 1
      }
      if abs(sum - target) < 1e-5 { break }
      if sum > target {
        high = mid
        mid = (low + high) / 2
      } else {
        low = mid
        mid = high.isInfinite ? mid * 2 : (low + high) / 2
      }
    }
    return mid
  }

  /// The a, b of the curve 1 / (1 + a d^{2b}) closest in least squares to 1 for d < minDistance
  /// and exp(−(d − minDistance) / spread) beyond, on 300 evenly spaced d in [0, 3·spread]
  /// (umap-learn's `find_ab_params`), by Levenberg–Marquardt from a = b = 1. For minDistance
  /// 0.1 and spread 1: a ≈ 1.577, b ≈ 0.895.
  static func curveParameters(minDistance: Double, spread: Double) -> (a: Double, b: Double) {
    let count = 300
    let xs = (0..<count).map { 3 * spread * Double($0) / Double(count - 1) }
    let ys = xs.map { $0 < minDistance ? 1 : exp(-($0 - minDistance) / spread) }
    func cost(_ a: Double, _ b: Double) -> Double {
      var s = 0.0
      for (x, y) in zip(xs, ys) {
        let u = x > 0 ? pow(x, 2 * b) : 0
        let r = 1 / (1 + a * u) - y
        s += r * r
      }
      return s
    }
    var a = 1.0, b = 1.0, lambda = 1e-3
    var current = cost(a, b)
    for _ in 0..<500 {
      var jaa = 0.0, jab = 0.0, jbb = 0.0, ga = 0.0, gb = 0.0
      for (x, y) in zip(xs, ys) where x > 0 {
        let u = pow(x, 2 * b)
        let f = 1 / (1 + a * u)
        let r = f - y
        let da = -u * f * f
        let db = -a * u * 2 * log(x) * f * f
        jaa += da * da
        jab += da * db
        jbb += db * db
        ga += da * r
        gb += db * r
      }
      let m11 = jaa * (1 + lambda), m22 = jbb * (1 + lambda)
      let determinant = m11 * m22 - jab * jab
      guard determinant != 0, determinant.isFinite else { break }
      let stepA = -(m22 * ga - jab * gb) / determinant
      let stepB = -(m11 * gb - jab * ga) / determinant
      let trial = cost(a + stepA, b + stepB)
      if trial < current {
        a += stepA
        b += stepB
        lambda = max(lambda / 10, 1e-12)
        let converged = abs(current - trial) <= 1e-15 * max(1, current)
        current = trial
        if converged { break }
      } else {
        lambda *= 10
        if lambda > 1e12 { break }
      }
    }
    return (a, b)
  }

  /// The scaled initial layout: largest coordinate magnitude 10, N(0, 10⁻⁴) noise, then each
  /// axis rescaled to [0, 10] (umap-learn's `noisy_scale_coords` and the rescaling in
  /// `simplicial_set_embedding`). `Float`, 2n interleaved.
  static func normalizedLayout(_ layout: [Double], generator: inout SeededGenerator) -> [Float] {
    let n = layout.count / 2
    let largest = layout.reduce(0) { max($0, abs($1)) }
    let expansion = largest > 0 ? 10 / largest : 1
    var noisy = layout.map { Float($0 * expansion + 1e-4 * generator.nextNormal()) }
    for c in 0..<2 {
      var low = Float.infinity, high = -Float.infinity
      for i in 0..<n {
        low = min(low, noisy[2 * i + c])
        high = max(high, noisy[2 * i + c])
      }
      let range = high - low
      for i in 0..<n { noisy[2 * i + c] = range > 0 ? 10 * (noisy[2 * i + c] - low) / range : 5 }
    }
    return noisy
  }
}
