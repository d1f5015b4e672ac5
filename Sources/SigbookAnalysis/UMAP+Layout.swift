import Foundation
import SigbookTensor

extension UMAP {
  /// The number of parts the layout's vertices are split into, each walked by its own task every
  /// epoch. A constant, not the core count, so that the layout does not depend on the machine.
  static let layoutParts = 2

  /// Graphs with fewer edges walk their parts one after the other on the calling thread (with
  /// the same result): every epoch ends with the parts waiting for each other, and a shorter
  /// epoch than this (a few hundred points) loses more there than the second core gains, the
  /// more so when another process holds that core.
  static let concurrentLayoutEdges = 16_384

  /// Stochastic gradient descent of the fuzzy cross-entropy over the edges of `graph`, as
  /// umap-learn's `optimize_layout_euclidean` (`move_other` on).
  ///
  /// Every stored edge (i, j) — both directions of each pair — is sampled every
  /// eₑ = max(w) / wₑ epochs. A sample moves yᵢ by α · clip(−2ab d^{2(b−1)} / (1 + a d^{2b}) ·
  /// (yᵢ − yⱼ)) and yⱼ by the opposite, then draws `negativeSampleRate` / eₑ random points k
  /// per epoch elapsed and moves yᵢ by α · clip(2γb / ((0.001 + d²)(1 + a d^{2b})) · (yᵢ − yₖ)),
  /// d² the squared distance, clip to ±4 per coordinate. α decays linearly from the learning
  /// rate to 0 over the epochs.
  ///
  /// On both cores, with a result that does not depend on the number of threads: the vertices
  /// are cut into `layoutParts` contiguous ranges of about equal edge weight (so about equal
  /// numbers of samples), and every epoch each part walks the edges of its own heads from a copy
  /// of the positions taken when the epoch began. A part moves its own vertices in place and
  /// reads them live; another part's vertex it reads from the copy, and its moves of one (the
  /// far end of an edge) go to the part's own buffer, added to the positions in part order once
  /// every part is done. No part reads what another writes during the epoch, so one thread or
  /// several give the same bits. Each part draws its negative samples from its own generator,
  /// seeded from `generator`.
  ///
  /// Within a part, one sample depends on the previous one through the moving point, so one
  /// stream of samples waits on a power and a division at every step. The part's edges are
  /// therefore cut into four contiguous lanes walked in lockstep — one sample of each lane in
  /// turn, every update read from and written to memory at once — which is still one sequential
  /// SGD in a fixed order, but gives the processor independent work to overlap.
  ///
  /// Powers of d² come from `Kernels.power` rather than libm, whose `powf` is not bound to round
  /// alike across library versions and processors: the layout is the same on every machine.
  ///
  /// - Parameter concurrently: whether the parts run on several threads; `nil` (the default)
  ///   means when the graph has at least `concurrentLayoutEdges` edges. The result is the same.
  static func optimizeLayout(
    _ positions: inout [Float], graph: SparseGraph, epochs: Int, a: Float, b: Float,
    options: UMAPOptions, generator: inout SeededGenerator, concurrently: Bool? = nil,
    progress: ((Double) -> Void)?, isCancelled: () -> Bool
  ) throws(AnalysisError) {
    let n = graph.count
    let edgeCount = graph.entryCount
    var heads = [Int](repeating: 0, count: edgeCount)
    for i in 0..<n {
      for e in graph.rowStart[i]..<graph.rowStart[i + 1] { heads[e] = i }
    }
    let tails = graph.columns
    let maxWeight = graph.maxWeight
    let epochsPerSample = graph.weights.map { maxWeight / $0 }
    let negativeRate = Double(options.negativeSampleRate)
    let epochsPerNegativeSample = epochsPerSample.map {
      negativeRate > 0 ? $0 / negativeRate : .infinity
    }
    var nextSample = epochsPerSample
    var nextNegativeSample = epochsPerNegativeSample
    var layout = Layout(a: a, b: b, gamma: Float(options.repulsionStrength))
    let parts = layoutPartition(graph, parts: layoutParts)
    var generators = parts.map { _ in SeededGenerator(seed: generator.next()) }
    // One buffer: the live positions, the copy taken at the start of each epoch, then each part's
    // deferred moves; a vertex's place in either of the last two is its own plus a fixed offset.
    let stride = 2 * n
    var work = [Float](repeating: 0, count: (2 + parts.count) * stride)
    for c in 0..<stride { work[c] = positions[c] }
    let isConcurrent = concurrently ?? (edgeCount >= concurrentLayoutEdges)

    var wasCancelled = false
    // The buffers are borrowed once for the whole descent; each part writes only its own
    // vertices' positions, its own edges' schedules, its own deferred moves and its own generator.
    work.withUnsafeMutableBufferPointer { work in
      generators.withUnsafeMutableBufferPointer { generators in
        heads.withUnsafeBufferPointer { heads in
          tails.withUnsafeBufferPointer { tails in
            epochsPerSample.withUnsafeBufferPointer { perSample in
              epochsPerNegativeSample.withUnsafeBufferPointer { perNegative in
                nextSample.withUnsafeMutableBufferPointer { next in
                  nextNegativeSample.withUnsafeMutableBufferPointer { nextNegative in
                    guard let base = work.baseAddress else { return }
                    nonisolated(unsafe) let edges = Edges(
                      heads: heads, tails: tails, perSample: perSample,
                      perNegativeSample: perNegative, nextSample: next,
                      nextNegativeSample: nextNegative)
                    nonisolated(unsafe) let (generators, w) = (generators, base)
                    for epoch in 0..<epochs {
                      if isCancelled() {
                        wasCancelled = true
                        return
                      }
                      layout.alpha = Float(
                        options.learningRate * (1 - Double(epoch) / Double(epochs)))
                      (w + stride).update(from: w, count: stride)
                      let now = Double(epoch), step = layout
                      let walk: @Sendable (Int) -> Void = { p in
                        let part = parts[p]
                        let region = Region(
                          w: w, first: part.vertices.lowerBound, end: part.vertices.upperBound,
                          snapshotOffset: stride, deferredOffset: (2 + p) * stride)
                        step.epoch(
                          now, edges: edges, range: part.edges, region: region, vertices: n,
                          generator: &generators[p])
                      }
                      if isConcurrent {
                        Parallel.forEach(parts.count, walk)
                      } else {
                        for p in parts.indices { walk(p) }
                      }
                      // Each part's moves of the other parts' vertices, in part order.
                      for p in parts.indices {
                        let own = parts[p].vertices
                        let moves = w + (2 + p) * stride
                        for range in [0..<own.lowerBound, own.upperBound..<n] {
                          let start = 2 * range.lowerBound, count = 2 * range.count
                          Kernels.add(w + start, moves + start, count: count)
                          (moves + start).update(repeating: 0, count: count)
                        }
                      }
                      progress?(Double(epoch + 1) / Double(epochs))
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    for c in 0..<stride { positions[c] = work[c] }
    if wasCancelled { throw .cancelled }
  }

  /// The vertices and edges one task walks every epoch.
  struct LayoutPart: Sendable, Equatable {
    /// Its heads, contiguous.
    let vertices: Range<Int>
    /// The edges out of those heads (the edge list is sorted by head).
    let edges: Range<Int>
  }

  /// `parts` contiguous ranges of vertices, in order, covering all of them, each with about the
  /// same total edge weight — that is, about the same number of samples per epoch. Some may be
  /// empty on a tiny graph.
  static func layoutPartition(_ graph: SparseGraph, parts: Int) -> [LayoutPart] {
    let n = graph.count
    let total = graph.weights.reduce(0, +)
    var bounds = [0]
    var vertex = 0, sum = 0.0
    for p in 1..<max(1, parts) {
      let target = total * Double(p) / Double(parts)
      while vertex < n && sum < target {
        for e in graph.rowStart[vertex]..<graph.rowStart[vertex + 1] { sum += graph.weights[e] }
        vertex += 1
      }
      bounds.append(vertex)
    }
    bounds.append(n)
    return (0..<bounds.count - 1).map { p in
      LayoutPart(
        vertices: bounds[p]..<bounds[p + 1],
        edges: graph.rowStart[bounds[p]]..<graph.rowStart[bounds[p + 1]])
    }
  }

  /// The edge lists and their sampling schedules, borrowed for the descent.
  private struct Edges {
    let heads: UnsafeBufferPointer<Int>
    let tails: UnsafeBufferPointer<Int>
    let perSample: UnsafeBufferPointer<Double>
    let perNegativeSample: UnsafeBufferPointer<Double>
    let nextSample: UnsafeMutableBufferPointer<Double>
    let nextNegativeSample: UnsafeMutableBufferPointer<Double>
  }

  /// What one part reads and writes in an epoch: its own vertices live, the others from the
  /// copy taken at the start of the epoch, its moves of the others into its deferred buffer.
  ///
  /// Which of these a vertex's coordinates are read from or written to is chosen by adding an
  /// offset masked with whether the part owns it: a branch there would be mispredicted about
  /// half the time, the random vertices of the repulsion falling in either part.
  private struct Region {
    /// The layout's buffer: positions, copy, deferred moves (see `optimizeLayout`).
    let w: UnsafeMutablePointer<Float>
    let first: Int
    let end: Int
    let snapshotOffset: Int
    let deferredOffset: Int

    /// All ones when vertex v is another part's, zero when it is this part's.
    @inline(__always) func outside(_ v: Int) -> Int { ((v &- first) | (end &- 1 &- v)) >> 63 }

    /// Where vertex v's x is read: live when it is the part's, else in the copy.
    @inline(__always) func source(_ v: Int) -> Int { 2 &* v &+ (snapshotOffset & outside(v)) }

    /// Where vertex v's moves go: its x when it is the part's, else the deferred buffer.
    @inline(__always) func sink(_ v: Int) -> Int { 2 &* v &+ (deferredOffset & outside(v)) }
  }

  /// The moves of the layout SGD, with the curve parameters and the current step.
  private struct Layout {
    let a: Float
    let b: Double
    let attractionFactor: Float
    let repulsionFactor: Float
    var alpha: Float = 1

    init(a: Float, b: Float, gamma: Float) {
      self.a = a
      self.b = Double(b)
      attractionFactor = -2 * a * b
      repulsionFactor = 2 * gamma * b
    }

    @inline(__always) private func clip(_ v: Float) -> Float { min(4, max(-4, v)) }

    /// One epoch over a part's edges, four lanes in lockstep (see `optimizeLayout`).
    func epoch(
      _ now: Double, edges: Edges, range: Range<Int>, region: Region, vertices n: Int,
      generator: inout SeededGenerator
    ) {
      let start = range.lowerBound, count = range.count
      let laneEnd = (start + count / 4, start + count / 2, start + 3 * count / 4, range.upperBound)
      var cursor = (start, laneEnd.0, laneEnd.1, laneEnd.2)
      var head = (0, 0, 0, 0)
      var negatives = (0, 0, 0, 0)
      // A local copy keeps the generator's state in registers.
      var random = generator
      defer { generator = random }
      // The next edge due in a lane at or after `cursor`; its positive sample; its negative
      // count. Returns the head, or −1 when the lane is done.
      func advance(_ cursor: inout Int, _ end: Int, _ negatives: inout Int) -> Int {
        var e = cursor
        while e < end && edges.nextSample[e] > now { e += 1 }
        cursor = e + 1
        guard e < end else {
          negatives = 0
          return -1
        }
        let i = edges.heads[e]
        attract(i, edges.tails[e], region)
        edges.nextSample[e] += edges.perSample[e]
        let due = (now - edges.nextNegativeSample[e]) / edges.perNegativeSample[e]
        negatives = max(0, Int(due))
        edges.nextNegativeSample[e] += Double(negatives) * edges.perNegativeSample[e]
        return i
      }
      while true {
        head.0 = advance(&cursor.0, laneEnd.0, &negatives.0)
        head.1 = advance(&cursor.1, laneEnd.1, &negatives.1)
        head.2 = advance(&cursor.2, laneEnd.2, &negatives.2)
        head.3 = advance(&cursor.3, laneEnd.3, &negatives.3)
        if head.0 < 0 && head.1 < 0 && head.2 < 0 && head.3 < 0 { break }
        let most = max(max(negatives.0, negatives.1), max(negatives.2, negatives.3))
        for m in 0..<most {
          if m < negatives.0 { repel(head.0, random.nextInt(below: n), region) }
          if m < negatives.1 { repel(head.1, random.nextInt(below: n), region) }
          if m < negatives.2 { repel(head.2, random.nextInt(below: n), region) }
          if m < negatives.3 { repel(head.3, random.nextInt(below: n), region) }
        }
      }
    }

    /// Pulls i (the part's) and j together: d^{2(b−1)} = d^{2b} / d², one power for both.
    @inline(__always)
    func attract(_ i: Int, _ j: Int, _ region: Region) {
      let y = region.w, o = region.source(j)
      let dx = y[2 * i] - y[o], dy = y[2 * i + 1] - y[o + 1]
      let d2 = dx * dx + dy * dy
      guard d2 > 0 else { return }
      // Held finite so that a far pair gets the limit 0 rather than ∞/∞.
      let powered = min(Kernels.power(d2, b), .greatestFiniteMagnitude)
      let coefficient = attractionFactor * powered / (d2 * (a * powered + 1))
      let gx = clip(coefficient * dx) * alpha, gy = clip(coefficient * dy) * alpha
      y[2 * i] += gx
      y[2 * i + 1] += gy
      let sink = region.sink(j)
      y[sink] -= gx
      y[sink + 1] -= gy
    }

    /// Pushes i (the part's) away from k (nothing when they coincide, k = i included).
    @inline(__always)
    func repel(_ i: Int, _ k: Int, _ region: Region) {
      let y = region.w, o = region.source(k)
      let dx = y[2 * i] - y[o], dy = y[2 * i + 1] - y[o + 1]
      let d2 = dx * dx + dy * dy
      guard d2 > 0 else { return }
      let coefficient = repulsionFactor / ((0.001 + d2) * (a * Kernels.power(d2, b) + 1))
      y[2 * i] += clip(coefficient * dx) * alpha
      y[2 * i + 1] += clip(coefficient * dy) * alpha
    }
  }
}
