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
  /// `lanes` contiguous parts walked in lockstep — one sample of each part in turn, every update
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
    let lanes = 4
    let laneStart = (0...lanes).map { edgeCount * $0 / lanes }

    for epoch in 0..<epochs {
      if isCancelled() { throw .cancelled }
      layout.alpha = Float(options.learningRate * (1 - Double(epoch) / Double(epochs)))
      let now = Double(epoch)
      positions.withUnsafeMutableBufferPointer { y in
        var cursor = Array(laneStart.dropLast())
        var edge = [Int](repeating: -1, count: lanes)
        var negatives = [Int](repeating: 0, count: lanes)
        while true {
          // The next edge due in each lane, and its positive sample.
          var active = 0
          var most = 0
          for l in 0..<lanes {
            var e = cursor[l]
            while e < laneStart[l + 1] && nextSample[e] > now { e += 1 }
            cursor[l] = e + 1
            guard e < laneStart[l + 1] else {
              edge[l] = -1
              negatives[l] = 0
              continue
            }
            edge[l] = e
            active += 1
            layout.attract(heads[e], tails[e], y)
            nextSample[e] += epochsPerSample[e]
            negatives[l] = max(0, Int((now - nextNegativeSample[e]) / epochsPerNegativeSample[e]))
            most = max(most, negatives[l])
          }
          if active == 0 { break }
          for m in 0..<most {
            for l in 0..<lanes where m < negatives[l] {
              layout.repel(heads[edge[l]], generator.nextInt(below: n), y)
            }
          }
          for l in 0..<lanes where edge[l] >= 0 {
            nextNegativeSample[edge[l]] += Double(negatives[l]) * epochsPerNegativeSample[edge[l]]
          }
        }
      }
      progress?(Double(epoch + 1) / Double(epochs))
    }
  }

  /// The two moves of the layout SGD, with the curve parameters and the current step.
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
