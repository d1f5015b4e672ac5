import Foundation
import SigbookTensor

/// Local response normalisation across channels (Krizhevsky et al., 2012), as ONNX's `LRN`
/// defines it: for items `[C, …]`,
///
///     y_c = x_c / (bias + alpha / size · Σ x_i²)^beta,
///
/// the sum over channels i from c − ⌊(size − 1)/2⌋ to c + ⌈(size − 1)/2⌉ that exist, at the same
/// position. AlexNet's and GoogLeNet's `LRN(size: 5)`. (PyTorch's `LocalResponseNorm` centres an
/// even window the other way; ONNX Runtime runs odd sizes only.)
struct LocalResponseNorm: Layer {
  /// The input and each value's base, bias + alpha / size · Σ x_i².
  typealias Cache = (input: Tensor, bases: Tensor)

  let size: Int
  let alpha: Float
  let beta: Float
  let bias: Float

  var spec: LayerSpec { .localResponseNorm(size: size, alpha: alpha, beta: beta, bias: bias) }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(for: inputShape)
  }

  /// Batch items, channels, and values per channel, for a batch of `shape`.
  private func extents(_ shape: [Int]) -> (items: Int, channels: Int, inner: Int) {
    (shape[0], shape[1], shape.dropFirst(2).reduce(1, *))
  }

  /// The channels whose values channel `c`'s sum takes, of `channels`.
  private func window(_ c: Int, channels: Int) -> ClosedRange<Int> {
    max(0, c - (size - 1) / 2)...min(channels - 1, c + size / 2)
  }

  /// bias + alpha / size · Σ x_i² for every value.
  private func bases(_ x: Tensor) -> Tensor {
    let (items, channels, inner) = extents(x.shape)
    let scale = alpha / Float(size), bias = bias
    return Tensor(shape: x.shape) { d in
      x.withUnsafeBufferPointer { x in
        for b in 0..<items {
          let item = b * channels * inner
          for c in 0..<channels {
            let target = item + c * inner
            for i in window(c, channels: channels) {
              let source = item + i * inner
              for p in 0..<inner { d[target + p] += x[source + p] * x[source + p] }
            }
            for p in 0..<inner { d[target + p] = bias + scale * d[target + p] }
          }
        }
      }
    }
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: Cache) {
    let x = input
    let d = bases(x)
    let exponent = -beta
    let output = Tensor.overwriting(shape: x.shape) { out in
      x.withUnsafeBufferPointer { x in
        d.withUnsafeBufferPointer { d in
          for i in out.indices { out[i] = x[i] * Foundation.pow(d[i], exponent) }
        }
      }
    }
    return (output, (x, d))
  }

  /// dx_j = g_j · d_j^(−β) − 2αβ/size · x_j · Σ_c g_c · x_c · d_c^(−β−1), the sum over the
  /// channels c whose window holds j.
  func backward(
    _ outputGradient: consuming Tensor, cache: Cache, gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    guard needsInputGradient else { return Tensor(zeros: [0]) }
    let (items, channels, inner) = extents(cache.input.shape)
    let exponent = -beta, factor = 2 * alpha * beta / Float(size)
    // t_c = g_c · x_c · d_c^(−β−1); the gradient first holds g_j · d_j^(−β).
    var t = Tensor(unsetShape: cache.input.shape)
    cache.input.withUnsafeBufferPointer { x in
      cache.bases.withUnsafeBufferPointer { d in
        t.withUnsafeMutableBufferPointer { t in
          outputGradient.withUnsafeMutableBufferPointer { g in
            for i in g.indices {
              let scale = Foundation.pow(d[i], exponent)
              t[i] = g[i] * x[i] * scale / d[i]
              g[i] *= scale
            }
          }
        }
      }
    }
    // Channel j is in the window of channels j − ⌈(size − 1)/2⌉ … j + ⌊(size − 1)/2⌋.
    let below = size / 2, above = (size - 1) / 2
    cache.input.withUnsafeBufferPointer { x in
      t.withUnsafeBufferPointer { t in
        outputGradient.withUnsafeMutableBufferPointer { g in
          var total = [Float](repeating: 0, count: inner)
          for b in 0..<items {
            let item = b * channels * inner
            for j in 0..<channels {
              for p in 0..<inner { total[p] = 0 }
              for c in max(0, j - below)...min(channels - 1, j + above) {
                let source = item + c * inner
                for p in 0..<inner { total[p] += t[source + p] }
              }
              let target = item + j * inner
              for p in 0..<inner { g[target + p] -= factor * x[target + p] * total[p] }
            }
          }
        }
      }
    }
    return outputGradient
  }
}
