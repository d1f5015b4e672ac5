import SigbookTensor

/// How well a low-dimensional embedding keeps the neighbourhoods of the data it came from.
///
/// Trustworthiness (Venna and Kaski, "Neighborhood preservation in nonlinear projection
/// methods: an experimental study", ICANN 2001) penalises points that are near in the embedding
/// but far in the original space:
///
///     T(k) = 1 − 2 / (n k (2n − 3k − 1)) · Σᵢ Σ_{j ∈ Uᵢᵏ} (r(i, j) − k)
///
/// where Uᵢᵏ are the `k` nearest neighbours of `i` in the embedding that are not among its `k`
/// nearest in the original space, and r(i, j) is the rank of `j` among the neighbours of `i` in
/// the original space (the nearest other point has rank 1). T = 1 when every embedded
/// neighbourhood is an original one; random embeddings score about 0.5. This is scikit-learn's
/// `sklearn.manifold.trustworthiness` with the Euclidean metric; equal distances are ranked by
/// index.
enum Trustworthiness {
  /// The trustworthiness T(k) of `embedding` as a projection of `original`.
  ///
  /// Memory stays bounded: the original distances are computed a block of rows at a time (GEMM,
  /// see `NearestNeighbors.exact`), and for each row only the ranks of its `k` embedded
  /// neighbours are counted, one pass over the row each.
  ///
  /// - Parameters:
  ///   - original: the data, `[n, d]`.
  ///   - embedding: its projection, `[n, e]` (any `e`, usually 2).
  ///   - k: the neighbourhood size (default 10, as in the t-SNE and UMAP results).
  ///   - isCancelled: checked before every block of rows; when it returns true the score stops
  ///     there and is meaningless (the caller checks `isCancelled` again and throws).
  /// - Returns: T(k), at most 1.
  /// - Precondition: same number of rows, and `1 ≤ k < n / 2`.
  /// - Complexity: O(n² (d + k)) time, O(n · b) memory for blocks of b rows.
  static func score(
    original: Tensor, embedding: Tensor, k: Int = 10, isCancelled: () -> Bool = { false }
  ) -> Double {
    let n = original.rows
    precondition(embedding.rows == n, "the embedding has \(embedding.rows) rows, the data \(n)")
    precondition(k >= 1 && 2 * k < n, "trustworthiness needs 1 ≤ k < n/2, not k = \(k), n = \(n)")
    let embedded = NearestNeighbors.exact(embedding, k: k)
    var penalty = 0
    var kthDistances = [Float](repeating: 0, count: k)
    var kthIndices = [Int](repeating: 0, count: k)
    PairwiseSquaredDistances(original).forEachRow(isCancelled: isCancelled) { i, row in
      row[i] = .infinity
      // The k-th original neighbour: embedded neighbours up to it have rank ≤ k and cost
      // nothing, so only the others are ranked.
      NearestNeighbors.smallest(
        k, of: UnsafeBufferPointer(row), excluding: i, distances: &kthDistances,
        indices: &kthIndices)
      let kthDistance = kthDistances[k - 1], kthIndex = kthIndices[k - 1]
      for j in embedded.neighbors(of: i)
      where NearestNeighbors.precedes(kthDistance, kthIndex, row[j], j) {
        let rank = 1 + rankBelow(row, threshold: row[j], index: j)
        if rank > k { penalty += rank - k }
      }
    }
    let nd = Double(n), kd = Double(k)
    return 1 - 2 / (nd * kd * (2 * nd - 3 * kd - 1)) * Double(penalty)
  }

  /// The number of entries that come before (threshold, index) in (distance, index) order.
  ///
  /// Branch-free counts in four lanes, so the loop vectorises.
  private static func rankBelow(
    _ row: UnsafeMutableBufferPointer<Float>, threshold: Float, index: Int
  ) -> Int {
    var c0 = 0, c1 = 0, c2 = 0, c3 = 0
    var equal = 0
    var l = 0
    let n = row.count
    while l + 4 <= n {
      let a = row[l], b = row[l + 1], c = row[l + 2], d = row[l + 3]
      c0 &+= a < threshold ? 1 : 0
      c1 &+= b < threshold ? 1 : 0
      c2 &+= c < threshold ? 1 : 0
      c3 &+= d < threshold ? 1 : 0
      equal &+= (a == threshold ? 1 : 0) &+ (b == threshold ? 1 : 0)
      equal &+= (c == threshold ? 1 : 0) &+ (d == threshold ? 1 : 0)
      l += 4
    }
    while l < n {
      c0 &+= row[l] < threshold ? 1 : 0
      equal &+= row[l] == threshold ? 1 : 0
      l += 1
    }
    // Ties other than the entry itself are rare: rank them by index only when present.
    if equal > 1 {
      for m in 0..<index where row[m] == threshold { c0 += 1 }
    }
    return (c0 + c1) + (c2 + c3)
  }
}
