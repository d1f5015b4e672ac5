import COpenBLAS
import Foundation
import SigbookTensor

/// Centred kernel alignment (Kornblith et al., 2019): how alike two representations of the same
/// inputs are, 1 for representations equal up to a rotation and a scale, near 0 for unrelated
/// ones. CKA(X, Y) = HSIC(K, L) / √(HSIC(K, K) · HSIC(L, L)) for the inputs' kernel matrices K of
/// X and L of Y.
///
/// HSIC is the biased estimator tr(KHLH) / (n − 1)² (H centres), or with `unbiased` the
/// estimator of Song et al. (2012) that Nguyen et al. (2021) use, whose kernels have their
/// diagonal set to zero:
/// [tr(K̃L̃) + 1ᵀK̃1 · 1ᵀL̃1 / ((n − 1)(n − 2)) − 2 · 1ᵀK̃L̃1 / (n − 2)] / (n(n − 3)).
///
/// The linear kernel (K = XXᵀ of the centred X) is computed exactly on every input without an
/// n × n matrix: tr(KL) = ‖XᵀY‖², kᵢᵢ = ‖xᵢ‖², and the sums of centred rows are zero, so each
/// term is a sum over features or over inputs, accumulated in Double over blocks of rows. The
/// RBF kernel, exp(−‖xᵢ − xⱼ‖² / (2σ²)) with σ² = bandwidth² × the median squared distance
/// (over all pairs, as Kornblith et al.'s code), needs the matrix: it is computed on batches of
/// inputs (the inputs in a seeded random order, cut into equal batches of at most `batch`)
/// whose HSICs are summed before the ratio (minibatch CKA, Nguyen et al., 2021); a set no
/// larger than one batch is computed whole.
public enum CKA {
  public enum Kernel: Sendable, Equatable {
    case linear
    case rbf(bandwidth: Double)
  }

  /// The rows of a block as Double, each feature less its mean.
  static let blockRows = 1024

  /// CKA between every layer of `a` (rows) and every layer of `b` (columns), each layer
  /// `[n, width]` over the same n inputs.
  ///
  /// - Parameters:
  ///   - progress: called with the fraction done (0…1) before every block of rows (linear) or
  ///     every layer of every batch (RBF), for a progress bar.
  ///   - isCancelled: checked as often; when it returns true the matrix stops.
  /// - Throws: `AnalysisError` for fewer than 4 inputs (2 for the biased estimator), sets of
  ///   different sizes, values that are not finite, a bandwidth that is not positive, or
  ///   `.cancelled`.
  public static func matrix(
    _ a: [Tensor], _ b: [Tensor], kernel: Kernel, unbiased: Bool, batch: Int = 1000,
    seed: Int = 0, progress: ((Double) -> Void)? = nil, isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) -> [[Double]] {
    let n = a.first?.rows ?? 0
    guard (a + b).allSatisfy({ $0.rows == n }) else {
      throw .invalidArgument(
        "cka compares representations of the same inputs, but these have \(Set((a + b).map(\.rows)).sorted().map(NumberFormat.grouped).joined(separator: " and ")) inputs"
      )
    }
    let least = unbiased ? 4 : 2
    guard n >= least else {
      throw .invalidArgument(
        "cka\(unbiased ? " with the unbiased estimator" : "") needs at least \(least) inputs, not \(n)"
      )
    }
    switch kernel {
    case .linear:
      // `linear` sees a value that is not finite in its column sums.
      return try linear(
        a, b, n: n, unbiased: unbiased, progress: progress, isCancelled: isCancelled)
    case .rbf(let bandwidth):
      for t in a + b where !t.scalars.allSatisfy(\.isFinite) {
        throw .nonFiniteValues(what: "the signatures")
      }
      guard bandwidth > 0, bandwidth.isFinite else {
        throw .invalidArgument("the bandwidth must be a positive number, not \(bandwidth)")
      }
      guard batch >= least else {
        throw .invalidArgument("batches must hold at least \(least) inputs, not \(batch)")
      }
      return try rbf(
        a, b, n: n, bandwidth: bandwidth, unbiased: unbiased, batch: batch, seed: seed,
        progress: progress, isCancelled: isCancelled)
    }
  }

  /// What the linear estimators need of one layer, or of two.
  struct Moments {
    /// ‖XᵀY‖²: the Frobenius norm of the features' cross-products, squared.
    var cross = 0.0
    /// Σᵢ ‖xᵢ‖² ‖yᵢ‖² over the centred rows.
    var normProducts = 0.0
    /// Σᵢ ‖xᵢ‖² and Σᵢ ‖yᵢ‖².
    var normsX = 0.0
    var normsY = 0.0
  }

  /// The widest side-by-side representations whose cross-products are accumulated as one
  /// symmetric matrix (`dsyrk` on the centred blocks of all of them): at most 4,096 features,
  /// 128 MiB of Double. Wider ones go pair by pair.
  static let jointWidth = 4096

  static func linear(
    _ a: [Tensor], _ b: [Tensor], n: Int, unbiased: Bool, progress: ((Double) -> Void)? = nil,
    isCancelled: () -> Bool
  ) throws(AnalysisError) -> [[Double]] {
    // The distinct representations: b's are a's when a set is compared with itself.
    let same =
      a.count == b.count
      && zip(a, b).allSatisfy { $0.shape == $1.shape && $0.scalars == $1.scalars }
    let all = same ? a : a + b
    let columnOf = same ? Array(a.indices) : b.indices.map { a.count + $0 }
    let means = all.map(columnMeans)
    // A sum over rows in Double is finite exactly when every value is: a Float's range is far
    // inside a Double's, so no sum of finite values overflows.
    guard means.allSatisfy({ $0.allSatisfy(\.isFinite) }) else {
      throw .nonFiniteValues(what: "the signatures")
    }
    // The row norms enter the unbiased estimator only.
    let norms = unbiased ? all.indices.map { rowNorms(all[$0], mean: means[$0]) } : []
    // ‖XᵢᵀXⱼ‖² for the pairs the matrix needs, i ≤ j.
    var cross = [[Double]](
      repeating: [Double](repeating: 0, count: all.count), count: all.count)
    let widths = all.map(\.rowSize)
    if widths.reduce(0, +) <= jointWidth {
      cross = try jointCrossNorms(
        all, means: means, progress: progress, isCancelled: isCancelled)
    } else {
      var pairs = Set(all.indices.map { [$0, $0] })
      for i in a.indices { for j in columnOf { pairs.insert([min(i, j), max(i, j)]) } }
      for (done, pair) in pairs.sorted(by: { $0.lexicographicallyPrecedes($1) }).enumerated() {
        if isCancelled() { throw .cancelled }
        progress?(Double(done) / Double(pairs.count))
        cross[pair[0]][pair[1]] = crossNorm(
          all[pair[0]], means[pair[0]], all[pair[1]], means[pair[1]])
      }
    }
    func hsic(_ i: Int, _ j: Int) -> Double {
      let n = Double(n)
      guard unbiased else { return cross[min(i, j)][max(i, j)] / ((n - 1) * (n - 1)) }
      let m = Moments(
        cross: cross[min(i, j)][max(i, j)],
        normProducts: zip(norms[i], norms[j]).reduce(0) { $0 + $1.0 * $1.1 },
        normsX: norms[i].reduce(0, +), normsY: norms[j].reduce(0, +))
      // With centred rows: tr(K̃L̃) = ‖XᵀY‖² − Σ kᵢᵢlᵢᵢ, 1ᵀK̃1 = −Σ kᵢᵢ, (K̃1)ᵢ = −kᵢᵢ.
      let trace = m.cross - m.normProducts
      let sums = m.normsX * m.normsY / ((n - 1) * (n - 2))
      return (trace + sums - 2 * m.normProducts / (n - 2)) / (n * (n - 3))
    }
    let own = all.indices.map { hsic($0, $0) }
    return a.indices.map { i in
      columnOf.map { j in ratio(hsic(i, j), own[i], own[j]) }
    }
  }

  /// Most parts `jointCrossNorms` cuts the rows into (a constant: the split never depends on
  /// the cores).
  static let jointParts = 4

  /// Most Doubles the parts' cross-product matrices take together (128 MiB): wide sets run in
  /// fewer parts, the widest in one.
  static let jointBudget = 1 << 24

  /// ‖XᵢᵀXⱼ‖² for every pair i ≤ j of representations, from one pass over blocks of rows: each
  /// block of every representation centred side by side, and their cross-products accumulated
  /// into one symmetric matrix by `dsyrk` (its upper triangle), whose blocks are the pairs'.
  ///
  /// The rows are cut into up to `jointParts` equal runs, each accumulating its own matrix
  /// block by block, the parts on every core (OpenBLAS on one thread in each), and the matrices
  /// added in part order: the split depends on the sizes alone, so the sums do not depend on
  /// the core count.
  static func jointCrossNorms(
    _ all: [Tensor], means: [[Double]], progress: ((Double) -> Void)? = nil,
    isCancelled: () -> Bool
  ) throws(AnalysisError) -> [[Double]] {
    let n = all.first?.rows ?? 0
    let widths = all.map(\.rowSize), total = widths.reduce(0, +), square = total * total
    let offsets = widths.indices.map { widths[..<$0].reduce(0, +) }
    let parts = max(
      1, min(jointParts, (n + blockRows - 1) / blockRows, jointBudget / max(square, 1)))
    let bounds = (0...parts).map { $0 * n / parts }
    let partRows = (n + parts - 1) / parts
    let blockSize = max(1, min(blockRows, partRows))
    let steps = (partRows + blockSize - 1) / blockSize
    var grams = [Double](repeating: 0, count: parts * square)
    var blocks = [Double](repeating: 0, count: parts * blockSize * total)
    if parts > 1 { BLAS.beginSingleThreaded() }
    defer { if parts > 1 { BLAS.endSingleThreaded() } }
    for step in 0..<steps {
      if isCancelled() { throw .cancelled }
      progress?(Double(step) / Double(steps))
      grams.withUnsafeMutableBufferPointer { g in
        blocks.withUnsafeMutableBufferPointer { b in
          guard let g = g.baseAddress, let b = b.baseAddress else { return }
          // Each part writes its own block and its own matrix.
          nonisolated(unsafe) let (gram, block) = (g, b)
          Parallel.forEach(parts) { p in
            let start = bounds[p] + step * blockSize, m = min(blockSize, bounds[p + 1] - start)
            guard m > 0 else { return }
            let rows = block + p * blockSize * total
            for (t, x) in all.enumerated() {
              centred(
                x, means[t], rows: start..<(start + m), into: rows + offsets[t], stride: total)
            }
            cblas_dsyrk(
              CblasRowMajor, CblasUpper, CblasTrans, Int32(total), Int32(m), 1, rows,
              Int32(total), 1, gram + p * square, Int32(total))
          }
        }
      }
    }
    var gram = Array(grams[0..<square])
    for p in 1..<parts {
      for k in 0..<square { gram[k] += grams[p * square + k] }
    }
    var cross = [[Double]](repeating: [Double](repeating: 0, count: all.count), count: all.count)
    for i in all.indices {
      for j in i..<all.count {
        var sum = 0.0
        for r in offsets[i]..<(offsets[i] + widths[i]) {
          for c in offsets[j]..<(offsets[j] + widths[j]) {
            // Only the upper triangle is written; a diagonal block's lower half mirrors it.
            let v = c >= r ? gram[r * total + c] : gram[c * total + r]
            sum += v * v
          }
        }
        cross[i][j] = sum
      }
    }
    return cross
  }

  /// HSIC(K, L) / √(HSIC(K, K) · HSIC(L, L)); NaN when a representation is constant.
  static func ratio(_ cross: Double, _ x: Double, _ y: Double) -> Double {
    let scale = (x * y).squareRoot()
    return scale > 0 ? cross / scale : .nan
  }

  static func columnMeans(_ x: Tensor) -> [Double] {
    let n = x.rows, d = x.rowSize
    var mean = [Double](repeating: 0, count: d)
    mean.withUnsafeMutableBufferPointer { sums in
      x.withUnsafeBufferPointer { xs in
        guard let xs = xs.baseAddress else { return }
        for i in 0..<n {
          let row = xs + i * d
          for j in 0..<d { sums[j] += Double(row[j]) }
        }
      }
    }
    return mean.map { $0 / Double(max(n, 1)) }
  }

  /// ‖xᵢ − mean‖² for each row.
  static func rowNorms(_ x: Tensor, mean: [Double]) -> [Double] {
    let d = x.rowSize
    return x.scalars.withUnsafeBufferPointer { xs in
      (0..<x.rows).map { i in
        var sum = 0.0
        for j in 0..<d {
          let v = Double(xs[i * d + j]) - mean[j]
          sum += v * v
        }
        return sum
      }
    }
  }

  /// ‖(X − x̄)ᵀ(Y − ȳ)‖², the cross-products accumulated by `dgemm` over blocks of rows.
  static func crossNorm(_ x: Tensor, _ mx: [Double], _ y: Tensor, _ my: [Double]) -> Double {
    let n = x.rows, p = x.rowSize, q = y.rowSize
    var c = [Double](repeating: 0, count: p * q)
    var bx = [Double](repeating: 0, count: min(blockRows, n) * p)
    var by = [Double](repeating: 0, count: min(blockRows, n) * q)
    var start = 0
    while start < n {
      let m = min(blockRows, n - start)
      centred(x, mx, rows: start..<(start + m), into: &bx)
      centred(y, my, rows: start..<(start + m), into: &by)
      cblas_dgemm(
        CblasRowMajor, CblasTrans, CblasNoTrans, Int32(p), Int32(q), Int32(m), 1, bx, Int32(p),
        by, Int32(q), 1, &c, Int32(q))
      start += m
    }
    return c.reduce(0) { $0 + $1 * $1 }
  }

  static func centred(_ x: Tensor, _ mean: [Double], rows: Range<Int>, into out: inout [Double]) {
    out.withUnsafeMutableBufferPointer { out in
      guard let out = out.baseAddress else { return }
      centred(x, mean, rows: rows, into: out, stride: x.rowSize)
    }
  }

  /// Rows `rows` of `x` less `mean`, as Double, row r at `out + r · stride`.
  static func centred(
    _ x: Tensor, _ mean: [Double], rows: Range<Int>, into out: UnsafeMutablePointer<Double>,
    stride: Int
  ) {
    let d = x.rowSize
    x.withUnsafeBufferPointer { xs in
      mean.withUnsafeBufferPointer { mean in
        guard let xs = xs.baseAddress else { return }
        for (r, i) in rows.enumerated() {
          let source = xs + i * d, target = out + r * stride
          for j in 0..<d { target[j] = Double(source[j]) - mean[j] }
        }
      }
    }
  }

  static func rbf(
    _ a: [Tensor], _ b: [Tensor], n: Int, bandwidth: Double, unbiased: Bool, batch: Int,
    seed: Int, progress: ((Double) -> Void)? = nil, isCancelled: () -> Bool
  ) throws(AnalysisError) -> [[Double]] {
    let all = a + b
    // The inputs in a seeded order, cut into equal batches (a set within one batch: whole).
    let batches = (n + batch - 1) / batch
    var generator = SeededGenerator(seed: UInt64(truncatingIfNeeded: seed))
    let order = batches == 1 ? Array(0..<n) : generator.permutation(n)
    var cross = [[Double]](
      repeating: [Double](repeating: 0, count: b.count), count: a.count)
    var own = [Double](repeating: 0, count: all.count)
    for k in 0..<batches {
      let rows = Array(order[(k * n / batches)..<((k + 1) * n / batches)])
      var kernels: [[Double]] = []
      for (l, t) in all.enumerated() {
        if isCancelled() { throw .cancelled }
        progress?(Double(k * all.count + l) / Double(batches * all.count))
        kernels.append(
          prepared(
            try gram(t.rows(at: rows), bandwidth: bandwidth, isCancelled: isCancelled),
            unbiased: unbiased))
      }
      let m = rows.count
      func hsic(_ k: [Double], _ l: [Double]) -> Double {
        var trace = 0.0
        for i in 0..<(m * m) { trace += k[i] * l[i] }
        let d = Double(m)
        guard unbiased else { return trace / ((d - 1) * (d - 1)) }
        var sumK = 0.0, sumL = 0.0, rowProducts = 0.0
        for i in 0..<m {
          var rk = 0.0, rl = 0.0
          for j in 0..<m {
            rk += k[i * m + j]
            rl += l[i * m + j]
          }
          sumK += rk
          sumL += rl
          rowProducts += rk * rl
        }
        return (trace + sumK * sumL / ((d - 1) * (d - 2)) - 2 * rowProducts / (d - 2))
          / (d * (d - 3))
      }
      for i in all.indices { own[i] += hsic(kernels[i], kernels[i]) }
      for i in a.indices {
        for j in b.indices { cross[i][j] += hsic(kernels[i], kernels[a.count + j]) }
      }
    }
    return a.indices.map { i in
      b.indices.map { j in ratio(cross[i][j], own[i], own[a.count + j]) }
    }
  }

  /// The RBF kernel matrix of the rows of `x`, σ² = bandwidth² × the median of the squared
  /// distances (every pair, the zeros of the diagonal among them).
  static func gram(_ x: Tensor, bandwidth: Double, isCancelled: () -> Bool = { false })
    throws(AnalysisError) -> [Double]
  {
    let m = x.rows, d = x.rowSize
    let rows = x.scalars.map(Double.init)
    // ‖xᵢ − xⱼ‖² = ‖xᵢ‖² + ‖xⱼ‖² − 2 xᵢ·xⱼ, the products by one dgemm.
    var squares = [Double](repeating: 0, count: m * m)
    cblas_dgemm(
      CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(m), Int32(d), -2, rows, Int32(d),
      rows, Int32(d), 0, &squares, Int32(m))
    if isCancelled() { throw .cancelled }
    let norms = (0..<m).map { i in -squares[i * m + i] / 2 }
    for i in 0..<m {
      for j in 0..<m { squares[i * m + j] = max(0, squares[i * m + j] + norms[i] + norms[j]) }
      squares[i * m + i] = 0
    }
    // The median of every pair (the diagonal's zeros among them), by selection.
    var values = squares
    let c = values.count
    let median = values.withUnsafeMutableBufferPointer { v in
      select(v, c / 2)
      let upper = v[c / 2]
      guard c % 2 == 0 else { return upper }
      select(v, c / 2 - 1)
      return (v[c / 2 - 1] + upper) / 2
    }
    if isCancelled() { throw .cancelled }
    let denominator = 2 * bandwidth * bandwidth * median
    return squares.map { denominator > 0 ? exp(-$0 / denominator) : ($0 == 0 ? 1 : 0) }
  }

  /// The kernel centred (HKH, biased) or with a zero diagonal (unbiased).
  static func prepared(_ k: [Double], unbiased: Bool) -> [Double] {
    let m = Int(Double(k.count).squareRoot().rounded())
    var out = k
    if unbiased {
      for i in 0..<m { out[i * m + i] = 0 }
      return out
    }
    var rowMeans = [Double](repeating: 0, count: m)
    var total = 0.0
    for i in 0..<m {
      for j in 0..<m { rowMeans[i] += k[i * m + j] }
      total += rowMeans[i]
      rowMeans[i] /= Double(m)
    }
    total /= Double(m * m)
    // K symmetric: column means equal row means.
    for i in 0..<m {
      for j in 0..<m { out[i * m + j] = k[i * m + j] - rowMeans[i] - rowMeans[j] + total }
    }
    return out
  }
}
