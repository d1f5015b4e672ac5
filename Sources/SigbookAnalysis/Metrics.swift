import Foundation

/// Scores that compare a clustering with the true labels, and a classifier's scores with the
/// truth: purity, normalised mutual information, adjusted Rand index, AUROC, confusion matrix.
///
/// Labels are any integers (only equality matters) except in the confusion matrix, whose rows and
/// columns are the labels themselves. Everything is computed in Double and follows
/// scikit-learn's definitions and special cases, so the numbers can be compared with it.
public enum Metrics {
  /// The purity of a clustering: each cluster counts its most frequent true label,
  /// `purity = Σ_c max_t n(c, t) / n`.
  ///
  /// 1 when every cluster holds one label only; with one cluster, the share of the largest class.
  /// (Manning, Raghavan and Schütze, "Introduction to Information Retrieval", 2008, §16.3.)
  ///
  /// - Parameters:
  ///   - clusters: the cluster of each point.
  ///   - labels: the true label of each point.
  /// - Precondition: both have the same, non-zero length.
  static func purity(clusters: [Int], labels: [Int]) -> Double {
    precondition(!labels.isEmpty, "purity of no points")
    let table = Contingency(labels, clusters)
    var total = 0
    for c in 0..<table.columns {
      var best = 0
      for t in 0..<table.rows { best = max(best, table[t, c]) }
      total += best
    }
    return Double(total) / Double(labels.count)
  }

  /// The normalised mutual information of two labelings, with the arithmetic mean of the
  /// entropies as normaliser: `NMI = I(U; V) / ((H(U) + H(V)) / 2)`.
  ///
  /// `I(U; V) = Σᵢⱼ (nᵢⱼ/n) · ln(n·nᵢⱼ / (aᵢ·bⱼ))`, `H(U) = −Σᵢ (aᵢ/n) · ln(aᵢ/n)` (Strehl and
  /// Ghosh, "Cluster ensembles", JMLR 3, 2002; Vinh, Epps and Bailey, JMLR 11, 2010). Symmetric,
  /// in [0, 1], independent of the logarithm's base. As scikit-learn's
  /// `normalized_mutual_info_score` (default `average_method="arithmetic"`): 1 when both labelings
  /// are a single cluster (or empty), 0 when the mutual information is 0.
  ///
  /// - Precondition: both have the same length.
  static func normalizedMutualInformation(_ u: [Int], _ v: [Int]) -> Double {
    let table = Contingency(u, v)
    if table.rows == table.columns && table.rows <= 1 { return 1 }
    let n = Double(table.total)
    var mi = 0.0
    for i in 0..<table.rows {
      for j in 0..<table.columns where table[i, j] > 0 {
        let nij = Double(table[i, j])
        let expected = Double(table.rowSums[i]) * Double(table.columnSums[j])
        mi += nij / n * Foundation.log(n * nij / expected)
      }
    }
    mi = max(mi, 0)
    // Below rounding level the mutual information is zero, as in scikit-learn.
    if mi < 1e-15 { return 0 }
    let normaliser = (entropy(table.rowSums, total: n) + entropy(table.columnSums, total: n)) / 2
    return min(1, mi / normaliser)
  }

  /// The adjusted Rand index of two labelings (Hubert and Arabie, "Comparing partitions",
  /// J. Classification 2, 1985): the Rand index corrected for chance, 1 for identical partitions,
  /// about 0 for independent ones, negative below chance.
  ///
  /// Computed from the pair-confusion counts as scikit-learn does:
  /// `ARI = 2·(tp·tn − fn·fp) / ((tp + fn)·(fn + tn) + (tp + fp)·(fp + tn))`, where `tp` counts
  /// pairs together in both labelings, `tn` pairs apart in both, `fp` and `fn` the disagreements;
  /// 1 when there are no disagreements (identical partitions, or no points).
  ///
  /// - Precondition: both have the same length.
  static func adjustedRandIndex(_ u: [Int], _ v: [Int]) -> Double {
    let table = Contingency(u, v)
    let n = Double(table.total)
    var sumSquares = 0.0
    for i in 0..<table.rows {
      for j in 0..<table.columns {
        let nij = Double(table[i, j])
        sumSquares += nij * nij
      }
    }
    let rowSquares = table.rowSums.reduce(0.0) { $0 + Double($1) * Double($1) }
    let columnSquares = table.columnSums.reduce(0.0) { $0 + Double($1) * Double($1) }
    // Ordered pairs (each pair counted twice; the factor cancels).
    let tp = sumSquares - n
    let fp = columnSquares - sumSquares
    let fn = rowSquares - sumSquares
    let tn = n * n - fp - fn - sumSquares
    if fn == 0 && fp == 0 { return 1 }
    return 2 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))
  }

  /// The area under the ROC curve of scores that should be higher for positives.
  ///
  /// The Mann–Whitney statistic (Hanley and McNeil, Radiology 143, 1982):
  /// `AUROC = (R₊ − n₊(n₊ + 1)/2) / (n₊·n₋)` with `R₊` the sum of the positives' ranks among all
  /// scores, tied scores sharing their mean rank. Equivalently, the probability that a random
  /// positive scores above a random negative, ties counting ½.
  ///
  /// - Parameters:
  ///   - scores: one score per item; higher means "more positive".
  ///   - isPositive: whether each item is a positive.
  /// - Returns: a value in [0, 1], or `nil` when there are no positives or no negatives.
  /// - Precondition: same lengths; no score is NaN.
  /// - Complexity: O(n log n).
  static func auroc(scores: [Double], isPositive: [Bool]) -> Double? {
    precondition(
      scores.count == isPositive.count, "\(scores.count) scores, \(isPositive.count) labels")
    precondition(!scores.contains { $0.isNaN }, "AUROC of NaN scores")
    let positives = isPositive.reduce(0) { $0 + ($1 ? 1 : 0) }
    let negatives = scores.count - positives
    guard positives > 0, negatives > 0 else { return nil }
    let order = scores.indices.sorted { scores[$0] < scores[$1] }
    var rankSum = 0.0
    var start = 0
    while start < order.count {
      var end = start + 1
      while end < order.count && scores[order[end]] == scores[order[start]] { end += 1 }
      // Ranks start + 1 ... end share their mean.
      let meanRank = Double(start + 1 + end) / 2
      for r in start..<end where isPositive[order[r]] { rankSum += meanRank }
      start = end
    }
    let p = Double(positives)
    return (rankSum - p * (p + 1) / 2) / (p * Double(negatives))
  }

  /// Average precision (scikit-learn's `average_precision_score`): Σₙ (Rₙ − Rₙ₋₁) Pₙ over the
  /// distinct scores from the highest down, Pₙ and Rₙ the precision and recall of calling
  /// positive every item scored at least the n-th threshold (tied scores enter together).
  ///
  /// - Returns: a value in [0, 1], or nil when there are no positives.
  /// - Precondition: same lengths; no score is NaN.
  static func averagePrecision(scores: [Double], isPositive: [Bool]) -> Double? {
    precondition(
      scores.count == isPositive.count, "\(scores.count) scores, \(isPositive.count) labels")
    precondition(!scores.contains { $0.isNaN }, "average precision of NaN scores")
    let positives = isPositive.reduce(0) { $0 + ($1 ? 1 : 0) }
    guard positives > 0 else { return nil }
    let order = scores.indices.sorted { scores[$0] > scores[$1] }
    var truePositives = 0, called = 0, recall = 0.0, sum = 0.0
    var start = 0
    while start < order.count {
      var end = start
      while end < order.count && scores[order[end]] == scores[order[start]] {
        if isPositive[order[end]] { truePositives += 1 }
        end += 1
      }
      called = end
      let newRecall = Double(truePositives) / Double(positives)
      sum += (newRecall - recall) * Double(truePositives) / Double(called)
      recall = newRecall
      start = end
    }
    return sum
  }

  /// The false positive rate of novelty detection at a 95% true positive rate, as OpenOOD
  /// reports it: with the known inputs as positives and −score as their confidence, the
  /// fraction of novel inputs accepted as known at the first threshold (from the most
  /// confident down, ties together) that accepts at least 95% of the known ones.
  ///
  /// - Returns: a value in [0, 1], or nil when either group is empty.
  /// - Precondition: no score is NaN.
  static func falsePositiveRateAt95(normal: [Double], novel: [Double]) -> Double? {
    precondition(!(normal + novel).contains { $0.isNaN }, "FPR of NaN scores")
    guard !normal.isEmpty, !novel.isEmpty else { return nil }
    let scores = normal + novel
    // Most confident first: the lowest novelty scores.
    let order = scores.indices.sorted { scores[$0] < scores[$1] }
    var accepted = 0, wrongly = 0, start = 0
    while start < order.count {
      var end = start
      while end < order.count && scores[order[end]] == scores[order[start]] {
        if order[end] < normal.count { accepted += 1 } else { wrongly += 1 }
        end += 1
      }
      if Double(accepted) / Double(normal.count) >= 0.95 {
        return Double(wrongly) / Double(novel.count)
      }
      start = end
    }
    return 1
  }

  /// The confusion matrix: `matrix[t][p]` counts the items of true class `t` predicted as `p`.
  ///
  /// - Parameters:
  ///   - labels: the true class of each item, in `0 ..< classes`.
  ///   - predictions: the predicted class of each item, in `0 ..< classes`.
  ///   - classes: the number of classes; by default one more than the largest label or prediction.
  /// - Returns: `classes` rows of `classes` counts.
  /// - Precondition: same lengths; every label and prediction in `0 ..< classes`.
  public static func confusionMatrix(labels: [Int], predictions: [Int], classes: Int? = nil)
    -> [[Int]]
  {
    precondition(
      labels.count == predictions.count,
      "\(labels.count) labels, \(predictions.count) predictions")
    let size = classes ?? (max(labels.max() ?? -1, predictions.max() ?? -1) + 1)
    var matrix = [[Int]](repeating: [Int](repeating: 0, count: size), count: size)
    for (t, p) in zip(labels, predictions) {
      precondition(
        t >= 0 && t < size && p >= 0 && p < size, "class \(t) or \(p) not in 0..<\(size)")
      matrix[t][p] += 1
    }
    return matrix
  }

  /// `−Σ (cᵢ/n) · ln(cᵢ/n)` over the non-zero counts.
  static func entropy(_ counts: [Int], total n: Double) -> Double {
    var h = 0.0
    for c in counts where c > 0 {
      let p = Double(c) / n
      h -= p * Foundation.log(p)
    }
    return h
  }
}

/// The contingency table of two labelings: `table[i, j]` counts the points with the `i`-th
/// distinct value of `u` and the `j`-th of `v` (values in sorted order).
struct Contingency {
  let rows: Int
  let columns: Int
  let counts: [Int]
  let rowSums: [Int]
  let columnSums: [Int]
  var total: Int { rowSums.reduce(0, +) }

  init(_ u: [Int], _ v: [Int]) {
    precondition(u.count == v.count, "labelings of \(u.count) and \(v.count) points")
    let a = DenseLabels(u), b = DenseLabels(v)
    rows = a.count
    columns = b.count
    var counts = [Int](repeating: 0, count: a.count * b.count)
    for (i, j) in zip(a.codes, b.codes) { counts[i * b.count + j] += 1 }
    self.counts = counts
    rowSums = a.sizes
    columnSums = b.sizes
  }

  subscript(i: Int, j: Int) -> Int { counts[i * columns + j] }
}

/// Labels recoded as `0 ..< count` in the order of their sorted values, with the size of each.
struct DenseLabels: Sendable {
  /// The code of each point.
  let codes: [Int]
  /// The number of distinct labels.
  let count: Int
  /// The number of points with each code.
  let sizes: [Int]

  init(_ labels: [Int]) {
    guard let low = labels.min(), let high = labels.max() else {
      (codes, count, sizes) = ([], 0, [])
      return
    }
    if high - low <= 4 * labels.count + 64 {
      // A small range (k-means assignments, class labels): a table instead of hashing.
      var present = [Int](repeating: -1, count: high - low + 1)
      for label in labels { present[label - low] = 0 }
      var next = 0
      for slot in present.indices where present[slot] == 0 {
        present[slot] = next
        next += 1
      }
      codes = labels.map { present[$0 - low] }
      count = next
    } else {
      let distinct = Set(labels).sorted()
      var index: [Int: Int] = [:]
      for (code, label) in distinct.enumerated() { index[label] = code }
      codes = labels.map { index[$0] ?? 0 }
      count = distinct.count
    }
    var sizes = [Int](repeating: 0, count: count)
    for c in codes { sizes[c] += 1 }
    self.sizes = sizes
  }
}
