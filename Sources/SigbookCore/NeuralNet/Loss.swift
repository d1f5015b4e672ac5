import Foundation

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

/// How the loss meets the network's last layer.
enum LossHead: Sendable, Equatable {
  /// The last layer (a softmax) is skipped in training; the loss takes its input, the logits.
  case softmaxLogits
  /// The last layer (a sigmoid) is skipped in training; the loss takes its input, the logits.
  case sigmoidLogits
  /// The loss takes the network's output as it is.
  case output

  /// The head for a loss after a network whose last layer is `last`.
  init(loss: Loss, last: LayerSpec?) {
    switch (loss, last) {
    case (.crossEntropy, .softmax?): self = .softmaxLogits
    case (.crossEntropy, .dense?), (.crossEntropy, .conv?), (.crossEntropy, .flatten?):
      self = .softmaxLogits  // a linear output: cross-entropy on logits, as PyTorch does
    case (.bce, .sigmoid?): self = .sigmoidLogits
    default: self = .output
    }
  }

  /// Whether the network's last layer is folded into the loss (and skipped in training).
  var skipsLastLayer: Bool {
    switch self {
    case .softmaxLogits, .sigmoidLogits: true
    case .output: false
    }
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
          case (.crossEntropy, .softmaxLogits):
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
          case (.bce, .sigmoidLogits):
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
