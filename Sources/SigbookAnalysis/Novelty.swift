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
  /// The smallest squared Mahalanobis distance to a class mean less the squared distance to
  /// the mean of all reference signatures under their own covariance (Ren et al. 2021).
  case relative_mahalanobis
  /// 1 − the network's top softmax probability (MSP): the usual baseline (Hendrycks and
  /// Gimpel, 2017).
  case softmax
  /// − the largest logit (Hendrycks et al. 2022).
  case max_logit
  /// The energy −log Σ exp(logits) (Liu et al. 2020).
  case energy
  /// Virtual-logit matching (Wang et al. 2022): the norm of the features the classifier head
  /// reads outside their principal subspace, scaled to the logits, less log Σ exp(logits).
  case vim

  /// Whether the method reads the network's outputs rather than its signatures.
  public var readsOutputs: Bool { [.softmax, .max_logit, .energy, .vim].contains(self) }
}

/// Novelty scores of normal and novel inputs, per signature layer and for all layers together,
/// with the AUROC of telling them apart.
public struct NoveltyResult: Sendable {
  /// The scores of one layer (or of all layers, or of the network's output).
  public struct Row: Sendable {
    public var name: String
    var dimensions: Int
    public var normalScores: [Double]
    public var novelScores: [Double]
    /// AUROC with novel inputs as positives (0.5 is chance, 1 perfect).
    public var auroc: Double?
    /// Average precision with novel inputs as positives (AUPR-Out).
    public var aupr: Double?
    /// The fraction of novel inputs taken for known ones when 95% of the known are (FPR95).
    public var fpr95: Double?

    /// A row of scores and their measures.
    init(name: String, dimensions: Int, normalScores: [Double], novelScores: [Double]) {
      self.name = name
      self.dimensions = dimensions
      self.normalScores = normalScores
      self.novelScores = novelScores
      let labels =
        [Bool](repeating: false, count: normalScores.count)
        + [Bool](repeating: true, count: novelScores.count)
      let all = normalScores + novelScores
      if all.allSatisfy({ !$0.isNaN }) {
        auroc = Metrics.auroc(scores: all, isPositive: labels)
        aupr = Metrics.averagePrecision(scores: all, isPositive: labels)
        fpr95 = Metrics.falsePositiveRateAt95(normal: normalScores, novel: novelScores)
      }
    }
  }

  public var method: NoveltyMethod
  public var rows: [Row]
  /// The row declared before the scores were seen, whose figures are the result's: a layer
  /// (`H2`), or nil for the last row (all layers together, or the network's output).
  var declared: String?
  /// When the declared row was chosen on a validation split (known and novel inputs apart from
  /// those scored here): its AUROC there.
  var validationAUROC: Double?
  /// The class name of each normal input, in the order scored: what `where(data, novelty:)`
  /// checks its data against.
  var normalLabels: [String] = []
  /// The class name of each novel input, in the order scored.
  var novelLabels: [String] = []

  /// The result with its headline row chosen on `validation`, the same method's scores of other
  /// known and novel inputs: the row of highest AUROC there (the first of equals), never a
  /// choice made on the inputs scored here.
  ///
  /// - Precondition: `validation` scored the same rows (the same network and method).
  public func choosingRow(on validation: NoveltyResult) -> NoveltyResult {
    var chosen = self
    guard
      let pick = validation.rows.enumerated().max(by: { a, b in
        (a.element.auroc ?? -1, b.offset) < (b.element.auroc ?? -1, a.offset)
      })?.element, rows.contains(where: { $0.name == pick.name })
    else { return chosen }
    chosen.declared = pick.name
    chosen.validationAUROC = pick.auroc
    return chosen
  }

  /// The row of highest AUROC: chosen on the very inputs it is scored on, so not a result.
  public var best: Row? { rows.max { ($0.auroc ?? 0) < ($1.auroc ?? 0) } }

  /// The row declared before scoring (`declared`), else the last: the result's headline.
  public var headline: Row? { rows.first { $0.name == declared } ?? rows.last }

  /// One row per layer: its width, AUROC, AUPR, FPR95 and the mean score of normal and novel
  /// inputs; the title names the declared row.
  public var table: Table {
    func cell(_ x: Double?) -> Table.Cell { x.map { .number($0) } ?? .empty }
    return Table(
      title: "novelty by \(method.rawValue): telling novel from normal inputs"
        + (headline.map { row in
          let name = row.name == "all" ? "all layers together" : row.name
          return validationAUROC.map {
            "; chosen on the validation split: \(name) (validation AUROC \(NumberFormat.display($0)))"
          } ?? "; declared: \(name)"
        } ?? ""),
      columns: ["layer", "width", "auroc", "aupr", "fpr95", "normal_mean", "novel_mean"],
      rows: rows.map { row in
        [
          .text(row.name), .number(Double(row.dimensions)), cell(row.auroc), cell(row.aupr),
          cell(row.fpr95), .number(mean(row.normalScores)), .number(mean(row.novelScores)),
        ]
      })
  }

  /// Every input's score in each row: the normal inputs then the novel ones, their group and
  /// class, a column per row.
  public var scoreTable: Table {
    let groups =
      normalLabels.map { ("normal", $0) } + novelLabels.map { ("novel", $0) }
    return Table(
      title:
        "novelty scores by \(method.rawValue) of \(normalLabels.count) normal and \(novelLabels.count) novel inputs (higher is more unusual)",
      columns: ["input", "group", "label"] + rows.map(\.name),
      rows: groups.enumerated().map { i, group in
        let index = i < normalLabels.count ? i : i - normalLabels.count
        return [.number(Double(index)), .text(group.0), .text(group.1)]
          + rows.map { row in
            .number(i < normalLabels.count ? row.normalScores[i] : row.novelScores[index])
          }
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
    probabilities: (normal: Tensor, novel: Tensor)? = nil,
    logits: (normal: Tensor, novel: Tensor)? = nil,
    vim: (
      fit: VirtualLogit, normal: (features: Tensor, logits: Tensor),
      novel: (features: Tensor, logits: Tensor)
    )? = nil,
    declared: Int? = nil,
    isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) {
    self.method = method
    self.declared = declared.map { "H\($0)" }
    normalLabels = normal.labels.map { normal.classNames[$0] }
    novelLabels = novel.labels.map { novel.classNames[$0] }
    if method == .vim {
      guard let vim else {
        throw .invalidArgument("the vim score needs the features and logits of a classifier")
      }
      rows = [
        Row(
          name: "output", dimensions: vim.normal.features.rowSize,
          normalScores: vim.fit.scores(vim.normal.features, logits: vim.normal.logits),
          novelScores: vim.fit.scores(vim.novel.features, logits: vim.novel.logits))
      ]
      self.declared = nil
      return
    }
    if method.readsOutputs {
      let outputs = method == .softmax ? probabilities : logits
      guard let outputs else {
        throw .invalidArgument("the \(method.rawValue) score needs a classifier's outputs")
      }
      let score: (Tensor) -> [Double] =
        switch method {
        case .softmax: Self.softmaxScores
        case .max_logit: Self.maxLogitScores
        default: Self.energyScores
        }
      rows = [
        Row(
          name: "output", dimensions: outputs.normal.rowSize, normalScores: score(outputs.normal),
          novelScores: score(outputs.novel))
      ]
      self.declared = nil
      return
    }
    let numbers = reference.layerNumbers
    if let declared, !numbers.contains(declared) {
      throw .invalidArgument(
        "layer: the signatures have layers \(numbers.lowerBound) to \(numbers.upperBound), not \(declared)"
      )
    }
    var rows: [Row] = []
    let count = reference.layers.count
    // "all" joins the network's layers: the inputs (H0), when included, are a baseline row only.
    let hidden = reference.includesInput ? 1 : 0
    for i in 0...count where count > 0 {
      let all = i == count
      if all && count - hidden <= 1 { break }
      if isCancelled() { throw .cancelled }
      func pick(_ s: SignatureSet) -> Tensor {
        all ? Self.joined(Array(s.layers[hidden...]), normalise: method == .knn) : s.layers[i]
      }
      let (r, n, v) = (pick(reference), pick(normal), pick(novel))
      let (normalScores, novelScores) = try Self.scores(
        method: method, reference: r, referenceLabels: reference.labels,
        classes: reference.classNames.count, queries: [n, v], neighbours: neighbours, seed: seed,
        isCancelled: isCancelled)
      if isCancelled() { throw .cancelled }
      rows.append(
        Row(
          name: all ? "all" : "H\(i + reference.firstLayerNumber)", dimensions: r.rowSize,
          normalScores: normalScores,
          novelScores: novelScores))
    }
    self.rows = rows
  }

  /// − the largest logit of each row; for one output (the logit of class 1 against 0),
  /// − max(z, 0).
  static func maxLogitScores(_ logits: Tensor) -> [Double] {
    let d = logits.rowSize
    return (0..<logits.rows).map { i in
      let row = (0..<d).map { Double(logits[flat: i * d + $0]) } + (d == 1 ? [0] : [])
      return -(row.max() ?? 0)
    }
  }

  /// The energy −log Σⱼ exp(zⱼ) of each row of logits (temperature 1); for one output, of
  /// [0, z].
  static func energyScores(_ logits: Tensor) -> [Double] {
    let d = logits.rowSize
    return (0..<logits.rows).map { i in
      let row = (0..<d).map { Double(logits[flat: i * d + $0]) } + (d == 1 ? [0] : [])
      let top = row.max() ?? 0
      return -(top + log(row.reduce(0) { $0 + exp($1 - top) }))
    }
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
      let project = randomProjection(width: reference.rowSize, seed: seed)
      let whitening = try Whitening(
        reference: project(reference), labels: referenceLabels, classes: classes)
      results = queries.map { whitening.scores(project($0)) }
    case .relative_mahalanobis:
      let project = randomProjection(width: reference.rowSize, seed: seed)
      let projected = project(reference)
      let classWise = try Whitening(reference: projected, labels: referenceLabels, classes: classes)
      let global = try Whitening(
        reference: projected, labels: [Int](repeating: 0, count: projected.rows), classes: 1)
      results = queries.map { q in
        let x = project(q)
        return zip(classWise.squaredScores(x), global.squaredScores(x)).map { $0 - $1 }
      }
    case .softmax, .max_logit, .energy, .vim:
      throw .invalidArgument("\(method.rawValue) scores come from the network's outputs")
    }
    return (results[0], results[1])
  }

  /// The Mahalanobis scores' reduction of wide layers: above 512 features, a seeded Gaussian
  /// projection to 512 (distances kept in expectation); else the rows as they are.
  static func randomProjection(width: Int, seed: Int) -> (Tensor) -> Tensor {
    guard width > 512 else { return { $0.flattenedRows } }
    var g = SeededGenerator(seed: seed)
    let projection = Tensor.normal(
      shape: [width, 512], standardDeviation: Float(1 / (512.0).squareRoot()), generator: &g)
    return { Tensor.matmul($0.flattenedRows, projection) }
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
  func scores(_ x: Tensor) -> [Double] { squaredScores(x).map { $0.squareRoot() } }

  /// The smallest squared Mahalanobis distance of each row to a class mean.
  func squaredScores(_ x: Tensor) -> [Double] {
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
      return best
    }
  }
}

private func mean(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count) }

/// ViM's fit on the reference inputs (Wang et al. 2022, as OpenOOD computes it): the origin
/// u = −W⁺b at which the logits lose their bias, the directions of the features (less u) outside
/// their `dimensions` principal ones, and α = the mean largest logit over the mean norm of the
/// features in those directions. The novelty score of an input is α‖P⊥(x − u)‖ − log Σ exp(logits).
public struct VirtualLogit: Sendable {
  let origin: [Double]
  /// Row-major `[rest, features]`: the eigenvectors of the smallest eigenvalues.
  let residual: [Double]
  var alpha: Double
  let features: Int

  /// - Parameters:
  ///   - features: `[n, d]`, the reference inputs' features as the classifier head reads them.
  ///   - logits: `[n, classes]`, their logits.
  ///   - weight: the head's `[classes, d]`; bias its `[classes]`.
  ///   - dimensions: the principal subspace kept; by default half the features (at least 1,
  ///     at most d − 1).
  public init(
    features x: Tensor, logits: Tensor, weight: Tensor, bias: Tensor, dimensions: Int? = nil
  ) throws(AnalysisError) {
    let n = x.rows, d = x.rowSize, k = weight.rows
    guard n >= 2, d >= 2 else {
      throw .invalidArgument(
        "vim needs at least 2 reference inputs and 2 features, not \(n) and \(d)")
    }
    guard x.scalars.allSatisfy(\.isFinite), logits.scalars.allSatisfy(\.isFinite) else {
      throw .nonFiniteValues(what: "the features")
    }
    features = d
    // u = −Wᵀ(WWᵀ)⁻¹b: the least-norm solution of W·u = −b (Gauss–Jordan on WWᵀ, pivoting).
    let w = weight.scalars.map(Double.init), b = bias.scalars.map(Double.init)
    var gram = [Double](repeating: 0, count: k * (k + 1))
    for i in 0..<k {
      for j in 0..<k {
        var s = 0.0
        for f in 0..<d { s += w[i * d + f] * w[j * d + f] }
        gram[i * (k + 1) + j] = s
      }
      gram[i * (k + 1) + k] = -b[i]
    }
    for c in 0..<k {
      var pivot = c
      for r in c..<k where abs(gram[r * (k + 1) + c]) > abs(gram[pivot * (k + 1) + c]) { pivot = r }
      guard abs(gram[pivot * (k + 1) + c]) > 1e-12 else {
        throw .invalidArgument(
          "the classifier's weights are not of full rank; vim cannot place its origin")
      }
      if pivot != c {
        for j in 0...k { gram.swapAt(c * (k + 1) + j, pivot * (k + 1) + j) }
      }
      let p = gram[c * (k + 1) + c]
      for j in 0...k { gram[c * (k + 1) + j] /= p }
      for r in 0..<k where r != c {
        let f = gram[r * (k + 1) + c]
        if f != 0 { for j in 0...k { gram[r * (k + 1) + j] -= f * gram[c * (k + 1) + j] } }
      }
    }
    let y = (0..<k).map { gram[$0 * (k + 1) + k] }
    origin = (0..<d).map { f in (0..<k).reduce(0.0) { $0 + w[$1 * d + f] * y[$1] } }
    // The covariance of x − u (not centred further, as OpenOOD's assume_centered).
    var covariance = [Double](repeating: 0, count: d * d)
    let values = x.scalars
    var row = [Double](repeating: 0, count: d)
    for i in 0..<n {
      for f in 0..<d { row[f] = Double(values[i * d + f]) - origin[f] }
      for a in 0..<d { for c in 0...a { covariance[a * d + c] += row[a] * row[c] } }
    }
    for a in 0..<d {
      for c in 0...a {
        covariance[a * d + c] /= Double(n)
        covariance[c * d + a] = covariance[a * d + c]
      }
    }
    let eigen = SymmetricEigen(symmetric: covariance, size: d)
    let kept = min(max(dimensions ?? d / 2, 1), d - 1)
    residual = Array(eigen.vectors[(kept * d)...])
    alpha = 1
    let norms = residualNorms(x)
    let l = logits.rowSize
    var top = 0.0
    for i in 0..<n {
      var m = -Double.infinity
      for j in 0..<l { m = max(m, Double(logits.scalars[i * l + j])) }
      top += m
    }
    let meanNorm = norms.reduce(0, +) / Double(n)
    self.alpha = meanNorm > 0 ? (top / Double(n)) / meanNorm : 1
  }

  /// ‖P⊥(x − u)‖ for each row, unscaled.
  func residualNorms(_ x: Tensor) -> [Double] {
    let d = features, rest = residual.count / max(d, 1)
    return (0..<x.rows).map { i in
      var sum = 0.0
      for r in 0..<rest {
        var dot = 0.0
        for f in 0..<d { dot += residual[r * d + f] * (Double(x.scalars[i * d + f]) - origin[f]) }
        sum += dot * dot
      }
      return sum.squareRoot()
    }
  }

  /// α‖P⊥(x − u)‖ − log Σ exp(logits) for each row: higher is more unusual.
  func scores(_ x: Tensor, logits: Tensor) -> [Double] {
    let energy = NoveltyResult.energyScores(logits)
    return zip(residualNorms(x), energy).map { alpha * $0 + $1 }
  }
}
