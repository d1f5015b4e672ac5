import Foundation

extension UMAP {
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
  /// Each sample depends on the previous one through the moving point, so one stream of
  /// samples waits on `pow` and a division at every step. The edge list is therefore cut into
  /// four contiguous parts walked in lockstep — one sample of each part in turn, every update
  /// read from and written to memory at once — which is still one sequential SGD in a fixed
  /// order (single-threaded, seeded, bit-reproducible), but gives the processor independent
  /// work to overlap.
  static func optimizeLayout(
    _ positions: inout [Float], graph: SparseGraph, epochs: Int, a: Float, b: Float,
    options: UMAPOptions, generator: inout SeededGenerator, progress: ((Double) -> Void)?,
    isCancelled: () -> Bool
  ) throws(ProjectionError) {
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

    for epoch in 0..<epochs {
      if isCancelled() { throw .cancelled }
      layout.alpha = Float(options.learningRate * (1 - Double(epoch) / Double(epochs)))
      positions.withUnsafeMutableBufferPointer { y in
        heads.withUnsafeBufferPointer { heads in
          tails.withUnsafeBufferPointer { tails in
            epochsPerSample.withUnsafeBufferPointer { perSample in
              epochsPerNegativeSample.withUnsafeBufferPointer { perNegative in
                nextSample.withUnsafeMutableBufferPointer { next in
                  nextNegativeSample.withUnsafeMutableBufferPointer { nextNegative in
                    let edges = Edges(
                      heads: heads, tails: tails, perSample: perSample,
                      perNegativeSample: perNegative, nextSample: next,
                      nextNegativeSample: nextNegative)
                    layout.epoch(
                      Double(epoch), edges: edges, y: y, vertices: n, generator: &generator)
                  }
                }
              }
            }
          }
        }
      }
      progress?(Double(epoch + 1) / Double(epochs))
    }
  }

  /// The edge lists and their sampling schedules, borrowed for one epoch.
  private struct Edges {
    let heads: UnsafeBufferPointer<Int>
    let tails: UnsafeBufferPointer<Int>
    let perSample: UnsafeBufferPointer<Double>
    let perNegativeSample: UnsafeBufferPointer<Double>
    let nextSample: UnsafeMutableBufferPointer<Double>
    let nextNegativeSample: UnsafeMutableBufferPointer<Double>
  }

  /// The moves of the layout SGD, with the curve parameters and the current step.
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

    @inline(__always) private func clip(_ v: Float) -> Float { min(4, max(-4, v)) }

    /// One epoch over the edges, four lanes in lockstep (see `optimizeLayout`).
    func epoch(
      _ now: Double, edges: Edges, y: UnsafeMutableBufferPointer<Float>, vertices n: Int,
      generator: inout SeededGenerator
    ) {
      let count = edges.heads.count
      let laneEnd = (count / 4, count / 2, 3 * count / 4, count)
      var cursor = (0, laneEnd.0, laneEnd.1, laneEnd.2)
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
        attract(i, edges.tails[e], y)
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
          if m < negatives.0 { repel(head.0, random.nextInt(below: n), y) }
          if m < negatives.1 { repel(head.1, random.nextInt(below: n), y) }
          if m < negatives.2 { repel(head.2, random.nextInt(below: n), y) }
          if m < negatives.3 { repel(head.3, random.nextInt(below: n), y) }
        }
      }
    }

    /// Pulls i and j together.
    @inline(__always)
    func attract(_ i: Int, _ j: Int, _ y: UnsafeMutableBufferPointer<Float>) {
      let dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1]
      let d2 = dx * dx + dy * dy
      guard d2 > 0 else { return }
      let powered = pow(d2, b - 1)
      let coefficient = attractionFactor * powered / (a * powered * d2 + 1)
      let gx = clip(coefficient * dx) * alpha, gy = clip(coefficient * dy) * alpha
      y[2 * i] += gx
      y[2 * i + 1] += gy
      y[2 * j] -= gx
      y[2 * j + 1] -= gy
    }

    /// Pushes i away from k (nothing when they coincide, k = i included).
    @inline(__always)
    func repel(_ i: Int, _ k: Int, _ y: UnsafeMutableBufferPointer<Float>) {
      let dx = y[2 * i] - y[2 * k], dy = y[2 * i + 1] - y[2 * k + 1]
      let d2 = dx * dx + dy * dy
      guard d2 > 0 else { return }
      let coefficient = repulsionFactor / ((0.001 + d2) * (a * pow(d2, b) + 1))
      y[2 * i] += clip(coefficient * dx) * alpha
      y[2 * i + 1] += clip(coefficient * dy) * alpha
    }
  }
}
