import Foundation
import SigbookTensor

/// An elementwise activation: ReLU, tanh or the logistic sigmoid.
///
/// The cache is the output, from which each derivative follows: ReLU′ = [y > 0],
/// tanh′ = 1 − y², σ′ = y (1 − y).
public struct Activation: Layer {
  public typealias Cache = Tensor

  /// The function applied to every value.
  public enum Function: String, Sendable, CaseIterable {
    case relu, tanh, sigmoid
  }

  public let function: Function

  public init(_ function: Function) { self.function = function }

  public var spec: LayerSpec {
    switch function {
    case .relu: .relu
    case .tanh: .tanh
    case .sigmoid: .sigmoid
    }
  }

  public func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    .success(inputShape)
  }

  public func forward(_ input: consuming Tensor) -> (output: Tensor, cache: Tensor) {
    // The input is consumed: when the caller gives up its last reference, no copy is made.
    input.withUnsafeMutableBufferPointer { applyInPlace($0) }
    return (input, input)
  }

  /// The function applied to every value of `v`, in place.
  func applyInPlace(_ v: UnsafeMutableBufferPointer<Float>) {
    switch function {
    case .relu:
      Kernels.relu(v)
    case .tanh:
      Kernels.tanh(v)
    case .sigmoid:
      for i in v.indices { v[i] = logistic(v[i]) }
    }
  }

  public func backward(
    _ outputGradient: consuming Tensor, cache y: Tensor, gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    guard needsInputGradient else { return Tensor(zeros: [0]) }
    y.withUnsafeBufferPointer { y in
      outputGradient.withUnsafeMutableBufferPointer { g in
        switch function {
        case .relu:
          Kernels.reluMask(g, y)
        case .tanh:
          Kernels.tanhMask(g, y)
        case .sigmoid:
          for i in g.indices { g[i] *= y[i] * (1 - y[i]) }
        }
      }
    }
    return outputGradient
  }
}

/// The logistic sigmoid 1 / (1 + e^−x), computed without overflow for large |x|.
@inline(__always)
func logistic(_ x: Float) -> Float {
  if x >= 0 {
    return 1 / (1 + Foundation.exp(-x))
  }
  let e = Foundation.exp(x)
  return e / (1 + e)
}

/// The softmax of each row: yᵢ = e^(xᵢ − max x) / Σⱼ e^(xⱼ − max x).
///
/// As the last layer of a classifier trained with cross-entropy, training fuses it with the loss
/// (`Loss`) and this layer's `backward` is not used; it is still exact for other uses:
/// ∂L/∂x = y ⊙ (∂L/∂y − ⟨∂L/∂y, y⟩).
struct Softmax: Layer {
  typealias Cache = Tensor

  init() {}

  var spec: LayerSpec { .softmax }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    inputShape.count == 1
      ? .success(inputShape)
      : .failure(ShapeMismatch("softmax expects a vector per input, not \(inputShape)"))
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: Tensor) {
    let n = input.rows, d = input.rowSize
    input.withUnsafeMutableBufferPointer { v in
      for r in 0..<n {
        softmaxInPlace(UnsafeMutableBufferPointer(rebasing: v[r * d..<(r + 1) * d]))
      }
    }
    return (input, input)
  }

  func backward(
    _ outputGradient: consuming Tensor, cache y: Tensor, gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    guard needsInputGradient else { return Tensor(zeros: [0]) }
    let n = y.rows, d = y.rowSize
    y.withUnsafeBufferPointer { y in
      outputGradient.withUnsafeMutableBufferPointer { g in
        for r in 0..<n {
          var dot: Float = 0
          for j in r * d..<(r + 1) * d { dot += g[j] * y[j] }
          for j in r * d..<(r + 1) * d { g[j] = y[j] * (g[j] - dot) }
        }
      }
    }
    return outputGradient
  }
}

/// Replaces a row of logits by its softmax, subtracting the maximum first for stability.
func softmaxInPlace(_ row: UnsafeMutableBufferPointer<Float>) {
  guard var m = row.first else { return }
  for v in row where v > m { m = v }
  var total: Float = 0
  for j in row.indices {
    let e = Foundation.exp(row[j] - m)
    row[j] = e
    total += e
  }
  let scale = 1 / total
  for j in row.indices { row[j] *= scale }
}
