import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookAnalysis

@Suite("UMAP") struct UMAPTests {
  static let blobs = TSNETests.blobs

  /// Short runs keep debug builds fast; three blobs need no more.
  static let quick = UMAPOptions(epochs: 150)

  @Test func curveParametersMatchUmapLearn() {
    let (a, b) = UMAP.curveParameters(minDistance: 0.1, spread: 1)
    #expect(abs(a - 1.577) < 0.01 && abs(b - 0.895) < 0.01, "a \(a), b \(b)")
  }

  @Test func smoothDistancesHitLog2OfTheNeighbourCount() {
    let distances: [Double] = [
      0.5, 0.7, 0.8, 1.1, 1.2, 1.6, 2.0, 2.1, 2.5, 3.0, 3.1, 3.3, 4.0, 4.2,
    ]
    let target = log2(15.0)
    let sigma = UMAP.smoothDistance(distances, rho: 0.5, target: target)
    let sum = distances.reduce(0) { $0 + exp(-max(0, $1 - 0.5) / sigma) }
    #expect(abs(sum - target) < 1e-4)
  }

  @Test func fuzzyUnionIsSymmetricWithWeightsInTheUnitInterval() {
    let knn = NearestNeighbors.exact(Self.blobs.x, k: 14)
    let graph = UMAP.fuzzySimplicialSet(knn, neighbors: 15)
    var weights: [Int: Double] = [:]
    for i in 0..<graph.count {
      for e in graph.rowStart[i]..<graph.rowStart[i + 1] {
        weights[i * graph.count + graph.columns[e]] = graph.weights[e]
      }
    }
    for (key, w) in weights {
      #expect(w > 0 && w <= 1)
      #expect(weights[(key % graph.count) * graph.count + key / graph.count] == w)
    }
    // Each point's nearest neighbour is at distance ρ: membership 1 at least that way.
    #expect(graph.maxWeight == 1)
  }

  @Test func spectralLayoutOfARingIsACircle() throws {
    // A cycle of 30 vertices: the Laplacian's 2nd and 3rd eigenvectors are a cosine and a sine.
    let m = 30
    var rowStart = [0]
    var columns: [Int] = []
    for i in 0..<m {
      columns += [(i + m - 1) % m, (i + 1) % m].sorted()
      rowStart.append(columns.count)
    }
    let ring = SparseGraph(
      count: m, rowStart: rowStart, columns: columns,
      weights: [Double](repeating: 1, count: columns.count))
    let layout = try #require(UMAP.laplacianEigenvectors(ring))
    for i in 0..<m {
      let r2 = layout[2 * i] * layout[2 * i] + layout[2 * i + 1] * layout[2 * i + 1]
      #expect(abs(r2 - 2 / Double(m)) < 1e-6)
    }
  }

  @Test func separatesWellSeparatedClusters() throws {
    let result = try UMAP.embed(Self.blobs.x, options: Self.quick)
    #expect(result.embedding.shape == [300, 2])
    #expect(result.embedding.isFinite)
    let accuracy = ProjectionTestData.knnAccuracy(result.embedding, labels: Self.blobs.labels)
    #expect(accuracy >= 0.98)
    #expect(Trustworthiness.score(original: Self.blobs.x, embedding: result.embedding) >= 0.9)
  }

  @Test func approximateNeighboursAndOtherInitialisationsWorkToo() throws {
    for initialization in [UMAPInitialization.pca, .random] {
      var options = Self.quick
      options.initialization = initialization
      options.exactNeighborsLimit = 100
      let result = try UMAP.embed(Self.blobs.x, options: options)
      #expect(ProjectionTestData.knnAccuracy(result.embedding, labels: Self.blobs.labels) >= 0.98)
    }
  }

  @Test func sameSeedSameBitsDifferentSeedDifferentLayout() throws {
    var options = Self.quick
    options.epochs = 50
    let a = try UMAP.embed(Self.blobs.x, options: options)
    #expect(a == (try UMAP.embed(Self.blobs.x, options: options)))
    options.seed = 1
    #expect(a.embedding != (try UMAP.embed(Self.blobs.x, options: options)).embedding)
  }

  @Test func cancellingStopsWithAnErrorAndProgressReachesOne() throws {
    var calls = 0
    #expect(throws: AnalysisError.cancelled) {
      _ = try UMAP.embed(
        Self.blobs.x, options: Self.quick,
        isCancelled: {
          calls += 1
          return calls > 5
        })
    }
    var fractions: [Double] = []
    var options = Self.quick
    options.epochs = 10
    _ = try UMAP.embed(Self.blobs.x, options: options, progress: { fractions.append($0) })
    #expect(fractions.count == 10 && fractions.last == 1)
  }

  @Test func rejectsWhatItCannotEmbed() {
    #expect(throws: AnalysisError.tooFewInputs(method: "umap", needed: 4, found: 2)) {
      _ = try UMAP.embed(Tensor(zeros: [2, 5]))
    }
    #expect(throws: AnalysisError.self) {
      _ = try UMAP.embed(Self.blobs.x, options: UMAPOptions(neighbors: 1))
    }
    #expect(throws: AnalysisError.self) {
      _ = try UMAP.embed(Self.blobs.x, options: UMAPOptions(minDistance: 2, spread: 1))
    }
  }

  @Test func duplicatedPointsStayFinite() throws {
    let rows = (0..<120).flatMap { i -> [Float] in [Float(i % 3), Float(2 * (i % 3)), 1] }
    var options = Self.quick
    options.epochs = 50
    let result = try UMAP.embed(Tensor(shape: [120, 3], scalars: rows), options: options)
    #expect(result.embedding.isFinite)
    #expect(ProjectionTestData.knnAccuracy(result.embedding, labels: (0..<120).map { $0 % 3 }) == 1)
  }
}

/// The layout gives the same bits on one thread as on several: its parts are fixed by the graph,
/// each reads only its own vertices live and the others from a copy, and the moves between parts
/// are added in part order.
@Suite("UMAP layout determinism") struct UMAPLayoutDeterminismTests {
  /// The blobs' graph and a random start, laid out for `epochs` with the parts run on one
  /// thread or concurrently.
  func layout(concurrently: Bool, epochs: Int = 30, seed: Int = 3) throws -> [Float] {
    let x = UMAPTests.blobs.x
    let knn = NearestNeighbors.exact(x, k: 14)
    let fuzzy = UMAP.fuzzySimplicialSet(knn, neighbors: 15)
    let graph = fuzzy.pruned(below: fuzzy.maxWeight / Double(epochs))
    let (a, b) = UMAP.curveParameters(minDistance: 0.1, spread: 1)
    var generator = SeededGenerator(seed: seed)
    var positions = (0..<2 * graph.count).map { _ in generator.nextFloat(in: 0, 10) }
    try UMAP.optimizeLayout(
      &positions, graph: graph, epochs: epochs, a: Float(a), b: Float(b),
      options: UMAPOptions(), generator: &generator, concurrently: concurrently,
      progress: nil, isCancelled: { false })
    return positions
  }

  @Test func oneThreadAndTwoGiveTheSameBits() throws {
    let one = try layout(concurrently: false)
    let two = try layout(concurrently: true)
    #expect(one.map(\.bitPattern) == two.map(\.bitPattern))
    #expect(one.allSatisfy { $0.isFinite })
    #expect(one != (try layout(concurrently: true, seed: 4)))
  }

  @Test func partsCoverTheVerticesWithAboutEqualWeight() {
    let knn = NearestNeighbors.exact(UMAPTests.blobs.x, k: 14)
    let graph = UMAP.fuzzySimplicialSet(knn, neighbors: 15)
    let parts = UMAP.layoutPartition(graph, parts: 2)
    #expect(parts.count == 2)
    #expect(parts[0].vertices.lowerBound == 0 && parts[1].vertices.upperBound == graph.count)
    #expect(parts[0].vertices.upperBound == parts[1].vertices.lowerBound)
    #expect(parts[0].edges.upperBound == parts[1].edges.lowerBound)
    let weights = parts.map { part in part.edges.reduce(0) { $0 + graph.weights[$1] } }
    #expect(abs(weights[0] - weights[1]) <= 0.05 * (weights[0] + weights[1]))
    // A tiny graph may leave a part empty; the parts still cover it.
    let tiny = UMAP.layoutPartition(graph, parts: 1)
    #expect(tiny == [UMAP.LayoutPart(vertices: 0..<graph.count, edges: 0..<graph.entryCount)])
  }
}
