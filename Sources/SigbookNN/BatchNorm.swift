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
        for k in 0..<c {
          // In Double: a channel's values over a batch of maps are many.
          var mean = 0.0
          for b in 0..<batch {
            let start = (b * c + k) * inner
            for i in start..<start + inner { mean += Double(xs[i]) }
          }
          mean /= Double(count)
          var squares = 0.0
          for b in 0..<batch {
            let start = (b * c + k) * inner
            for i in start..<start + inner {
              let d = Double(xs[i]) - mean
              squares += d * d
            }
          }
          let variance = squares / Double(count)
          let s = 1 / (variance + Double(epsilon)).squareRoot()
          means[k] = Float(mean)
          variances[k] = Float(count > 1 ? squares / Double(count - 1) : variance)
          inverse[k] = Float(s)
          for b in 0..<batch {
            let start = (b * c + k) * inner
            for i in start..<start + inner { n[i] = Float((Double(xs[i]) - mean) * s) }
          }
        }
      }
    }
    let output = Self.affine(normalized, weight: parameters[0], bias: parameters[1])
    return (
      output,
      Cache(
        normalized: normalized, inverseDeviations: inverse,
        statistics: [Tensor(shape: [c], scalars: means), Tensor(shape: [c], scalars: variances)])
    )
  }

  /// y = x · weight[c] + bias[c] for every value of channel c.
  private static func affine(_ x: Tensor, weight: Tensor, bias: Tensor) -> Tensor {
    let c = weight.count, batch = x.rows, inner = x.rowSize / c
    return Tensor.overwriting(shape: x.shape) { out in
      x.withUnsafeBufferPointer { xs in
        weight.withUnsafeBufferPointer { w in
          bias.withUnsafeBufferPointer { b in
            for n in 0..<batch {
              for k in 0..<c {
                let start = (n * c + k) * inner
                for i in start..<start + inner { out[i] = xs[i] * w[k] + b[k] }
              }
            }
          }
        }
      }
    }
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
    return Self.affine(input, weight: scale, bias: shift)
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
    let c = channels, batch = outputGradient.rows, inner = outputGradient.rowSize / c
    let count = Float(batch * inner)
    var weightGradient = [Float](repeating: 0, count: c)
    var biasGradient = [Float](repeating: 0, count: c)
    outputGradient.withUnsafeBufferPointer { g in
      cache.normalized.withUnsafeBufferPointer { n in
        for b in 0..<batch {
          for k in 0..<c {
            let start = (b * c + k) * inner
            var dw: Float = 0, db: Float = 0
            for i in start..<start + inner {
              dw += g[i] * n[i]
              db += g[i]
            }
            weightGradient[k] += dw
            biasGradient[k] += db
          }
        }
      }
    }
    gradients.append(Tensor(shape: [c], scalars: weightGradient))
    gradients.append(Tensor(shape: [c], scalars: biasGradient))
    guard needsInputGradient else { return Tensor(zeros: [0]) }
    // dx = weight · s / M · (M · g − Σ g − x̂ · Σ g x̂), the sums over the channel's M values:
    // Σ g is the bias gradient, Σ g x̂ the weight gradient.
    parameters[0].withUnsafeBufferPointer { w in
      cache.normalized.withUnsafeBufferPointer { n in
        outputGradient.withUnsafeMutableBufferPointer { g in
          for b in 0..<batch {
            for k in 0..<c {
              let factor = w[k] * cache.inverseDeviations[k] / count
              let start = (b * c + k) * inner
              for i in start..<start + inner {
                g[i] = factor * (count * g[i] - biasGradient[k] - n[i] * weightGradient[k])
              }
            }
          }
        }
      }
    }
    return outputGradient
  }
}
