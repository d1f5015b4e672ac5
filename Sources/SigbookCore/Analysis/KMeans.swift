import Foundation

/// One k-means clustering of a set of points: its centres, the cluster of every point and the
/// within-cluster sum of squares.
public struct KMeansResult: Sendable, Equatable {
  /// The number of clusters asked for. After the last assignment step a cluster may (rarely) be
  /// left without points; `clusterSizes` tells.
  public let k: Int
  /// The centres, `[k, d]`, in the coordinates of the data.
  public let centres: Tensor
  /// The cluster of each point, in `0 ..< k`.
  public let assignments: [Int]
  /// The inertia `Σᵢ ‖xᵢ − c(xᵢ)‖²`: the sum of squared distances of the points to the centres of
  /// their clusters, computed directly (not through the GEMM expansion) in Double.
  public let inertia: Double
  /// The Lloyd iterations run by the best restart.
  public let iterations: Int
  /// Whether the best restart stopped because its assignments stopped changing or its centres
  /// moved less than the tolerance, rather than at the iteration cap.
  public let converged: Bool

  /// Creates a result from its parts.
  public init(
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
  /// - Complexity: one GEMM per block of rows, 2·m·k·d operations.
  public func assign(_ x: Tensor) -> [Int] {
    let d = centres.rowSize
    precondition(x.rowSize == d, "assigning \(x.shape) to centres \(centres.shape)")
    let m = x.rows
    var labels = [Int](repeating: 0, count: m)
    var distances = [Float](repeating: 0, count: m)
    x.withUnsafeBufferPointer { px in
      centres.withUnsafeBufferPointer { pc in
        let norms = Distances.rowSquaredNorms(px, rows: m, columns: d)
        labels.withUnsafeMutableBufferPointer { l in
          distances.withUnsafeMutableBufferPointer { dist in
            norms.withUnsafeBufferPointer { xn in
              KMeans.assignNearest(
                x: px, norms: xn, features: d, centres: pc, k: k, labels: l, distances: dist)
            }
          }
        }
      }
    }
    return labels
  }
}

/// k-means clustering: k-means++ seeding, Lloyd iterations, best of several seeded restarts.
///
/// The algorithm follows scikit-learn's `KMeans(init="k-means++", algorithm="lloyd")`:
/// - **Seeding**: greedy k-means++ (Arthur and Vassilvitskii, "k-means++: the advantages of careful
///   seeding", SODA 2007). The first centre is a uniformly drawn point; each further centre is the
///   best, by resulting potential `Σᵢ min_c ‖xᵢ − c‖²`, of `2 + ⌊ln k⌋` candidates drawn with
///   probability proportional to their squared distance to the nearest chosen centre.
/// - **Lloyd iterations**: assign each point to its nearest centre, move each centre to the mean
///   of its points. Distances are `‖x‖² − 2·x·c + ‖c‖²` with the cross terms one GEMM per block of
///   rows (about 1 MB, summed into the centres while in cache; memory stays O(block · k) whatever
///   n), on data centred at their mean for accuracy.
/// - **Stopping**: when the assignments no longer change, or when the squared centre shift
///   `Σ_c ‖c_new − c_old‖²` is at most `tolerance × (mean variance of the features)`, or after
///   `maxIterations`. If stopped by the tolerance or the cap, the points are assigned once more
///   to the final centres, so assignments and centres agree.
/// - **Empty clusters**: a cluster left without points takes the point farthest from its centre
///   (among clusters of two or more points; ties to the lower index), as in scikit-learn.
/// - **Restarts**: the run of least inertia is kept (ties to the earlier run). Restart `r` is
///   seeded by the `r`-th number of `SeededGenerator(seed: seed)`: results depend on the seed only.
public enum KMeans {
  /// Clusters the rows of `x` into `k` clusters.
  ///
  /// - Parameters:
  ///   - x: the points, `[n, d]` (any rank: rows are the first dimension, features the rest).
  ///   - k: the number of clusters, `1 ... n`.
  ///   - restarts: runs from different seedings, the best by inertia kept (default 10).
  ///   - maxIterations: the cap on Lloyd iterations per run (default 300).
  ///   - tolerance: the centre-shift tolerance, relative to the mean variance of the features
  ///     (default 1e-4, as scikit-learn).
  ///   - seed: determines every random choice.
  /// - Returns: the best run's clustering.
  /// - Throws: `AnalysisError` when `k < 1`, `n < k`, the data are not finite, or `restarts`,
  ///   `maxIterations` or `tolerance` are out of range.
  /// - Complexity: per Lloyd iteration 2·n·k·d operations in GEMM plus O(n·(k + d)).
  public static func fit(
    _ x: Tensor, k: Int, restarts: Int = 10, maxIterations: Int = 300, tolerance: Double = 1e-4,
    seed: Int = 0
  ) throws(AnalysisError) -> KMeansResult {
    let data = try KMeansData(x)
    return try fit(
      data, k: k, restarts: restarts, maxIterations: maxIterations, tolerance: tolerance,
      seed: seed)
  }

  /// `fit` on data prepared once (centred, with row norms), shared by the sweep over k.
  static func fit(
    _ data: KMeansData, k: Int, restarts: Int, maxIterations: Int, tolerance: Double, seed: Int
  ) throws(AnalysisError) -> KMeansResult {
    try validate(k: k, points: data.n, restarts: restarts, maxIterations: maxIterations,
                 tolerance: tolerance)
    var master = SeededGenerator(seed: seed)
    var best: LloydRun?
    for _ in 0..<restarts {
      var generator = SeededGenerator(seed: master.next())
      let initial = seedCentres(data, k: k, generator: &generator)
      let run = lloyd(
        data, centres: initial, k: k, maxIterations: maxIterations,
        shiftTolerance: tolerance * data.meanVariance)
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

  // MARK: - Seeding

  /// Greedy k-means++ seeding: `k` rows of the (centred) data as initial centres, `[k · d]`.
  static func seedCentres(_ data: KMeansData, k: Int, generator g: inout SeededGenerator)
    -> [Float]
  {
    let n = data.n, d = data.d
    let trials = 2 + Int(Foundation.log(Double(k)))
    var centres = [Float](repeating: 0, count: k * d)
    var closest = [Float](repeating: 0, count: n)
    var cumulative = [Double](repeating: 0, count: n)
    var candidateRows = [Float](repeating: 0, count: trials * d)
    var candidateNorms = [Float](repeating: 0, count: trials)
    var candidateDistances = [Float](repeating: 0, count: trials * n)
    data.values.withUnsafeBufferPointer { x in
      data.norms.withUnsafeBufferPointer { norms in
        centres.withUnsafeMutableBufferPointer { c in
          closest.withUnsafeMutableBufferPointer { closest in
            guard let xBase = x.baseAddress, let closestBase = closest.baseAddress else { return }
            // The first centre: a uniformly drawn point.
            let first = g.nextInt(below: n)
            copyRow(first, of: x, features: d, to: c, row: 0)
            Distances.squaredDistances(
              a: xBase + first * d, aNorms: UnsafeBufferPointer(rebasing: norms[first..<first + 1]),
              b: xBase, bNorms: norms, features: d, into: closestBase)
            guard k > 1 else { return }
            cumulative.withUnsafeMutableBufferPointer { cum in
              candidateRows.withUnsafeMutableBufferPointer { rows in
                candidateNorms.withUnsafeMutableBufferPointer { cn in
                  candidateDistances.withUnsafeMutableBufferPointer { dist in
                    guard let rowsBase = rows.baseAddress, let distBase = dist.baseAddress
                    else { return }
                    var candidates = [Int](repeating: 0, count: trials)
                    for centre in 1..<k {
                      // Draw candidates with probability ∝ D²: the first index whose running
                      // sum exceeds u · (total); points at distance 0 are never drawn unless all
                      // are (then uniformly).
                      var running = 0.0
                      for i in 0..<n {
                        running += Double(closest[i])
                        cum[i] = running
                      }
                      let potential = running
                      for t in 0..<trials {
                        candidates[t] =
                          potential > 0
                          ? firstIndex(in: cum, above: g.nextDouble() * potential)
                          : g.nextInt(below: n)
                        copyRow(candidates[t], of: x, features: d, to: rows, row: t)
                        cn[t] = norms[candidates[t]]
                      }
                      Distances.squaredDistances(
                        a: rowsBase, aNorms: UnsafeBufferPointer(cn), b: xBase, bNorms: norms,
                        features: d, into: distBase)
                      // Keep the candidate that leaves the smallest potential.
                      var bestTrial = 0
                      var bestPotential = Double.infinity
                      for t in 0..<trials {
                        let p = potentialWithCandidate(
                          closest: UnsafeBufferPointer(closest),
                          candidate: UnsafeBufferPointer(rebasing: dist[t * n..<(t + 1) * n]))
                        if p < bestPotential {
                          bestPotential = p
                          bestTrial = t
                        }
                      }
                      let row = distBase + bestTrial * n
                      for i in 0..<n { closest[i] = min(closest[i], row[i]) }
                      copyRow(candidates[bestTrial], of: x, features: d, to: c, row: centre)
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    return centres
  }

  /// The first index `i` with `cumulative[i] > value`, or the last index if none is.
  static func firstIndex(in cumulative: UnsafeMutableBufferPointer<Double>, above value: Double)
    -> Int
  {
    var low = 0, high = cumulative.count - 1
    while low < high {
      let mid = (low + high) / 2
      if cumulative[mid] > value { high = mid } else { low = mid + 1 }
    }
    return low
  }

  /// `Σᵢ min(closestᵢ, candidateᵢ)` in Double, four partial sums in a fixed order.
  static func potentialWithCandidate(
    closest: UnsafeBufferPointer<Float>, candidate: UnsafeBufferPointer<Float>
  ) -> Double {
    let n = closest.count
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var i = 0
    while i + 4 <= n {
      s0 += Double(min(closest[i], candidate[i]))
      s1 += Double(min(closest[i + 1], candidate[i + 1]))
      s2 += Double(min(closest[i + 2], candidate[i + 2]))
      s3 += Double(min(closest[i + 3], candidate[i + 3]))
      i += 4
    }
    while i < n { s0 += Double(min(closest[i], candidate[i])); i += 1 }
    return (s0 + s1) + (s2 + s3)
  }

  static func copyRow(
    _ i: Int, of x: UnsafeBufferPointer<Float>, features d: Int,
    to target: UnsafeMutableBufferPointer<Float>, row: Int
  ) {
    for j in 0..<d { target[row * d + j] = x[i * d + j] }
  }

  // MARK: - Lloyd iterations

  /// One run of Lloyd's algorithm from given centres, in the coordinates of `data.values`.
  struct LloydRun {
    var centres: [Float]
    var labels: [Int]
    var inertia: Double
    var iterations: Int
    var converged: Bool
  }

  /// Lloyd iterations from `centres` (`[k · d]`, centred coordinates) until the assignments stop
  /// changing, the squared centre shift is at most `shiftTolerance` (absolute), or the cap.
  static func lloyd(
    _ data: KMeansData, centres initial: [Float], k: Int, maxIterations: Int,
    shiftTolerance: Double
  ) -> LloydRun {
    let n = data.n, d = data.d
    var centres = initial
    var labels = [Int](repeating: -1, count: n)
    var newLabels = [Int](repeating: 0, count: n)
    var distances = [Float](repeating: 0, count: n)
    var sums = [Double](repeating: 0, count: k * d)
    var counts = [Int](repeating: 0, count: k)
    var iterations = 0
    var strict = false, converged = false
    data.values.withUnsafeBufferPointer { x in
      data.norms.withUnsafeBufferPointer { norms in
        while iterations < maxIterations {
          iterations += 1
          centres.withUnsafeBufferPointer { c in
            newLabels.withUnsafeMutableBufferPointer { l in
              distances.withUnsafeMutableBufferPointer { dist in
                sums.withUnsafeMutableBufferPointer { s in
                  counts.withUnsafeMutableBufferPointer { counts in
                    assignNearest(
                      x: x, norms: norms, features: d, centres: c, k: k, labels: l,
                      distances: dist, sums: s, counts: counts)
                    repairEmptyClusters(
                      x: x, features: d, labels: l, distances: UnsafeBufferPointer(dist), sums: s,
                      counts: counts)
                  }
                }
              }
            }
          }
          let shift = moveCentres(&centres, sums: sums, counts: counts, features: d)
          if newLabels == labels {
            strict = true
            converged = true
            break
          }
          swap(&labels, &newLabels)
          if shift <= shiftTolerance {
            converged = true
            break
          }
        }
        if strict {
          swap(&labels, &newLabels)
        } else {
          // Assign once more so that the labels are those of the final centres.
          centres.withUnsafeBufferPointer { c in
            labels.withUnsafeMutableBufferPointer { l in
              distances.withUnsafeMutableBufferPointer { dist in
                assignNearest(
                  x: x, norms: norms, features: d, centres: c, k: k, labels: l, distances: dist)
              }
            }
          }
        }
      }
    }
    let inertia = exactInertia(data.values, centres: centres, labels: labels, features: d)
    return LloydRun(
      centres: centres, labels: labels, inertia: inertia, iterations: iterations,
      converged: converged)
  }

  /// Rows per block in the assignment step: about 1 MB of data (a block is summed into the
  /// centres while it is still in cache), 64 to 4,096 rows.
  static func blockRows(features d: Int) -> Int { max(64, min(4096, (1 << 18) / max(d, 1))) }

  /// The nearest centre of each row (first on ties) and its squared distance, one GEMM per block
  /// of rows; with `sums` and `counts`, also the per-cluster sums (Double, `[k · d]`) and counts
  /// of the rows, accumulated block by block in row order.
  static func assignNearest(
    x: UnsafeBufferPointer<Float>, norms: UnsafeBufferPointer<Float>, features d: Int,
    centres c: UnsafeBufferPointer<Float>, k: Int,
    labels: UnsafeMutableBufferPointer<Int>, distances: UnsafeMutableBufferPointer<Float>,
    sums: UnsafeMutableBufferPointer<Double>? = nil, counts: UnsafeMutableBufferPointer<Int>? = nil
  ) {
    let n = norms.count
    sums?.update(repeating: 0)
    counts?.update(repeating: 0)
    guard n > 0, let xBase = x.baseAddress, let cBase = c.baseAddress else { return }
    let centreNorms = Distances.rowSquaredNorms(c, rows: k, columns: d)
    let block = min(blockRows(features: d), n)
    var cross = [Float](repeating: 0, count: block * k)
    // A block's sums in Float (four lanes per instruction rather than two), added to the Double
    // totals once per block.
    var blockSums = [Float](repeating: 0, count: sums == nil ? 0 : k * d)
    cross.withUnsafeMutableBufferPointer { cross in
      blockSums.withUnsafeMutableBufferPointer { blockSums in
        guard let crossBase = cross.baseAddress else { return }
        centreNorms.withUnsafeBufferPointer { cn in
          var start = 0
          while start < n {
            let m = min(block, n - start)
            BLAS.gemm(
              transposeA: false, transposeB: true, m: m, n: k, k: d, alpha: -2,
              a: xBase + start * d, b: cBase, beta: 0, c: crossBase)
            for r in 0..<m {
              let row = crossBase + r * k
              var best = 0
              var bestValue = cn[0] + row[0]
              for j in 1..<k {
                let value = cn[j] + row[j]
                if value < bestValue {
                  bestValue = value
                  best = j
                }
              }
              labels[start + r] = best
              distances[start + r] = max(0, norms[start + r] + bestValue)
            }
            if let sums, let counts {
              blockSums.update(repeating: 0)
              for i in start..<(start + m) {
                let cluster = labels[i]
                counts[cluster] += 1
                let source = UnsafeBufferPointer(rebasing: x[i * d..<(i + 1) * d])
                let target = UnsafeMutableBufferPointer(
                  rebasing: blockSums[cluster * d..<(cluster + 1) * d])
                for j in 0..<d { target[j] += source[j] }
              }
              for j in 0..<(k * d) { sums[j] += Double(blockSums[j]) }
            }
            start += m
          }
        }
      }
    }
  }

  /// Gives every empty cluster the point farthest from its centre, taken from a cluster of two or
  /// more points (ties to the lower index); updates labels, sums and counts.
  static func repairEmptyClusters(
    x: UnsafeBufferPointer<Float>, features d: Int, labels: UnsafeMutableBufferPointer<Int>,
    distances: UnsafeBufferPointer<Float>, sums: UnsafeMutableBufferPointer<Double>,
    counts: UnsafeMutableBufferPointer<Int>
  ) {
    for empty in 0..<counts.count where counts[empty] == 0 {
      var farthest = -1
      var farthestDistance: Float = -1
      for i in 0..<labels.count where counts[labels[i]] > 1 && distances[i] > farthestDistance {
        farthest = i
        farthestDistance = distances[i]
      }
      guard farthest >= 0 else { return }
      let old = labels[farthest]
      counts[old] -= 1
      counts[empty] = 1
      labels[farthest] = empty
      for j in 0..<d {
        let v = Double(x[farthest * d + j])
        sums[old * d + j] -= v
        sums[empty * d + j] = v
      }
    }
  }

  /// Moves each centre with points to their mean (a centre without points stays); returns the
  /// squared shift `Σ_c ‖c_new − c_old‖²`.
  static func moveCentres(
    _ centres: inout [Float], sums: [Double], counts: [Int], features d: Int
  ) -> Double {
    var shift = 0.0
    centres.withUnsafeMutableBufferPointer { c in
      for cluster in 0..<counts.count where counts[cluster] > 0 {
        let scale = 1 / Double(counts[cluster])
        for j in 0..<d {
          let index = cluster * d + j
          let moved = Float(sums[index] * scale)
          let delta = Double(moved - c[index])
          shift += delta * delta
          c[index] = moved
        }
      }
    }
    return shift
  }

  /// `Σᵢ ‖xᵢ − c(xᵢ)‖²` by direct differences, in Double with four partial sums per row.
  static func exactInertia(_ values: [Float], centres: [Float], labels: [Int], features d: Int)
    -> Double
  {
    values.withUnsafeBufferPointer { x in
      centres.withUnsafeBufferPointer { c in
        var total = 0.0
        for (i, label) in labels.enumerated() {
          let p = UnsafeBufferPointer(rebasing: x[i * d..<(i + 1) * d])
          let q = UnsafeBufferPointer(rebasing: c[label * d..<(label + 1) * d])
          var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
          var j = 0
          while j + 4 <= d {
            let a = Double(p[j] - q[j]), b = Double(p[j + 1] - q[j + 1])
            let e = Double(p[j + 2] - q[j + 2]), f = Double(p[j + 3] - q[j + 3])
            s0 += a * a; s1 += b * b; s2 += e * e; s3 += f * f
            j += 4
          }
          while j < d { let a = Double(p[j] - q[j]); s0 += a * a; j += 1 }
          total += (s0 + s1) + (s2 + s3)
        }
        return total
      }
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
    var total = 0.0
    for v in norms { total += Double(v) }
    meanVariance = n * d > 0 ? total / Double(n * d) : 0
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
