import SigbookTensor

/// A fully connected layer: `y = x · Wᵀ + b`.
///
/// The weight is `[outputs, inputs]` (PyTorch's `nn.Linear` layout, so saved weights load there
/// unchanged). Any input `[batch, …]` whose items hold `inputs` values is read as
/// `[batch, inputs]`, so an image batch needs no explicit flatten.
struct Dense: Layer {
  typealias Cache = Tensor

  /// `[weight [outputs, inputs], bias [outputs]]`.
  var parameters: [Tensor]
  var parameterNames: [String] { ["weight", "bias"] }
  let inputs: Int
  let outputs: Int

  /// A layer with weights drawn by `initialization` and a zero bias.
  init(
    inputs: Int, outputs: Int, initialization: Initialization, generator: inout SeededGenerator
  ) {
    self.inputs = inputs
    self.outputs = outputs
    let weight = initialization.weights(
      shape: [outputs, inputs], fanIn: inputs, fanOut: outputs, generator: &generator)
    parameters = [weight, Tensor(zeros: [outputs])]
  }

  /// A layer with the given weight `[outputs, inputs]` and bias `[outputs]`.
  init(weight: Tensor, bias: Tensor) {
    precondition(weight.rank == 2 && bias.shape == [weight.shape[0]], "dense weight and bias")
    inputs = weight.shape[1]
    outputs = weight.shape[0]
    parameters = [weight, bias]
  }

  var spec: LayerSpec { .dense(inputs: inputs, outputs: outputs) }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    let n = inputShape.reduce(1, *)
    return n == inputs
      ? .success([outputs])
      : .failure(
        ShapeMismatch("dense(\(inputs), \(outputs)) expects \(inputs) inputs but gets \(n)"))
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: Tensor) {
    let batch = input.rows
    precondition(input.rowSize == inputs, "dense(\(inputs), …) given items of \(input.rowSize)")
    var y = Tensor(unsetShape: [batch, outputs])
    input.withUnsafeBufferPointer { x in
      y.withUnsafeMutableBufferPointer { out in
        apply(rows: batch, from: x.baseAddress, into: out.baseAddress)
      }
    }
    return (y, input)
  }

  /// `rows` outputs `y = x · Wᵀ + b` from `rows × inputs` values at `source` into
  /// `rows × outputs` values at `target`: the bias first, then the product added to it (so
  /// `forward` and code that writes outputs in place give the same bits).
  func apply(
    rows: Int, from source: UnsafePointer<Float>?, into target: UnsafeMutablePointer<Float>?
  ) {
    guard rows > 0, let target else { return }
    let o = outputs
    parameters[1].withUnsafeBufferPointer { bias in
      for r in 0..<rows { (target + r * o).update(from: bias.baseAddress!, count: o) }
    }
    parameters[0].withUnsafeBufferPointer { weight in
      BLAS.gemm(
        transposeA: false, transposeB: true, m: rows, n: o, k: inputs, a: source,
        b: weight.baseAddress, beta: 1, c: target)
    }
  }

  /// `backward` without the weight and bias gradients: the input gradient, and the factors of
  /// the weight gradient for a step that multiplies them itself (`Model.stepDenseLayers`).
  func deferredBackward(
    _ outputGradient: consuming Tensor, cache input: Tensor, needsInputGradient: Bool
  ) -> (inputGradient: Tensor, factors: Model.DenseFactors) {
    let batch = input.rows
    let x = input.rank == 2 ? input : input.reshaped([batch, inputs])
    let delta = outputGradient.rank == 2 ? outputGradient : outputGradient.flattenedRows
    let factors = Model.DenseFactors(outputGradient: delta, input: x)
    guard needsInputGradient else { return (Tensor(zeros: [0]), factors) }
    var inputGradient = Tensor(unsetShape: [batch, inputs])
    inputGradient.gemm(delta, parameters[0])
    return (inputGradient.reshaped(input.shape), factors)
  }

  func backward(
    _ outputGradient: consuming Tensor, cache input: Tensor, gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    let (inputGradient, factors) = deferredBackward(
      outputGradient, cache: input, needsInputGradient: needsInputGradient)
    var weightGradient = Tensor(unsetShape: [outputs, inputs])
    weightGradient.gemm(factors.outputGradient, factors.input, transposeA: true)
    gradients.append(weightGradient)
    gradients.append(factors.outputGradient.columnSums())
    return inputGradient
  }
}
