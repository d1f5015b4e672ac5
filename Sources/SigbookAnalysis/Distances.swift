import SigbookTensor

/// Euclidean distances between the rows of matrices, computed through one matrix product.
///
/// `‖x − y‖² = ‖x‖² − 2·x·y + ‖y‖²`: the cross terms of a whole block of rows are one `sgemm`,
/// the norms are added afterwards and rounding below zero is clamped to 0. The expansion loses
/// accuracy when the points are far from the origin compared with their distances, so callers
/// that can (k-means, silhouette) centre their data first; distances are translation-invariant.
enum Distances {
  /// The squared Euclidean distances between every row of `a` and every row of `b`.
  ///
  /// - Parameters:
  ///   - a: `[m, d]` (any rank: rows are the first dimension, features the rest).
  ///   - b: `[n, d]`.
  /// - Returns: `[m, n]`, entry `(i, j)` = `‖aᵢ − bⱼ‖²`, never negative. The distance of a row to
  ///   itself comes out as a small rounding error rather than exactly 0.
  /// - Precondition: both have the same number of features.
  /// - Complexity: 2·m·n·d floating-point operations, one GEMM.
  static func squaredEuclidean(_ a: Tensor, _ b: Tensor) -> Tensor {
    let m = a.rows, n = b.rows, d = a.rowSize
    precondition(b.rowSize == d, "distances between rows of \(a.shape) and \(b.shape)")
    let aNorms = rowSquaredNorms(a), bNorms = rowSquaredNorms(b)
    return Tensor(shape: [m, n]) { out in
      a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
          guard let outBase = out.baseAddress, let aBase = pa.baseAddress,
            let bBase = pb.baseAddress
          else { return }
          aNorms.withUnsafeBufferPointer { an in
            bNorms.withUnsafeBufferPointer { bn in
              squaredDistances(
                a: aBase, aNorms: an, b: bBase, bNorms: bn, features: d, into: outBase)
            }
          }
        }
      }
    }
  }

  /// The Euclidean distances between every row of `a` and every row of `b`: the square roots of
  /// ``squaredEuclidean(_:_:)``.
  ///
  /// - Returns: `[m, n]`, entry `(i, j)` = `‖aᵢ − bⱼ‖`.
  static func euclidean(_ a: Tensor, _ b: Tensor) -> Tensor {
    var result = squaredEuclidean(a, b)
    result.withUnsafeMutableBufferPointer { out in
      for i in out.indices { out[i] = out[i].squareRoot() }
    }
    return result
  }

  /// The squared Euclidean norm `‖xᵢ‖² = Σⱼ xᵢⱼ²` of every row, accumulated in Double.
  static func rowSquaredNorms(_ x: Tensor) -> [Float] {
    x.withUnsafeBufferPointer { rowSquaredNorms($0, rows: x.rows, columns: x.rowSize) }
  }

  // MARK: - Kernels on raw buffers

  /// `‖xᵢ‖²` for each row of a row-major `[rows, columns]` buffer; four Double partial sums in a
  /// fixed order.
  static func rowSquaredNorms(_ x: UnsafeBufferPointer<Float>, rows: Int, columns d: Int)
    -> [Float]
  {
    [Float](unsafeUninitializedCapacity: rows) { out, initialized in
      for i in 0..<rows {
        // A rebased row: indices without offset arithmetic let the loop vectorise.
        let row = UnsafeBufferPointer(rebasing: x[i * d..<(i + 1) * d])
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var j = 0
        while j + 4 <= d {
          let a = Double(row[j]), b = Double(row[j + 1])
          let c = Double(row[j + 2]), e = Double(row[j + 3])
          s0 += a * a; s1 += b * b; s2 += c * c; s3 += e * e
          j += 4
        }
        while j < d { let a = Double(row[j]); s0 += a * a; j += 1 }
        out[i] = Float((s0 + s1) + (s2 + s3))
      }
      initialized = rows
    }
  }

  /// Squared distances of the `aNorms.count` rows at `a` to the `bNorms.count` rows at `b`,
  /// written row-major into `out` (`[m, n]`), clamped at 0.
  static func squaredDistances(
    a: UnsafePointer<Float>, aNorms: UnsafeBufferPointer<Float>,
    b: UnsafePointer<Float>, bNorms: UnsafeBufferPointer<Float>,
    features d: Int, into out: UnsafeMutablePointer<Float>
  ) {
    let m = aNorms.count, n = bNorms.count
    BLAS.gemm(
      transposeA: false, transposeB: true, m: m, n: n, k: d, alpha: -2, a: a, b: b, beta: 0,
      c: out)
    for i in 0..<m {
      let row = out + i * n
      let ai = aNorms[i]
      for j in 0..<n { row[j] = max(0, row[j] + ai + bNorms[j]) }
    }
  }

  /// The mean of each column of a row-major `[rows, columns]` buffer, accumulated in Double row
  /// by row (a fixed order).
  static func columnMeans(_ x: UnsafeBufferPointer<Float>, rows n: Int, columns d: Int)
    -> [Double]
  {
    var sums = [Double](repeating: 0, count: d)
    sums.withUnsafeMutableBufferPointer { s in
      for i in 0..<n {
        let row = UnsafeBufferPointer(rebasing: x[i * d..<(i + 1) * d])
        for j in 0..<d { s[j] += Double(row[j]) }
      }
    }
    let scale = n > 0 ? 1 / Double(n) : 0
    return sums.map { $0 * scale }
  }

  /// The rows of `x` minus their column means, and those means.
  static func centred(_ x: Tensor) -> (values: [Float], mean: [Double]) {
    let n = x.rows, d = x.rowSize
    return x.withUnsafeBufferPointer { p in
      let mean = columnMeans(p, rows: n, columns: d)
      let floatMean = mean.map { Float($0) }
      let values = [Float](unsafeUninitializedCapacity: n * d) { out, initialized in
        floatMean.withUnsafeBufferPointer { mu in
          for i in 0..<n {
            let source = UnsafeBufferPointer(rebasing: p[i * d..<(i + 1) * d])
            let target = UnsafeMutableBufferPointer(rebasing: out[i * d..<(i + 1) * d])
            for j in 0..<d { target[j] = source[j] - mu[j] }
          }
        }
        initialized = n * d
      }
      return (values, mean)
    }
  }
}
