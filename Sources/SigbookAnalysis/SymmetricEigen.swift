import Foundation

/// The eigen-decomposition `A = V·Λ·Vᵀ` of a real symmetric matrix, in Double.
///
/// Householder reduction to tridiagonal form, then the implicit QL algorithm with Wilkinson-like
/// shifts: the Algol procedures `tred2` and `tql2` of Bowdler, Martin, Reinsch and Wilkinson
/// (Wilkinson and Reinsch, "Handbook for Automatic Computation II: Linear Algebra", 1971), as in
/// EISPACK and the public-domain JAMA library. Backward stable; about 9·n³ operations, which is
/// milliseconds for the covariance matrices of network layers (n ≤ a few hundred) and about a
/// second for n = 784. The orthogonal matrix is stored transposed while it is built, so that
/// every O(n³) loop runs over contiguous memory.
///
/// No random choices: the same matrix gives the same result on every run.
struct SymmetricEigen: Sendable {
  /// The eigenvalues, largest first.
  let values: [Double]
  /// The unit eigenvectors, row-major `[n, n]`: row `i` belongs to `values[i]`. Each vector's
  /// sign is the one that makes its largest-magnitude entry positive (the first such entry on
  /// ties), so results do not depend on rounding.
  let vectors: [Double]
  /// The order of the matrix.
  let size: Int

  /// Decomposes the symmetric matrix `matrix` (row-major `[size, size]`), for small matrices
  /// (a projection's Rayleigh–Ritz step) where there is nothing to cancel.
  ///
  /// Only the upper triangle (row-major entries i·n + j with j ≥ i) is read.
  ///
  /// - Precondition: `matrix.count == size · size`, all values finite.
  /// - Complexity: O(size³).
  init(symmetric matrix: [Double], size n: Int) {
    var decomposed: SymmetricEigen?
    do {
      decomposed = try SymmetricEigen(symmetric: matrix, size: n, isCancelled: { false })
    } catch {
      // Unreachable: only cancellation throws.
    }
    self = decomposed ?? SymmetricEigen(values: [], vectors: [], size: 0)
  }

  private init(values: [Double], vectors: [Double], size: Int) {
    self.values = values
    self.vectors = vectors
    self.size = size
  }

  /// Decomposes the symmetric matrix `matrix` (row-major `[size, size]`).
  ///
  /// Only the upper triangle (row-major entries i·n + j with j ≥ i) is read.
  ///
  /// - Parameter isCancelled: checked before every Householder step and every eigenvalue of the
  ///   QL iteration (each O(size²), so a poll every few milliseconds even for size 784 in a
  ///   debug build).
  /// - Throws: `AnalysisError.cancelled` when `isCancelled` returned true.
  /// - Precondition: `matrix.count == size · size`, all values finite.
  /// - Complexity: O(size³).
  init(
    symmetric matrix: [Double], size n: Int, isCancelled: () -> Bool
  ) throws(AnalysisError) {
    precondition(matrix.count == n * n, "a \(n) × \(n) matrix needs \(n * n) values")
    precondition(matrix.allSatisfy(\.isFinite), "eigen-decomposition of non-finite values")
    size = n
    guard n > 0 else {
      values = []
      vectors = []
      return
    }
    // v holds Vᵀ: V[r][c] is v[c · n + r]. For the symmetric input, Aᵀ = A.
    var v = matrix
    var d = [Double](repeating: 0, count: n)
    var e = [Double](repeating: 0, count: n)
    let finished = v.withUnsafeMutableBufferPointer { v in
      d.withUnsafeMutableBufferPointer { d in
        e.withUnsafeMutableBufferPointer { e in
          Self.tridiagonalize(v, d, e, n, isCancelled: isCancelled)
            && Self.diagonalize(v, d, e, n, isCancelled: isCancelled)
        }
      }
    }
    guard finished else { throw .cancelled }
    // Largest first; equal eigenvalues keep their order.
    let order = (0..<n).sorted { d[$0] > d[$1] || (d[$0] == d[$1] && $0 < $1) }
    values = order.map { d[$0] }
    var sorted = [Double](repeating: 0, count: n * n)
    for (row, index) in order.enumerated() {
      let source = v[index * n..<(index + 1) * n]
      var largest = 0
      var magnitude = -1.0
      for (j, value) in source.enumerated() where abs(value) > magnitude {
        magnitude = abs(value)
        largest = j
      }
      let sign = source[source.startIndex + largest] < 0 ? -1.0 : 1.0
      for (j, value) in source.enumerated() { sorted[row * n + j] = sign * value }
    }
    vectors = sorted
  }

  /// Householder reduction of the symmetric matrix in `v` to tridiagonal form (`tred2`): on
  /// return `d` is the diagonal, `e[1...]` the subdiagonal and `v` the accumulated orthogonal
  /// transformation, transposed. Returns false, the work unfinished, when `isCancelled` does.
  private static func tridiagonalize(
    _ v: UnsafeMutableBufferPointer<Double>, _ d: UnsafeMutableBufferPointer<Double>,
    _ e: UnsafeMutableBufferPointer<Double>, _ n: Int, isCancelled: () -> Bool
  ) -> Bool {
    for j in 0..<n { d[j] = v[j * n + n - 1] }
    var i = n - 1
    while i > 0 {
      if isCancelled() { return false }
      // Scale to avoid under- and overflow.
      var scale = 0.0
      var h = 0.0
      for k in 0..<i { scale += abs(d[k]) }
      if scale == 0 {
        e[i] = d[i - 1]
        for j in 0..<i {
          d[j] = v[j * n + i - 1]
          v[j * n + i] = 0
          v[i * n + j] = 0
        }
      } else {
        // The Householder vector.
        for k in 0..<i {
          d[k] /= scale
          h += d[k] * d[k]
        }
        var f = d[i - 1]
        var g = h.squareRoot()
        if f > 0 { g = -g }
        e[i] = scale * g
        h -= f * g
        d[i - 1] = f - g
        for j in 0..<i { e[j] = 0 }
        // Apply the similarity transformation to the remaining columns.
        for j in 0..<i {
          f = d[j]
          v[i * n + j] = f
          g = e[j] + v[j * n + j] * f
          let column = row(j, of: v, n)
          for k in (j + 1)..<i {
            g += column[k] * d[k]
            e[k] += column[k] * f
          }
          e[j] = g
        }
        f = 0
        for j in 0..<i {
          e[j] /= h
          f += e[j] * d[j]
        }
        let hh = f / (h + h)
        for j in 0..<i { e[j] -= hh * d[j] }
        for j in 0..<i {
          f = d[j]
          g = e[j]
          let column = row(j, of: v, n)
          for k in j..<i { column[k] -= f * e[k] + g * d[k] }
          d[j] = column[i - 1]
          column[i] = 0
        }
      }
      d[i] = h
      i -= 1
    }
    // Accumulate the transformations.
    for i in 0..<(n - 1) {
      if isCancelled() { return false }
      v[i * n + n - 1] = v[i * n + i]
      v[i * n + i] = 1
      let h = d[i + 1]
      let next = row(i + 1, of: v, n)
      if h != 0 {
        for k in 0...i { d[k] = next[k] / h }
        for j in 0...i {
          let column = row(j, of: v, n)
          // Four partial sums in a fixed order: the loop vectorises, results stay reproducible.
          var g0 = 0.0, g1 = 0.0, g2 = 0.0, g3 = 0.0
          var k = 0
          while k + 4 <= i + 1 {
            g0 += next[k] * column[k]
            g1 += next[k + 1] * column[k + 1]
            g2 += next[k + 2] * column[k + 2]
            g3 += next[k + 3] * column[k + 3]
            k += 4
          }
          while k <= i {
            g0 += next[k] * column[k]
            k += 1
          }
          let g = (g0 + g1) + (g2 + g3)
          for k in 0...i { column[k] -= g * d[k] }
        }
      }
      for k in 0...i { next[k] = 0 }
    }
    for j in 0..<n {
      d[j] = v[j * n + n - 1]
      v[j * n + n - 1] = 0
    }
    v[(n - 1) * n + n - 1] = 1
    e[0] = 0
    return true
  }

  /// The implicit QL algorithm on the tridiagonal matrix (`tql2`): on return `d` holds the
  /// eigenvalues (unsorted) and row `j` of `v` the eigenvector of `d[j]`. Returns false, the
  /// work unfinished, when `isCancelled` does.
  private static func diagonalize(
    _ v: UnsafeMutableBufferPointer<Double>, _ d: UnsafeMutableBufferPointer<Double>,
    _ e: UnsafeMutableBufferPointer<Double>, _ n: Int, isCancelled: () -> Bool
  ) -> Bool {
    for i in 1..<max(n, 1) { e[i - 1] = e[i] }
    e[n - 1] = 0
    var f = 0.0
    var tst1 = 0.0
    let eps = 0x1p-52
    for l in 0..<n {
      if isCancelled() { return false }
      // Find a negligible subdiagonal element.
      tst1 = max(tst1, abs(d[l]) + abs(e[l]))
      var m = l
      while m < n - 1 && abs(e[m]) > eps * tst1 { m += 1 }
      // If m == l, d[l] is already an eigenvalue; else iterate. The cap is never reached in
      // practice (about two iterations per eigenvalue); it only bounds the loop.
      var iterations = 0
      while m > l && iterations < 100 {
        iterations += 1
        // The implicit shift.
        var g = d[l]
        var p = (d[l + 1] - g) / (2 * e[l])
        var r = hypot(p, 1)
        if p < 0 { r = -r }
        d[l] = e[l] / (p + r)
        d[l + 1] = e[l] * (p + r)
        let dl1 = d[l + 1]
        var h = g - d[l]
        for i in (l + 2)..<n { d[i] -= h }
        f += h
        // The implicit QL transformation.
        p = d[m]
        var c = 1.0, c2 = 1.0, c3 = 1.0
        let el1 = e[l + 1]
        var s = 0.0, s2 = 0.0
        var i = m - 1
        while i >= l {
          c3 = c2
          c2 = c
          s2 = s
          g = c * e[i]
          h = c * p
          r = hypot(p, e[i])
          e[i + 1] = s * r
          s = e[i] / r
          c = p / r
          p = c * d[i] - s * g
          d[i + 1] = h + s * (c * g + s * d[i])
          // Accumulate the rotation into rows i and i + 1 of Vᵀ.
          let a = row(i, of: v, n), b = row(i + 1, of: v, n)
          for k in 0..<n {
            let t = b[k]
            b[k] = s * a[k] + c * t
            a[k] = c * a[k] - s * t
          }
          i -= 1
        }
        p = -s * s2 * c3 * el1 * e[l] / dl1
        e[l] = s * p
        d[l] = c * p
        if abs(e[l]) <= eps * tst1 { break }
      }
      d[l] += f
      e[l] = 0
    }
    return true
  }

  /// Row `i` of the row-major `[n, n]` buffer `v`, rebased so that loops over it index from 0
  /// (no offset arithmetic, so they vectorise).
  private static func row(_ i: Int, of v: UnsafeMutableBufferPointer<Double>, _ n: Int)
    -> UnsafeMutableBufferPointer<Double>
  {
    UnsafeMutableBufferPointer(rebasing: v[i * n..<(i + 1) * n])
  }

  /// The eigenvector of `values[i]`.
  func vector(_ i: Int) -> ArraySlice<Double> { vectors[i * size..<(i + 1) * size] }
}
