import SigbookTensor

/// The matrix product of two values, `[…, m, k] · […, k, n]`, the leading axes broadcast as in
/// NumPy: attention's `q · kᵀ` and `weights · v`; ONNX's `MatMul` between activations. Each
/// pair of matrices is one `sgemm`.
struct MatMul: Layer {
  /// Both operands (each gradient reads the other).
  typealias Cache = [Tensor]

  var spec: LayerSpec { .matmul }
  var arity: Int { 2 }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(for: inputShape)
  }

  func outputShape(joining inputShapes: [[Int]]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(joining: inputShapes)
  }

  /// The pairs of matrices to multiply: for every output matrix, where it and each operand's
  /// matrix start (in values).
  private static func pairs(_ a: [Int], _ b: [Int]) -> (
    m: Int, k: Int, n: Int, shape: [Int], offsets: [(out: Int, a: Int, b: Int)]
  ) {
    let m = a[a.count - 2], k = a[a.count - 1], n = b[b.count - 1]
    // The batch axes meet each other: the operand with fewer leading axes gains 1s after its
    // batch axis.
    let leading = [Array(a.dropLast(2)), Array(b.dropLast(2))]
    let rank = max(leading[0].count, leading[1].count)
    let plan = Broadcasting(
      leading.map { [$0[0]] + [Int](repeating: 1, count: rank - $0.count) + $0.dropFirst() })
    var offsets: [(out: Int, a: Int, b: Int)] = []
    offsets.reserveCapacity(plan.count)
    plan.forEachRun { o, starts, steps in
      for j in 0..<plan.run {
        offsets.append(
          ((o + j) * m * n, (starts[0] + j * steps[0]) * m * k, (starts[1] + j * steps[1]) * k * n))
      }
    }
    return (m, k, n, plan.shape + [m, n], offsets)
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: [Tensor]) {
    preconditionFailure("matmul takes two values")
  }

  func forward(joining inputs: [Tensor]) -> (output: Tensor, cache: [Tensor]) {
    (apply(inputs[0], inputs[1]), inputs)
  }

  private func apply(_ a: Tensor, _ b: Tensor) -> Tensor {
    let (m, k, n, shape, offsets) = Self.pairs(a.shape, b.shape)
    var output = Tensor(unsetShape: shape)
    a.withUnsafeBufferPointer { x in
      b.withUnsafeBufferPointer { y in
        output.withUnsafeMutableBufferPointer { out in
          guard let xp = x.baseAddress, let yp = y.baseAddress, let op = out.baseAddress else {
            return
          }
          for (o, ia, ib) in offsets {
            BLAS.gemm(
              transposeA: false, transposeB: false, m: m, n: n, k: k, a: xp + ia, b: yp + ib,
              c: op + o)
          }
        }
      }
    }
    return output
  }

  func backward(
    _ outputGradient: consuming Tensor, cache: [Tensor], gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    preconditionFailure("matmul takes two values")
  }

  func backward(
    _ outputGradient: consuming Tensor, cache: [Tensor], gradients: inout [Tensor],
    needsInputGradients: [Bool]
  ) -> [Tensor] {
    let a = cache[0], b = cache[1]
    let (m, k, n, _, offsets) = Self.pairs(a.shape, b.shape)
    // A matrix used by several products (a stretched axis) sums their gradients: accumulate.
    var ga = needsInputGradients[0] ? Tensor(zeros: a.shape) : Tensor(zeros: [0])
    var gb = needsInputGradients[1] ? Tensor(zeros: b.shape) : Tensor(zeros: [0])
    outputGradient.withUnsafeBufferPointer { g in
      a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
          ga.withUnsafeMutableBufferPointer { da in
            gb.withUnsafeMutableBufferPointer { db in
              guard let gp = g.baseAddress, let xp = x.baseAddress, let yp = y.baseAddress
              else { return }
              for (o, ia, ib) in offsets {
                if let dap = da.baseAddress {
                  // ∂A = ∂C · Bᵀ
                  BLAS.gemm(
                    transposeA: false, transposeB: true, m: m, n: k, k: n, a: gp + o, b: yp + ib,
                    beta: 1, c: dap + ia)
                }
                if let dbp = db.baseAddress {
                  // ∂B = Aᵀ · ∂C
                  BLAS.gemm(
                    transposeA: true, transposeB: false, m: k, n: n, k: m, a: xp + ia, b: gp + o,
                    beta: 1, c: dbp + ib)
                }
              }
            }
          }
        }
      }
    }
    return [ga, gb]
  }
}

/// A dense layer applied to the last axis of each item, `y = x · Wᵀ + b` for every row of
/// `[…, inputs]`: a transformer's per-token projection (PyTorch's `nn.Linear` on a sequence,
/// ONNX's `MatMul` by a weight then `Add` of a bias). The weight is `[outputs, inputs]`.
struct Linear: Layer {
  typealias Cache = Tensor

  var dense: Dense

  var parameters: [Tensor] {
    get { dense.parameters }
    set { dense.parameters = newValue }
  }
  var parameterNames: [String] { dense.parameterNames }

  var spec: LayerSpec { .linear(inputs: dense.inputs, outputs: dense.outputs) }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(for: inputShape)
  }

  /// The batch read as rows of `inputs` values.
  private func rows(_ x: Tensor) -> Tensor { x.reshaped([x.count / dense.inputs, dense.inputs]) }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: Tensor) {
    let shape = input.shape
    let (y, cache) = dense.forward(rows(input))
    return (y.reshaped(shape.dropLast() + [dense.outputs]), cache)
  }

  func backward(
    _ outputGradient: consuming Tensor, cache: Tensor, gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    let shape = outputGradient.shape
    let g = outputGradient.reshaped([outputGradient.count / dense.outputs, dense.outputs])
    let inputGradient = dense.backward(
      g, cache: cache, gradients: &gradients, needsInputGradient: needsInputGradient)
    return needsInputGradient
      ? inputGradient.reshaped(shape.dropLast() + [dense.inputs]) : inputGradient
  }
}

/// Puts a learned token before each item's tokens, `[count, width]` → `[count + 1, width]`:
/// the class token of a vision transformer (Dosovitskiy et al., 2021), whose output the
/// classifier reads.
struct ClassToken: Layer {
  typealias Cache = Int

  /// `[token [width]]`.
  var parameters: [Tensor]
  var parameterNames: [String] { ["token"] }

  init(token: Tensor) { parameters = [token] }

  var spec: LayerSpec { .classToken(width: parameters[0].count) }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(for: inputShape)
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: Int) {
    let batch = input.rows, itemSize = input.rowSize, width = parameters[0].count
    let output = Tensor.overwriting(shape: [batch, input.shape[1] + 1, width]) { out in
      input.withUnsafeBufferPointer { x in
        parameters[0].withUnsafeBufferPointer { token in
          for b in 0..<batch {
            let start = b * (itemSize + width)
            for j in 0..<width { out[start + j] = token[j] }
            for j in 0..<itemSize { out[start + width + j] = x[b * itemSize + j] }
          }
        }
      }
    }
    return (output, 0)
  }

  func backward(
    _ outputGradient: consuming Tensor, cache: Int, gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    let batch = outputGradient.rows, width = parameters[0].count
    let count = outputGradient.shape[1] - 1, itemSize = count * width
    var tokenGradient = [Float](repeating: 0, count: width)
    let inputGradient = Tensor.overwriting(shape: [batch, count, width]) { out in
      outputGradient.withUnsafeBufferPointer { g in
        for b in 0..<batch {
          let start = b * (itemSize + width)
          for j in 0..<width { tokenGradient[j] += g[start + j] }
          for j in 0..<itemSize { out[b * itemSize + j] = g[start + width + j] }
        }
      }
    }
    gradients.append(Tensor(shape: [width], scalars: tokenGradient))
    return needsInputGradient ? inputGradient : Tensor(zeros: [0])
  }
}
