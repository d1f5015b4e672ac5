import Foundation
import SigbookTensor
import SigbookData

/// How unusual a signature is, measured against the signatures of reference inputs.
public enum NoveltyMethod: String, Sendable, CaseIterable {
  /// Distance to the k-th nearest reference signature, signatures L2-normalised first (Sun et
  /// al. 2022, "Out-of-distribution detection with deep nearest neighbors").
  case knn
  /// Distance to the nearest k-means centre of the reference signatures (k = the reference's
  /// number of classes).
  case centroid
  /// Smallest Mahalanobis distance to a class mean, with one covariance shared by the classes,
  /// shrunk towards a multiple of the identity (Lee et al. 2018).
  case mahalanobis
  /// 1 − the network's top softmax probability: the usual baseline (Hendrycks and Gimpel, 2017).
  case softmax
}

/// Novelty scores of normal and novel inputs, per signature layer and for all layers together,
/// with the AUROC of telling them apart.
public struct NoveltyResult: Sendable {
  /// The scores of one layer (or of all layers, or of the network's output).
  public struct Row: Sendable {
    public var name: String
    public var dimensions: Int
    public var normalScores: [Double]
    public var novelScores: [Double]
    /// AUROC with novel inputs as positives (0.5 is chance, 1 perfect).
    public var auroc: Double?
  }

  public var method: NoveltyMethod
  public var rows: [Row]
  /// The class name of each normal input, in the order scored: what `where(data, novelty:)`
  /// checks its data against.
  var normalLabels: [String] = []
  /// The class name of each novel input, in the order scored.
  var novelLabels: [String] = []

  /// The row of highest AUROC.
  public var best: Row? { rows.max { ($0.auroc ?? 0) < ($1.auroc ?? 0) } }

  /// One row per layer: its width, the AUROC and the mean score of normal and novel inputs.
  public var table: Table {
    Table(
      title: "novelty by \(method.rawValue): AUROC of telling novel from normal inputs"
        + (best.map { " (best: \($0.name))" } ?? ""),
      columns: ["layer", "width", "auroc", "normal mean", "novel mean"],
      rows: rows.map { row in
        [
          .text(row.name), .number(Double(row.dimensions)), row.auroc.map { .number($0) } ?? .empty,
          .number(mean(row.normalScores)), .number(mean(row.novelScores)),
        ]
      })
  }

  /// Scores every layer of `normal` and `novel` signatures against `reference` ones.
  ///
  /// - Parameters:
  ///   - neighbours: the k of `.knn`.
  ///   - seed: seeds k-means (`.centroid`) and the random projection of wide layers
  ///     (`.mahalanobis` above 512 dimensions).
  ///   - isCancelled: checked before every layer and every block of 512 queries; when it returns
  ///     true, scoring stops with `.cancelled`.
  ///   - probabilities: for `.softmax`, the network's class probabilities for the normal and
  ///     the novel inputs (`Model.probabilities(ofOutputs:)`: never logits).
  /// - Precondition: the three signature sets come from the same network; `.softmax` needs
  ///   `probabilities`.
  public init(
    method: NoveltyMethod, reference: SignatureSet, normal: SignatureSet, novel: SignatureSet,
    neighbours: Int = 5, seed: Int = 0,
    probabilities: (normal: Tensor, novel: Tensor)? = nil, isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) {
    self.method = method
    normalLabels = normal.labels.map { normal.classNames[$0] }
    novelLabels = novel.labels.map { novel.classNames[$0] }
    if method == .softmax {
      guard let probabilities else {
        throw .invalidArgument("the softmax score needs a classifier's outputs")
      }
      let normalScores = Self.softmaxScores(probabilities.normal)
      let novelScores = Self.softmaxScores(probabilities.novel)
      rows = [
        Row(
          name: "output", dimensions: probabilities.normal.rowSize, normalScores: normalScores,
          novelScores: novelScores, auroc: Self.auroc(normal: normalScores, novel: novelScores))
      ]
      return
    }
    var rows: [Row] = []
    let count = reference.layers.count
    for i in 0...count where count > 0 {
      let all = i == count
      if all && count == 1 { break }
      if isCancelled() { throw .cancelled }
      func pick(_ s: SignatureSet) -> Tensor {
        all ? Self.joined(s.layers, normalise: method == .knn) : s.layers[i]
      }
      let (r, n, v) = (pick(reference), pick(normal), pick(novel))
      let (normalScores, novelScores) = try Self.scores(
        method: method, reference: r, referenceLabels: reference.labels,
        classes: reference.classNames.count, queries: [n, v], neighbours: neighbours, seed: seed,
        isCancelled: isCancelled)
      if isCancelled() { throw .cancelled }
      rows.append(
        Row(
          name: all ? "all" : "H\(i + 1)", dimensions: r.rowSize, normalScores: normalScores,
          novelScores: novelScores, auroc: Self.auroc(normal: normalScores, novel: novelScores)))
    }
    self.rows = rows
  }

  static func auroc(normal: [Double], novel: [Double]) -> Double? {
    Metrics.auroc(
      scores: normal + novel,
      isPositive: [Bool](repeating: false, count: normal.count)
        + [Bool](repeating: true, count: novel.count))
  }

  /// 1 − the top class probability of each row (MSP), for one output 1 − max(p, 1 − p).
  ///
  /// - Parameter probabilities: `[N, D]` class probabilities, not logits.
  public static func softmaxScores(_ probabilities: Tensor) -> [Double] {
    let d = probabilities.rowSize
    return (0..<probabilities.rows).map { i in
      if d == 1 {
        let p = Double(probabilities[flat: i])
        return 1 - max(p, 1 - p)
      }
      var top: Float = 0
      for j in 0..<d { top = max(top, probabilities[flat: i * d + j]) }
      return 1 - Double(top)
    }
  }

  /// The layers side by side, `[N, Σ widths]`, each row of each layer L2-normalised if asked.
  static func joined(_ layers: [Tensor], normalise: Bool) -> Tensor {
    let n = layers.first?.rows ?? 0
    let widths = layers.map(\.rowSize)
    let total = widths.reduce(0, +)
    return Tensor(shape: [n, total]) { out in
      var offset = 0
      for (layer, w) in zip(layers, widths) {
        let source = normalise ? normalisedRows(layer) : layer
        source.withUnsafeBufferPointer { x in
          for i in 0..<n {
            for j in 0..<w { out[i * total + offset + j] = x[i * w + j] }
          }
        }
        offset += w
      }
    }
  }

  /// Each row divided by its Euclidean norm (zero rows stay zero).
  static func normalisedRows(_ x: Tensor) -> Tensor {
    var y = x.flattenedRows
    let d = y.rowSize
    y.withUnsafeMutableBufferPointer { v in
      for i in 0..<(d == 0 ? 0 : v.count / d) {
        let row = UnsafeMutableBufferPointer(rebasing: v[i * d..<(i + 1) * d])
        var s: Float = 0
        for a in row { s += a * a }
        let scale: Float = s > 0 ? 1 / s.squareRoot() : 0
        for j in row.indices { row[j] *= scale }
      }
    }
    return y
  }

  static func scores(
    method: NoveltyMethod, reference: Tensor, referenceLabels: [Int], classes: Int,
    queries: [Tensor], neighbours: Int, seed: Int, isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) -> ([Double], [Double]) {
    let results: [[Double]]
    switch method {
    case .knn:
      let r = normalisedRows(reference)
      let k = min(neighbours, r.rows)
      guard k >= 1 else { throw .tooFewPoints(points: r.rows, clusters: neighbours) }
      results = queries.map {
        kthNearestDistances(normalisedRows($0), r, k: k, isCancelled: isCancelled)
      }
    case .centroid:
      let fit = try KMeans.fit(
        reference, k: max(1, min(classes, reference.rows)), restarts: 3, seed: seed,
        isCancelled: isCancelled)
      results = queries.map { kthNearestDistances($0.flattenedRows, fit.centres, k: 1) }
    case .mahalanobis:
      var projection: Tensor?
      if reference.rowSize > 512 {
        var g = SeededGenerator(seed: seed)
        projection = Tensor.normal(
          shape: [reference.rowSize, 512], standardDeviation: Float(1 / (512.0).squareRoot()),
          generator: &g)
      }
      func project(_ x: Tensor) -> Tensor {
        projection.map { Tensor.matmul(x.flattenedRows, $0) } ?? x.flattenedRows
      }
      let whitening = try Whitening(
        reference: project(reference), labels: referenceLabels, classes: classes)
      results = queries.map { whitening.scores(project($0)) }
    case .softmax:
      throw .invalidArgument("softmax scores come from the network's outputs")
    }
    return (results[0], results[1])
  }

  /// For each row of `queries`, the Euclidean distance to its k-th nearest row of `reference`
  /// (distances through one GEMM per block of queries). When `isCancelled` returns true before a
  /// block, the result stops there, incomplete (the caller checks it again and throws).
  static func kthNearestDistances(
    _ queries: Tensor, _ reference: Tensor, k: Int, isCancelled: () -> Bool = { false }
  ) -> [Double] {
    let q = queries.rows, m = reference.rows
    let block = 512
    var result: [Double] = []
    result.reserveCapacity(q)
    let referenceNorms = Distances.rowSquaredNorms(reference)
    var start = 0
    while start < q && !isCancelled() {
      let end = min(q, start + block)
      let part = queries.rows(start..<end)
      let queryNorms = Distances.rowSquaredNorms(part)
      var products = Tensor(zeros: [end - start, m])
      products.gemm(part, reference, transposeB: true)
      products.withUnsafeBufferPointer { p in
        var row = [Float](repeating: 0, count: m)
        for i in 0..<(end - start) {
          for j in 0..<m { row[j] = max(0, queryNorms[i] + referenceNorms[j] - 2 * p[i * m + j]) }
          // The k-th smallest by partial selection.
          var kth = row
          kth.withUnsafeMutableBufferPointer { select($0, k - 1) }
          result.append(Double(kth[k - 1]).squareRoot())
        }
      }
      start = end
    }
    return result
  }
}

/// Moves the k-th smallest value (0-based) of `values` to index k (quickselect, deterministic
/// median-of-three pivots).
private func select(_ values: UnsafeMutableBufferPointer<Float>, _ k: Int) {
  var low = 0, high = values.count - 1
  while low < high {
    let mid = (low + high) / 2
    let pivot = max(min(values[low], values[mid]), min(max(values[low], values[mid]), values[high]))
    var i = low, j = high
    while i <= j {
      while values[i] < pivot { i += 1 }
      while values[j] > pivot { j -= 1 }
      if i <= j {
        values.swapAt(i, j)
        i += 1
        j -= 1
      }
    }
    if k <= j { high = j } else if k >= i { low = i } else { return }
  }
}

/// Class means and a shared, shrunk covariance, as a whitening transform: the Mahalanobis
/// distance to a class mean is the Euclidean distance after whitening.
///
/// Σ = (1 − α)·S + α·(tr S / d)·I with α = 0.1, so that Σ is never singular; Σ = L·Lᵀ by
/// Cholesky (Double), and x ↦ L⁻¹x whitens.
struct Whitening {
  let d: Int
  let inverseFactor: [Double]  // L⁻¹, row-major d × d (lower triangular)
  let whitenedMeans: [[Double]]

  init(reference x: Tensor, labels: [Int], classes: Int) throws(AnalysisError) {
    let n = x.rows, d = x.rowSize
    guard n >= 2 else { throw .tooFewPoints(points: n, clusters: 2) }
    self.d = d
    let values = x.scalars
    var means = [[Double]](repeating: [Double](repeating: 0, count: d), count: max(classes, 1))
    var counts = [Int](repeating: 0, count: max(classes, 1))
    for i in 0..<n {
      let c = labels[i]
      counts[c] += 1
      for j in 0..<d { means[c][j] += Double(values[i * d + j]) }
    }
    for c in means.indices where counts[c] > 0 {
      for j in 0..<d { means[c][j] /= Double(counts[c]) }
    }
    // Centred by class, then S = XᶜᵀXᶜ / n through one GEMM.
    let centred = Tensor(shape: [n, d]) { out in
      for i in 0..<n {
        for j in 0..<d { out[i * d + j] = values[i * d + j] - Float(means[labels[i]][j]) }
      }
    }
    let scatter = Tensor.matmul(centred, centred, transposeA: true)
    var sigma = scatter.scalars.map { Double($0) / Double(n) }
    let trace = (0..<d).reduce(0.0) { $0 + sigma[$1 * d + $1] }
    let alpha = 0.1, floor = max(trace / Double(max(d, 1)), 1e-12)
    for i in 0..<d {
      for j in 0..<d { sigma[i * d + j] *= 1 - alpha }
      sigma[i * d + i] += alpha * floor
    }
    // Cholesky: Σ = L·Lᵀ.
    var l = [Double](repeating: 0, count: d * d)
    for i in 0..<d {
      for j in 0...i {
        var s = sigma[i * d + j]
        for k in 0..<j { s -= l[i * d + k] * l[j * d + k] }
        if i == j {
          guard s > 0 else {
            throw .invalidArgument(
              "the covariance of the reference signatures is not positive definite")
          }
          l[i * d + i] = s.squareRoot()
        } else {
          l[i * d + j] = s / l[j * d + j]
        }
      }
    }
    // L⁻¹ by forward substitution, column by column.
    var inverse = [Double](repeating: 0, count: d * d)
    for c in 0..<d {
      for i in c..<d {
        var s = i == c ? 1.0 : 0.0
        for k in c..<i { s -= l[i * d + k] * inverse[k * d + c] }
        inverse[i * d + c] = s / l[i * d + i]
      }
    }
    inverseFactor = inverse
    whitenedMeans = zip(means, counts).filter { $1 > 0 }.map { mean, _ in
      (0..<d).map { i in (0...i).reduce(0.0) { $0 + inverse[i * d + $1] * mean[$1] } }
    }
  }

  /// The smallest Mahalanobis distance of each row to a class mean.
  func scores(_ x: Tensor) -> [Double] {
    let inverse = Tensor(shape: [d, d], scalars: inverseFactor.map(Float.init))
    let whitened = Tensor.matmul(x.flattenedRows, inverse, transposeB: true)
    let values = whitened.scalars
    return (0..<whitened.rows).map { i in
      var best = Double.infinity
      for mean in whitenedMeans {
        var s = 0.0
        for j in 0..<d {
          let e = Double(values[i * d + j]) - mean[j]
          s += e * e
        }
        best = min(best, s)
      }
      return best.squareRoot()
    }
  }
}

private func mean(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count) }
