import Foundation
import SigbookTensor

/// A training loss, averaged over the batch.
///
/// - `crossEntropy`: −(1/B) Σᵢ Σⱼ tᵢⱼ log pᵢⱼ. After a softmax layer (or on a linear output) it is
///   fused with the softmax: computed from the logits z as logsumexp(z) − ⟨t, z⟩, whose gradient
///   is (softmax(z) − t) / B — stable for any logits.
/// - `mse`: (1/(B·D)) Σ (yᵢⱼ − tᵢⱼ)², the mean over every value (PyTorch's and Keras's default).
/// - `bce`: −(1/(B·D)) Σ [t log p + (1 − t) log(1 − p)]. After a sigmoid layer it is fused:
///   computed from the logits as max(z, 0) − z·t + log(1 + e^−|z|), gradient (σ(z) − t)/(B·D);
///   on any other output p is clamped to [1e-7, 1 − 1e-7].
public enum Loss: String, Sendable, CaseIterable {
  case crossEntropy = "cross_entropy"
  case mse
  case bce
}

/// How the loss meets the network's last layer: which activation it fuses (computing the loss
/// from logits, stable for any of them), and whether that activation is the network's own last
/// layer, skipped in training, or is not in the network at all (its outputs are logits).
///
/// The two are separate: a softmax layer is fused and skipped; a linear output (logits) is
/// fused and every layer trains, so the prediction keeps the output's width.
struct LossHead: Sendable, Equatable {
  /// The activation the loss applies to the logits it is given.
  enum Fused: Sendable, Equatable {
    /// Softmax cross-entropy.
    case softmax
    /// Binary cross-entropy with the sigmoid inside.
    case sigmoid
    /// None: the loss takes the network's output as it is.
    case none
  }

  /// The activation fused into the loss.
  var fused: Fused
  /// Whether the network's last layer is that activation, skipped in training (the loss takes
  /// its input).
  var skipsLastLayer: Bool

  /// A loss that takes the network's output as it is.
  static let output = LossHead(fused: .none, skipsLastLayer: false)
  /// Softmax cross-entropy in place of the network's last layer, a softmax.
  static let softmaxLogits = LossHead(fused: .softmax, skipsLastLayer: true)
  /// Binary cross-entropy in place of the network's last layer, a sigmoid.
  static let sigmoidLogits = LossHead(fused: .sigmoid, skipsLastLayer: true)

  init(fused: Fused, skipsLastLayer: Bool) {
    self.fused = fused
    self.skipsLastLayer = skipsLastLayer
  }

  /// The head for a loss after a network whose last layer is `last`, whose outputs are of
  /// `kind` and `outputCount` wide, trained for `task`.
  ///
  /// A classifier's logits (`kind == .logits`) get cross-entropy through a softmax, or through a
  /// sigmoid for one output, as PyTorch's `CrossEntropyLoss` and `BCEWithLogitsLoss` do; an
  /// autoencoder's linear output is compared as it is.
  init(
    loss: Loss, last: LayerSpec?, kind: Model.OutputKind, outputCount: Int, task: Model.Task
  ) {
    let oneOutput = outputCount == 1
    switch (loss, last) {
    case (.crossEntropy, .softmax?):
      self = .softmaxLogits
    case (.crossEntropy, .sigmoid?) where oneOutput, (.bce, .sigmoid?):
      self = .sigmoidLogits
    case (.crossEntropy, _) where kind == .logits && task == .classification:
      self.init(fused: oneOutput ? .sigmoid : .softmax, skipsLastLayer: false)
    case (.bce, _) where kind == .logits && task == .classification:
      self.init(fused: .sigmoid, skipsLastLayer: false)
    default:
      self = .output
    }
  }

  /// Whether the values the loss is computed on are logits (the input of a skipped activation,
  /// or a network's logits), as opposed to the network's probabilities.
  func readsLogits(outputKind: Model.OutputKind) -> Bool {
    skipsLastLayer || outputKind == .logits
  }
}

extension Model {
  /// How `loss` meets this model's last layer.
  func lossHead(for loss: Loss) -> LossHead {
    LossHead(
      loss: loss, last: layers.last?.spec, kind: outputKind, outputCount: outputCount, task: task)
  }
}

extension Loss {
  /// The loss of a batch and its gradient with respect to `prediction`.
  ///
  /// - Parameters:
  ///   - prediction: `[B, D]`: the logits when `head` fuses an activation, else the output.
  ///   - target: `[B, D]`: one-hot rows for classes, the input itself for reconstruction.
  ///   - head: how the loss meets the last layer.
  ///   - batchRows: the rows of the whole batch the mean is taken over, when `prediction` is one
  ///     chunk of it (default: its own rows); chunks' losses and gradients then add up.
  /// - Returns: the mean loss (Double) and ∂loss/∂prediction.
  func evaluate(prediction: Tensor, target: Tensor, head: LossHead, batchRows: Int? = nil) -> (
    value: Double, gradient: Tensor
  ) {
    precondition(
      prediction.count == target.count, "loss of \(prediction.shape) and \(target.shape)")
    let rows = prediction.rows, d = prediction.rowSize
    let b = batchRows ?? rows
    // Every case writes every value of the gradient.
    var gradient = Tensor(unsetShape: prediction.shape)
    var total = 0.0
    prediction.withUnsafeBufferPointer { z in
      target.withUnsafeBufferPointer { t in
        gradient.withUnsafeMutableBufferPointer { g in
          switch (self, head) {
          case (.crossEntropy, _) where head.fused == .softmax:
            let scale = 1 / Float(b)
            for r in 0..<rows {
              let row = r * d
              var m = z[row]
              for j in row..<row + d where z[j] > m { m = z[j] }
              var sum: Float = 0
              for j in row..<row + d {
                let e = Foundation.exp(z[j] - m)
                g[j] = e
                sum += e
              }
              let logSum = Double(m) + Foundation.log(Double(sum))
              // d/dz of (Σt)·logsumexp(z) − ⟨t, z⟩ is (Σt)·softmax(z) − t; Σt = 1 for one-hot rows.
              var dot = 0.0, mass: Float = 0
              for j in row..<row + d {
                dot += Double(t[j]) * Double(z[j])
                mass += t[j]
              }
              for j in row..<row + d { g[j] = (mass * g[j] / sum - t[j]) * scale }
              total += Double(mass) * logSum - dot
            }
            total /= Double(b)
          case (.crossEntropy, _):
            let scale = 1 / Float(b)
            for j in 0..<rows * d {
              let p = Swift.max(z[j], 1e-7)
              total -= Double(t[j]) * Foundation.log(Double(p))
              g[j] = -t[j] / p * scale
            }
            total /= Double(b)
          case (.bce, _) where head.fused == .sigmoid,
            (.crossEntropy, _) where head.fused == .sigmoid:
            total =
              Kernels.binaryCrossEntropyWithLogits(
                UnsafeBufferPointer(rebasing: z[0..<rows * d]),
                UnsafeBufferPointer(rebasing: t[0..<rows * d]), gradient: g,
                scale: 1 / Float(b * d)) / Double(b * d)
          case (.bce, _):
            let scale = 1 / Float(b * d)
            let low: Float = 1e-7, high: Float = 1 - 1e-7
            for j in 0..<rows * d {
              let p = Swift.min(Swift.max(z[j], low), high)
              let y = t[j]
              total -=
                Double(y) * Foundation.log(Double(p)) + Double(1 - y)
                * Foundation.log(Double(1 - p))
              // Beyond the clamp the loss is flat: no gradient pushes further out.
              g[j] = z[j] > low && z[j] < high ? (p - y) / (p * (1 - p)) * scale : 0
            }
            total /= Double(b * d)
          case (.mse, _):
            let scale = 2 / Float(b * d)
            for j in 0..<rows * d {
              let e = z[j] - t[j]
              total += Double(e) * Double(e)
              g[j] = e * scale
            }
            total /= Double(b * d)
          }
        }
      }
    }
    return (total, gradient)
  }
}
