import Foundation
import SigbookTensor

/// A rule that moves each parameter against its gradient.
///
/// - `sgd`: p ← p − lr·g.
/// - `momentum`: v ← μ·v + g; p ← p − lr·v, with μ = 0.9 (PyTorch's form of heavy-ball momentum).
/// - `adam`: m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; p ← p − lr·m̂ / (√v̂ + ε), with bias
///   corrections m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ), β₁ = 0.9, β₂ = 0.999, ε = 1e-8
///   (Kingma and Ba, 2015).
public enum Optimizer: String, Sendable, CaseIterable {
  case sgd, momentum, adam

  static let momentumCoefficient: Float = 0.9
  static let beta1: Float = 0.9
  static let beta2: Float = 0.999
  static let epsilon: Float = 1e-8
}

/// The moments an optimizer keeps for one parameter.
struct ParameterState: Sendable {
  var first: [Float]
  var second: [Float]

  init(count: Int, optimizer: Optimizer) {
    first = optimizer == .sgd ? [] : [Float](repeating: 0, count: count)
    second = optimizer == .adam ? [Float](repeating: 0, count: count) : []
  }

  /// Calls `body` with both moments' buffers (empty where the optimizer keeps none).
  mutating func withMoments<R>(
    _ body: (UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> R
  ) -> R {
    first.withUnsafeMutableBufferPointer { m in
      second.withUnsafeMutableBufferPointer { v in body(m, v) }
    }
  }
}

extension Optimizer {
  /// Updates `parameter` in place from `gradient` and this parameter's `state`.
  ///
  /// - Parameter step: the 1-based number of this update (Adam's bias correction).
  func update(
    _ parameter: inout Tensor, gradient: Tensor, state: inout ParameterState,
    learningRate lr: Float, step: Int
  ) {
    precondition(
      parameter.count == gradient.count, "gradient of \(gradient.shape) for \(parameter.shape)")
    gradient.withUnsafeBufferPointer { g in
      parameter.withUnsafeMutableBufferPointer { p in
        state.withMoments { m, v in
          update(p, gradient: g, first: m, second: v, learningRate: lr, step: step)
        }
      }
    }
  }

  /// The step on raw buffers of one parameter (or one range of it): `first` and `second` are
  /// the state's moments over the same range (empty where the rule keeps none). Every value is
  /// updated on its own, so a parameter may be updated range by range.
  func update(
    _ p: UnsafeMutableBufferPointer<Float>, gradient g: UnsafeBufferPointer<Float>,
    first m: UnsafeMutableBufferPointer<Float>, second v: UnsafeMutableBufferPointer<Float>,
    learningRate lr: Float, step: Int
  ) {
    switch self {
    case .sgd:
      Kernels.sgd(p, g, learningRate: lr)
    case .momentum:
      let mu = Optimizer.momentumCoefficient
      for i in p.indices {
        m[i] = mu * m[i] + g[i]
        p[i] -= lr * m[i]
      }
    case .adam:
      let b1 = Optimizer.beta1, b2 = Optimizer.beta2, eps = Optimizer.epsilon
      let c1 = 1 - Float(Foundation.pow(Double(b1), Double(step)))
      let c2 = 1 - Float(Foundation.pow(Double(b2), Double(step)))
      let stepSize = lr / c1
      let c2Root = c2.squareRoot()
      Kernels.adam(
        p, g, m, v, beta1: b1, beta2: b2, stepSize: stepSize, c2Root: c2Root, epsilon: eps)
    }
  }
}
