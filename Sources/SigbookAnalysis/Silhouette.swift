import SigbookTensor

/// Silhouette coefficients of clusterings (Rousseeuw, "Silhouettes: a graphical aid to the
/// interpretation and validation of cluster analysis", J. Comput. Appl. Math. 20, 1987).
///
/// For point `i` in cluster `A`: `a(i)` is the mean Euclidean distance to the other points of `A`,
/// `b(i)` the smallest, over the other clusters `C`, of the mean distance to the points of `C`, and
/// `s(i) = (b − a) / max(a, b)`; `s(i) = 0` when `A` holds `i` alone (and when `a = b = 0`), as in
/// scikit-learn's `silhouette_samples`. The mean silhouette is defined for 2 to n − 1 clusters;
/// outside that range the functions return `nil` (scikit-learn raises an error).
///
/// The computation is exact and O(n²·d), but never holds the n × n distance matrix: for a block of
/// rows the distances to all n points are one GEMM (on data centred at their mean, for accuracy),
/// and the per-cluster sums of those distances are a second GEMM with the one-hot matrix of the
/// clusters. Several clusterings of the same points share the distance work: their one-hot
/// matrices are stacked side by side, so a sweep over k costs one distance pass, not one per k.
enum Silhouette {
  /// The silhouette `s(i)` of every point of one clustering.
  ///
  /// - Parameters:
  ///   - x: the points, `[n, d]` (any rank: rows are the first dimension).
  ///   - labels: the cluster of each point (any integers; only equality matters).
  /// - Returns: `n` values in [−1, 1], or `nil` when there are fewer than 2 or more than n − 1
  ///   clusters.
  /// - Throws: `AnalysisError.nonFiniteValues` when `x` holds NaN or infinity.
  /// - Precondition: `labels.count == n`.
  /// - Complexity: 2·n²·(d + k) operations in GEMM, O(block · n) memory.
  static func samples(_ x: Tensor, labels: [Int]) throws(AnalysisError) -> [Double]? {
    precondition(labels.count == x.rows, "\(labels.count) labels for \(x.rows) points")
    guard x.isFinite else { throw .nonFiniteValues(what: "the data") }
    let (values, _) = Distances.centred(x)
    return try perPoint(values, points: x.rows, features: x.rowSize, labelings: [labels])[0]
  }

  /// The mean silhouette of one clustering, exact or over a seeded random sample of the points.
  ///
  /// - Parameters:
  ///   - x: the points, `[n, d]`.
  ///   - labels: the cluster of each point.
  ///   - sample: when given and below n, the silhouette of that many points drawn without
  ///     replacement (`SeededGenerator(seed:)`), with distances among the sample only, like
  ///     scikit-learn's `sample_size`; `nil` (the default) or ≥ n: all points, exactly.
  ///   - seed: determines the sample.
  /// - Returns: the mean of `s(i)`, or `nil` when it is undefined (fewer than 2 or more than
  ///   n − 1 clusters among the points used).
  /// - Throws: `AnalysisError` when `sample < 2` or `x` is not finite.
  static func mean(_ x: Tensor, labels: [Int], sample: Int? = nil, seed: Int = 0)
    throws(AnalysisError) -> Double?
  {
    try means(x, labelings: [labels], sample: sample, seed: seed)[0]
  }

  /// The mean silhouettes of several clusterings of the same points, sharing one pass over the
  /// pairwise distances.
  ///
  /// - Parameters:
  ///   - x: the points, `[n, d]`.
  ///   - labelings: clusterings of the points, each with `n` labels.
  ///   - sample: as in ``mean(_:labels:sample:seed:)``; one sample serves every clustering.
  ///   - seed: determines the sample.
  /// - Returns: one mean silhouette per clustering, `nil` where undefined.
  /// - Throws: `AnalysisError` when `sample < 2` or `x` is not finite.
  /// - Precondition: every labeling has `n` labels.
  /// - Complexity: 2·m²·(d + Σk) operations in GEMM for m = min(n, sample).
  static func means(
    _ x: Tensor, labelings: [[Int]], sample: Int? = nil, seed: Int = 0
  ) throws(AnalysisError) -> [Double?] {
    guard x.isFinite else { throw .nonFiniteValues(what: "the data") }
    let (values, _) = Distances.centred(x)
    return try means(
      centred: values, points: x.rows, features: x.rowSize, labelings: labelings, sample: sample,
      seed: seed)
  }

  /// ``means(_:labelings:sample:seed:)`` on rows already centred (k-means prepares them).
  static func means(
    centred values: [Float], points n: Int, features d: Int, labelings: [[Int]], sample: Int?,
    seed: Int, isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) -> [Double?] {
    for labels in labelings {
      precondition(labels.count == n, "\(labels.count) labels for \(n) points")
    }
    if let sample, sample < 2 {
      throw .invalidArgument("a silhouette sample needs at least 2 points, not \(sample)")
    }
    var rows = values
    var used = labelings
    if let sample, sample < n {
      var generator = SeededGenerator(seed: seed)
      let indices = generator.sample(sample, from: n).sorted()
      rows = Tensor(shape: [n, d], scalars: values).rows(at: indices).scalars
      used = labelings.map { labels in indices.map { labels[$0] } }
    }
    let m = used.first?.count ?? n
    let scores = try perPoint(
      rows, points: m, features: d, labelings: used, isCancelled: isCancelled)
    return scores.map { s in s.map { meanOf($0) } }
  }

  /// `s(i)` for every point and every labeling (`nil` where undefined), from centred rows.
  /// Throws `.cancelled` when `isCancelled` returns true before a block of rows.
  static func perPoint(
    _ values: [Float], points n: Int, features d: Int, labelings: [[Int]],
    isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) -> [[Double]?] {
    let dense = labelings.map { DenseLabels($0) }
    let defined = dense.map { $0.count >= 2 && $0.count <= n - 1 }
    let active = dense.indices.filter { defined[$0] }
    guard !active.isEmpty else { return dense.map { _ in nil } }
    // One-hot columns of every defined labeling, side by side: [n, K].
    var offsets = [Int](repeating: 0, count: dense.count)
    var width = 0
    for l in active {
      offsets[l] = width
      width += dense[l].count
    }
    var oneHot = [Float](repeating: 0, count: n * width)
    for l in active {
      for (i, code) in dense[l].codes.enumerated() { oneHot[i * width + offsets[l] + code] = 1 }
    }
    var result: [[Double]] = dense.map { _ in [Double](repeating: 0, count: n) }
    // Rows per block: about 4 M distances (16 MB), within 16 ... 1024 rows.
    let block = min(n, max(16, min(1024, (1 << 22) / max(n, 1))))
    var distances = [Float](repeating: 0, count: block * n)
    var clusterSums = [Float](repeating: 0, count: block * width)
    let norms = values.withUnsafeBufferPointer {
      Distances.rowSquaredNorms($0, rows: n, columns: d)
    }
    var cancelled = false
    values.withUnsafeBufferPointer { x in
      norms.withUnsafeBufferPointer { xn in
        oneHot.withUnsafeBufferPointer { h in
          distances.withUnsafeMutableBufferPointer { dist in
            clusterSums.withUnsafeMutableBufferPointer { sums in
              guard let xBase = x.baseAddress, let hBase = h.baseAddress,
                let distBase = dist.baseAddress, let sumsBase = sums.baseAddress
              else { return }
              var start = 0
              while start < n {
                if isCancelled() {
                  cancelled = true
                  return
                }
                let m = min(block, n - start)
                Distances.squaredDistances(
                  a: xBase + start * d,
                  aNorms: UnsafeBufferPointer(rebasing: xn[start..<start + m]),
                  b: xBase, bNorms: xn, features: d, into: distBase)
                Kernels.squareRoot(UnsafeMutableBufferPointer(rebasing: dist[0..<m * n]))
                for r in 0..<m { dist[r * n + start + r] = 0 }
                BLAS.gemm(
                  transposeA: false, transposeB: false, m: m, n: width, k: n, a: distBase, b: hBase,
                  beta: 0, c: sumsBase)
                for l in active {
                  let labels = dense[l]
                  result[l].withUnsafeMutableBufferPointer { s in
                    for r in 0..<m {
                      s[start + r] = labels.silhouette(
                        point: start + r,
                        sums: UnsafeBufferPointer(
                          start: sumsBase + r * width + offsets[l],
                          count: labels.count))
                    }
                  }
                }
                start += m
              }
            }
          }
        }
      }
    }
    if cancelled { throw .cancelled }
    return dense.indices.map { defined[$0] ? result[$0] : nil }
  }

  /// The mean of values in Double, four partial sums in a fixed order.
  static func meanOf(_ values: [Double]) -> Double {
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var i = 0
    while i + 4 <= values.count {
      s0 += values[i]; s1 += values[i + 1]; s2 += values[i + 2]; s3 += values[i + 3]
      i += 4
    }
    while i < values.count { s0 += values[i]; i += 1 }
    return values.isEmpty ? 0 : ((s0 + s1) + (s2 + s3)) / Double(values.count)
  }
}

extension DenseLabels {
  /// `s(i)` from the sums of point `i`'s distances to every cluster.
  func silhouette(point i: Int, sums: UnsafeBufferPointer<Float>) -> Double {
    let own = codes[i]
    guard sizes[own] > 1 else { return 0 }
    let a = Double(sums[own]) / Double(sizes[own] - 1)
    var b = Double.infinity
    for c in 0..<count where c != own {
      b = Swift.min(b, Double(sums[c]) / Double(sizes[c]))
    }
    let scale = Swift.max(a, b)
    return scale > 0 ? (b - a) / scale : 0
  }
}
