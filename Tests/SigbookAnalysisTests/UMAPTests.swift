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

/// The layout's C kernel (`CKernels/UMAPLayout.c`, every variant this processor runs) against
/// the Swift code it replaced, generalised to any number of lanes: the same bits.
@Suite("UMAP layout kernel") struct UMAPLayoutKernelTests {
  static let lanes = [1, 3, 4, 8, 9, 16]

  /// The blobs' graph and a random start.
  static func problem(epochs: Int) -> (graph: SparseGraph, start: [Float], a: Float, b: Float) {
    let knn = NearestNeighbors.exact(UMAPTests.blobs.x, k: 14)
    let fuzzy = UMAP.fuzzySimplicialSet(knn, neighbors: 15)
    let graph = fuzzy.pruned(below: fuzzy.maxWeight / Double(epochs))
    let (a, b) = UMAP.curveParameters(minDistance: 0.1, spread: 1)
    var generator = SeededGenerator(seed: 11)
    let start = (0..<2 * graph.count).map { _ in generator.nextFloat(in: 0, 10) }
    return (graph, start, Float(a), Float(b))
  }

  @Test func powerIsTheReferenceToTheBitAndCloseToPow() {
    var generator = SeededGenerator(seed: 2)
    for b: Float in [0.3, 0.55, 0.79, 0.8950113654136658, 1.3, 1.93] {
      var worst = 0.0
      for t in 0..<20_000 {
        // Exponents over the whole normal range, then the layout's usual distances.
        let x =
          t < 10_000
          ? Float(exp(Double(generator.nextFloat(in: -87, 88))))
          : generator.nextFloat(in: 1e-6, 100)
        let power = UMAP.layoutPower(x, b)
        #expect(power.bitPattern == ReferenceLayout.power(x, b).bitPattern, "\(x)^\(b)")
        let exact = Foundation.pow(Double(x), Double(b))
        if exact >= Double(Float.leastNormalMagnitude)
          && exact <= 0.9 * Double(Float.greatestFiniteMagnitude)
        {
          worst = max(worst, abs(Double(power) - exact) / exact)
        }
      }
      #expect(worst <= 4e-7, "b = \(b): relative error \(worst)")
    }
    #expect(UMAP.layoutPower(0, 0.9) == UMAP.layoutPower(.leastNormalMagnitude, 0.9))
    #expect(UMAP.layoutPower(.greatestFiniteMagnitude, 1.93) == .infinity)
  }

  @Test(arguments: lanes)
  func kernelMatchesTheSwiftReference(lanes: Int) throws {
    let epochs = 40
    let (graph, start, a, b) = Self.problem(epochs: epochs)
    var expected = start
    var referenceGenerator = SeededGenerator(seed: 5)
    ReferenceLayout.optimize(
      &expected, graph: graph, epochs: epochs, a: a, b: b, options: UMAPOptions(),
      generator: &referenceGenerator, lanes: lanes)
    #expect(expected.allSatisfy { $0.isFinite } && expected != start)
    for kernel in UMAP.LayoutKernel.allCases where kernel.isSupported {
      var positions = start
      var generator = SeededGenerator(seed: 5)
      try UMAP.optimizeLayout(
        &positions, graph: graph, epochs: epochs, a: a, b: b, options: UMAPOptions(),
        generator: &generator, lanes: lanes, kernel: kernel, progress: nil,
        isCancelled: { false })
      #expect(
        positions.map(\.bitPattern) == expected.map(\.bitPattern), "\(kernel), \(lanes) lanes")
    }
  }
}

/// The layout descent as the Swift code before the C kernel walked it (with the kernel's power) (UMAP+Layout.swift says
/// how): parts one after the other, each from the copy of the others taken when the epoch began,
/// its lanes' samples in turn, every move read from and written to memory at once.
enum ReferenceLayout {
  /// x^b as the kernel computes it, operation by operation (UMAPLayout.c says how).
  static func power(_ x: Float, _ b: Float) -> Float {
    let reciprocals: [Float] = [
      1.2799999713897705, 1.185185194015503, 1.1034482717514038, 1.0322580337524414,
      0.9411764740943909, 0.8421052694320679, 0.761904776096344, 0.695652186870575,
    ]
    let logs: [Float] = [
      -0.3561437726020813, -0.24511250853538513, -0.14201900362968445, -0.04580364748835564,
      0.08746283501386642, 0.2479275017976761, 0.39231738448143005, 0.523561954498291,
    ]
    let exp2: [Float] = [
      1.0, 1.0905077457427979, 1.1892070770263672, 1.2968395948410034,
      1.4142135381698608, 1.5422108173370361, 1.6817928552627563, 1.8340080976486206,
    ]
    let magic: Float = 12_582_912
    let b8 = 8 * b
    let high = Float(bitPattern: b8.bitPattern & 0xFFFF_F800)
    let low = b8 - high
    let x = x > .leastNormalMagnitude ? x : .leastNormalMagnitude
    let bits = Int32(bitPattern: x.bitPattern)
    let shifted = bits &- 0x3F40_0000
    let i = Int((shifted >> 20) & 7)
    let z = Float(
      bitPattern: UInt32(bitPattern: bits &- (shifted & Int32(bitPattern: 0xFF80_0000))))
    let k = Float(shifted >> 23)
    let r = z * reciprocals[i] - 1
    let l1: Float = 1.4426950216293335, l2: Float = -0.7213475108146667
    let l3: Float = 0.48089835047721863, l4: Float = -0.3606737554073334
    let l5: Float = 0.28853902220726013
    let r2 = r * r
    let m = logs[i] + r * ((l1 + r * l2) + r2 * ((l3 + r * l4) + r2 * l5))
    let uh = high * k
    let rh = uh + magic
    let u = (low * k + b8 * m) + (uh - (rh - magic))
    let ru = u + magic
    let f = (u - (ru - magic)) * 0.125
    let magicBits: Int32 = 0x4B40_0000
    var n8 =
      (Int32(bitPattern: rh.bitPattern) &- magicBits)
      &+ (Int32(bitPattern: ru.bitPattern) &- magicBits)
    n8 = min(max(n8, -1016), 1024)
    let scale = Float(bitPattern: UInt32(bitPattern: ((n8 >> 3) + 127) << 23))
    let e1: Float = 0.6931471824645996, e2: Float = 0.24022650718688965
    let e3: Float = 0.05550410971045494, e4: Float = 0.009618128649890423
    let f2 = f * f
    let series = (1 + f * e1) + f2 * ((e2 + f * e3) + f2 * e4)
    return (exp2[Int(n8 & 7)] * series) * scale
  }

  static func optimize(
    _ positions: inout [Float], graph: SparseGraph, epochs: Int, a: Float, b: Float,
    options: UMAPOptions, generator: inout SeededGenerator, lanes: Int
  ) {
    let n = graph.count
    var heads = [Int](repeating: 0, count: graph.entryCount)
    for i in 0..<n {
      for e in graph.rowStart[i]..<graph.rowStart[i + 1] { heads[e] = i }
    }
    let tails = graph.columns
    let perSample = graph.weights.map { graph.maxWeight / $0 }
    let perNegative = perSample.map { $0 / Double(options.negativeSampleRate) }
    var nextSample = perSample, nextNegative = perNegative
    let parts = UMAP.layoutPartition(graph, parts: UMAP.layoutParts)
    var generators = parts.map { _ in SeededGenerator(seed: generator.next()) }
    let stride = 2 * n
    var y = [Float](repeating: 0, count: (2 + parts.count) * stride)
    for c in 0..<stride { y[c] = positions[c] }
    let attraction = -2 * a * b, repulsion = 2 * Float(options.repulsionStrength) * b
    func clip(_ v: Float) -> Float { min(4, max(-4, v)) }
    for epoch in 0..<epochs {
      let alpha = Float(options.learningRate * (1 - Double(epoch) / Double(epochs)))
      let now = Double(epoch)
      for c in 0..<stride { y[stride + c] = y[c] }
      for (p, part) in parts.enumerated() {
        let own = part.vertices
        func source(_ v: Int) -> Int { 2 * v + (own.contains(v) ? 0 : stride) }
        func sink(_ v: Int) -> Int { 2 * v + (own.contains(v) ? 0 : (2 + p) * stride) }
        func attract(_ i: Int, _ j: Int) {
          let o = source(j)
          let dx = y[2 * i] - y[o], dy = y[2 * i + 1] - y[o + 1]
          let d2 = dx * dx + dy * dy
          guard d2 > 0 else { return }
          let powered = min(power(d2, b), .greatestFiniteMagnitude)
          let coefficient = attraction * powered / (d2 * (a * powered + 1))
          let gx = clip(coefficient * dx) * alpha, gy = clip(coefficient * dy) * alpha
          y[2 * i] += gx
          y[2 * i + 1] += gy
          y[sink(j)] -= gx
          y[sink(j) + 1] -= gy
        }
        func repel(_ i: Int, _ k: Int) {
          let o = source(k)
          let dx = y[2 * i] - y[o], dy = y[2 * i + 1] - y[o + 1]
          let d2 = dx * dx + dy * dy
          guard d2 > 0 else { return }
          let coefficient = repulsion / ((0.001 + d2) * (a * power(d2, b) + 1))
          y[2 * i] += clip(coefficient * dx) * alpha
          y[2 * i + 1] += clip(coefficient * dy) * alpha
        }
        let start = part.edges.lowerBound, count = part.edges.count
        var cursor = (0..<lanes).map { start + $0 * count / lanes }
        let ends = (1...lanes).map {
          $0 == lanes ? part.edges.upperBound : start + $0 * count / lanes
        }
        var head = [Int](repeating: -1, count: lanes)
        var negatives = [Int](repeating: 0, count: lanes)
        while true {
          for l in 0..<lanes {
            var e = cursor[l]
            while e < ends[l] && nextSample[e] > now { e += 1 }
            cursor[l] = e + 1
            guard e < ends[l] else {
              head[l] = -1
              negatives[l] = 0
              continue
            }
            head[l] = heads[e]
            attract(heads[e], tails[e])
            nextSample[e] += perSample[e]
            negatives[l] = max(0, Int((now - nextNegative[e]) / perNegative[e]))
            nextNegative[e] += Double(negatives[l]) * perNegative[e]
          }
          if head.allSatisfy({ $0 < 0 }) { break }
          for m in 0..<(negatives.max() ?? 0) {
            for l in 0..<lanes where m < negatives[l] {
              repel(head[l], generators[p].nextInt(below: n))
            }
          }
        }
      }
      for (p, part) in parts.enumerated() {
        for v in 0..<n where !part.vertices.contains(v) {
          for c in 0..<2 {
            y[2 * v + c] += y[(2 + p) * stride + 2 * v + c]
            y[(2 + p) * stride + 2 * v + c] = 0
          }
        }
      }
    }
    for c in 0..<stride { positions[c] = y[c] }
  }
}
