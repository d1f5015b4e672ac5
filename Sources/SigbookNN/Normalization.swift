import Foundation
import SigbookTensor

/// Layer normalisation (Ba et al., 2016) over an item's last axes: each group of
/// `normalizedShape` values becomes x̂ = (x − mean) / √(var + ε) (biased variance), then
/// y = x̂ · weight + bias, weight and bias of `normalizedShape`. A transformer's token is a
/// group; ONNX's `LayerNormalization`, PyTorch's `nn.LayerNorm`.
struct LayerNorm: Layer {
  /// x̂ and 1 / √(var + ε) of each group.
  typealias Cache = (normalized: Tensor, inverseDeviations: [Float])

  /// `[weight, bias]`, both of `normalizedShape`.
  var parameters: [Tensor]
  var parameterNames: [String] { ["weight", "bias"] }
  let epsilon: Float

  /// Weight 1 and bias 0.
  init(shape: [Int], epsilon: Float) {
    self.epsilon = epsilon
    parameters = [Tensor(repeating: 1, shape: shape), Tensor(zeros: shape)]
  }

  var normalizedShape: [Int] { parameters[0].shape }

  var spec: LayerSpec { .layerNorm(shape: normalizedShape, epsilon: epsilon) }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(for: inputShape)
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: Cache) {
    let x = input
    let d = parameters[0].count
    let groups = x.count / d
    var inverse = [Float](repeating: 0, count: groups)
    var normalized = Tensor(unsetShape: x.shape)
    x.withUnsafeBufferPointer { xs in
      normalized.withUnsafeMutableBufferPointer { n in
        for group in 0..<groups {
          let start = group * d
          // Mean and variance in Double: a token's values can be large and close together.
          var mean = 0.0
          for i in start..<start + d { mean += Double(xs[i]) }
          mean /= Double(d)
          var variance = 0.0
          for i in start..<start + d {
            let c = Double(xs[i]) - mean
            variance += c * c
          }
          variance /= Double(d)
          let s = 1 / (variance + Double(epsilon)).squareRoot()
          inverse[group] = Float(s)
          for i in start..<start + d { n[i] = Float((Double(xs[i]) - mean) * s) }
        }
      }
    }
    let output = Tensor.overwriting(shape: x.shape) { out in
      normalized.withUnsafeBufferPointer { n in
        parameters[0].withUnsafeBufferPointer { w in
          parameters[1].withUnsafeBufferPointer { b in
            for group in 0..<groups {
              let start = group * d
              for j in 0..<d { out[start + j] = n[start + j] * w[j] + b[j] }
            }
          }
        }
      }
    }
    return (output, (normalized, inverse))
  }

  func backward(
    _ outputGradient: consuming Tensor, cache: Cache, gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    let d = parameters[0].count
    let groups = outputGradient.count / d
    var weightGradient = [Float](repeating: 0, count: d)
    var biasGradient = [Float](repeating: 0, count: d)
    outputGradient.withUnsafeBufferPointer { g in
      cache.normalized.withUnsafeBufferPointer { n in
        for group in 0..<groups {
          let start = group * d
          for j in 0..<d {
            weightGradient[j] += g[start + j] * n[start + j]
            biasGradient[j] += g[start + j]
          }
        }
      }
    }
    gradients.append(Tensor(shape: normalizedShape, scalars: weightGradient))
    gradients.append(Tensor(shape: normalizedShape, scalars: biasGradient))
    guard needsInputGradient else { return Tensor(zeros: [0]) }
    // dx = s / D · (D · ĝ − Σ ĝ − x̂ · Σ ĝ x̂), ĝ = g ⊙ weight.
    parameters[0].withUnsafeBufferPointer { w in
      cache.normalized.withUnsafeBufferPointer { n in
        outputGradient.withUnsafeMutableBufferPointer { g in
          for group in 0..<groups {
            let start = group * d
            var sum: Float = 0, dot: Float = 0
            for j in 0..<d {
              let gh = g[start + j] * w[j]
              sum += gh
              dot += gh * n[start + j]
            }
            let s = cache.inverseDeviations[group] / Float(d)
            for j in 0..<d {
              let gh = g[start + j] * w[j]
              g[start + j] = s * (Float(d) * gh - sum - n[start + j] * dot)
            }
          }
        }
      }
    }
    return outputGradient
  }
}

/// The softmax along one item axis (`axis` 0 is the first after the batch): attention weights
/// over keys, `softmax(dim=-1)` of `[heads, queries, keys]`; ONNX's `Softmax` with an axis.
struct AxisSoftmax: Layer {
  typealias Cache = Tensor

  let axis: Int

  var spec: LayerSpec { .softmaxAlong(axis: axis) }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(for: inputShape)
  }

  /// The number of values before the axis, along it, and after it, for a batch of `shape`.
  private func extents(_ shape: [Int]) -> (outer: Int, length: Int, inner: Int) {
    let item = shape.dropFirst()
    let a = item.startIndex + axis
    return (
      shape[0] * item[item.startIndex..<a].reduce(1, *), item[a], item[(a + 1)...].reduce(1, *)
    )
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: Tensor) {
    let output = apply(input)
    return (output, output)
  }

  func apply(_ input: consuming Tensor) -> Tensor {
    let (outer, length, inner) = extents(input.shape)
    input.withUnsafeMutableBufferPointer { v in
      for o in 0..<outer {
        for i in 0..<inner {
          let base = o * length * inner + i
          var m = -Float.infinity
          for j in 0..<length { m = max(m, v[base + j * inner]) }
          var total: Float = 0
          for j in 0..<length {
            let e = Foundation.exp(v[base + j * inner] - m)
            v[base + j * inner] = e
            total += e
          }
          let scale = 1 / total
          for j in 0..<length { v[base + j * inner] *= scale }
        }
      }
    }
    return input
  }

  func backward(
    _ outputGradient: consuming Tensor, cache y: Tensor, gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    guard needsInputGradient else { return Tensor(zeros: [0]) }
    let (outer, length, inner) = extents(y.shape)
    y.withUnsafeBufferPointer { y in
      outputGradient.withUnsafeMutableBufferPointer { g in
        for o in 0..<outer {
          for i in 0..<inner {
            let base = o * length * inner + i
            var dot: Float = 0
            for j in 0..<length { dot += g[base + j * inner] * y[base + j * inner] }
            for j in 0..<length {
              let k = base + j * inner
              g[k] = y[k] * (g[k] - dot)
            }
          }
        }
      }
    }
    return outputGradient
  }
}

/// The mean over some item axes, kept as axes of size 1 or dropped (`keepsAxes`): ONNX's
/// `ReduceMean`; with `axes` nil, every axis after the first (the channels), kept: a global
/// average pool, `[C, H, W]` → `[C, 1, 1]`.
struct ReduceMean: Layer {
  /// The input's shape.
  typealias Cache = [Int]

  /// Item axes (0 is the first after the batch), or nil for all but the first.
  let axes: [Int]?
  let keepsAxes: Bool

  var spec: LayerSpec {
    if let axes { .reduceMean(axes: axes, keepsAxes: keepsAxes) } else { .globalAveragePool }
  }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(for: inputShape)
  }

  /// The item axes reduced for items of `itemRank` axes.
  private func reduced(itemRank: Int) -> Set<Int> { Set(axes ?? Array(1..<itemRank)) }

  /// The batch's shape with the reduced axes at size 1.
  private func keptShape(_ shape: [Int]) -> [Int] {
    let reduced = reduced(itemRank: shape.count - 1)
    return shape.enumerated().map {
      $0.offset > 0 && reduced.contains($0.offset - 1) ? 1 : $0.element
    }
  }

  /// The shape of the output for a batch of `shape`.
  private func outputBatchShape(_ shape: [Int]) -> [Int] {
    guard !keepsAxes else { return keptShape(shape) }
    let reduced = reduced(itemRank: shape.count - 1)
    return [shape[0]]
      + shape.dropFirst().enumerated().filter { !reduced.contains($0.offset) }.map(\.element)
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: [Int]) {
    let shape = input.shape
    return (apply(input), shape)
  }

  func apply(_ input: consuming Tensor) -> Tensor {
    let kept = keptShape(input.shape)
    let plan = Broadcasting([input.shape, kept])
    let run = plan.run
    var total = [Double](repeating: 0, count: kept.reduce(1, *))
    input.withUnsafeBufferPointer { x in
      plan.forEachRun { o, starts, steps in
        var ib = starts[1]
        for j in 0..<run {
          total[ib] += Double(x[o + j])
          ib += steps[1]
        }
      }
    }
    let scale = Double(kept.reduce(1, *)) / Double(max(input.count, 1))
    return Tensor(shape: outputBatchShape(input.shape), scalars: total.map { Float($0 * scale) })
  }

  func backward(
    _ outputGradient: consuming Tensor, cache shape: [Int], gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    guard needsInputGradient else { return Tensor(zeros: [0]) }
    let kept = keptShape(shape)
    let plan = Broadcasting([shape, kept])
    let run = plan.run
    let scale = Float(kept.reduce(1, *)) / Float(max(shape.reduce(1, *), 1))
    return Tensor.overwriting(shape: shape) { out in
      outputGradient.withUnsafeBufferPointer { g in
        plan.forEachRun { o, starts, steps in
          var ib = starts[1]
          for j in 0..<run {
            out[o + j] = g[ib] * scale
            ib += steps[1]
          }
        }
      }
    }
  }
}

/// The values `start..<end` along one item axis: one output of a split (ONNX's `Split` becomes
/// one slice per output; `Slice` with step 1).
struct Slice: Layer {
  /// The input's shape.
  typealias Cache = [Int]

  let axis: Int
  let start: Int
  let end: Int

  var spec: LayerSpec { .slice(axis: axis, start: start, end: end) }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(for: inputShape)
  }

  /// Blocks before the axis, the axis length and the values after it, for a batch of `shape`.
  private func extents(_ shape: [Int]) -> (outer: Int, length: Int, inner: Int) {
    let a = axis + 1
    return (shape[..<a].reduce(1, *), shape[a], shape[(a + 1)...].reduce(1, *))
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: [Int]) {
    let shape = input.shape
    let (outer, length, inner) = extents(shape)
    var outShape = shape
    outShape[axis + 1] = end - start
    let width = (end - start) * inner
    let output = Tensor.overwriting(shape: outShape) { out in
      input.withUnsafeBufferPointer { x in
        for o in 0..<outer {
          let source = o * length * inner + start * inner
          for j in 0..<width { out[o * width + j] = x[source + j] }
        }
      }
    }
    return (output, shape)
  }

  func backward(
    _ outputGradient: consuming Tensor, cache shape: [Int], gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    guard needsInputGradient else { return Tensor(zeros: [0]) }
    let (outer, length, inner) = extents(shape)
    let width = (end - start) * inner
    var gradient = Tensor(zeros: shape)
    outputGradient.withUnsafeBufferPointer { g in
      gradient.withUnsafeMutableBufferPointer { out in
        for o in 0..<outer {
          let target = o * length * inner + start * inner
          for j in 0..<width { out[target + j] = g[o * width + j] }
        }
      }
    }
    return gradient
  }
}
