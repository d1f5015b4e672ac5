import Foundation
import SigbookTensor

/// Greedy k-means++ seeding.
extension KMeans {
  /// Greedy k-means++ seeding: `k` rows of the (centred) data as initial centres, `[k · d]`.
  ///
  /// - Parameter isCancelled: checked before every centre after the first (each costs a GEMM
  ///   over all the points, seconds for a large k on large data); when it returns true the
  ///   seeding stops with `.cancelled`.
  static func seedCentres(
    _ data: KMeansData, k: Int, generator g: inout SeededGenerator,
    isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) -> [Float] {
    let n = data.n, d = data.d
    let trials = 2 + Int(Foundation.log(Double(k)))
    var centres = [Float](repeating: 0, count: k * d)
    var closest = [Float](repeating: 0, count: n)
    var cumulative = [Double](repeating: 0, count: n)
    var candidateRows = [Float](repeating: 0, count: trials * d)
    var candidateNorms = [Float](repeating: 0, count: trials)
    var candidateDistances = [Float](repeating: 0, count: trials * n)
    var wasCancelled = false
    data.values.withUnsafeBufferPointer { x in
      data.norms.withUnsafeBufferPointer { norms in
        data.withPanels { panels in
          centres.withUnsafeMutableBufferPointer { c in
            closest.withUnsafeMutableBufferPointer { closest in
              guard let xBase = x.baseAddress, let closestBase = closest.baseAddress else { return }
              // The first centre: a uniformly drawn point.
              let first = g.nextInt(below: n)
              copyRow(first, of: x, features: d, to: c, row: 0)
              distancesToRows(
                rows: xBase + first * d,
                rowNorms: UnsafeBufferPointer(rebasing: norms[first..<first + 1]),
                x: xBase, panels: panels, norms: norms, features: d, into: closestBase)
              guard k > 1 else { return }
              cumulative.withUnsafeMutableBufferPointer { cum in
                candidateRows.withUnsafeMutableBufferPointer { rows in
                  candidateNorms.withUnsafeMutableBufferPointer { cn in
                    candidateDistances.withUnsafeMutableBufferPointer { dist in
                      guard let rowsBase = rows.baseAddress, let distBase = dist.baseAddress
                      else { return }
                      var candidates = [Int](repeating: 0, count: trials)
                      for centre in 1..<k {
                        if isCancelled() {
                          wasCancelled = true
                          return
                        }
                        // Draw candidates with probability ∝ D²: the first index whose running
                        // sum exceeds u · (total); points at distance 0 are never drawn unless all
                        // are (then uniformly).
                        var running = 0.0
                        for i in 0..<n {
                          running += Double(closest[i])
                          cum[i] = running
                        }
                        let potential = running
                        for t in 0..<trials {
                          candidates[t] =
                            potential > 0
                            ? firstIndex(in: cum, above: g.nextDouble() * potential)
                            : g.nextInt(below: n)
                          copyRow(candidates[t], of: x, features: d, to: rows, row: t)
                          cn[t] = norms[candidates[t]]
                        }
                        distancesToRows(
                          rows: rowsBase, rowNorms: UnsafeBufferPointer(cn), x: xBase,
                          panels: panels, norms: norms, features: d, into: distBase)
                        // Keep the candidate that leaves the smallest potential.
                        var bestTrial = 0
                        var bestPotential = Double.infinity
                        for t in 0..<trials {
                          let p = potentialWithCandidate(
                            closest: UnsafeBufferPointer(closest),
                            candidate: UnsafeBufferPointer(rebasing: dist[t * n..<(t + 1) * n]))
                          if p < bestPotential {
                            bestPotential = p
                            bestTrial = t
                          }
                        }
                        let row = distBase + bestTrial * n
                        for i in 0..<n { closest[i] = min(closest[i], row[i]) }
                        copyRow(candidates[bestTrial], of: x, features: d, to: c, row: centre)
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    if wasCancelled { throw .cancelled }
    return centres
  }

  /// Squared distances of a few rows (`rowNorms.count`, the candidates) to every point,
  /// `[rows, n]`, clamped at 0.
  ///
  /// The cross terms come from `CentreProducts` when `panels` (the points packed) is given and a
  /// variant runs, else `x · rowsᵀ` in pieces of at most 10⁶ multiply-adds, as in
  /// `assignNearest`: OpenBLAS then takes its small-matrix path, which does not copy (pack) all
  /// the points for every product as `rows · xᵀ` did, a copy that cost as much as the product.
  static func distancesToRows(
    rows: UnsafePointer<Float>, rowNorms: UnsafeBufferPointer<Float>, x: UnsafePointer<Float>,
    panels: UnsafePointer<Float>?, norms: UnsafeBufferPointer<Float>, features d: Int,
    into out: UnsafeMutablePointer<Float>
  ) {
    let m = rowNorms.count, n = norms.count
    guard m > 0, n > 0 else { return }
    if let panels, let variant = CentreProducts.variant(centres: m) {
      CentreProducts.products(
        variant, panels: panels, features: d, start: 0, count: n, centres: rows, k: m, into: out,
        stride: n)
      for t in 0..<m {
        let target = out + t * n
        let rowNorm = rowNorms[t]
        for i in 0..<n { target[i] = max(0, target[i] + rowNorm + norms[i]) }
      }
      return
    }
    var transposed = [Float](repeating: 0, count: d * m)
    for t in 0..<m { for f in 0..<d { transposed[f * m + t] = rows[t * d + f] } }
    let piece = max(8, min(n, 1_000_000 / max(1, m * d)))
    var cross = [Float](repeating: 0, count: piece * m)
    transposed.withUnsafeBufferPointer { rt in
      cross.withUnsafeMutableBufferPointer { cross in
        guard let crossBase = cross.baseAddress else { return }
        var start = 0
        while start < n {
          let count = min(piece, n - start)
          BLAS.gemm(
            transposeA: false, transposeB: false, m: count, n: m, k: d, alpha: -2,
            a: x + start * d, b: rt.baseAddress, beta: 0, c: crossBase)
          for t in 0..<m {
            let target = out + t * n + start
            let rowNorm = rowNorms[t]
            for i in 0..<count { target[i] = max(0, cross[i * m + t] + rowNorm + norms[start + i]) }
          }
          start += count
        }
      }
    }
  }

  /// The first index `i` with `cumulative[i] > value`, or the last index if none is.
  static func firstIndex(in cumulative: UnsafeMutableBufferPointer<Double>, above value: Double)
    -> Int
  {
    var low = 0, high = cumulative.count - 1
    while low < high {
      let mid = (low + high) / 2
      if cumulative[mid] > value { high = mid } else { low = mid + 1 }
    }
    return low
  }

  /// `Σᵢ min(closestᵢ, candidateᵢ)` in Double, four partial sums in a fixed order.
  static func potentialWithCandidate(
    closest: UnsafeBufferPointer<Float>, candidate: UnsafeBufferPointer<Float>
  ) -> Double {
    let n = closest.count
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var i = 0
    while i + 4 <= n {
      s0 += Double(min(closest[i], candidate[i]))
      s1 += Double(min(closest[i + 1], candidate[i + 1]))
      s2 += Double(min(closest[i + 2], candidate[i + 2]))
      s3 += Double(min(closest[i + 3], candidate[i + 3]))
      i += 4
    }
    while i < n { s0 += Double(min(closest[i], candidate[i])); i += 1 }
    return (s0 + s1) + (s2 + s3)
  }

  static func copyRow(
    _ i: Int, of x: UnsafeBufferPointer<Float>, features d: Int,
    to target: UnsafeMutableBufferPointer<Float>, row: Int
  ) {
    for j in 0..<d { target[row * d + j] = x[i * d + j] }
  }
}
