import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookAnalysis

@Suite("KMeans") struct KMeansTests {
  /// `clusters` Gaussian blobs of `perCluster` points in `d` dimensions with standard deviation
  /// `sigma`; blob j is centred at (spacing/√2)·eⱼ, so every two centres are `spacing` apart.
  static func blobs(
    clusters: Int, perCluster: Int, d: Int, sigma: Float, spacing: Float, seed: Int
  ) -> (Tensor, [Int]) {
    var g = SeededGenerator(seed: seed)
    var values: [Float] = []
    var labels: [Int] = []
    for c in 0..<clusters {
      for _ in 0..<perCluster {
        for j in 0..<d {
          let centre: Float = j == c ? spacing / 2.0.squareRoot().float : 0
          values.append(centre + sigma * Float(g.nextNormal()))
        }
        labels.append(c)
      }
    }
    return (Tensor(shape: [clusters * perCluster, d], scalars: values), labels)
  }

  /// `Σᵢ ‖xᵢ − c(xᵢ)‖²` by explicit differences, in Double.
  static func sumOfSquares(_ x: Tensor, _ r: KMeansResult) -> Double {
    let d = x.rowSize, v = x.scalars, c = r.centres.scalars
    var total = 0.0
    for (i, a) in r.assignments.enumerated() {
      for j in 0..<d { let t = Double(v[i * d + j] - c[a * d + j]); total += t * t }
    }
    return total
  }

  @Test func twoPairsGiveTheObviousOptimum() throws {
    // (0,0), (0,1) | (10,0), (10,1): centres (0, ½) and (10, ½), inertia 4 · ¼ = 1.
    let x = Tensor(shape: [4, 2], scalars: [0, 0, 0, 1, 10, 0, 10, 1])
    let r = try KMeans.fit(x, k: 2, seed: 1)
    let a = r.assignments
    #expect(a[0] == a[1] && a[2] == a[3] && a[0] != a[2])
    #expect(r.centres[a[0], 0] == 0 && r.centres[a[0], 1] == 0.5)
    #expect(r.centres[a[2], 0] == 10 && r.centres[a[2], 1] == 0.5)
    #expect(isClose(r.inertia, 1, tolerance: 1e-5))
    #expect(r.converged)
    #expect(r.clusterSizes == [2, 2])
  }

  @Test func emptyClusterTakesTheFarthestPoint() throws {
    // Points 0, 1, 2, 10 from centres 1, 10, 100. Step 1 assigns 0, 1, 2 → centre 1 and 10 → 10;
    // centre 100 is empty and takes the point farthest from its centre: 0 and 2 are both at
    // distance 1, the lower index wins, so 0 moves. Centres become 1.5, 10, 0. Step 2 gives the
    // same assignments, so the run stops after 2 iterations with inertia ½² + ½² = ½.
    let x = Tensor(shape: [4, 1], scalars: [0, 1, 2, 10])
    let data = try? KMeansData(x)
    guard let data else { Issue.record("preparing the data failed"); return }
    let mean = Float(data.mean[0])  // the run works on centred data
    let run = try KMeans.lloyd(
      data, centres: [1 - mean, 10 - mean, 100 - mean], k: 3, maxIterations: 10,
      shiftTolerance: 0)
    #expect(run.labels == [2, 0, 0, 1])
    #expect(run.centres.map { $0 + mean } == [1.5, 10, 0])
    #expect(isClose(run.inertia, 0.5, tolerance: 1e-5) && run.iterations == 2 && run.converged)
  }

  @Test func fewerDistinctPointsThanClustersAreRefused() throws {
    // Two distinct values for three clusters would leave a cluster empty or split identical
    // points: refused with the counts, for one k. A range stops at the distinct points.
    let x = Tensor(shape: [5, 1], scalars: [0, 0, 0, 5, 5])
    for seed in 0..<3 {
      let error = try #require(throws: AnalysisError.self) { try KMeans.fit(x, k: 3, seed: seed) }
      #expect(error == .tooFewDistinctPoints(points: 5, distinct: 2, clusters: 3))
      #expect(
        error.description == "cannot make 3 clusters of 5 points: only 2 of them are distinct")
    }
    let two = try KMeans.fit(x, k: 2)
    #expect(two.inertia == 0 && two.clusterSizes.sorted() == [2, 3])
    let same = Tensor(repeating: 2, shape: [4, 3])
    #expect(throws: AnalysisError.tooFewDistinctPoints(points: 4, distinct: 1, clusters: 2)) {
      try KMeans.fit(same, k: 2)
    }
    #expect(try KMeans.fit(same, k: 1).inertia == 0)
    let sweep = try KMeansSweep(x, ks: [2, 3, 4])
    #expect(sweep.entries.map(\.k) == [2] && sweep.best.k == 2)
    #expect(throws: AnalysisError.tooFewDistinctPoints(points: 4, distinct: 1, clusters: 2)) {
      try KMeansSweep(same, ks: [2, 3])
    }
  }

  @Test func inertiaIsTheSumOfSquaredDistancesToTheAssignedCentres() throws {
    var g = SeededGenerator(seed: 21)
    let x = Tensor.normal(shape: [200, 6], mean: 4, standardDeviation: 1, generator: &g)
    let r = try KMeans.fit(x, k: 5, restarts: 3, seed: 2)
    #expect(isClose(r.inertia, Self.sumOfSquares(x, r), tolerance: 1e-5))
    // Converged Lloyd: every point sits with its nearest centre, and assign() agrees.
    #expect(r.converged)
    #expect(r.assign(x) == r.assignments)
  }

  @Test func oneClusterIsTheMean() throws {
    // 1, 2, 6: mean 3, inertia 4 + 1 + 9 = 14.
    let r = try KMeans.fit(Tensor(shape: [3, 1], scalars: [1, 2, 6]), k: 1)
    #expect(
      r.centres.scalars == [3] && r.assignments == [0, 0, 0]
        && isClose(r.inertia, 14, tolerance: 1e-5))
  }

  @Test func sameSeedSameResult() throws {
    var g = SeededGenerator(seed: 8)
    let x = Tensor.uniform(shape: [300, 4], low: 0, high: 1, generator: &g)
    let a = try KMeans.fit(x, k: 6, restarts: 1, seed: 4)
    #expect(a == (try KMeans.fit(x, k: 6, restarts: 1, seed: 4)))
    #expect(a != (try KMeans.fit(x, k: 6, restarts: 1, seed: 5)))
    // More restarts never do worse than the first of them.
    #expect(try KMeans.fit(x, k: 6, restarts: 5, seed: 4).inertia <= a.inertia)
  }

  @Test func refusesImpossibleRequests() {
    let x = Tensor(shape: [3, 1], scalars: [1, 2, 3])
    #expect(throws: AnalysisError.tooFewPoints(points: 3, clusters: 4)) {
      try KMeans.fit(x, k: 4)
    }
    #expect(throws: AnalysisError.invalidClusterCount(0)) { try KMeans.fit(x, k: 0) }
    #expect(throws: AnalysisError.self) { try KMeans.fit(x, k: 2, restarts: 0) }
    #expect(throws: AnalysisError.self) {
      try KMeans.fit(Tensor(shape: [2, 1], scalars: [1, .infinity]), k: 1)
    }
    #expect(
      AnalysisError.tooFewPoints(points: 3, clusters: 4).description
        == "cannot make 4 clusters of 3 points")
  }

  @Test func sweepEntriesAreThePlainFitsAndTiesGoToTheSmallerK() throws {
    let (x, _) = Self.blobs(clusters: 3, perCluster: 20, d: 4, sigma: 0.5, spacing: 10, seed: 1)
    var steps: [Int] = []
    let sweep = try KMeansSweep(x, k: 1...4, restarts: 2, seed: 3) { done, total in
      steps.append(done)
      #expect(total == 5)
    }
    #expect(steps == [1, 2, 3, 4, 5])
    #expect(sweep.entries.map(\.k) == [1, 2, 3, 4])
    #expect(sweep.entries[0].silhouette == nil)
    #expect(sweep.entries[2].result == (try KMeans.fit(x, k: 3, restarts: 2, seed: 3)))
    #expect(sweep.best.k == 3)
    let r = sweep.entries[0].result
    let entries = zip([4, 2, 3, 1], [0.5, 0.7, 0.7, nil] as [Double?]).map {
      KMeansSweep.Entry(k: $0, result: r, silhouette: $1)
    }
    #expect(KMeansSweep.choose(entries) == 1)
    #expect(throws: AnalysisError.self) { try KMeansSweep(x, ks: []) }
  }

  @Test(arguments: 0..<5)
  func acceptanceSweepFindsThreeSeparatedBlobs(seed: Int) throws {
    // 3 × 100 points in 10-D, σ = 0.5, centres 10 apart: k = 3 by silhouette, well above 0.7.
    let (x, labels) = Self.blobs(
      clusters: 3, perCluster: 100, d: 10, sigma: 0.5, spacing: 10, seed: 100 + seed)
    let sweep = try KMeansSweep(x, k: 2...10, seed: seed)
    #expect(sweep.best.k == 3)
    #expect((sweep.best.silhouette ?? 0) > 0.7)
    #expect(Metrics.adjustedRandIndex(sweep.best.result.assignments, labels) == 1)
    #expect(sweep.entries.count == 9 && sweep.entries.allSatisfy { $0.silhouette != nil })
  }

  @Test func aSweepStopsWhenCancelled() {
    var generator = SeededGenerator(seed: 3)
    let x = Tensor.normal(shape: [200, 4], standardDeviation: 1, generator: &generator)
    var checks = 0
    // Cancelled at the second check: before the second k's restarts (a k's restarts run
    // concurrently and are checked before they start).
    let error = #expect(throws: AnalysisError.self) {
      _ = try KMeansSweep(
        x, ks: [2, 3, 4], restarts: 5, seed: 3,
        isCancelled: {
          checks += 1
          return checks >= 2
        })
    }
    if case .cancelled? = error {
    } else {
      Issue.record("expected .cancelled, not \(String(describing: error))")
    }
    #expect(checks == 2, "nothing is checked after it said stop")
  }
}

extension Double {
  fileprivate var float: Float { Float(self) }

}
