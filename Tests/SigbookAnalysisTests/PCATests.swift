import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookAnalysis

@Suite("PCA") struct PCATests {
  @Test func pointsOnALineHaveOneComponent() throws {
    // xᵢ = (1, 1, 1) + tᵢ·u with u = (1, 2, 2)/3 (a unit vector) and t = −2 … 2: the covariance
    // is var(t)·u·uᵀ with var(t) = (4 + 1 + 0 + 1 + 4)/4 = 2.5, so the variances are 2.5, 0, 0,
    // the first component is u (its largest entries positive) and the projections are t.
    let t: [Float] = [-2, -1, 0, 1, 2]
    let u: [Float] = [1.0 / 3, 2.0 / 3, 2.0 / 3]
    let x = Tensor(shape: [5, 3], scalars: t.flatMap { ti in u.map { 1 + ti * $0 } })
    let pca = try PCA.fit(x, dims: 1)
    #expect(isClose(pca.explainedVariance[0], 2.5, tolerance: 1e-5))
    #expect(isClose(pca.explainedVarianceRatio[0], 1, tolerance: 1e-5))
    for j in 0..<3 { #expect(abs(pca.components[0, j] - u[j]) < 1e-5) }
    for i in 0..<5 { #expect(abs(pca.projected[i, 0] - t[i]) < 1e-5) }
    for j in 0..<3 { #expect(abs(pca.mean[j] - 1) < 1e-6) }
  }

  /// A small data set with no special structure (5 points, 3 features).
  static let data = Tensor(
    shape: [5, 3], scalars: [2, 0, 1, 0, 1, 0, 1, 1, 1, 3, 2, 0, 4, 1, 3])

  /// The covariance of `data` by explicit loops, and its eigenvalues by power iteration with
  /// deflation: an independent route to the explained variances.
  static func powerIterationVariances(_ x: Tensor) -> [Double] {
    let n = x.rows, d = x.rowSize, v = x.scalars.map(Double.init)
    let mean = (0..<d).map { j in (0..<n).reduce(0.0) { $0 + v[$1 * d + j] } / Double(n) }
    var c = [[Double]](repeating: [Double](repeating: 0, count: d), count: d)
    for a in 0..<d {
      for b in 0..<d {
        for i in 0..<n { c[a][b] += (v[i * d + a] - mean[a]) * (v[i * d + b] - mean[b]) }
        c[a][b] /= Double(n - 1)
      }
    }
    var values: [Double] = []
    for _ in 0..<d {
      var w = [Double](repeating: 1, count: d)
      w[0] = 0.3  // not orthogonal to any eigenvector of this matrix
      var lambda = 0.0
      for _ in 0..<2000 {
        let next = (0..<d).map { a in (0..<d).reduce(0.0) { $0 + c[a][$1] * w[$1] } }
        let norm = next.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
        lambda = zip(w, next).reduce(0.0) { $0 + $1.0 * $1.1 }
        if norm == 0 { break }
        w = next.map { $0 / norm }
      }
      let cw = (0..<d).map { a in (0..<d).reduce(0.0) { $0 + c[a][$1] * w[$1] } }
      lambda = zip(w, cw).reduce(0.0) { $0 + $1.0 * $1.1 }  // the Rayleigh quotient
      values.append(lambda)
      for a in 0..<d { for b in 0..<d { c[a][b] -= lambda * w[a] * w[b] } }
    }
    return values
  }

  @Test func explainedVarianceMatchesPowerIteration() throws {
    let pca = try PCA.fit(Self.data, dims: 3)
    let expected = Self.powerIterationVariances(Self.data)
    for (a, b) in zip(pca.explainedVariance, expected) { #expect(isClose(a, b, tolerance: 1e-5)) }
    // The total variance is the trace of the covariance: the column variances 2.5, 0.5, 1.5.
    #expect(isClose(pca.explainedVariance.reduce(0, +), 4.5, tolerance: 1e-5))
    #expect(isClose(pca.explainedVarianceRatio.reduce(0, +), 1, tolerance: 1e-5))
    #expect(pca.explainedVariance == pca.explainedVariance.sorted(by: >))
  }

  @Test func componentsAreOrthonormalProjectionsUncorrelatedAndReconstructionExact() throws {
    let pca = try PCA.fit(Self.data, dims: 3)
    let w = pca.components, y = pca.projected
    for a in 0..<3 {
      for b in 0..<3 {
        let dot = (0..<3).reduce(Float(0)) { $0 + w[a, $1] * w[b, $1] }
        #expect(abs(dot - (a == b ? 1 : 0)) < 1e-5)
        if a != b {
          let covariance = (0..<5).reduce(Float(0)) { $0 + y[$1, a] * y[$1, b] }
          #expect(abs(covariance) < 1e-4)
        }
      }
      // The sign convention: the largest-magnitude entry of each component is positive.
      let row = (0..<3).map { w[a, $0] }
      let largest = row.indices.max { abs(row[$0]) < abs(row[$1]) } ?? 0
      #expect(row[largest] > 0)
    }
    let back = pca.reconstruct(y)
    for i in 0..<15 { #expect(abs(back[flat: i] - Self.data[flat: i]) < 1e-5) }
    #expect(pca.transform(Self.data) == y)
    #expect(try PCA.fit(Self.data, dims: 2).projected.shape == [5, 2])
  }

  @Test func refusesImpossibleDimensions() {
    #expect(throws: AnalysisError.invalidDimensions(dims: 4, points: 5, features: 3)) {
      try PCA.fit(Self.data, dims: 4)
    }
    #expect(throws: AnalysisError.self) { try PCA.fit(Self.data, dims: 0) }
    #expect(throws: AnalysisError.self) { try PCA.fit(Self.data.rows(0..<1), dims: 1) }
  }

  @Test func symmetricEigenOfATwoByTwoByHand() throws {
    // [[2, 1], [1, 2]]: eigenvalues 3 and 1, vectors (1, 1)/√2 and (1, −1)/√2 (the first
    // largest-magnitude entry positive).
    let e = SymmetricEigen(symmetric: [2, 1, 1, 2], size: 2)
    let r = 0.5.squareRoot()
    #expect(isClose(e.values[0], 3, tolerance: 1e-12) && isClose(e.values[1], 1, tolerance: 1e-12))
    for (a, b) in zip(e.vectors, [r, r, r, -r]) { #expect(abs(a - b) < 1e-12) }
  }

  @Test func symmetricEigenSatisfiesAVEqualsVLambda() throws {
    var g = SeededGenerator(seed: 4)
    let n = 30
    var a = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in 0...i {
        let value = g.nextDouble() * 2 - 1
        a[i * n + j] = value
        a[j * n + i] = value
      }
    }
    let e = SymmetricEigen(symmetric: a, size: n)
    #expect(e.values == e.values.sorted(by: >))
    for k in 0..<n {
      let v = Array(e.vector(k))
      for i in 0..<n {
        let av = (0..<n).reduce(0.0) { $0 + a[i * n + $1] * v[$1] }
        #expect(abs(av - e.values[k] * v[i]) < 1e-10)
      }
      for l in 0..<n {
        let dot = zip(v, e.vector(l)).reduce(0.0) { $0 + $1.0 * $1.1 }
        #expect(abs(dot - (k == l ? 1 : 0)) < 1e-10)
      }
    }
  }
}
