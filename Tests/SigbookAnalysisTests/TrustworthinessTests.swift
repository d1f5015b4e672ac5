import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookAnalysis

@Suite("Trustworthiness") struct TrustworthinessTests {
  @Test func anEmbeddingEqualToTheDataScoresOne() {
    let (x, _) = ProjectionTestData.blobs(
      clusters: 2, perCluster: 20, dimensions: 2, spread: 3, seed: 1)
    #expect(Trustworthiness.score(original: x, embedding: x, k: 5) == 1)
    // Scaling and translating the plane keeps every neighbourhood.
    #expect(Trustworthiness.score(original: x, embedding: x.map { 3 * $0 + 1 }, k: 5) == 1)
  }

  @Test func swappingTheEndsOfALineByHand() {
    // x = 0 1 2 3 4, embedded as 4 1 2 3 0 (points 0 and 4 swapped), k = 1. Embedded nearest
    // neighbours (ties by index): 0→3, 1→2, 2→1, 3→0, 4→1; their original ranks: 3, 2, 1, 4,
    // 3; penalties (r − 1): 2 + 1 + 0 + 3 + 2 = 8. T = 1 − 2/(5·1·(10 − 3 − 1)) · 8 = 7/15.
    let x = Tensor(shape: [5, 1], scalars: [0, 1, 2, 3, 4])
    let y = Tensor(shape: [5, 1], scalars: [4, 1, 2, 3, 0])
    #expect(abs(Trustworthiness.score(original: x, embedding: y, k: 1) - 7.0 / 15.0) < 1e-12)
  }

  @Test(arguments: [1, 3, 7])
  func agreesWithTheFormulaByBruteForce(k: Int) {
    let (x, _) = ProjectionTestData.blobs(
      clusters: 3, perCluster: 20, dimensions: 12, spread: 2, seed: 5)
    var g = SeededGenerator(seed: 9)
    let y = Tensor.normal(shape: [60, 2], standardDeviation: 1, generator: &g)
    #expect(
      abs(Trustworthiness.score(original: x, embedding: y, k: k) - bruteForce(x, y, k: k)) < 1e-12)
  }

  /// T(k) straight from its definition: full rank tables in Double.
  private func bruteForce(_ x: Tensor, _ y: Tensor, k: Int) -> Double {
    let n = x.rows
    let original = ProjectionTestData.bruteForceNeighbors(x, k: n - 1)
    let embedded = ProjectionTestData.bruteForceNeighbors(y, k: k)
    var sum = 0
    for i in 0..<n {
      for j in embedded[i] {
        let rank = (original[i].firstIndex(of: j) ?? 0) + 1
        sum += max(0, rank - k)
      }
    }
    let nd = Double(n)
    let kd = Double(k)
    return 1 - 2 / (nd * kd * (2 * nd - 3 * kd - 1)) * Double(sum)
  }
}
