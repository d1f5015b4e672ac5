import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookAnalysis

@Suite("Silhouette") struct SilhouetteTests {
  @Test func twoPairsOnALineByHand() throws {
    // Points 0, 1 | 10, 11. Every a(i) = 1.
    // s(0):  b = (10 + 11)/2 = 10.5, s = 9.5/10.5 = 19/21
    // s(1):  b = (9 + 10)/2 = 9.5,   s = 8.5/9.5  = 17/19
    // s(10) = 17/19 and s(11) = 19/21 by symmetry; mean = (19/21 + 17/19)/2.
    let x = Tensor(shape: [4, 1], scalars: [0, 1, 10, 11])
    let s = try #require(try Silhouette.samples(x, labels: [0, 0, 1, 1]))
    let expected = [19.0 / 21, 17.0 / 19, 17.0 / 19, 19.0 / 21]
    for (value, e) in zip(s, expected) { #expect(isClose(value, e, tolerance: 1e-5)) }
    #expect(
      isClose(
        try Silhouette.mean(x, labels: [0, 0, 1, 1]), (19.0 / 21 + 17.0 / 19) / 2, tolerance: 1e-5))
    // Labels are any integers: only equality matters.
    #expect(try Silhouette.samples(x, labels: [7, 7, -3, -3]) == s)
  }

  @Test func singletonClusterScoresZero() throws {
    // Points 0, 1 | 10: s(0) = (10 − 1)/10 = 0.9, s(1) = (9 − 1)/9 = 8/9, s(10) = 0 (alone).
    let x = Tensor(shape: [3, 1], scalars: [0, 1, 10])
    let s = try #require(try Silhouette.samples(x, labels: [0, 0, 1]))
    #expect(
      isClose(s[0], 0.9, tolerance: 1e-5) && isClose(s[1], 8.0 / 9, tolerance: 1e-5) && s[2] == 0)
    #expect(
      isClose(try Silhouette.mean(x, labels: [0, 0, 1]), (0.9 + 8.0 / 9) / 3, tolerance: 1e-5))
  }

  @Test func rectangleInTwoDimensionsByHand() throws {
    // (0,0), (1,0) | (0,5), (1,5): a = 1 for every point; the other cluster is at 5 and √26,
    // so b = (5 + √26)/2 and s = 1 − 1/b for all four points.
    let x = Tensor(shape: [4, 2], scalars: [0, 0, 1, 0, 0, 5, 1, 5])
    let b = (5 + 26.0.squareRoot()) / 2
    #expect(isClose(try Silhouette.mean(x, labels: [0, 0, 1, 1]), 1 - 1 / b, tolerance: 1e-5))
  }

  @Test func undefinedForOneClusterOrAllSingletons() throws {
    let x = Tensor(shape: [3, 1], scalars: [0, 1, 10])
    #expect(try Silhouette.mean(x, labels: [4, 4, 4]) == nil)
    #expect(try Silhouette.mean(x, labels: [0, 1, 2]) == nil)
    #expect(try Silhouette.samples(x, labels: [0, 0, 0]) == nil)
  }

  @Test func matchesADirectComputationOnRandomData() throws {
    // An independent O(n²) loop over explicit differences, in Double.
    var g = SeededGenerator(seed: 11)
    let n = 60, d = 5
    let x = Tensor.normal(shape: [n, d], mean: 3, standardDeviation: 2, generator: &g)
    let labels = (0..<n).map { _ in g.nextInt(below: 4) }
    let v = x.scalars
    func distance(_ i: Int, _ j: Int) -> Double {
      var s = 0.0
      for f in 0..<d { let t = Double(v[i * d + f] - v[j * d + f]); s += t * t }
      return s.squareRoot()
    }
    var expected = [Double](repeating: 0, count: n)
    for i in 0..<n {
      var sums = [Double](repeating: 0, count: 4), sizes = [Int](repeating: 0, count: 4)
      for j in 0..<n {
        sizes[labels[j]] += 1
        if j != i { sums[labels[j]] += distance(i, j) }
      }
      let own = labels[i]
      guard sizes[own] > 1 else { continue }
      let a = sums[own] / Double(sizes[own] - 1)
      let b =
        (0..<4).filter { $0 != own && sizes[$0] > 0 }.map { sums[$0] / Double(sizes[$0]) }
        .min() ?? 0
      expected[i] = (b - a) / max(a, b)
    }
    let s = try #require(try Silhouette.samples(x, labels: labels))
    for i in 0..<n { #expect(abs(s[i] - expected[i]) < 1e-5) }
  }

  @Test func severalLabelingsShareOnePassAndAgreeWithSingleOnes() throws {
    var g = SeededGenerator(seed: 3)
    let x = Tensor.uniform(shape: [80, 4], low: -1, high: 1, generator: &g)
    let labelings = [2, 3, 5, 1].map { k in (0..<80).map { _ in g.nextInt(below: k) } }
    let together = try Silhouette.means(x, labelings: labelings)
    // The same sums, but the GEMM's blocking depends on the width: equal up to float rounding.
    for (labels, value) in zip(labelings.prefix(3), together) {
      let alone = try #require(try Silhouette.mean(x, labels: labels))
      #expect(isClose(value, alone, tolerance: 1e-6))
    }
    #expect(together[3] == nil)
  }

  @Test func sampledEqualsExactWhenTheSampleCoversAllPoints() throws {
    var g = SeededGenerator(seed: 5)
    let x = Tensor.uniform(shape: [50, 3], low: 0, high: 1, generator: &g)
    let labels = (0..<50).map { _ in g.nextInt(below: 3) }
    let exact = try Silhouette.mean(x, labels: labels)
    #expect(try Silhouette.mean(x, labels: labels, sample: 50, seed: 9) == exact)
    #expect(try Silhouette.mean(x, labels: labels, sample: 500, seed: 9) == exact)
    // A true sample is seeded: same seed, same value.
    let sampled = try Silhouette.mean(x, labels: labels, sample: 20, seed: 9)
    let again = try Silhouette.mean(x, labels: labels, sample: 20, seed: 9)
    #expect(sampled != nil && sampled == again)
    #expect(throws: AnalysisError.self) { try Silhouette.mean(x, labels: labels, sample: 1) }
  }

  @Test func refusesNonFiniteData() {
    let x = Tensor(shape: [3, 1], scalars: [0, .nan, 1])
    #expect(throws: AnalysisError.nonFiniteValues(what: "the data")) {
      try Silhouette.mean(x, labels: [0, 0, 1])
    }
  }
}
