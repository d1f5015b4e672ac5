import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookAnalysis

/// Seeded data for the projection tests: Gaussian blobs around random centres.
enum ProjectionTestData {
  /// `clusters` blobs of `perCluster` points in `dimensions`, centres uniform in [−spread,
  /// spread)ᵈ, unit standard deviation; labels are the blob numbers, rows grouped by blob.
  static func blobs(
    clusters: Int, perCluster: Int, dimensions: Int, spread: Float, seed: Int
  ) -> (x: Tensor, labels: [Int]) {
    var g = SeededGenerator(seed: seed)
    let centres = (0..<(clusters * dimensions)).map { _ in g.nextFloat(in: -spread, spread) }
    var values: [Float] = []
    var labels: [Int] = []
    for c in 0..<clusters {
      for _ in 0..<perCluster {
        for j in 0..<dimensions {
          values.append(centres[c * dimensions + j] + Float(g.nextNormal()))
        }
        labels.append(c)
      }
    }
    return (Tensor(shape: [clusters * perCluster, dimensions], scalars: values), labels)
  }

  /// Brute-force k-NN: every distance in Double, sorted by (distance, index).
  static func bruteForceNeighbors(_ x: Tensor, k: Int) -> [[Int]] {
    let n = x.rows
    let d = x.rowSize
    let v = x.scalars
    return (0..<n).map { i in
      let others = (0..<n).filter { $0 != i }.map { j -> (Double, Int) in
        var s = 0.0
        for t in 0..<d {
          let e = Double(v[i * d + t]) - Double(v[j * d + t])
          s += e * e
        }
        return (s, j)
      }
      return others.sorted { $0 < $1 }.prefix(k).map(\.1)
    }
  }

  /// The fraction of points whose label is the majority label of their k nearest neighbours
  /// in `embedding`.
  static func knnAccuracy(_ embedding: Tensor, labels: [Int], k: Int = 5) -> Double {
    let knn = NearestNeighbors.exact(embedding, k: k)
    var correct = 0
    for i in 0..<labels.count {
      var votes: [Int: Int] = [:]
      for j in knn.neighbors(of: i) { votes[labels[j], default: 0] += 1 }
      let best = votes.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }
      if best?.key == labels[i] { correct += 1 }
    }
    return Double(correct) / Double(labels.count)
  }
}

@Suite("Nearest neighbours") struct NearestNeighborsTests {
  @Test func exactOnPointsOfALine() {
    // x = 0, 1, 3, 6, 10: neighbours by hand (3 is 3 from both 0 and 6: the lower index wins).
    let x = Tensor(shape: [5, 1], scalars: [0, 1, 3, 6, 10])
    let knn = NearestNeighbors.exact(x, k: 2)
    #expect(knn.indices == [1, 2, 0, 2, 1, 0, 2, 4, 3, 2])
    #expect(knn.distances == [1, 3, 1, 2, 2, 3, 3, 4, 4, 7])
    #expect(knn.neighbors(of: 4) == [3, 2])
  }

  @Test func equalDistancesAreOrderedByIndex() {
    let x = Tensor(shape: [4, 1], scalars: [0, -1, 1, 5])
    let knn = NearestNeighbors.exact(x, k: 2)
    #expect(knn.neighbors(of: 0) == [1, 2])
    // Point 1 (−1) and point 2 (1) are 2 apart; both prefer 0.
    #expect(knn.neighbors(of: 1) == [0, 2])
    #expect(knn.neighbors(of: 2) == [0, 1])
  }

  @Test(arguments: [3, 16, 40])
  func exactMatchesBruteForce(dimensions: Int) {
    let (x, _) = ProjectionTestData.blobs(
      clusters: 3, perCluster: 70, dimensions: dimensions, spread: 4, seed: dimensions)
    let knn = NearestNeighbors.exact(x, k: 7)
    let truth = ProjectionTestData.bruteForceNeighbors(x, k: 7)
    var agree = 0
    for i in 0..<x.rows where Array(knn.neighbors(of: i)) == truth[i] { agree += 1 }
    // GEMM rounding may swap two near-equal neighbours; the sets must agree.
    #expect(agree >= x.rows - 2)
    #expect(NearestNeighbors.recall(of: knn, against: knn) == 1)
    for i in 0..<x.rows { #expect(Set(knn.neighbors(of: i)) == Set(truth[i])) }
    #expect(knn.distances.allSatisfy { $0 >= 0 })
  }

  @Test func descentFindsAtLeast95PercentOfTheTrueNeighbours() {
    let (x, _) = ProjectionTestData.blobs(
      clusters: 10, perCluster: 300, dimensions: 32, spread: 3, seed: 11)
    let exact = NearestNeighbors.exact(x, k: 15)
    let approximate = NearestNeighbors.descent(x, k: 15, options: NNDescentOptions(seed: 3))
    let recall = NearestNeighbors.recall(of: approximate, against: exact)
    #expect(recall >= 0.95, "recall \(recall)")
    #expect(approximate == NearestNeighbors.descent(x, k: 15, options: NNDescentOptions(seed: 3)))
    for i in 0..<x.rows { #expect(!approximate.neighbors(of: i).contains(i)) }
  }
}
