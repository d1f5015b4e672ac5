import SigbookTensor

/// Scales and shifts each channel, y = x · weight[c] + bias[c], where c is an item's first axis
/// (the channel of `[C, H, W]` maps, the unit of `[C]` vectors).
///
/// Batch normalisation in inference is this layer, with weight = γ / √(var + ε) and
/// bias = β − mean · weight; an imported model's `BatchNormalization` that does not follow a
/// dense or convolutional layer (into which it is folded) becomes one.
struct ChannelAffine: Layer {
  typealias Cache = Tensor

  /// `[weight [C], bias [C]]`.
  var parameters: [Tensor]
  var parameterNames: [String] { ["weight", "bias"] }
  let channels: Int

  /// The identity on `channels` channels (weight 1, bias 0).
  init(channels: Int) {
    self.channels = channels
    parameters = [Tensor(repeating: 1, shape: [channels]), Tensor(zeros: [channels])]
  }

  /// A layer with the given weight and bias, both `[C]`.
  init(weight: Tensor, bias: Tensor) {
    precondition(weight.rank == 1 && bias.shape == weight.shape, "affine weight and bias")
    channels = weight.count
    parameters = [weight, bias]
  }

  var spec: LayerSpec { .affine(channels: channels) }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(for: inputShape)
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: Tensor) {
    let x = input
    let batch = x.rows, inner = x.rowSize / channels, c = channels
    let output = Tensor.overwriting(shape: x.shape) { out in
      x.withUnsafeBufferPointer { xs in
        parameters[0].withUnsafeBufferPointer { w in
          parameters[1].withUnsafeBufferPointer { b in
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
    return (output, x)
  }

  func backward(
    _ outputGradient: consuming Tensor, cache x: Tensor, gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    let batch = x.rows, inner = x.rowSize / channels, c = channels
    var weightGradient = [Float](repeating: 0, count: c)
    var biasGradient = [Float](repeating: 0, count: c)
    outputGradient.withUnsafeBufferPointer { g in
      x.withUnsafeBufferPointer { xs in
        for n in 0..<batch {
          for k in 0..<c {
            let start = (n * c + k) * inner
            var dw: Float = 0, db: Float = 0
            for i in start..<start + inner {
              dw += g[i] * xs[i]
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
    parameters[0].withUnsafeBufferPointer { w in
      outputGradient.withUnsafeMutableBufferPointer { g in
        for n in 0..<batch {
          for k in 0..<c {
            let start = (n * c + k) * inner
            for i in start..<start + inner { g[i] *= w[k] }
          }
        }
      }
    }
    return outputGradient
  }
}
