import CKernels
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

  /// The lanes each part's edges are cut into and walked in lockstep (see `optimizeLayout`).
  /// A constant: the order of the samples, hence the layout, depends on it.
  static let layoutLanes = 8

  /// A variant of the layout's kernel (`CKernels/UMAPLayout.c`); every variant gives the same
  /// bits.
  typealias LayoutKernel = PortableOrAVX2

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
  /// therefore cut into `layoutLanes` contiguous lanes walked in lockstep — one sample of each
  /// lane in turn, every update read from and written to memory at once — which is still one
  /// sequential SGD in a fixed order, but gives the processor independent work to overlap. The
  /// epoch of a part runs in C (`CKernels/UMAPLayout.c`), whose AVX2 variant computes the lanes
  /// of a step together wherever that gives the same bits as computing them in turn.
  ///
  /// Powers of d² come from the kernel's own log₂ and exp₂ (relative error within 4·10⁻⁷, as
  /// `Kernels.power`'s 3·10⁻⁷, but in single precision and without gathers from tables, so that
  /// 8 lanes take one vector) rather than libm, whose `powf` is not bound to round alike across
  /// library versions and processors: the layout is the same on every machine.
  ///
  /// - Parameters:
  ///   - concurrently: whether the parts run on several threads; `nil` (the default) means when
  ///     the graph has at least `concurrentLayoutEdges` edges. The result is the same.
  ///   - lanes: the lanes of each part, 1 to 16 (default `layoutLanes`).
  ///   - kernel: the kernel's variant (default the fastest); the result is the same.
  static func optimizeLayout(
    _ positions: inout [Float], graph: SparseGraph, epochs: Int, a: Float, b: Float,
    options: UMAPOptions, generator: inout SeededGenerator, concurrently: Bool? = nil,
    lanes: Int = layoutLanes, kernel: LayoutKernel = .best, progress: ((Double) -> Void)?,
    isCancelled: () -> Bool
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
    // Each part's xoshiro256** state, as `SeededGenerator(seed: generator.next())` starts.
    var generators = [UInt64](repeating: 0, count: 4 * parts.count)
    for p in parts.indices {
      let seed = generator.next()
      for c in 0..<4 { generators[4 * p + c] = SeededGenerator.splitMix(seed, index: UInt64(c)) }
    }
    var marks = [UInt32](repeating: 0, count: 2 * parts.count * n)
    // One buffer: the live positions, the copy taken at the start of each epoch, then each part's
    // deferred moves; a vertex's place in either of the last two is its own plus a fixed offset.
    let stride = 2 * n
    var work = [Float](repeating: 0, count: (2 + parts.count) * stride)
    for c in 0..<stride { work[c] = positions[c] }
    let isConcurrent = concurrently ?? (edgeCount >= concurrentLayoutEdges)

    var wasCancelled = false
    // The buffers are borrowed once for the whole descent; each part writes only its own
    // vertices' positions, its own edges' schedules, its own deferred moves, its own generator
    // and its own marks.
    work.withUnsafeMutableBufferPointer { work in
      generators.withUnsafeMutableBufferPointer { generators in
        marks.withUnsafeMutableBufferPointer { marks in
          heads.withUnsafeBufferPointer { heads in
            tails.withUnsafeBufferPointer { tails in
              epochsPerSample.withUnsafeBufferPointer { perSample in
                epochsPerNegativeSample.withUnsafeBufferPointer { perNegative in
                  nextSample.withUnsafeMutableBufferPointer { next in
                    nextNegativeSample.withUnsafeMutableBufferPointer { nextNegative in
                      guard let base = work.baseAddress, let stateBase = generators.baseAddress,
                        let markBase = marks.baseAddress
                      else { return }
                      nonisolated(unsafe) let edges = Edges(
                        heads: heads, tails: tails, perSample: perSample,
                        perNegativeSample: perNegative, nextSample: next,
                        nextNegativeSample: nextNegative)
                      nonisolated(unsafe) let (states, scratch, w) = (stateBase, markBase, base)
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
                          var call = sigbook_umap_epoch(
                            heads: edges.heads.baseAddress, tails: edges.tails.baseAddress,
                            per_sample: edges.perSample.baseAddress,
                            per_negative_sample: edges.perNegativeSample.baseAddress,
                            next_sample: edges.nextSample.baseAddress,
                            next_negative_sample: edges.nextNegativeSample.baseAddress,
                            edge_start: part.edges.lowerBound, edge_end: part.edges.upperBound,
                            first: part.vertices.lowerBound, end: part.vertices.upperBound,
                            positions: w, snapshot_offset: stride,
                            deferred_offset: (2 + p) * stride,
                            vertices: n, a: step.a, b: step.b, attraction: step.attractionFactor,
                            repulsion: step.repulsionFactor, alpha: step.alpha, now: now,
                            lanes: Int32(lanes), generator: states + 4 * p,
                            marks: scratch + 2 * n * p)
                          let status = sigbook_umap_run_epoch(kernel.rawValue, &call)
                          precondition(status == 0, "the layout kernel \(kernel) was refused")
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
    }
    for c in 0..<stride { positions[c] = work[c] }
    if wasCancelled { throw .cancelled }
  }

  /// x^b as the layout's kernel computes it (`CKernels/UMAPLayout.c`): relative error within
  /// 4·10⁻⁷ for b in [0.3, 1.93] wherever x^b is a normal float.
  static func layoutPower(_ x: Float, _ b: Float) -> Float { sigbook_umap_power(x, b) }

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

  /// The curve parameters and factors of the layout SGD's moves, and the current step.
  private struct Layout {
    let a: Float
    let b: Float
    let attractionFactor: Float
    let repulsionFactor: Float
    var alpha: Float = 1

    init(a: Float, b: Float, gamma: Float) {
      self.a = a
      self.b = b
      attractionFactor = -2 * a * b
      repulsionFactor = 2 * gamma * b
    }
  }
}
