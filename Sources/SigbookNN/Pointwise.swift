import Foundation
import SigbookTensor

/// A function applied to every value on its own: the activations of modern networks (GELU,
/// leaky ReLU, ReLU6, hard-swish) and the elementary functions exporters decompose them into
/// (`Erf`, `Sqrt`, `Pow` by a constant).
public enum PointwiseFunction: Codable, Equatable, Sendable {
  /// x Φ(x), Φ the standard normal distribution function: the exact GELU (Hendrycks and
  /// Gimpel, 2016), with Φ(x) = ½ (1 + erf(x / √2)).
  case gelu
  /// x for x ≥ 0, slope · x below.
  case leakyRelu(slope: Float)
  /// x held in [min, max]: ReLU6 is clip(0, 6).
  case clip(min: Float, max: Float)
  /// x · clip(x / 6 + ½, 0, 1) (Howard et al., 2019; ONNX's `HardSwish`).
  case hardSwish
  /// clip(alpha · x + beta, 0, 1) (ONNX's `HardSigmoid`).
  case hardSigmoid(alpha: Float, beta: Float)
  /// The error function, 2/√π ∫₀ˣ e^(−t²) dt.
  case erf
  case sqrt
  case exp
  /// The natural logarithm.
  case log
  /// −x.
  case negate
  /// 1 / x.
  case reciprocal
  case abs
  /// x raised to a fixed exponent.
  case power(Float)
  /// x times a fixed factor (attention's 1/√d), not trained.
  case scale(Float)

  /// Whether the function is a network's activation (where a signature can be taken), not an
  /// arithmetic step.
  var isActivation: Bool {
    switch self {
    case .gelu, .leakyRelu, .clip, .hardSwish: true
    default: false
    }
  }

  /// The text people write for it (`gelu()`, `leaky_relu(0.01)`, `relu6()`).
  var displayName: String {
    switch self {
    case .gelu: "gelu()"
    case .leakyRelu(let slope): "leaky_relu(\(slope))"
    case .clip(let low, let high): low == 0 && high == 6 ? "relu6()" : "clip(\(low), \(high))"
    case .hardSwish: "hard_swish()"
    case .hardSigmoid(let alpha, let beta): "hard_sigmoid(\(alpha), \(beta))"
    case .erf: "erf()"
    case .sqrt: "sqrt()"
    case .exp: "exp()"
    case .log: "log()"
    case .negate: "neg()"
    case .reciprocal: "reciprocal()"
    case .abs: "abs()"
    case .power(let p): "pow(\(p))"
    case .scale(let c): "scale(\(c))"
    }
  }

  /// f(x).
  @inline(__always)
  public func value(_ x: Float) -> Float {
    switch self {
    case .gelu: Float(0.5 * Double(x) * (1 + Foundation.erf(Double(x) * 0.5.squareRoot())))
    case .leakyRelu(let slope): x >= 0 ? x : slope * x
    case .clip(let low, let high): Swift.min(Swift.max(x, low), high)
    case .hardSwish: x * Swift.min(Swift.max(x / 6 + 0.5, 0), 1)
    case .hardSigmoid(let alpha, let beta): Swift.min(Swift.max(alpha * x + beta, 0), 1)
    case .erf: Float(Foundation.erf(Double(x)))
    case .sqrt: x.squareRoot()
    case .exp: Foundation.exp(x)
    case .log: Foundation.log(x)
    case .negate: -x
    case .reciprocal: 1 / x
    case .abs: Swift.abs(x)
    case .power(let p): Foundation.pow(x, p)
    case .scale(let c): x * c
    }
  }

  /// f′(x); at a kink, the derivative on the right (as PyTorch does).
  @inline(__always)
  func derivative(_ x: Float) -> Float {
    switch self {
    case .gelu:
      let v = Double(x)
      let cdf = 0.5 * (1 + Foundation.erf(v * 0.5.squareRoot()))
      let pdf = Foundation.exp(-0.5 * v * v) / (2 * Double.pi).squareRoot()
      return Float(cdf + v * pdf)
    case .leakyRelu(let slope): return x >= 0 ? 1 : slope
    case .clip(let low, let high): return x >= low && x <= high ? 1 : 0
    case .hardSwish: return x < -3 ? 0 : x > 3 ? 1 : x / 3 + 0.5
    case .hardSigmoid(let alpha, let beta):
      let t = alpha * x + beta
      return t > 0 && t < 1 ? alpha : 0
    case .erf: return Float(2 / Double.pi.squareRoot() * Foundation.exp(-Double(x) * Double(x)))
    case .sqrt: return 0.5 / x.squareRoot()
    case .exp: return Foundation.exp(x)
    case .log: return 1 / x
    case .negate: return -1
    case .reciprocal: return -1 / (x * x)
    case .abs: return x >= 0 ? 1 : -1
    case .power(let p): return p == 0 ? 0 : p * Foundation.pow(x, p - 1)
    case .scale(let c): return c
    }
  }
}

/// Applies a `PointwiseFunction` to every value; the cache is the input, from which each
/// derivative follows.
struct Pointwise: Layer {
  typealias Cache = Tensor

  let function: PointwiseFunction

  init(_ function: PointwiseFunction) { self.function = function }

  var spec: LayerSpec { .pointwise(function) }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> { .success(inputShape) }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: Tensor) {
    let x = input
    let f = function
    let output = Tensor.overwriting(shape: x.shape) { out in
      x.withUnsafeBufferPointer { xs in
        for i in xs.indices { out[i] = f.value(xs[i]) }
      }
    }
    return (output, x)
  }

  func apply(_ input: consuming Tensor) -> Tensor {
    let f = function
    input.withUnsafeMutableBufferPointer { v in
      for i in v.indices { v[i] = f.value(v[i]) }
    }
    return input
  }

  func backward(
    _ outputGradient: consuming Tensor, cache x: Tensor, gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    guard needsInputGradient else { return Tensor(zeros: [0]) }
    let f = function
    x.withUnsafeBufferPointer { xs in
      outputGradient.withUnsafeMutableBufferPointer { g in
        for i in g.indices { g[i] *= f.derivative(xs[i]) }
      }
    }
    return outputGradient
  }
}
