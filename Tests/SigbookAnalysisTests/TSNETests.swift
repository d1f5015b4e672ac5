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

/// The repulsion kernel (`TSNEKernels`, TSNERepulsion.c) against a Double reference, and its
/// variants against each other to the bit; the gradient's parts on one thread and on several.
@Suite("t-SNE kernels and threads") struct TSNEKernelTests {
  /// A group of `count` points and an interaction list of `length` entries (a multiple of 8),
  /// seeded; the masses are 1 or cell-like counts, a few 0 as padding is.
  static func operands(count: Int, length: Int, seed: Int)
    -> (px: [Float], py: [Float], lx: [Float], ly: [Float], lm: [Float])
  {
    var g = SeededGenerator(seed: seed)
    let px = (0..<count).map { _ in g.nextFloat(in: -3, 3) }
    let py = (0..<count).map { _ in g.nextFloat(in: -3, 3) }
    let lx = (0..<length).map { _ in g.nextFloat(in: -20, 20) }
    let ly = (0..<length).map { _ in g.nextFloat(in: -20, 20) }
    let lm = (0..<length).map { e -> Float in e % 7 == 6 ? 0 : Float(1 + e % 5) }
    return (px, py, lx, ly, lm)
  }

  /// (z, fx, fy) of each point, from `variant`.
  static func sums(count: Int, length: Int, seed: Int, variant: TSNEKernels.Variant)
    -> [Double]
  {
    let (px, py, lx, ly, lm) = operands(count: count, length: length, seed: seed)
    var out = [Double](repeating: .nan, count: 3 * count + 1)
    px.withUnsafeBufferPointer { px in
      py.withUnsafeBufferPointer { py in
        lx.withUnsafeBufferPointer { lx in
          ly.withUnsafeBufferPointer { ly in
            lm.withUnsafeBufferPointer { lm in
              out.withUnsafeMutableBufferPointer { o in
                let empty = UnsafeMutablePointer<Float>.allocate(capacity: 1)
                defer { empty.deallocate() }
                guard let o = o.baseAddress else { return }
                TSNEKernels.repulsionSums(
                  variant, px: px.baseAddress ?? UnsafePointer(empty),
                  py: py.baseAddress ?? UnsafePointer(empty), count: count,
                  lx: lx.baseAddress ?? UnsafePointer(empty),
                  ly: ly.baseAddress ?? UnsafePointer(empty),
                  lm: lm.baseAddress ?? UnsafePointer(empty), length: length, z: o,
                  fx: o + count, fy: o + 2 * count)
              }
            }
          }
        }
      }
    }
    return out
  }

  static let shapes: [(count: Int, length: Int)] = [(1, 0), (1, 8), (5, 16), (33, 64), (7, 520)]

  @Test func portableSumsMatchADoubleReference() {
    Self.checkAgainstReference(.portable)
  }

  @Test(.enabled(if: TSNEKernels.Variant.avx2.isSupported, "needs a processor with AVX2"))
  func avx2SumsMatchADoubleReference() {
    Self.checkAgainstReference(.avx2)
  }

  /// Every sum of every shape within single-precision rounding of the Double sums.
  static func checkAgainstReference(_ variant: TSNEKernels.Variant) {
    for (shape, seed) in zip(shapes, 1...) {
      let (count, length) = shape
      let out = sums(count: count, length: length, seed: seed, variant: variant)
      let (px, py, lx, ly, lm) = operands(count: count, length: length, seed: seed)
      for i in 0..<count {
        var z = 0.0, fx = 0.0, fy = 0.0, magnitude = 0.0
        for e in 0..<length {
          let dx = Double(px[i]) - Double(lx[e]), dy = Double(py[i]) - Double(ly[e])
          let w = 1 / (1 + dx * dx + dy * dy)
          z += Double(lm[e]) * w
          fx += Double(lm[e]) * w * w * dx
          fy += Double(lm[e]) * w * w * dy
          magnitude += Double(lm[e]) * w
        }
        let tolerance = 1e-5 * max(magnitude, 1e-3)
        #expect(abs(out[i] - z) <= tolerance, "z of point \(i), \(count) × \(length)")
        #expect(abs(out[count + i] - fx) <= tolerance, "fx of point \(i), \(count) × \(length)")
        #expect(abs(out[2 * count + i] - fy) <= tolerance, "fy of point \(i), \(count) × \(length)")
      }
      #expect(out[3 * count].isNaN, "nothing written past the outputs")
    }
  }

  @Test(.enabled(if: TSNEKernels.Variant.avx2.isSupported, "needs a processor with AVX2"))
  func variantsAgreeToTheBit() {
    for (shape, seed) in zip(Self.shapes, 1...) {
      let portable = Self.sums(count: shape.0, length: shape.1, seed: seed, variant: .portable)
      let avx2 = Self.sums(count: shape.0, length: shape.1, seed: seed, variant: .avx2)
      #expect(portable.map(\.bitPattern) == avx2.map(\.bitPattern), "\(shape)")
    }
  }

  /// The blobs' descent with each gradient's parts run on one thread, then concurrently.
  func embedding(concurrently: Bool) throws -> [Double] {
    let x = TSNETests.blobs.x
    let knn = NearestNeighbors.exact(x, k: 30)
    let p = TSNE.jointProbabilities(knn, perplexity: 10)
    var options = TSNETests.quick
    options.iterations = 80
    options.earlyExaggerationIterations = 40
    var positions = TSNE.initialPositions(x, options: options)
    try TSNE.optimize(
      &positions, p: p, options: options, concurrently: concurrently, progress: nil,
      isCancelled: { false })
    return positions
  }

  @Test func oneThreadAndSeveralGiveTheSameBits() throws {
    let one = try embedding(concurrently: false)
    let several = try embedding(concurrently: true)
    #expect(one.map(\.bitPattern) == several.map(\.bitPattern))
    #expect(one.allSatisfy { $0.isFinite })
  }

  /// The tree's repulsion, on one thread and concurrently: the same forces and Z.
  @Test func treeRepulsionIsTheSameOnOneThreadAndSeveral() {
    var g = SeededGenerator(seed: 12)
    let positions = (0..<1_200).map { _ in 5 * g.nextNormal() }
    var tree = BarnesHutTree()
    tree.rebuild(positions, theta: 0.5)
    var one = [Double](repeating: 0, count: 1_200)
    var several = one
    let zOne = tree.repulsion(into: &one, concurrently: false)
    let zSeveral = tree.repulsion(into: &several, concurrently: true)
    #expect(zOne.bitPattern == zSeveral.bitPattern)
    #expect(one.map(\.bitPattern) == several.map(\.bitPattern))
  }
}
