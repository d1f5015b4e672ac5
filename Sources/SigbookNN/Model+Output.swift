import SigbookTensor

extension Model {
  /// What a model's outputs are: scores to be turned into probabilities, or probabilities.
  enum OutputKind: String, Sendable {
    /// Unnormalised scores: softmax logits for several outputs, the logit of class 1 for one
    /// output (PyTorch's default export, `mlp(…, output: .linear)`).
    case logits
    /// Probabilities: a softmax over several outputs, a sigmoid (each output's own
    /// probability) for one.
    case probabilities
  }

  /// What this model's outputs are, read from its last operation: a softmax or sigmoid layer
  /// (possibly followed by layers that only reshape) gives probabilities, anything else logits.
  ///
  /// Read from the layers, it travels with them: a saved model's metadata lists its layers, an
  /// exported ONNX graph ends in `Softmax` or `Sigmoid` exactly when the model does, and an
  /// imported graph is read the same way.
  var outputKind: OutputKind {
    let last = layers.last { layer in
      switch layer.spec {
      case .flatten, .reshape, .transpose: false
      default: true
      }
    }
    switch last?.spec {
    case .softmax?, .sigmoid?: return .probabilities
    default: return .logits
    }
  }

  /// The class probabilities of rows of this model's outputs: the outputs themselves when they
  /// are probabilities, else their softmax (their sigmoid for one output).
  ///
  /// The one place where logits become probabilities: predictions, softmax novelty and every
  /// other reader of probabilities go through it, so the activation is applied exactly once.
  ///
  /// - Parameter outputs: `[N, outputCount]`, as `predict` returns them.
  /// - Returns: `[N, outputCount]`; for one output, the probability of class 1.
  public func probabilities(ofOutputs outputs: Tensor) -> Tensor {
    Self.probabilities(ofOutputs: outputs, kind: outputKind)
  }

  /// `probabilities(ofOutputs:)` for outputs of a given kind.
  static func probabilities(ofOutputs outputs: Tensor, kind: OutputKind) -> Tensor {
    guard kind == .logits else { return outputs }
    let rows = outputs.flattenedRows
    return rows.rowSize == 1 ? Activation(.sigmoid).apply(rows) : Softmax().apply(rows)
  }

  /// The class probabilities of many inputs (`predict`, then `probabilities(ofOutputs:)`).
  ///
  /// - Parameter isCancelled: as for `predict`.
  /// - Returns: `[N, outputCount]`.
  public func predictedProbabilities(
    _ inputs: Tensor, batchSize: Int = 1024, isCancelled: () -> Bool = { false }
  ) -> Tensor {
    probabilities(ofOutputs: predict(inputs, batchSize: batchSize, isCancelled: isCancelled))
  }

  /// The class each row of this model's outputs stands for: the largest output, or for one
  /// output class 1 when it is above 0 (a logit) or above 0.5 (a probability).
  public func classes(ofOutputs outputs: Tensor) -> [Int] {
    Self.classes(ofOutputs: outputs, kind: outputKind)
  }

  /// `classes(ofOutputs:)` for outputs of a given kind.
  static func classes(ofOutputs outputs: Tensor, kind: OutputKind) -> [Int] {
    if outputs.rowSize == 1 {
      let threshold: Float = kind == .logits ? 0 : 0.5
      return outputs.scalars.map { $0 > threshold ? 1 : 0 }
    }
    return outputs.argmaxRows()
  }
}
