import Foundation
import SigbookTensor

/// How t-SNE places the points before optimising.
enum TSNEInitialization: Sendable, Equatable {
  /// The first two principal components, scaled so that the first has standard deviation 10⁻⁴
  /// (openTSNE's default). Deterministic and independent of the seed.
  case pca
  /// Independent normal deviates N(0, 10⁻⁴²) from the seeded generator.
  case random
}

/// Settings of `TSNE.embed`. The defaults are openTSNE's and scikit-learn's.
struct TSNEOptions: Sendable, Equatable {
  /// The effective number of neighbours each point's Gaussian covers (default 30). Lowered to
  /// (n − 1)/3 for small data sets, as openTSNE does.
  var perplexity: Double
  /// All gradient-descent iterations, the early-exaggeration phase included (default 1,000).
  var iterations: Int
  /// The step size; `nil` means "auto": max(n / earlyExaggeration / 4, 50) (Belkina et al.
  /// 2019, scikit-learn's `learning_rate="auto"`; equivalent to openTSNE's for its gradient
  /// without the factor 4).
  var learningRate: Double?
  /// The factor on the attractive forces during the first iterations (default 12).
  var earlyExaggeration: Double
  /// How many of the iterations are exaggerated (default 250), with momentum 0.5; the rest run
  /// with `finalMomentum`.
  var earlyExaggerationIterations: Int
  /// Momentum during early exaggeration (default 0.5).
  var initialMomentum: Double
  /// Momentum afterwards (default 0.8).
  var finalMomentum: Double
  /// The Barnes–Hut accuracy θ (default 0.5): a cell of width w is summarised by its centre of
  /// mass when w < θ r, r its distance to the nearest of the points it acts on (see
  /// `BarnesHutTree`). 0 computes every pair exactly (O(n²) per iteration).
  var theta: Double
  /// The largest step one point may take in one iteration (default 5, openTSNE's
  /// `max_step_norm`), which keeps early iterations from throwing points far away.
  var maxStepNorm: Double
  /// The initial layout (default `.pca`).
  var initialization: TSNEInitialization = .pca
  /// The seed of the generator (used by `.random` initialisation).
  var seed: Int

  /// Creates t-SNE settings; every argument has the default documented on its property.
  init(
    perplexity: Double = 30, iterations: Int = 1000, learningRate: Double? = nil,
    earlyExaggeration: Double = 12, earlyExaggerationIterations: Int = 250,
    initialMomentum: Double = 0.5, finalMomentum: Double = 0.8, theta: Double = 0.5,
    maxStepNorm: Double = 5, seed: Int = 0
  ) {
    self.perplexity = perplexity
    self.iterations = iterations
    self.learningRate = learningRate
    self.earlyExaggeration = earlyExaggeration
    self.earlyExaggerationIterations = earlyExaggerationIterations
    self.initialMomentum = initialMomentum
    self.finalMomentum = finalMomentum
    self.theta = theta
    self.maxStepNorm = maxStepNorm
    self.seed = seed
  }
}

/// What `TSNE.embed` returns.
struct TSNEResult: Sendable, Equatable {
  /// The embedding, `[n, 2]`, centred on the origin.
  var embedding: Tensor
  /// KL(P ‖ Q) of the final embedding (without exaggeration), Q's normaliser summed exactly for
  /// n ≤ 10,000 and by Barnes–Hut above.
  var klDivergence: Double
  /// The perplexity actually used (lower than asked for small data sets).
  var perplexity: Double
}

/// t-distributed stochastic neighbour embedding (van der Maaten and Hinton, "Visualizing data
/// using t-SNE", JMLR 2008) with Barnes–Hut gradients (van der Maaten, "Accelerating t-SNE using
/// tree-based algorithms", JMLR 2014).
enum TSNE {
  /// Embeds the rows of `x` in the plane by t-SNE.
  ///
  /// 1. Affinities: the exact k = min(n − 1, ⌊3·perplexity⌋) nearest neighbours of each point;
  ///    a binary search on the Gaussian precision βᵢ of pᵢ|ⱼ ∝ exp(−βᵢ‖xᵢ − xⱼ‖²) until the
  ///    entropy (in nats) is log(perplexity) within 10⁻⁵ (at most 100 halvings); then the sparse
  ///    joint P = (P + Pᵀ) / 2n.
  /// 2. Initialisation: `.pca` (default) or `.random`, see `TSNEInitialization`.
  /// 3. Gradient descent on KL(P ‖ Q), Q the Student-t (one degree of freedom) similarities:
  ///    ∂C/∂yᵢ = 4 Σⱼ (α pᵢⱼ − qᵢⱼ) (1 + ‖yᵢ − yⱼ‖²)⁻¹ (yᵢ − yⱼ); attractive terms over the
  ///    nonzeros of P, repulsive terms by a Barnes–Hut quadtree with accuracy θ. α is the early
  ///    exaggeration for the first iterations, then 1. Steps use momentum and per-coordinate
  ///    gains (delta-bar-delta, Jacobs 1988: +0.2 where the gradient's sign differs from the
  ///    last step's, i.e. descent goes on the same way, ×0.8 where it agrees, at least 0.01),
  ///    are clipped to `maxStepNorm` per point, and the embedding is re-centred after each.
  ///
  /// Deterministic: the same input and options give bit-identical output, on any number of
  /// threads (each gradient's parts, split by the data alone, run on the worker team; see
  /// `computeGradient`) and with or without AVX2 (see `TSNEKernels`).
  ///
  /// - Parameters:
  ///   - x: the data, `[n, d]` (higher ranks are flattened to rows).
  ///   - options: perplexity, iterations, learning rate, exaggeration, initialisation, seed.
  ///   - progress: called with the fraction done (0…1) after every iteration.
  ///   - isCancelled: checked before every iteration; when it returns true the embedding stops.
  /// - Returns: the embedding `[n, 2]` and its KL divergence.
  /// - Throws: `AnalysisError.cancelled` when cancelled; `.tooFewInputs` for fewer than 4
  ///   inputs; `.nonFiniteInput`; `.invalidArgument` for a non-positive perplexity or iteration
  ///   count, or a negative θ.
  /// - Complexity: O(n² d) for the neighbours, then O(n log n) per iteration.
  static func embed(
    _ x: Tensor, options: TSNEOptions = TSNEOptions(), progress: ((Double) -> Void)? = nil,
    isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) -> TSNEResult {
    let data = x.rank == 2 ? x : x.flattenedRows
    let n = data.rows
    guard n >= 4 else { throw .tooFewInputs(method: "tsne", needed: 4, found: n) }
    guard data.isFinite else { throw .nonFiniteInput(method: "tsne") }
    guard options.perplexity > 0, options.perplexity.isFinite else {
      throw .invalidArgument("perplexity must be positive, not \(options.perplexity)")
    }
    guard options.iterations > 0 else {
      throw .invalidArgument("iterations must be positive, not \(options.iterations)")
    }
    guard options.theta >= 0 else {
      throw .invalidArgument("theta must be ≥ 0, not \(options.theta)")
    }
    if isCancelled() { throw .cancelled }
    let perplexity = min(options.perplexity, Double(n - 1) / 3)
    let k = min(n - 1, max(1, Int(3 * perplexity)))
    let knn = NearestNeighbors.exact(data, k: k, isCancelled: isCancelled)
    if isCancelled() { throw .cancelled }
    let p = jointProbabilities(knn, perplexity: perplexity)
    if isCancelled() { throw .cancelled }

    var positions = initialPositions(data, options: options)
    try optimize(
      &positions, p: p, options: options, progress: progress, isCancelled: isCancelled)

    let kl = klDivergence(positions, p: p, theta: options.theta)
    let embedding = Tensor(shape: [n, 2], scalars: positions.map { Float($0) })
    return TSNEResult(embedding: embedding, klDivergence: kl, perplexity: perplexity)
  }

  /// The symmetric joint probabilities P = (P + Pᵀ) / 2n of the Gaussian conditionals calibrated
  /// to `perplexity` over the given neighbours.
  static func jointProbabilities(_ knn: NearestNeighbors, perplexity: Double) -> SparseGraph {
    let n = knn.count, k = knn.k
    var conditional = [Double](repeating: 0, count: n * k)
    var squared = [Double](repeating: 0, count: k)
    conditional.withUnsafeMutableBufferPointer { out in
      for i in 0..<n {
        for t in 0..<k {
          let d = Double(knn.distances[i * k + t])
          squared[t] = d * d
        }
        squared.withUnsafeBufferPointer { sq in
          _ = calibrate(
            squaredDistances: sq, perplexity: perplexity,
            into: UnsafeMutableBufferPointer(rebasing: out[i * k..<(i + 1) * k]))
        }
      }
    }
    let scale = 1 / (2 * Double(n))
    return SparseGraph.symmetrized(knn, weights: conditional) { a, b in (a + b) * scale }
  }

  /// Writes the conditional distribution pⱼ ∝ exp(−β dⱼ) over the given squared distances whose
  /// entropy H = −Σ pⱼ log pⱼ (nats) equals log(perplexity) within 10⁻⁵, found by bisection on
  /// the precision β (doubling or halving while unbounded; at most 100 steps), as in
  /// scikit-learn's `_binary_search_perplexity`. Distances are shifted by their minimum first,
  /// which leaves p unchanged and keeps exp from underflowing.
  ///
  /// - Returns: the precision β found.
  @discardableResult
  static func calibrate(
    squaredDistances d: UnsafeBufferPointer<Double>, perplexity: Double,
    into p: UnsafeMutableBufferPointer<Double>
  ) -> Double {
    let target = log(perplexity)
    let shift = d.min() ?? 0
    var beta = 1.0
    var low = -Double.infinity
    var high = Double.infinity
    for _ in 0..<100 {
      var sum = 0.0
      var weighted = 0.0
      for j in 0..<d.count {
        let e = exp(-beta * (d[j] - shift))
        p[j] = e
        sum += e
        weighted += (d[j] - shift) * e
      }
      sum = max(sum, 1e-300)
      let entropy = log(sum) + beta * weighted / sum
      for j in 0..<d.count { p[j] /= sum }
      let difference = entropy - target
      if abs(difference) <= 1e-5 { break }
      if difference > 0 {
        low = beta
        beta = high.isInfinite ? beta * 2 : (beta + high) / 2
      } else {
        high = beta
        beta = low.isInfinite ? beta / 2 : (beta + low) / 2
      }
    }
    return beta
  }

  /// The starting layout, `2n` interleaved coordinates. PCA of data without variance (all rows
  /// equal) has nothing to show, and starts from the random layout instead.
  static func initialPositions(_ x: Tensor, options: TSNEOptions) -> [Double] {
    let n = x.rows
    func random() -> [Double] {
      var generator = SeededGenerator(seed: options.seed)
      return (0..<(2 * n)).map { _ in 1e-4 * generator.nextNormal() }
    }
    switch options.initialization {
    case .random:
      return random()
    case .pca:
      var y = ProjectionSupport.principalComponents(x)
      var mean = 0.0
      for i in 0..<n { mean += y[2 * i] }
      mean /= Double(n)
      var variance = 0.0
      for i in 0..<n { variance += (y[2 * i] - mean) * (y[2 * i] - mean) }
      let std = (variance / Double(n)).squareRoot()
      guard std > 0, std.isFinite else { return random() }
      let scale = 1e-4 / std
      for i in y.indices { y[i] *= scale }
      return y
    }
  }
}
