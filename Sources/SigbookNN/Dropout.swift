import SigbookTensor

/// Inverted dropout (Srivastava et al., 2014), as PyTorch's `nn.Dropout` and Keras's `Dropout`
/// compute it: in a training step each value is zeroed with probability `rate` and the others
/// are multiplied by 1 / (1 − rate), which keeps every value's expectation; backward multiplies
/// the gradient by the same factors. At inference (`apply`, and `forward` without a training
/// context: predictions, signatures, attributions) the layer is the identity.
///
/// The mask is not drawn from a generator the batch shares but hashed from the step
/// (`TrainingContext`), each value's row within the whole batch and its index within the row:
/// the same seed drops the same values whatever the number of threads and however the batch
/// is cut into chunks.
struct Dropout: Layer {
  /// The factors the values were multiplied by (0 or 1 / (1 − rate)), for backward; nil when
  /// nothing was dropped.
  typealias Cache = Tensor?

  /// The probability that a value is dropped in a training step, in [0, 1).
  let rate: Float

  var spec: LayerSpec { .dropout(rate: rate) }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> { .success(inputShape) }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: Tensor?) { (input, nil) }

  func apply(_ input: consuming Tensor) -> Tensor { input }

  func forward(_ input: consuming Tensor, training: TrainingContext) -> (
    output: Tensor, cache: Tensor?
  ) {
    guard rate > 0 else { return (input, nil) }
    let factors = mask(rows: input.rows, units: input.rowSize, training: training)
    input.multiply(by: factors)
    return (input, factors)
  }

  func forward(joining inputs: [Tensor], training: TrainingContext) -> (
    output: Tensor, cache: Tensor?
  ) {
    precondition(inputs.count == 1, "Dropout takes one value, not \(inputs.count)")
    return forward(inputs[0], training: training)
  }

  func backward(
    _ outputGradient: consuming Tensor, cache factors: Tensor?, gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    guard needsInputGradient else { return Tensor(zeros: [0]) }
    if let factors { outputGradient.multiply(by: factors) }
    return outputGradient
  }

  /// A training step's factors for `rows` rows of `units` values, `[rows, units]`: 0 where a
  /// value is dropped, 1 / (1 − rate) where it is kept.
  ///
  /// Value j of row r (r counted from `training.firstRow`, its row in the whole batch) is
  /// dropped when the top 32 bits of `splitMix(splitMix(training.key, r), j)` are below
  /// rate · 2³²: a chunk of the batch computes its own rows' factors, the same as the whole
  /// batch's.
  func mask(rows: Int, units: Int, training: TrainingContext) -> Tensor {
    let key = training.key
    let threshold = UInt64(Double(rate) * 0x1p32)
    let kept = 1 / (1 - rate)
    let first = training.firstRow
    return Tensor.overwriting(shape: [rows, units]) { m in
      for r in 0..<rows {
        let row = SeededGenerator.splitMix(key, index: UInt64(first + r))
        for j in 0..<units {
          let bits = SeededGenerator.splitMix(row, index: UInt64(j)) >> 32
          m[r * units + j] = bits < threshold ? 0 : kept
        }
      }
    }
  }
}

extension Tensor {
  /// Multiplies every value by the value at the same index of `factors` (of as many values).
  fileprivate mutating func multiply(by factors: Tensor) {
    let count = self.count
    precondition(factors.count == count, "\(factors.count) factors for \(shape)")
    withUnsafeMutableBufferPointer { x in
      factors.withUnsafeBufferPointer { f in
        for i in 0..<count { x[i] *= f[i] }
      }
    }
  }
}
