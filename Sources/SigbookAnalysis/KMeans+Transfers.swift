import SigbookTensor

/// Single-point transfers after Lloyd's iterations (Hartigan and Wong's criterion).
extension KMeans {
  /// Moves single points between clusters while a move lowers the inertia, from a Lloyd run's
  /// assignments; returns the improved run (centres the means of their points).
  ///
  /// Lloyd's iterations stop where every point is nearest its own centre, but moving a point `x`
  /// from cluster `a` (of `nₐ` points) to cluster `b` also moves both centres, and changes the
  /// inertia by `n_b / (n_b + 1) · ‖x − c_b‖² − nₐ / (nₐ − 1) · ‖x − cₐ‖²` (Hartigan and Wong,
  /// "A k-means clustering algorithm", Applied Statistics 28, 1979). A point can gain by moving
  /// though another centre is farther than its own; every such move is made, in row order, the
  /// two centres updated at once, until a pass over all points moves none. On data with many
  /// nearby minima (signatures of a few hundred inputs, k ≥ 5) this is what brings the best of
  /// the restarts to scikit-learn's inertia or below; where Lloyd already ended in a minimum of
  /// this kind the cost is one pass, as much as one Lloyd iteration.
  ///
  /// Each pass takes the distances of a block of rows to all centres from `CentreProducts` (or
  /// one GEMM); a centre moved since is measured directly, and a move is made only if the exact
  /// change, in Double from the clusters' sums, lowers the inertia. No cluster is emptied (a
  /// cluster of one point gives none). Sequential: the result depends on the run alone.
  ///
  /// - Parameters:
  ///   - run: a Lloyd run on `data` (labels in `0 ..< k`, no cluster empty).
  ///   - maxPasses: the cap on passes over the points.
  ///   - isCancelled: checked before every pass; when it returns true, `.cancelled` is thrown.
  /// - Complexity: per pass 2·n·k·d operations in products, plus d operations per centre moved
  ///   earlier in the block for each row, plus O(k · d) per move.
  static func transfer(
    _ data: KMeansData, run: LloydRun, k: Int, maxPasses: Int,
    isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) -> LloydRun {
    let n = data.n, d = data.d
    guard k > 1, n > k else {
      var run = run
      run.inertia = exactInertia(data.values, centres: run.centres, labels: run.labels, features: d)
      return run
    }
    let block = min(transferBlockRows, n)
    var labels = run.labels
    var counts = [Int](repeating: 0, count: k)
    var sums = [Double](repeating: 0, count: k * d)
    // One workspace: the centres, their copy when the block's distances were taken, the
    // centres transposed for the GEMM, the block's cross terms, then per centre its squared
    // norm, its drift since the copy, the weight n / (n + 1) and a measured distance.
    let centresAt = 0, snapshotAt = k * d, transposedAt = 2 * k * d, crossAt = 3 * k * d
    let normsAt = crossAt + block * k, driftAt = normsAt + k, weightAt = driftAt + k
    let measuredAt = weightAt + k
    var workspace = [Float](repeating: 0, count: measuredAt + k)
    var moves = 0, cancelled = false, settled = false
    let variant = data.panels.isEmpty ? nil : CentreProducts.variant(centres: k)
    // With the kernel, the cross terms of all points, `[k, n]`, are kept from pass to pass: a
    // block's terms with a centre are taken again only when the centre changed since (its
    // version, counted up at every change, differs from the one they were taken at), and the
    // squared norms likewise. Late passes move few points, so most of their products are the
    // ones already there; each is what a new product would give (the kernel's sums do not
    // depend on the other centres of the call).
    let blocks = (n + block - 1) / block
    var cached = [Float](repeating: 0, count: variant == nil ? 0 : k * n)
    var version = [Int](repeating: 0, count: k)
    var cachedVersion = [Int](repeating: -1, count: blocks * k)
    var normVersion = [Int](repeating: -1, count: k)
    var stale = [Float](repeating: 0, count: variant == nil ? 0 : k * (d + block))
    data.values.withUnsafeBufferPointer { x in
      data.norms.withUnsafeBufferPointer { norms in
        data.withPanels { panels in
          labels.withUnsafeMutableBufferPointer { labels in
            counts.withUnsafeMutableBufferPointer { counts in
              sums.withUnsafeMutableBufferPointer { sums in
                workspace.withUnsafeMutableBufferPointer { w in
                  cached.withUnsafeMutableBufferPointer { cached in
                    stale.withUnsafeMutableBufferPointer { stale in
                      guard let xBase = x.baseAddress, let wBase = w.baseAddress else { return }
                      let centres = UnsafeMutableBufferPointer(rebasing: w[centresAt..<snapshotAt])
                      let snapshot = UnsafeMutableBufferPointer(
                        rebasing: w[snapshotAt..<transposedAt])
                      let transposed = wBase + transposedAt, cross = wBase + crossAt
                      let centreNorms = wBase + normsAt, drift = wBase + driftAt
                      let weight = wBase + weightAt, measured = wBase + measuredAt
                      guard let sumsBase = sums.baseAddress else { return }
                      for i in 0..<n {
                        let cluster = labels[i]
                        counts[cluster] += 1
                        addWidened(sumsBase + cluster * d, xBase + i * d, count: d)
                      }
                      for cluster in 0..<k {
                        setCentre(
                          cluster, sums: UnsafeBufferPointer(sums), count: counts[cluster], centres,
                          d)
                        weight[cluster] = Float(counts[cluster]) / Float(counts[cluster] + 1)
                      }
                      let piece = max(8, min(block, 1_000_000 / max(1, k * d)))
                      for _ in 0..<maxPasses {
                        if isCancelled() {
                          cancelled = true
                          return
                        }
                        var movedInPass = 0
                        var start = 0
                        while start < n {
                          let m = min(block, n - start)
                          // The block's distances to the centres as they are now, from the kept
                          // `CentreProducts` terms (`[k, n]`) or one GEMM (`[m, k]`, in pieces of at
                          // most 10⁶ multiply-adds, as in `assignNearest`).
                          for j in 0..<k {
                            if variant == nil {
                              for f in 0..<d { transposed[f * k + j] = centres[j * d + f] }
                            }
                            drift[j] = 0
                            if normVersion[j] != version[j] {
                              centreNorms[j] =
                                Distances.rowSquaredNorms(
                                  UnsafeBufferPointer(rebasing: centres[j * d..<(j + 1) * d]),
                                  rows: 1,
                                  columns: d)[0]
                              normVersion[j] = version[j]
                            }
                          }
                          _ = snapshot.update(fromContentsOf: centres)
                          var largestCentreNorm: Float = 0
                          for j in 0..<k {
                            largestCentreNorm = max(largestCentreNorm, centreNorms[j])
                          }
                          // Row r's cross term with centre j is `terms[r · rowStep + j · centreStep]`.
                          let rowStep = variant == nil ? k : 1, centreStep = variant == nil ? 1 : n
                          let terms: UnsafeMutablePointer<Float>
                          if let variant, let panels, let cachedBase = cached.baseAddress,
                            let staleBase = stale.baseAddress
                          {
                            // The centres changed since this block's terms were taken, side by
                            // side, their products, then into the kept terms.
                            let b = start / block
                            var changed: [Int] = []
                            for j in 0..<k where cachedVersion[b * k + j] != version[j] {
                              for f in 0..<d {
                                staleBase[changed.count * d + f] = centres[j * d + f]
                              }
                              changed.append(j)
                              cachedVersion[b * k + j] = version[j]
                            }
                            if !changed.isEmpty {
                              let products = staleBase + k * d
                              CentreProducts.products(
                                variant, panels: panels, features: d, start: start, count: m,
                                centres: staleBase, k: changed.count, into: products, stride: m)
                              for (t, j) in changed.enumerated() {
                                (cachedBase + j * n + start).update(
                                  from: products + t * m, count: m)
                              }
                            }
                            terms = cachedBase + start
                          } else {
                            terms = cross
                            var done = 0
                            while done < m {
                              let rows = min(piece, m - done)
                              BLAS.gemm(
                                transposeA: false, transposeB: false, m: rows, n: k, k: d,
                                alpha: -2,
                                a: xBase + (start + done) * d, b: transposed, beta: 0,
                                c: cross + done * k)
                              done += rows
                            }
                          }
                          for r in 0..<m {
                            let i = start + r
                            let a = labels[i]
                            guard counts[a] > 1 else { continue }
                            // Screen: the most the point's own term can be against the least any
                            // other can be, a centre moved since the GEMM bounded by its drift
                            // (triangle inequality). The expansion rounds relative to the squared
                            // norms: a slack that size leaves close calls to the exact check.
                            let row = terms + r * rowStep
                            let xn = norms[i]
                            var own = max(0, xn + centreNorms[a] + row[a * centreStep])
                            if drift[a] > 0 {
                              let high = own.squareRoot() + drift[a]
                              own = high * high
                            }
                            let na = Float(counts[a])
                            let leaving = na / (na - 1) * own + 1e-5 * (xn + largestCentreNorm)
                            var possible = false
                            for j in 0..<k where j != a {
                              var other = max(0, xn + centreNorms[j] + row[j * centreStep])
                              if drift[j] > 0 {
                                let low = max(0, other.squareRoot() - drift[j])
                                other = low * low
                              }
                              if weight[j] * other < leaving {
                                possible = true
                                break
                              }
                            }
                            guard possible else { continue }
                            // Measure the centres that moved, take the cheapest destination, and move
                            // only if the exact change of inertia, in Double, is a decrease.
                            let point = UnsafeBufferPointer(rebasing: x[i * d..<(i + 1) * d])
                            for j in 0..<k {
                              measured[j] =
                                drift[j] > 0
                                ? directSquaredDistance(
                                  point, UnsafeBufferPointer(rebasing: centres[j * d..<(j + 1) * d])
                                )
                                : max(0, xn + centreNorms[j] + row[j * centreStep])
                            }
                            var b = -1
                            var joining = Float.infinity
                            for j in 0..<k where j != a && weight[j] * measured[j] < joining {
                              joining = weight[j] * measured[j]
                              b = j
                            }
                            let slack = 1e-5 * (xn + largestCentreNorm)
                            guard b >= 0, joining < na / (na - 1) * measured[a] + slack else {
                              continue
                            }
                            let exactLeaving =
                              Double(counts[a]) / Double(counts[a] - 1)
                              * exactSquaredDistance(
                                point, sums: UnsafeBufferPointer(sums), cluster: a,
                                count: counts[a], d)
                            let exactJoining =
                              Double(counts[b]) / Double(counts[b] + 1)
                              * exactSquaredDistance(
                                point, sums: UnsafeBufferPointer(sums), cluster: b,
                                count: counts[b], d)
                            guard exactJoining < exactLeaving * (1 - 1e-12) else { continue }
                            for j in 0..<d {
                              let v = Double(point[j])
                              sums[a * d + j] -= v
                              sums[b * d + j] += v
                            }
                            counts[a] -= 1
                            counts[b] += 1
                            labels[i] = b
                            for j in [a, b] {
                              version[j] += 1
                              setCentre(
                                j, sums: UnsafeBufferPointer(sums), count: counts[j], centres, d)
                              weight[j] = Float(counts[j]) / Float(counts[j] + 1)
                              drift[j] = directSquaredDistance(
                                UnsafeBufferPointer(rebasing: snapshot[j * d..<(j + 1) * d]),
                                UnsafeBufferPointer(rebasing: centres[j * d..<(j + 1) * d])
                              ).squareRoot()
                            }
                            movedInPass += 1
                          }
                          start += m
                        }
                        moves += movedInPass
                        if movedInPass == 0 {
                          settled = true
                          break
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
    }
    if cancelled { throw .cancelled }
    let centres = moves > 0 ? Array(workspace[0..<(k * d)]) : run.centres
    return LloydRun(
      centres: centres, labels: labels,
      inertia: exactInertia(data.values, centres: centres, labels: labels, features: d),
      iterations: run.iterations, converged: settled)
  }

  /// Rows per block of a transfer pass: small, so that the distances are taken again before
  /// the centres moved since drift far enough to leave many rows to measure directly.
  static let transferBlockRows = 256

  /// `target[j] += Double(source[j])` for j in `0 ..< count`, four at a time: each sum takes
  /// its terms in the same order as a loop of single additions would.
  private static func addWidened(
    _ target: UnsafeMutablePointer<Double>, _ source: UnsafePointer<Float>, count: Int
  ) {
    // SIMD: the compiler cannot vectorise a loop over two buffers it cannot prove apart.
    let t = UnsafeMutableRawPointer(target), s = UnsafeRawPointer(source)
    var j = 0
    while j + 4 <= count {
      let v = s.loadUnaligned(fromByteOffset: j * 4, as: SIMD4<Float>.self)
      let low = t.loadUnaligned(fromByteOffset: j * 8, as: SIMD2<Double>.self)
      let high = t.loadUnaligned(fromByteOffset: j * 8 + 16, as: SIMD2<Double>.self)
      t.storeBytes(
        of: low + SIMD2(Double(v[0]), Double(v[1])), toByteOffset: j * 8, as: SIMD2<Double>.self)
      t.storeBytes(
        of: high + SIMD2(Double(v[2]), Double(v[3])), toByteOffset: j * 8 + 16,
        as: SIMD2<Double>.self)
      j += 4
    }
    while j < count {
      target[j] += Double(source[j])
      j += 1
    }
  }

  /// Centre `cluster` as the mean of its points, from their Double sum.
  private static func setCentre(
    _ cluster: Int, sums: UnsafeBufferPointer<Double>, count: Int,
    _ c: UnsafeMutableBufferPointer<Float>, _ d: Int
  ) {
    guard count > 0 else { return }
    let scale = 1 / Double(count)
    for j in 0..<d { c[cluster * d + j] = Float(sums[cluster * d + j] * scale) }
  }

  /// `‖x − c‖²` by direct differences in Float (no cancellation), four partial sums.
  private static func directSquaredDistance(
    _ x: UnsafeBufferPointer<Float>, _ c: UnsafeBufferPointer<Float>
  ) -> Float {
    let d = x.count
    var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
    var j = 0
    while j + 4 <= d {
      let a = x[j] - c[j], b = x[j + 1] - c[j + 1], e = x[j + 2] - c[j + 2], f = x[j + 3] - c[j + 3]
      s0 += a * a; s1 += b * b; s2 += e * e; s3 += f * f
      j += 4
    }
    while j < d { let a = x[j] - c[j]; s0 += a * a; j += 1 }
    return (s0 + s1) + (s2 + s3)
  }

  /// `‖x − mean of cluster‖²` in Double, the mean from the cluster's sum.
  private static func exactSquaredDistance(
    _ x: UnsafeBufferPointer<Float>, sums: UnsafeBufferPointer<Double>, cluster: Int,
    count: Int, _ d: Int
  ) -> Double {
    guard count > 0 else { return 0 }  // weighted by n / (n + 1) = 0: any point may join
    let scale = 1 / Double(count)
    var total = 0.0
    for j in 0..<d {
      let t = Double(x[j]) - sums[cluster * d + j] * scale
      total += t * t
    }
    return total
  }
}
