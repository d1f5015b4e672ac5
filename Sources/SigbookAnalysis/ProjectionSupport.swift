import Foundation
import SigbookTensor

/// Small dense linear algebra for the initial layouts of t-SNE and UMAP: the top principal
/// components of a data set and the leading eigenvectors of a symmetric operator.
///
/// Kept private to the projections (the analysis layer's `PCA` is the public one).
enum ProjectionSupport {
  /// The projection of the centred rows of `x` onto their first two principal components, 2n
  /// interleaved coordinates. Each component's sign makes its largest-magnitude loading
  /// positive, so the result is deterministic.
  ///
  /// `largestEigenvectors` is applied to v ↦ Xᵀ(X v) for the centred X, summed in `Double` in a
  /// fixed order rather than through `sgemm`: the covariance then does not depend on how many
  /// threads OpenBLAS splits a product over, and neither does the t-SNE layout built on it.
  /// - Complexity: O(n d) per product, a few dozen products.
  static func principalComponents(_ x: Tensor) -> [Double] {
    let n = x.rows, d = x.rowSize
    var centred = x.scalars
    var means = [Double](repeating: 0, count: d)
    var projected = [Double](repeating: 0, count: n)
    var result = [Double](repeating: 0, count: 2 * n)
    centred.withUnsafeMutableBufferPointer { c in
      for i in 0..<n {
        for j in 0..<d { means[j] += Double(c[i * d + j]) }
      }
      for j in 0..<d { means[j] /= Double(max(1, n)) }
      for i in 0..<n {
        for j in 0..<d { c[i * d + j] -= Float(means[j]) }
      }
      let rows = UnsafeBufferPointer(c)
      let components = min(2, d)
      let (_, vectors, _) = largestEigenvectors(
        count: components, dimension: d, tolerance: 1e-6, maxRestarts: 50
      ) { v, out in
        for i in 0..<n { projected[i] = rowDot(rows, i, d, v) }
        for j in 0..<d { out[j] = 0 }
        for i in 0..<n {
          let u = projected[i]
          for j in 0..<d { out[j] += Double(rows[i * d + j]) * u }
        }
      }
      for component in 0..<components {
        var loading = Array(vectors[component * d..<(component + 1) * d])
        var largest = 0
        for j in 0..<d where abs(loading[j]) > abs(loading[largest]) { largest = j }
        if loading[largest] < 0 { loading = loading.map { -$0 } }
        loading.withUnsafeBufferPointer { l in
          for i in 0..<n { result[2 * i + component] = rowDot(rows, i, d, l) }
        }
      }
    }
    return result
  }

  /// Row `i` of the `[n, d]` matrix `rows` dotted with `v`, in four `Double` partial sums.
  private static func rowDot(
    _ rows: UnsafeBufferPointer<Float>, _ i: Int, _ d: Int, _ v: UnsafeBufferPointer<Double>
  ) -> Double {
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    let base = i * d
    var j = 0
    while j + 4 <= d {
      s0 += Double(rows[base + j]) * v[j]
      s1 += Double(rows[base + j + 1]) * v[j + 1]
      s2 += Double(rows[base + j + 2]) * v[j + 2]
      s3 += Double(rows[base + j + 3]) * v[j + 3]
      j += 4
    }
    while j < d {
      s0 += Double(rows[base + j]) * v[j]
      j += 1
    }
    return (s0 + s1) + (s2 + s3)
  }

  /// The `count` algebraically largest eigenpairs of a symmetric linear operator on ℝᵐ,
  /// restricted to the orthogonal complement of the unit vector `deflating` when given.
  ///
  /// Thick-restart Krylov iteration with Rayleigh–Ritz (in exact arithmetic the thick-restart
  /// Lanczos method of Wu and Simon, SIAM J. Matrix Anal. Appl. 2000): the basis is grown by
  /// applying the operator to its newest vector and orthogonalising twice against all others
  /// (classical Gram–Schmidt), the operator is projected on the basis and diagonalised by
  /// `SymmetricEigen`, and the best Ritz vectors are kept when the basis is full. It stops when
  /// every wanted pair has ‖Au − θu‖ ≤ tolerance · max(1, |θ₁|). The start vector comes from a
  /// fixed seed, so the result is deterministic.
  ///
  /// - Returns: eigenvalues (descending), eigenvectors (`count` rows of `dimension`), and
  ///   whether the tolerance was met within `maxRestarts`.
  static func largestEigenvectors(
    count wanted: Int, dimension m: Int, deflating: [Double]? = nil, tolerance: Double,
    maxRestarts: Int = 200,
    apply: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void
  ) -> (values: [Double], vectors: [Double], converged: Bool) {
    let space = m - (deflating == nil ? 0 : 1)
    let p = min(wanted, space)
    guard p > 0 else { return ([], [], true) }
    let capacity = min(space, max(2 * p + 8, 40))
    let keep = min(capacity - 1, max(p + 2, capacity / 3))
    var basis = [Double](repeating: 0, count: capacity * m)
    var image = [Double](repeating: 0, count: capacity * m)
    var generator = SeededGenerator(seed: 0x5EED)
    var w = [Double](repeating: 0, count: m)

    // Gram–Schmidt repeated while it removes more than a third of the norm (Daniel, Gragg,
    // Kaufman and Stewart 1976); returns 0 when nothing independent is left, so the caller
    // can draw a fresh direction instead of normalising rounding noise.
    func orthogonalize(_ w: inout [Double], against rows: Int) -> Double {
      let original = dot(w[...], w[...]).squareRoot()
      var previous = original
      for _ in 0..<3 {
        if let u = deflating { subtractProjection(&w, u[...]) }
        for r in 0..<rows { subtractProjection(&w, basis[r * m..<(r + 1) * m]) }
        let norm = dot(w[...], w[...]).squareRoot()
        if norm <= 1e-8 * original { return 0 }
        if norm > 0.7 * previous { return norm }
        previous = norm
      }
      return 0
    }
    func applyRow(_ r: Int) {
      basis.withUnsafeBufferPointer { b in
        image.withUnsafeMutableBufferPointer { a in
          apply(
            UnsafeBufferPointer(rebasing: b[r * m..<(r + 1) * m]),
            UnsafeMutableBufferPointer(rebasing: a[r * m..<(r + 1) * m]))
        }
      }
    }
    func setRow(_ r: Int, _ v: [Double], scale: Double) {
      for c in 0..<m { basis[r * m + c] = v[c] * scale }
    }

    for c in 0..<m { w[c] = generator.nextNormal() }
    let startNorm = orthogonalize(&w, against: 0)
    setRow(0, w, scale: 1 / startNorm)
    var rows = 1
    var values = [Double](repeating: 0, count: p)
    var vectors = [Double](repeating: 0, count: p * m)
    for _ in 0..<maxRestarts {
      applyRow(rows - 1)
      while rows < capacity {
        w = Array(image[(rows - 1) * m..<rows * m])
        var norm = orthogonalize(&w, against: rows)
        if norm == 0 {
          // An invariant subspace (or a repeated eigenvalue): a fresh random direction.
          for c in 0..<m { w[c] = generator.nextNormal() }
          norm = orthogonalize(&w, against: rows)
        }
        setRow(rows, w, scale: 1 / norm)
        rows += 1
        applyRow(rows - 1)
      }
      // Rayleigh–Ritz on the basis.
      var h = [Double](repeating: 0, count: rows * rows)
      for a in 0..<rows {
        for b in a..<rows {
          let ab = dot(basis[a * m..<(a + 1) * m], image[b * m..<(b + 1) * m])
          let ba = dot(basis[b * m..<(b + 1) * m], image[a * m..<(a + 1) * m])
          let v = 0.5 * (ab + ba)
          h[a * rows + b] = v
          h[b * rows + a] = v
        }
      }
      let eigen = SymmetricEigen(symmetric: h, size: rows)
      let theta = eigen.values
      // Every wanted pair is needed below, even when the basis spans the whole space (d ≤ 2,
      // where `keep` is smaller than the number wanted).
      let retained = min(max(keep, p), rows)
      var ritz = [Double](repeating: 0, count: retained * m)
      var ritzImage = [Double](repeating: 0, count: retained * m)
      for t in 0..<retained {
        for r in 0..<rows {
          let coefficient = eigen.vectors[t * rows + r]
          for c in 0..<m {
            ritz[t * m + c] += coefficient * basis[r * m + c]
            ritzImage[t * m + c] += coefficient * image[r * m + c]
          }
        }
      }
      var worst = 0.0
      var worstIndex = 0
      for t in 0..<p {
        var r2 = 0.0
        for c in 0..<m {
          let e = ritzImage[t * m + c] - theta[t] * ritz[t * m + c]
          r2 += e * e
        }
        if r2.squareRoot() > worst {
          worst = r2.squareRoot()
          worstIndex = t
        }
      }
      for t in 0..<p { values[t] = theta[t] }
      vectors = Array(ritz[0..<p * m])
      let scale = max(1, abs(theta[0]))
      if worst <= tolerance * scale || rows >= space {
        return (values, vectors, true)
      }
      // Restart: the kept Ritz vectors, then the residual of the worst wanted one.
      for t in 0..<retained {
        for c in 0..<m {
          basis[t * m + c] = ritz[t * m + c]
          image[t * m + c] = ritzImage[t * m + c]
        }
      }
      rows = retained
      for c in 0..<m {
        w[c] = ritzImage[worstIndex * m + c] - theta[worstIndex] * ritz[worstIndex * m + c]
      }
      var norm = orthogonalize(&w, against: rows)
      if norm == 0 {
        for c in 0..<m { w[c] = generator.nextNormal() }
        norm = orthogonalize(&w, against: rows)
      }
      setRow(rows, w, scale: 1 / norm)
      rows += 1
    }
    return (values, vectors, false)
  }

  private static func dot(_ a: ArraySlice<Double>, _ b: ArraySlice<Double>) -> Double {
    var s0 = 0.0, s1 = 0.0
    var i = a.startIndex, j = b.startIndex
    while i + 1 < a.endIndex {
      s0 += a[i] * b[j]
      s1 += a[i + 1] * b[j + 1]
      i += 2
      j += 2
    }
    if i < a.endIndex { s0 += a[i] * b[j] }
    return s0 + s1
  }

  private static func subtractProjection(_ w: inout [Double], _ u: ArraySlice<Double>) {
    let c = dot(w[...], u)
    var j = u.startIndex
    for i in 0..<w.count {
      w[i] -= c * u[j]
      j += 1
    }
  }
}
