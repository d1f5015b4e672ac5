import SigbookTensor

/// How a node's output becomes one signature layer: whole, or one value per channel.
///
/// Maps `[C, H, W]` pool over their positions to `[C]`; tokens `[T, D]` over the tokens to
/// `[D]` (or are read at the class token, the first); vectors are left as they are.
public enum SignaturePooling: String, Sendable, CaseIterable {
  /// Every value, flattened (a map's channels first, as PyTorch's `flatten`).
  case none
  /// The mean of each channel over its positions (of each feature over the tokens).
  case mean
  /// The largest value of each channel over its positions (of each feature over the tokens).
  case max
  /// The first token, `[T, D]` → `[D]`: a vision transformer's class token.
  case classToken = "class_token"

  /// The width of an item of `shape` after pooling, or nil when this pooling cannot take it
  /// (the class token of something that is not tokens).
  func width(of shape: [Int]) -> Int? {
    switch (self, shape.count) {
    case (.none, _), (_, 0), (_, 1): shape.reduce(1, *)
    case (.classToken, 2): shape[1]
    case (.classToken, _): nil
    case (_, 2): shape[1]
    default: shape[0]
    }
  }

  /// A batch `[N, …]` pooled to `[N, width]`.
  func apply(_ x: Tensor) -> Tensor {
    let item = Array(x.shape.dropFirst())
    guard self != .none, item.count >= 2, let width = width(of: item) else {
      return x.flattenedRows
    }
    let n = x.rows, size = x.rowSize
    // Values of one feature: a channel's `count` positions `stride` 1 apart for maps, a
    // feature's `count` tokens `stride` width apart for tokens.
    let isTokens = item.count == 2
    let count = self == .classToken ? 1 : (isTokens ? item[0] : size / width)
    let stride = isTokens ? width : 1
    let block = isTokens ? 1 : count
    return Tensor.overwriting(shape: [n, width]) { out in
      x.withUnsafeBufferPointer { v in
        for r in 0..<n {
          for f in 0..<width {
            let start = r * size + f * block
            switch self {
            case .max:
              var m = -Float.infinity
              for j in 0..<count { m = Swift.max(m, v[start + j * stride]) }
              out[r * width + f] = m
            default:
              var total: Float = 0
              for j in 0..<count { total += v[start + j * stride] }
              out[r * width + f] = total / Float(count)
            }
          }
        }
      }
    }
  }
}

extension Model {
  /// The width of layer `i`'s output as one signature layer pooled by `pooling`, or nil when
  /// the pooling cannot take it.
  public func pooledWidth(ofLayer i: Int, pooling: SignaturePooling) -> Int? {
    pooling.width(of: layerShapes[i])
  }
}
