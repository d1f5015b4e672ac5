import SigbookTensor

/// Batch normalisation (Ioffe and Szegedy, 2015) over the channels of `[C, …]` items: each
/// channel is normalised by a mean and variance, then scaled and shifted by learned weight
/// and bias.
///
/// In training (`forward`), the statistics are those of the batch being trained on, over its
/// items and their positions; sigbook trains a batch in chunks of `Model.chunkRows` rows on
/// all cores, and each chunk is normalised by its own statistics ("ghost" batch
/// normalisation, Hoffer et al., 2017), so the result does not depend on the core count. Each
/// chunk's statistics are folded into running estimates as PyTorch does, running ← (1 − m) ·
/// running + m · batch, with the unbiased variance. For inference (`apply`), the running
/// estimates normalise: the layer is then a per-channel affine map.
struct BatchNorm: Layer {
  struct Cache: Sendable {
    /// x̂, the normalised input.
    var normalized: Tensor
    /// 1 / √(var + ε) per channel.
    var inverseDeviations: [Float]
    /// The chunk's mean and unbiased variance per channel.
    var statistics: [Tensor]
  }

  /// `[weight [C], bias [C]]`.
  var parameters: [Tensor]
  var parameterNames: [String] { ["weight", "bias"] }
  /// `[running mean [C], running variance [C]]`.
  var buffers: [Tensor]
  var bufferNames: [String] { ["running_mean", "running_var"] }
  let epsilon: Float
  /// The weight m of a new chunk's statistics in the running estimates.
  let momentum: Float

  /// Weight 1, bias 0, running mean 0 and variance 1 (PyTorch's initial state).
  init(channels: Int, epsilon: Float, momentum: Float) {
    self.epsilon = epsilon
    self.momentum = momentum
    parameters = [Tensor(repeating: 1, shape: [channels]), Tensor(zeros: [channels])]
    buffers = [Tensor(zeros: [channels]), Tensor(repeating: 1, shape: [channels])]
  }

  var channels: Int { parameters[0].count }

  var spec: LayerSpec { .batchNorm(channels: channels, epsilon: epsilon, momentum: momentum) }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(for: inputShape)
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: Cache) {
    let x = input
    let c = channels, batch = x.rows, inner = x.rowSize / c
    let count = batch * inner
    var means = [Float](repeating: 0, count: c)
    var variances = [Float](repeating: 0, count: c)
    var inverse = [Float](repeating: 0, count: c)
    var normalized = Tensor(unsetShape: x.shape)
    x.withUnsafeBufferPointer { xs in
      normalized.withUnsafeMutableBufferPointer { n in
        guard let xs = xs.baseAddress, let n = n.baseAddress else { return }
        for k in 0..<c {
          // Each map's sum in Float lanes, the maps' sums in Double: a channel's values over a
          // batch of maps are many.
          var mean = 0.0
          for b in 0..<batch {
            mean += Double(Kernels.sum(xs + (b * c + k) * inner, count: inner))
          }
          mean /= Double(count)
          var squares = 0.0
          for b in 0..<batch {
            squares += Double(
              Kernels.squaredDeviations(
                xs + (b * c + k) * inner, from: Float(mean), count: inner))
          }
          let variance = squares / Double(count)
          let s = 1 / (variance + Double(epsilon)).squareRoot()
          means[k] = Float(mean)
          variances[k] = Float(count > 1 ? squares / Double(count - 1) : variance)
          inverse[k] = Float(s)
          // x̂ = x · s − mean · s.
          for b in 0..<batch {
            let start = (b * c + k) * inner
            Kernels.combine(
              Float(s), xs + start, 0, xs + start, plus: Float(-mean * s), into: n + start,
              count: inner)
          }
        }
      }
    }
    let output = ChannelAffine(weight: parameters[0], bias: parameters[1]).apply(normalized)
    return (
      output,
      Cache(
        normalized: normalized, inverseDeviations: inverse,
        statistics: [Tensor(shape: [c], scalars: means), Tensor(shape: [c], scalars: variances)])
    )
  }

  /// The per-channel scale and shift the running estimates give:
  /// scale = weight / √(var + ε), shift = bias − mean · scale.
  var inferenceAffine: (scale: Tensor, shift: Tensor) {
    let w = parameters[0].scalars, b = parameters[1].scalars
    let mean = buffers[0].scalars, variance = buffers[1].scalars
    var scale = [Float](repeating: 0, count: channels)
    var shift = [Float](repeating: 0, count: channels)
    for k in 0..<channels {
      let s = Double(w[k]) / (Double(variance[k]) + Double(epsilon)).squareRoot()
      scale[k] = Float(s)
      shift[k] = Float(Double(b[k]) - Double(mean[k]) * s)
    }
    return (Tensor(shape: [channels], scalars: scale), Tensor(shape: [channels], scalars: shift))
  }

  func apply(_ input: consuming Tensor) -> Tensor {
    let (scale, shift) = inferenceAffine
    return ChannelAffine(weight: scale, bias: shift).apply(input)
  }

  func statistics(of cache: Cache) -> [Tensor]? { cache.statistics }

  mutating func absorb(statistics: [Tensor]) {
    let m = momentum
    for s in 0..<2 {
      statistics[s].withUnsafeBufferPointer { batch in
        buffers[s].withUnsafeMutableBufferPointer { running in
          for k in running.indices { running[k] = (1 - m) * running[k] + m * batch[k] }
        }
      }
    }
  }

  func backward(
    _ outputGradient: consuming Tensor, cache: Cache, gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    // Through the scale and shift: their gradients, and ĝ = ∂loss/∂x̂.
    var g = ChannelAffine(weight: parameters[0], bias: parameters[1]).backward(
      outputGradient, cache: cache.normalized, gradients: &gradients,
      needsInputGradient: needsInputGradient)
    guard needsInputGradient else { return g }
    // dx = s / M · (M · ĝ − Σ ĝ − x̂ · Σ ĝ x̂), the sums over the channel's M values.
    let c = channels, batch = g.rows, inner = g.rowSize / c
    let count = Float(batch * inner)
    var sums = [Float](repeating: 0, count: c)
    var dots = [Float](repeating: 0, count: c)
    cache.normalized.withUnsafeBufferPointer { n in
      g.withUnsafeMutableBufferPointer { g in
        guard let n = n.baseAddress, let g = g.baseAddress else { return }
        for b in 0..<batch {
          for k in 0..<c {
            let start = (b * c + k) * inner
            let (sum, dot) = Kernels.sumAndDot(g + start, n + start, count: inner)
            sums[k] += sum
            dots[k] += dot
          }
        }
        // g ← factor · count · g − factor · dot · x̂ − factor · sum.
        for b in 0..<batch {
          for k in 0..<c {
            let factor = cache.inverseDeviations[k] / count
            let start = (b * c + k) * inner
            Kernels.combine(
              factor * count, g + start, -factor * dots[k], n + start, plus: -factor * sums[k],
              into: g + start, count: inner)
          }
        }
      }
    }
    return g
  }
}
