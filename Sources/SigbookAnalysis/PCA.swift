import COpenBLAS
import SigbookTensor

/// A principal component analysis: the directions of largest variance of a set of points and the
/// points projected onto them.
struct PCAResult: Sendable, Equatable {
  /// The points projected on the components, `[n, dims]`: `(xᵢ − mean) · componentsᵀ`.
  let projected: Tensor
  /// The principal axes, `[dims, d]`, orthonormal rows in order of decreasing variance; each
  /// row's largest-magnitude entry is positive.
  let components: Tensor
  /// The variance along each component (the covariance's eigenvalues, denominator n − 1).
  let explainedVariance: [Double]
  /// Each component's share of the total variance (the trace of the covariance); 0 when all
  /// points coincide.
  let explainedVarianceRatio: [Double]
  /// The mean of the points, `[d]`, subtracted before projecting.
  let mean: Tensor

  /// Projects new points on the components: `(x − mean) · componentsᵀ`.
  ///
  /// - Parameter x: `[m, d]` (any rank: rows are the first dimension, features the rest).
  /// - Returns: `[m, dims]`.
  /// - Precondition: `x` has the `d` features of the fitted data.
  /// - Complexity: one GEMM, 2·m·d·dims operations.
  func transform(_ x: Tensor) -> Tensor {
    let d = mean.count
    precondition(x.rowSize == d, "PCA of \(d) features cannot project \(x.shape)")
    var centred = x.flattenedRows
    mean.withUnsafeBufferPointer { mu in
      centred.withUnsafeMutableBufferPointer { values in
        for i in 0..<(d > 0 ? values.count / d : 0) {
          let row = UnsafeMutableBufferPointer(rebasing: values[i * d..<(i + 1) * d])
          for j in 0..<d { row[j] -= mu[j] }
        }
      }
    }
    return Tensor.matmul(centred, components, transposeB: true)
  }

  /// Maps projected points back to the data space: `y · components + mean`. With all `d`
  /// components this recovers the data (up to rounding).
  ///
  /// - Parameter y: `[m, dims]`.
  /// - Returns: `[m, d]`.
  /// - Precondition: `y` has `dims` columns.
  func reconstruct(_ y: Tensor) -> Tensor {
    precondition(
      y.rowSize == components.rows,
      "\(y.shape) is not a projection on \(components.rows) components")
    var x = Tensor.matmul(y.flattenedRows, components)
    let d = mean.count
    mean.withUnsafeBufferPointer { mu in
      x.withUnsafeMutableBufferPointer { values in
        for i in 0..<(d > 0 ? values.count / d : 0) {
          let row = UnsafeMutableBufferPointer(rebasing: values[i * d..<(i + 1) * d])
          for j in 0..<d { row[j] += mu[j] }
        }
      }
    }
    return x
  }
}

/// Principal component analysis through the eigen-decomposition of the covariance matrix.
///
/// The points are centred, the covariance `C = Xcᵀ·Xc / (n − 1)` is accumulated in Double with
/// `dsyrk` over blocks of rows (so a 60,000 × 784 data set needs only a block in Double), and
/// `C`'s eigenvectors come from ``SymmetricEigen`` (Householder tridiagonalisation and implicit
/// QL). The components are the eigenvectors of the largest eigenvalues, signed so that each one's
/// largest-magnitude entry is positive (scikit-learn's `svd_flip` convention on components), so
/// the result is deterministic. Matches scikit-learn's `PCA(n_components=dims,
/// svd_solver="full")` up to rounding: Pearson, "On lines and planes of closest fit", Phil. Mag.
/// 2, 1901; Jolliffe, "Principal Component Analysis", 2002.
enum PCA {
  /// Rows per block when accumulating the covariance.
  static let blockRows = 1024

  /// Fits the components of the rows of `x` and projects `x` on the first `dims` of them.
  ///
  /// - Parameters:
  ///   - x: the points, `[n, d]` (any rank: rows are the first dimension, features the rest).
  ///   - dims: how many components to keep, `1 ... d` (default 2).
  ///   - isCancelled: checked before every block of rows of the covariance and every step of
  ///     the eigen-decomposition; when it returns true the fit stops with `.cancelled`.
  /// - Throws: `AnalysisError` when `n < 2`, `dims` is outside `1 ... d`, or the data are not
  ///   finite; `.cancelled` when interrupted.
  /// - Complexity: n·d² operations for the covariance, about 9·d³ for its eigenvectors.
  static func fit(
    _ x: Tensor, dims: Int = 2, isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) -> PCAResult {
    let n = x.rows, d = x.rowSize
    guard n >= 2, dims >= 1, dims <= d else {
      throw .invalidDimensions(dims: dims, points: n, features: d)
    }
    guard x.isFinite else { throw .nonFiniteValues(what: "the data for pca") }
    let (centred, mean) = Distances.centred(x)
    let covariance = Self.covariance(
      centred: centred, points: n, features: d, isCancelled: isCancelled)
    if isCancelled() { throw .cancelled }
    let eigen = try SymmetricEigen(symmetric: covariance, size: d, isCancelled: isCancelled)
    var trace = 0.0
    for j in 0..<d { trace += covariance[j * d + j] }
    let variance = eigen.values.prefix(dims).map { max(0, $0) }
    let components = Tensor(
      shape: [dims, d], scalars: eigen.vectors.prefix(dims * d).map { Float($0) })
    let projected = Tensor.matmul(
      Tensor(shape: [n, d], scalars: centred), components, transposeB: true)
    return PCAResult(
      projected: projected, components: components, explainedVariance: variance,
      explainedVarianceRatio: variance.map { trace > 0 ? $0 / trace : 0 },
      mean: Tensor(shape: [d], scalars: mean.map { Float($0) }))
  }

  /// `Xcᵀ·Xc / (n − 1)` for centred rows, row-major `[d, d]`, accumulated in Double by `dsyrk`
  /// over blocks of `blockRows` rows in a fixed order. When `isCancelled` returns true before a
  /// block, the sum stops there, incomplete (the caller checks it again and throws).
  static func covariance(
    centred: [Float], points n: Int, features d: Int, isCancelled: () -> Bool = { false }
  ) -> [Double] {
    var c = [Double](repeating: 0, count: d * d)
    let block = min(blockRows, n)
    var rows = [Double](repeating: 0, count: block * d)
    centred.withUnsafeBufferPointer { x in
      rows.withUnsafeMutableBufferPointer { rows in
        c.withUnsafeMutableBufferPointer { c in
          var start = 0
          while start < n && !isCancelled() {
            let m = min(block, n - start)
            let block = UnsafeBufferPointer(rebasing: x[start * d..<(start + m) * d])
            for i in 0..<(m * d) { rows[i] = Double(block[i]) }
            // Upper triangle of C += rowsᵀ · rows.
            cblas_dsyrk(
              CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(m), 1, rows.baseAddress,
              Int32(d), start == 0 ? 0 : 1, c.baseAddress, Int32(d))
            start += m
          }
          let scale = 1 / Double(n - 1)
          for i in 0..<d {
            for j in i..<d {
              let value = c[i * d + j] * scale
              c[i * d + j] = value
              c[j * d + i] = value
            }
          }
        }
      }
    }
    return c
  }
}
