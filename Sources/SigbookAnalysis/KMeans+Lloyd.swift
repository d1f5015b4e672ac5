import SigbookTensor

/// Lloyd iterations: assignment by GEMM, centre update, empty-cluster repair.
extension KMeans {
  /// One run of Lloyd's algorithm from given centres, in the coordinates of `data.values`.
  struct LloydRun {
    var centres: [Float]
    var labels: [Int]
    var inertia: Double
    var iterations: Int
    var converged: Bool
  }

  /// Lloyd iterations from `centres` (`[k · d]`, centred coordinates) until the assignments stop
  /// changing, the squared centre shift is at most `shiftTolerance` (absolute), or the cap.
  /// Throws `.cancelled` when `isCancelled` returns true before an iteration.
  ///
  /// With `handOff`, the run also stops once at most that many assignments changed in an
  /// iteration, and skips the final assignment: its caller goes on with ``transfer``, whose
  /// passes do what Lloyd's would and more, for the same cost each (the last few points of a
  /// Lloyd run often take as many iterations as the first thousands).
  static func lloyd(
    _ data: KMeansData, centres initial: [Float], k: Int, maxIterations: Int,
    shiftTolerance: Double, handOff: Int? = nil, isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) -> LloydRun {
    let n = data.n, d = data.d
    var centres = initial
    var labels = [Int](repeating: -1, count: n)
    var newLabels = [Int](repeating: 0, count: n)
    var distances = [Float](repeating: 0, count: n)
    var sums = [Double](repeating: 0, count: k * d)
    var counts = [Int](repeating: 0, count: k)
    var iterations = 0
    var strict = false, converged = false, cancelled = false, handedOff = false
    data.values.withUnsafeBufferPointer { x in
      data.norms.withUnsafeBufferPointer { norms in
        data.withPanels { panels in
          while iterations < maxIterations {
            if isCancelled() {
              cancelled = true
              return
            }
            iterations += 1
            centres.withUnsafeBufferPointer { c in
              newLabels.withUnsafeMutableBufferPointer { l in
                distances.withUnsafeMutableBufferPointer { dist in
                  sums.withUnsafeMutableBufferPointer { s in
                    counts.withUnsafeMutableBufferPointer { counts in
                      assignNearest(
                        x: x, panels: panels, norms: norms, features: d, centres: c, k: k,
                        labels: l, distances: dist, sums: s, counts: counts)
                      repairEmptyClusters(
                        x: x, features: d, labels: l, distances: UnsafeBufferPointer(dist), sums: s,
                        counts: counts)
                    }
                  }
                }
              }
            }
            let shift = moveCentres(&centres, sums: sums, counts: counts, features: d)
            var changes = 0
            for i in 0..<n where newLabels[i] != labels[i] { changes += 1 }
            if changes == 0 {
              strict = true
              converged = true
              break
            }
            swap(&labels, &newLabels)
            if shift <= shiftTolerance {
              converged = true
              break
            }
            if let handOff, changes <= handOff {
              handedOff = true
              break
            }
          }
          if handedOff || (handOff != nil && !strict) {
            // The transfers that follow start from these labels and the means of their points.
          } else if strict {
            swap(&labels, &newLabels)
          } else {
            // Assign once more so that the labels are those of the final centres.
            centres.withUnsafeBufferPointer { c in
              labels.withUnsafeMutableBufferPointer { l in
                distances.withUnsafeMutableBufferPointer { dist in
                  assignNearest(
                    x: x, panels: panels, norms: norms, features: d, centres: c, k: k, labels: l,
                    distances: dist)
                }
              }
            }
          }
        }
      }
    }
    if cancelled { throw .cancelled }
    // Before transfers, which measure the inertia they end with, it would be measured twice.
    let inertia =
      handOff == nil
      ? exactInertia(data.values, centres: centres, labels: labels, features: d) : .nan
    return LloydRun(
      centres: centres, labels: labels, inertia: inertia, iterations: iterations,
      converged: converged)
  }

  /// Rows per block in the assignment step: about 1 MB of data (a block is summed into the
  /// centres while it is still in cache), 64 to 4,096 rows.
  static func blockRows(features d: Int) -> Int { max(64, min(4096, (1 << 18) / max(d, 1))) }

  /// The nearest centre of each row (first on ties) and its squared distance, by
  /// `CentreProducts.nearest` when `panels` (the rows packed) is given and a variant runs k
  /// centres, else one GEMM per block of rows; with `sums` and `counts`, also the per-cluster
  /// sums (Double, `[k · d]`) and counts of the rows, accumulated block by block in row order.
  static func assignNearest(
    x: UnsafeBufferPointer<Float>, panels: UnsafePointer<Float>?,
    norms: UnsafeBufferPointer<Float>, features d: Int, centres c: UnsafeBufferPointer<Float>,
    k: Int, labels: UnsafeMutableBufferPointer<Int>, distances: UnsafeMutableBufferPointer<Float>,
    sums: UnsafeMutableBufferPointer<Double>? = nil, counts: UnsafeMutableBufferPointer<Int>? = nil
  ) {
    let n = norms.count
    sums?.update(repeating: 0)
    counts?.update(repeating: 0)
    guard n > 0, let xBase = x.baseAddress, let cBase = c.baseAddress,
      let normsBase = norms.baseAddress,
      let labelsBase = labels.baseAddress, let distancesBase = distances.baseAddress
    else { return }
    let centreNorms = Distances.rowSquaredNorms(c, rows: k, columns: d)
    let block = min(blockRows(features: d), n)
    let variant = panels == nil ? nil : CentreProducts.variant(centres: k)
    // Without the kernel: the centres transposed, [d, k], and the products in pieces of at most
    // 10⁶ multiply-adds: OpenBLAS then takes its small-matrix path, which does not copy (pack)
    // the data rows for every product; the packing cost as much as the product when k is a few
    // clusters.
    var transposed = [Float](repeating: 0, count: variant == nil ? d * k : 0)
    if variant == nil {
      for j in 0..<k { for f in 0..<d { transposed[f * k + j] = c[j * d + f] } }
    }
    let piece = max(8, min(block, 1_000_000 / max(1, k * d)))
    var cross = [Float](repeating: 0, count: variant == nil ? block * k : 0)
    // A block's sums in Float (four lanes per instruction rather than two), added to the Double
    // totals once per block.
    var blockSums = [Float](repeating: 0, count: sums == nil ? 0 : k * d)
    cross.withUnsafeMutableBufferPointer { cross in
      blockSums.withUnsafeMutableBufferPointer { blockSums in
        centreNorms.withUnsafeBufferPointer { cn in
          transposed.withUnsafeBufferPointer { ct in
            var start = 0
            while start < n {
              let m = min(block, n - start)
              if let variant, let panels, let cnBase = cn.baseAddress {
                CentreProducts.nearest(
                  variant, panels: panels, features: d, start: start, count: m,
                  norms: normsBase + start, centres: cBase, centreNorms: cnBase, k: k,
                  labels: labelsBase + start, distances: distancesBase + start)
              } else if let crossBase = cross.baseAddress {
                var done = 0
                while done < m {
                  let rows = min(piece, m - done)
                  BLAS.gemm(
                    transposeA: false, transposeB: false, m: rows, n: k, k: d, alpha: -2,
                    a: xBase + (start + done) * d, b: ct.baseAddress, beta: 0,
                    c: crossBase + done * k)
                  done += rows
                }
                for r in 0..<m {
                  let row = crossBase + r * k
                  var best = 0
                  var bestValue = cn[0] + row[0]
                  for j in 1..<k {
                    let value = cn[j] + row[j]
                    if value < bestValue {
                      bestValue = value
                      best = j
                    }
                  }
                  labels[start + r] = best
                  distances[start + r] = max(0, norms[start + r] + bestValue)
                }
              }
              if let sums, let counts {
                blockSums.update(repeating: 0)
                for i in start..<(start + m) {
                  let cluster = labels[i]
                  counts[cluster] += 1
                  // SIMD: the compiler cannot vectorise a loop over two buffers it cannot prove apart.
                  if let target = blockSums.baseAddress {
                    Kernels.add(target + cluster * d, xBase + i * d, count: d)
                  }
                }
                for j in 0..<(k * d) { sums[j] += Double(blockSums[j]) }
              }
              start += m
            }
          }
        }
      }
    }
  }

  /// Gives every empty cluster the point farthest from its centre, taken from a cluster of two or
  /// more points (ties to the lower index); updates labels, sums and counts.
  static func repairEmptyClusters(
    x: UnsafeBufferPointer<Float>, features d: Int, labels: UnsafeMutableBufferPointer<Int>,
    distances: UnsafeBufferPointer<Float>, sums: UnsafeMutableBufferPointer<Double>,
    counts: UnsafeMutableBufferPointer<Int>
  ) {
    for empty in 0..<counts.count where counts[empty] == 0 {
      var farthest = -1
      var farthestDistance: Float = -1
      for i in 0..<labels.count where counts[labels[i]] > 1 && distances[i] > farthestDistance {
        farthest = i
        farthestDistance = distances[i]
      }
      guard farthest >= 0 else { return }
      let old = labels[farthest]
      counts[old] -= 1
      counts[empty] = 1
      labels[farthest] = empty
      for j in 0..<d {
        let v = Double(x[farthest * d + j])
        sums[old * d + j] -= v
        sums[empty * d + j] = v
      }
    }
  }

  /// Moves each centre with points to their mean (a centre without points stays); returns the
  /// squared shift `Σ_c ‖c_new − c_old‖²`.
  static func moveCentres(
    _ centres: inout [Float], sums: [Double], counts: [Int], features d: Int
  ) -> Double {
    var shift = 0.0
    centres.withUnsafeMutableBufferPointer { c in
      for cluster in 0..<counts.count where counts[cluster] > 0 {
        let scale = 1 / Double(counts[cluster])
        for j in 0..<d {
          let index = cluster * d + j
          let moved = Float(sums[index] * scale)
          let delta = Double(moved - c[index])
          shift += delta * delta
          c[index] = moved
        }
      }
    }
    return shift
  }

  /// `Σᵢ ‖xᵢ − c(xᵢ)‖²` by direct differences, in Double with four partial sums per row.
  static func exactInertia(_ values: [Float], centres: [Float], labels: [Int], features d: Int)
    -> Double
  {
    values.withUnsafeBufferPointer { x in
      centres.withUnsafeBufferPointer { c in
        var total = 0.0
        for (i, label) in labels.enumerated() {
          let p = UnsafeBufferPointer(rebasing: x[i * d..<(i + 1) * d])
          let q = UnsafeBufferPointer(rebasing: c[label * d..<(label + 1) * d])
          var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
          var j = 0
          while j + 4 <= d {
            let a = Double(p[j] - q[j]), b = Double(p[j + 1] - q[j + 1])
            let e = Double(p[j + 2] - q[j + 2]), f = Double(p[j + 3] - q[j + 3])
            s0 += a * a; s1 += b * b; s2 += e * e; s3 += f * f
            j += 4
          }
          while j < d { let a = Double(p[j] - q[j]); s0 += a * a; j += 1 }
          total += (s0 + s1) + (s2 + s3)
        }
        return total
      }
    }
  }
}
