import SigbookTensor

/// Running a graph model: each value is computed once, handed to every layer that takes it,
/// and released as soon as its last consumer has run; backward, a value taken by several
/// layers receives the sum of their gradients.
extension Model {
  /// Whether every layer takes the previous one's output (no `wiring`).
  var isChain: Bool { wiring == nil }

  /// Whether the layers form a graph (a residual sum, a concatenation) rather than a chain.
  public var isGraph: Bool { wiring != nil }

  /// The values layer `i` takes: 0 is the model's input, j the output of layer j (1-based).
  public func inputs(ofLayer i: Int) -> [Int] { wiring?[i] ?? [i] }

  /// How many layers up to `last` take each value (0 the input, j layer j's output).
  func consumerCounts(through last: Int) -> [Int] {
    var counts = [Int](repeating: 0, count: last + 2)
    for i in 0...last {
      for v in inputs(ofLayer: i) { counts[v] += 1 }
    }
    return counts
  }

  /// Applies layers `0...last` to a batch, calling `visit(i, output)` after layer `i`, and
  /// returns layer `last`'s output. Each value is released after its last consumer.
  ///
  /// A convolution in `fused` (keyed by its index, `fusedConvolutions`) runs with the layers it
  /// stands for: `visit` is then called for its last layer only, whose output it computes.
  func graphForward(
    _ input: Tensor, through last: Int, fused: [Int: FusedConvolution] = [:],
    visit: (Int, Tensor) -> Void
  ) -> Tensor {
    var remaining = consumerCounts(through: last)
    var values = [Tensor?](repeating: nil, count: last + 2)
    values[0] = input
    // Fused convolutions with a residual sum, waiting for the sum's place (keyed by the sum's
    // index) with the input they took.
    var waiting: [Int: (FusedConvolution, Tensor)] = [:]
    var i = 0
    while i <= last {
      if let (convolution, operand) = waiting.removeValue(forKey: i),
        let residual = convolution.residual
      {
        let other = take([residual.value], from: &values, remaining: &remaining)[0]
        let output = convolution.apply(operand, residual: other)
        visit(convolution.last, output)
        values[convolution.last + 1] = output
        i = convolution.last + 1
        continue
      }
      let operands = take(inputs(ofLayer: i), from: &values, remaining: &remaining)
      if let convolution = fused[i], convolution.last <= last {
        if let residual = convolution.residual {
          waiting[residual.sum] = (convolution, operands[0])
          i = residual.resume
          continue
        }
        let output = convolution.apply(operands[0])
        visit(convolution.last, output)
        values[convolution.last + 1] = output
        i = convolution.last + 1
        continue
      }
      let output =
        operands.count == 1 && layers[i].arity == 1
        ? layers[i].apply(operands[0]) : layers[i].forward(joining: operands).output
      visit(i, output)
      values[i + 1] = output
      i += 1
    }
    return values[last + 1] ?? Tensor(zeros: [0])
  }

  /// What the loss reads for a batch: the model's output, or, with the last activation fused
  /// into the loss (`skipsLastLayer`), the value that activation takes.
  func lossInput(_ batch: Tensor, skipsLastLayer: Bool) -> Tensor {
    guard skipsLastLayer else { return forward(batch) }
    let v = inputs(ofLayer: layers.count - 1)[0]
    guard v > 0 else { return batch }
    if wiring != nil { return graphForward(batch, through: v - 1) { _, _ in } }
    var x = batch
    for i in 0..<v { x = layers[i].apply(consume x) }
    return x
  }

  /// The values `indices` names, each released from `values` when this is its last use.
  private func take(
    _ indices: [Int], from values: inout [Tensor?], remaining: inout [Int]
  ) -> [Tensor] {
    indices.map { v in
      remaining[v] -= 1
      guard let value = values[v] else { preconditionFailure("value \(v) used after release") }
      if remaining[v] == 0 { values[v] = nil }
      return value
    }
  }

  /// One forward and backward pass of a graph over (a chunk of) a batch, the loss and gradients
  /// being means over `batchRows` rows: `chunkGradients` for graphs.
  func graphChunkGradients(
    of batch: Tensor, target: Tensor, loss: Loss, head: LossHead, batchRows: Int,
    training: TrainingContext?
  ) -> ChunkPass {
    // With the last activation fused into the loss, the loss takes what that layer takes.
    let trainedCount = head.skipsLastLayer ? layers.count - 1 : layers.count
    let outputValue = head.skipsLastLayer ? inputs(ofLayer: layers.count - 1)[0] : layers.count
    // The output stays until the loss has read it.
    var remaining = trainedCount > 0 ? consumerCounts(through: trainedCount - 1) : [0]
    remaining[outputValue] += 1
    var values = [Tensor?](repeating: nil, count: trainedCount + 1)
    values[0] = batch
    var caches = [(any Sendable)?](repeating: nil, count: trainedCount)
    for i in 0..<trainedCount {
      let operands = take(inputs(ofLayer: i), from: &values, remaining: &remaining)
      let (output, cache) = forwardErased(
        layers[i], joining: operands, training: training?.at(layer: i))
      caches[i] = cache
      values[i + 1] = output
    }
    guard let output = values[outputValue] else { preconditionFailure("the output was released") }
    let statistics = collectStatistics(caches)
    let prediction = output.flattenedRows
    let (value, lossGradient) = loss.evaluate(
      prediction: prediction, target: target, head: head, batchRows: batchRows)
    var gradients = [[Tensor]](repeating: [], count: layers.count)
    var valueGradients = [Tensor?](repeating: nil, count: trainedCount + 1)
    valueGradients[outputValue] = lossGradient.reshaped(output.shape)
    values = []
    for i in stride(from: trainedCount - 1, through: 0, by: -1) {
      guard let outputGradient = valueGradients[i + 1], let cache = caches[i] else {
        // Nothing this layer computes reaches the loss.
        gradients[i] = layers[i].parameters.map { Tensor(zeros: $0.shape) }
        continue
      }
      valueGradients[i + 1] = nil
      caches[i] = nil
      let taken = inputs(ofLayer: i)
      let inputGradients = backwardErased(
        layers[i], outputGradient, cache: cache, gradients: &gradients[i],
        needsInputGradients: taken.map { $0 > 0 })
      for (v, gradient) in zip(taken, inputGradients) where v > 0 {
        if var sum = valueGradients[v] {
          valueGradients[v] = nil
          let count = sum.count
          precondition(gradient.count == count, "gradient of \(gradient.shape) for \(sum.shape)")
          sum.withUnsafeMutableBufferPointer { s in
            gradient.withUnsafeBufferPointer { g in
              guard let sp = s.baseAddress, let gp = g.baseAddress else { return }
              Kernels.add(sp, gp, count: count)
            }
          }
          valueGradients[v] = sum
        } else {
          valueGradients[v] = gradient
        }
      }
    }
    return ChunkPass(
      loss: value, prediction: prediction, gradients: gradients,
      factors: [DenseFactors?](repeating: nil, count: layers.count), statistics: statistics)
  }
}
