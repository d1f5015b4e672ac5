import SigbookTestSupport
import Testing

@testable import SigbookTensor

@Suite("Tensor") struct TensorTests {
  @Test func matmulMatchesHandComputedProduct() {
    let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    let b = Tensor(shape: [3, 2], scalars: [7, 8, 9, 10, 11, 12])
    #expect(Tensor.matmul(a, b).scalars == [58, 64, 139, 154])
  }

  @Test func matmulReadsTransposesInPlace() {
    let a = Tensor(shape: [3, 2], scalars: [1, 4, 2, 5, 3, 6])  // aᵀ = [[1,2,3],[4,5,6]]
    let b = Tensor(shape: [2, 3], scalars: [7, 9, 11, 8, 10, 12])  // bᵀ = [[7,8],[9,10],[11,12]]
    #expect(Tensor.matmul(a, b, transposeA: true, transposeB: true).scalars == [58, 64, 139, 154])
  }

  @Test func gemmAccumulatesWithBeta() {
    let a = Tensor(shape: [1, 2], scalars: [1, 2])
    let b = Tensor(shape: [2, 1], scalars: [3, 4])
    var c = Tensor(shape: [1, 1], scalars: [10])
    c.gemm(a, b, alpha: 2, beta: 1)
    #expect(c.scalars == [32])
  }

  @Test func rowsGatherConcatenateAndArgmax() {
    let t = Tensor(shape: [3, 2], scalars: [0, 1, 5, 2, 3, 3])
    #expect(t.rows(1..<3).scalars == [5, 2, 3, 3])
    #expect(t.rows(at: [2, 0]).scalars == [3, 3, 0, 1])
    #expect(t.argmaxRows() == [1, 0, 0])
    #expect(Tensor.concatenate([t, t.rows(0..<1)]).shape == [4, 2])
    #expect(t.columnSums().scalars == [8, 6])
    #expect(t.transposed().scalars == [0, 5, 3, 1, 2, 3])
  }

  @Test func sumUsesDoubleAccumulation() {
    let t = Tensor(repeating: 0.1, shape: [10_000])
    #expect(abs(t.sum() - 1000) < 1e-3)
  }
}

@Suite("SeededGenerator") struct SeededGeneratorTests {
  @Test func sameSeedSameNumbersDifferentSeedDifferent() {
    var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
    let xs = (0..<5).map { _ in a.next() }
    #expect(xs == (0..<5).map { _ in b.next() })
    #expect(xs != (0..<5).map { _ in c.next() })
  }

  @Test func firstValuesArePinnedAcrossMachines() {
    // xoshiro256** seeded by SplitMix64 from 0: pinned so that a change of algorithm is noticed.
    var g = SeededGenerator(seed: 0)
    let first = g.next()
    var h = SeededGenerator(seed: 0)
    #expect(first == h.next())
    #expect(first == 0x99EC_5F36_CB75_F2B4)
  }

  @Test func boundedIntegersAreInRangeAndRoughlyUniform() {
    var g = SeededGenerator(seed: 1)
    var counts = [Int](repeating: 0, count: 7)
    for _ in 0..<70_000 { counts[g.nextInt(below: 7)] += 1 }
    #expect(counts.allSatisfy { abs($0 - 10_000) < 500 })
  }

  @Test func normalDeviatesHaveUnitVariance() {
    var g = SeededGenerator(seed: 3)
    let xs = (0..<100_000).map { _ in g.nextNormal() }
    let mean = xs.reduce(0, +) / Double(xs.count)
    let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)
    #expect(abs(mean) < 0.02 && abs(variance - 1) < 0.02)
  }

  @Test func permutationAndSampleAreDistinct() {
    var g = SeededGenerator(seed: 5)
    #expect(g.permutation(100).sorted() == Array(0..<100))
    let s = g.sample(30, from: 50)
    #expect(Set(s).count == 30 && s.allSatisfy { $0 < 50 })
  }
}
