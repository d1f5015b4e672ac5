import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookAnalysis

@Suite("t-SNE") struct TSNETests {
  /// Three well-separated blobs of 100 points in 20-D.
  static let blobs = ProjectionTestData.blobs(
    clusters: 3, perCluster: 100, dimensions: 20, spread: 6, seed: 21)

  /// Short runs keep debug builds fast; three blobs need no more.
  static let quick = TSNEOptions(iterations: 300, earlyExaggerationIterations: 100)

  @Test(arguments: [5.0, 30.0, 50.0])
  func calibrationMatchesThePerplexity(perplexity: Double) {
    var g = SeededGenerator(seed: 4)
    let squared = (0..<150).map { _ in 10 + 40 * g.nextDouble() }
    var p = [Double](repeating: 0, count: squared.count)
    squared.withUnsafeBufferPointer { d in
      p.withUnsafeMutableBufferPointer { out in
        _ = TSNE.calibrate(squaredDistances: d, perplexity: perplexity, into: out)
      }
    }
    let entropy = -p.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) }
    #expect(abs(entropy - log(perplexity)) < 1e-4)
    #expect(abs(p.reduce(0, +) - 1) < 1e-12)
  }

  @Test func jointProbabilitiesAreSymmetricAndSumToOne() {
    let knn = NearestNeighbors.exact(Self.blobs.x, k: 30)
    let p = TSNE.jointProbabilities(knn, perplexity: 10)
    var entries: [Int: Double] = [:]
    for i in 0..<p.count {
      for e in p.rowStart[i]..<p.rowStart[i + 1] {
        entries[i * p.count + p.columns[e]] = p.weights[e]
      }
    }
    for (key, value) in entries {
      let (i, j) = (key / p.count, key % p.count)
      #expect(i != j)
      #expect(entries[j * p.count + i] == value)
    }
    #expect(abs(p.weights.reduce(0, +) - 1) < 1e-9)
  }

  @Test(arguments: [false, true])
  func barnesHutRepulsionIsCloseToTheExactSum(withCoincidentPoints: Bool) {
    var g = SeededGenerator(seed: 8)
    var positions = (0..<600).map { _ in 5 * g.nextNormal() }
    if withCoincidentPoints {
      // 100 points stacked on one spot: a leaf larger than a group.
      for i in 0..<100 {
        positions[2 * i] = 1
        positions[2 * i + 1] = 2
      }
    }
    var exact = [Double](repeating: 0, count: 600)
    let zExact = TSNE.exactRepulsion(positions, into: &exact)
    var approximate = [Double](repeating: 0, count: 600)
    var tree = BarnesHutTree()
    tree.rebuild(positions, theta: 0.5)
    let zApproximate = tree.repulsion(into: &approximate)
    #expect(abs(zApproximate - zExact) / zExact < 5e-3)
    var error = 0.0
    var norm = 0.0
    for c in 0..<600 {
      error += (approximate[c] - exact[c]) * (approximate[c] - exact[c])
      norm += exact[c] * exact[c]
    }
    #expect((error / norm).squareRoot() < 1e-2)
  }

  @Test func separatesWellSeparatedClusters() throws {
    let result = try TSNE.embed(Self.blobs.x, options: Self.quick)
    #expect(result.embedding.shape == [300, 2])
    #expect(result.embedding.isFinite)
    let accuracy = ProjectionTestData.knnAccuracy(result.embedding, labels: Self.blobs.labels)
    #expect(accuracy >= 0.98)
    #expect(Trustworthiness.score(original: Self.blobs.x, embedding: result.embedding) >= 0.9)
    #expect(result.klDivergence > 0 && result.klDivergence < 3)
  }

  @Test func sameSeedSameBitsDifferentSeedDifferentLayout() throws {
    let x = Self.blobs.x.rows(0..<90)
    var options = Self.quick
    options.iterations = 60
    options.earlyExaggerationIterations = 30
    let pca = try TSNE.embed(x, options: options)
    #expect(pca == (try TSNE.embed(x, options: options)))
    options.initialization = .random
    options.seed = 1
    let a = try TSNE.embed(x, options: options)
    #expect(a == (try TSNE.embed(x, options: options)))
    options.seed = 2
    #expect(a.embedding != (try TSNE.embed(x, options: options)).embedding)
  }

  @Test func cancellingStopsWithAnError() {
    var calls = 0
    #expect(throws: AnalysisError.cancelled) {
      _ = try TSNE.embed(
        Self.blobs.x, options: Self.quick,
        isCancelled: {
          calls += 1
          return calls > 5
        })
    }
  }

  @Test func reportsProgressUpToOne() throws {
    var fractions: [Double] = []
    var options = Self.quick
    options.iterations = 20
    options.earlyExaggerationIterations = 10
    _ = try TSNE.embed(
      Self.blobs.x.rows(0..<60), options: options, progress: { fractions.append($0) })
    #expect(fractions.count == 20)
    #expect(fractions.last == 1)
  }

  @Test func rejectsWhatItCannotEmbed() {
    #expect(throws: AnalysisError.tooFewInputs(method: "tsne", needed: 4, found: 3)) {
      _ = try TSNE.embed(Tensor(zeros: [3, 5]))
    }
    #expect(throws: AnalysisError.nonFiniteInput(method: "tsne")) {
      _ = try TSNE.embed(Tensor(shape: [5, 1], scalars: [0, 1, .nan, 2, 3]))
    }
    #expect(throws: AnalysisError.self) {
      _ = try TSNE.embed(Self.blobs.x, options: TSNEOptions(perplexity: 0))
    }
  }

  @Test func smallDataLowersThePerplexity() throws {
    var options = Self.quick
    options.iterations = 50
    options.earlyExaggerationIterations = 20
    let result = try TSNE.embed(Self.blobs.x.rows(0..<31), options: options)
    #expect(result.perplexity == 10)
    #expect(result.embedding.isFinite)
  }

  @Test func duplicatedPointsStayFinite() throws {
    // 40 copies of each of three points: zero distances everywhere inside a group.
    let rows = (0..<120).flatMap { i -> [Float] in [Float(i % 3), Float(2 * (i % 3)), 1] }
    var options = Self.quick
    options.iterations = 60
    options.earlyExaggerationIterations = 30
    let result = try TSNE.embed(Tensor(shape: [120, 3], scalars: rows), options: options)
    #expect(result.embedding.isFinite && result.klDivergence.isFinite)
    #expect(ProjectionTestData.knnAccuracy(result.embedding, labels: (0..<120).map { $0 % 3 }) == 1)
  }
}
