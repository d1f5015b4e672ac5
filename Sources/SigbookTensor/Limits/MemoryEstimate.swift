import Foundation

/// Estimates, in bytes, of what operations allocate, computed from sizes known before anything
/// is allocated. Each is the sum of the large buffers of the code that runs (32-bit floats,
/// 64-bit integers and doubles), rounded up; small per-call overheads are left out.
///
/// Arithmetic saturates: an estimate that overflows is `Int.max`, which every limit refuses.
public enum MemoryEstimate {
  /// Bytes of one item of a workbook list: the `Value` (an indirect enum: a pointer to a boxed
  /// payload of about 32 bytes) plus the integer it was made from.
  public static let listItemBytes = 48

  /// The product of `factors`, `Int.max` on overflow (negative factors count as 0).
  public static func product(_ factors: Int...) -> Int { product(factors) }

  /// The product of `factors`, `Int.max` on overflow (negative factors count as 0).
  public static func product(_ factors: [Int]) -> Int {
    DataLimits.product(factors.map { max(0, $0) }) ?? .max
  }

  /// The sum of `terms`, `Int.max` on overflow.
  public static func sum(_ terms: Int...) -> Int { sum(terms) }

  /// The sum of `terms`, `Int.max` on overflow.
  public static func sum(_ terms: [Int]) -> Int {
    var total = 0
    for t in terms {
      let (s, overflow) = total.addingReportingOverflow(max(0, t))
      if overflow { return .max }
      total = s
    }
    return total
  }

  /// A model's parameters as 32-bit floats: `4·p`.
  static func model(parameters: Int) -> Int { product(4, parameters) }

  /// A list of `count` numbers made from a range: `48·count`.
  public static func list(count: Int) -> Int { product(listItemBytes, count) }

  /// A dataset of `n` inputs of `features` values: the floats and one 64-bit label each.
  public static func dataset(n: Int, features: Int) -> Int {
    sum(product(4, n, features), product(8, n))
  }

  /// `n` signatures of hidden widths `widths`: `4·n·Σwidths` plus labels and predictions.
  public static func signatures(n: Int, widths: [Int]) -> Int {
    sum(product(4, n, sum(widths)), product(16, n))
  }

  /// PCA of `n` points of `d` features: a centred copy (`4·n·d`), the projection, and the
  /// `d × d` covariance with its eigen-decomposition in doubles (about four `d²` arrays).
  public static func pca(n: Int, d: Int, dims: Int) -> Int {
    sum(product(4, n, d), product(4, n, dims), product(32, d, d))
  }

  /// k-nearest neighbours of `n` points of `d` features: indices and distances (`12·n·k`),
  /// blocks of distances (about 2²⁰ at once) and a copy of the points.
  public static func neighbours(n: Int, d: Int, k: Int) -> Int {
    sum(product(12, n, k), product(4, 1 << 20), product(4, n, d))
  }

  /// t-SNE of `n` points: `3·perplexity` neighbours each (indices, conditional and joint
  /// probabilities: about 40 bytes a pair with the symmetrised copy), the neighbour search, and
  /// the layout's gradients, gains and tree (about 200 bytes a point).
  public static func tsne(n: Int, d: Int, perplexity: Double) -> Int {
    let k = min(max(n - 1, 0), Int(min(3 * max(perplexity, 0), 1e9).rounded(.up)))
    return sum(neighbours(n: n, d: d, k: k), product(40, n, k), product(200, n))
  }

  /// UMAP of `n` points: the neighbour graph and its reverse edges (about 44 bytes an edge
  /// beyond the search) and the layout.
  public static func umap(n: Int, d: Int, neighbors: Int) -> Int {
    let k = min(max(n - 1, 0), max(neighbors, 0))
    return sum(neighbours(n: n, d: d, k: k), product(44, n, k), product(64, n))
  }

  /// Silhouettes of clusterings with `ks` clusters of `n` points (or of a sample of `n`): the
  /// one-hot matrix (`4·n·Σk`), blocks of up to 1,024 rows of distances, and a centred copy.
  static func silhouette(n: Int, d: Int, ks: [Int]) -> Int {
    let block = min(n, 1024)
    return sum(product(4, n, sum(ks)), product(4, block, n), product(4, n, d), product(16, n))
  }

  /// k-means of `n` points of `d` features for each k of `ks`, then the silhouettes of `sample`
  /// of them (all when nil): assignments, seeding distances and centres, and ``silhouette``.
  public static func kmeans(n: Int, d: Int, ks: [Int], sample: Int?) -> Int {
    let seeding = product(4, 2 + Int(log(Double(max(ks.max() ?? 1, 1)))), n)
    let centres = product(4, ks.max() ?? 0, d)
    let scored = silhouette(n: min(n, sample ?? n), d: d, ks: ks)
    return sum(product(16, n), seeding, centres, product(4, n, d), scored)
  }

  /// A grid of `count` images of `pixels` each: the grey images (`4·pixels`) and their
  /// embedded PNG in base64 text (at most about 3 bytes a pixel).
  public static func images(count: Int, pixels: Int) -> Int {
    product(8, count, pixels)
  }

  /// Reading a file of `size` bytes that expands `expansion` times once parsed (the bytes read
  /// plus the values made from them).
  static func file(size: Int, expansion: Int) -> Int {
    product(size, 1 + expansion)
  }
}
