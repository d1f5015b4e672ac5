import SigbookTensor

/// What attributions read of a model: the score of a class for an input, and its gradient with
/// respect to the input.
extension Model {
  /// The value whose entries are the class scores: the input of a final softmax or sigmoid (the
  /// logits), else the model's output. Value 0 is the input, j the output of layer j.
  var scoreValue: Int {
    switch layers.last?.spec {
    case .softmax?, .sigmoid?: inputs(ofLayer: layers.count - 1)[0]
    default: layers.count
    }
  }

  /// Whether the scores are the logits of a final softmax or sigmoid rather than the outputs.
  var scoresAreLogits: Bool { scoreValue < layers.count }

  /// The model as it computes at inference, its batch normalisations replaced by the
  /// per-channel affine maps their running statistics make, so that a forward pass that keeps
  /// caches (the training one) computes what `predict` does.
  func inferenceForm() -> Model {
    var copy = self
    copy.layers = layers.map { layer -> any Layer in
      guard let norm = layer as? BatchNorm else { return layer }
      let (scale, shift) = norm.inferenceAffine
      return ChannelAffine(weight: scale, bias: shift)
    }
    return copy
  }

  /// The class scores of each row, `[N, classes]`: the logits when the model ends in a softmax
  /// or sigmoid, else its outputs.
  public func scores(_ batch: Tensor) -> Tensor {
    lossInput(batch, skipsLastLayer: scoresAreLogits).flattenedRows
  }

  /// The scores of each row and, for each row i, the gradient of its score of class
  /// `targets[i]` with respect to its input (the shape of `batch`), at inference (batch
  /// normalisations with their running statistics).
  ///
  /// - Precondition: one target per row, each a class index.
  public func scoreGradients(_ batch: Tensor, targets: [Int]) -> (scores: Tensor, gradients: Tensor)
  {
    precondition(targets.count == batch.rows, "\(targets.count) targets for \(batch.rows) rows")
    let model = inferenceForm()
    let last = scoreValue
    var remaining = last > 0 ? model.consumerCounts(through: last - 1) : [0]
    remaining[last] += 1
    var values = [Tensor?](repeating: nil, count: last + 1)
    values[0] = batch
    var caches = [(any Sendable)?](repeating: nil, count: last)
    for i in 0..<last {
      let taken = model.inputs(ofLayer: i)
      let operands = taken.map { v -> Tensor in
        remaining[v] -= 1
        guard let value = values[v] else { preconditionFailure("value \(v) used after release") }
        if remaining[v] == 0 { values[v] = nil }
        return value
      }
      let (output, cache) = forwardErased(model.layers[i], joining: operands)
      caches[i] = cache
      values[i + 1] = output
    }
    guard let output = values[last] else { preconditionFailure("the scores were released") }
    let scores = output.flattenedRows
    let classes = scores.rowSize
    var seed = [Float](repeating: 0, count: scores.count)
    for (row, target) in targets.enumerated() {
      precondition(target >= 0 && target < classes, "class \(target) of \(classes)")
      seed[row * classes + target] = 1
    }
    var gradients = [Tensor?](repeating: nil, count: last + 1)
    gradients[last] = Tensor(shape: output.shape, scalars: seed)
    values = []
    var unused: [Tensor] = []
    for i in stride(from: last - 1, through: 0, by: -1) {
      guard let outputGradient = gradients[i + 1], let cache = caches[i] else { continue }
      gradients[i + 1] = nil
      caches[i] = nil
      let taken = model.inputs(ofLayer: i)
      unused.removeAll(keepingCapacity: true)
      let inputGradients = backwardErased(
        model.layers[i], outputGradient, cache: cache, gradients: &unused,
        needsInputGradients: taken.map { _ in true })
      for (v, gradient) in zip(taken, inputGradients) {
        if let sum = gradients[v] {
          gradients[v] = Tensor(
            shape: sum.shape, scalars: zip(sum.scalars, gradient.scalars).map { $0 + $1 })
        } else {
          gradients[v] = gradient
        }
      }
    }
    return (scores, gradients[0] ?? Tensor(zeros: batch.shape))
  }
}

extension Model {
  /// The classifier head: the dense (or linear) layer that makes the scores, when it reads a
  /// vector of features computed by an earlier layer — `(layer, weight [classes, features],
  /// bias [classes])`, `layer` being the 0-based index of the layer whose output the head
  /// reads. Nil when the scores come from anything else (a convolution, a join) or straight
  /// from the input.
  public var classifierHead: (features: Int, weight: Tensor, bias: Tensor)? {
    let scoring = scoreValue - 1
    guard scoring >= 0, layers[scoring].parameters.count == 2 else { return nil }
    switch layers[scoring].spec {
    case .dense, .linear: break
    default: return nil
    }
    let input = inputs(ofLayer: scoring)[0]
    guard input > 0 else { return nil }
    let p = layers[scoring].parameters
    return (input - 1, p[0], p[1])
  }
}
