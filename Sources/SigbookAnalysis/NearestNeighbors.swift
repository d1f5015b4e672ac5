import SigbookTensor

/// The `k` nearest neighbours of every row of a data set, in Euclidean distance.
///
/// Row `i` of `indices` and `distances` (each `count × k`, row-major) lists the neighbours of
/// point `i`, nearest first; a point is never its own neighbour. Equal distances are ordered by
/// index, so the result is fully determined by the data.
///
/// Two ways to build it: `exact(_:k:)` (blocked GEMM distances, any `n` that fits a row block of
/// distances in memory; fast up to ~10,000 points) and `descent(_:k:options:)` (NN-descent,
/// approximate, sub-quadratic, seeded).
struct NearestNeighbors: Sendable, Equatable {
  /// The number of points.
  let count: Int
  /// The number of neighbours of each point.
  let k: Int
  /// Neighbour indices, `count × k` row-major, nearest first.
  var indices: [Int]
  /// Euclidean (not squared) distances matching `indices`.
  var distances: [Float]

  /// The neighbours of point `i`, nearest first.
  func neighbors(of i: Int) -> ArraySlice<Int> { indices[i * k..<(i + 1) * k] }

  /// The distances from point `i` to its neighbours, nearest first.
  func distances(of i: Int) -> ArraySlice<Float> { distances[i * k..<(i + 1) * k] }

  /// The exact `k` nearest neighbours of every row of `x`.
  ///
  /// Squared distances of a block of rows to all rows are computed as ‖x‖² − 2 x·y + ‖y‖² with
  /// one `sgemm` per block (the data are centred first, which shrinks the norms and with them the
  /// rounding error); for `d ≤ 8` columns the differences are summed directly instead, since GEMM
  /// gains nothing there and cancellation would blur close pairs. Each row keeps its `k` smallest
  /// with a bounded max-heap ordered by (distance, index); the distances of the kept pairs are then
  /// recomputed from the differences, so the returned values are accurate to the last bit of the
  /// direct sum.
  ///
  /// - Parameters:
  ///   - x: the points, `[n, d]` (higher ranks are flattened to rows).
  ///   - k: neighbours per point.
  ///   - isCancelled: checked before every block of rows; when it returns true the search stops
  ///     and the result is incomplete (the caller checks `isCancelled` again and throws).
  /// - Precondition: `0 < k < n`.
  /// - Complexity: O(n² d) time through GEMM, O(n·b) memory for blocks of b ≈ 2²⁰ / n rows.
  static func exact(_ x: Tensor, k: Int, isCancelled: () -> Bool = { false })
    -> NearestNeighbors
  {
    let n = x.rows, d = x.rowSize
    precondition(k > 0 && k < n, "k-NN needs 0 < k < n, not k = \(k) for n = \(n)")
    var indices = [Int](repeating: 0, count: n * k)
    var distances = [Float](repeating: 0, count: n * k)
    var heapDistances = [Float](repeating: 0, count: k)
    var heapIndices = [Int](repeating: 0, count: k)
    x.withUnsafeBufferPointer { xs in
      PairwiseSquaredDistances(x).forEachRow(isCancelled: isCancelled) { i, row in
        smallest(
          k, of: UnsafeBufferPointer(row), excluding: i, distances: &heapDistances,
          indices: &heapIndices)
        // Exact distances of the kept pairs, then their final order.
        let xi = UnsafeBufferPointer(rebasing: xs[i * d..<(i + 1) * d])
        for t in 0..<k {
          let j = heapIndices[t]
          let xj = UnsafeBufferPointer(rebasing: xs[j * d..<(j + 1) * d])
          heapDistances[t] = squaredDistance(xi, xj)
        }
        sortPairs(&heapDistances, &heapIndices)
        for t in 0..<k {
          indices[i * k + t] = heapIndices[t]
          distances[i * k + t] = heapDistances[t].squareRoot()
        }
      }
    }
    return NearestNeighbors(count: n, k: k, indices: indices, distances: distances)
  }

  /// The fraction of the true neighbours that `approximate` found: |approx ∩ exact| / (n k),
  /// the usual recall of approximate k-NN.
  ///
  /// - Precondition: both describe the same number of points and the same `k`.
  static func recall(of approximate: NearestNeighbors, against exact: NearestNeighbors)
    -> Double
  {
    precondition(
      approximate.count == exact.count && approximate.k == exact.k,
      "recall compares neighbour lists of the same shape")
    var hits = 0
    for i in 0..<exact.count {
      let truth = Set(exact.neighbors(of: i))
      for j in approximate.neighbors(of: i) where truth.contains(j) { hits += 1 }
    }
    return Double(hits) / Double(max(1, exact.count * exact.k))
  }

  /// Squared Euclidean distance between two vectors of the same length.
  ///
  /// Four partial sums let the loop vectorise; their order is fixed, so results are reproducible.
  static func squaredDistance(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>)
    -> Float
  {
    var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
    var j = 0
    let count = y.count
    while j + 4 <= count {
      let a = x[j] - y[j], b = x[j + 1] - y[j + 1], e = x[j + 2] - y[j + 2], f = x[j + 3] - y[j + 3]
      s0 += a * a
      s1 += b * b
      s2 += e * e
      s3 += f * f
      j += 4
    }
    while j < count {
      let a = x[j] - y[j]
      s0 += a * a
      j += 1
    }
    return (s0 + s1) + (s2 + s3)
  }

  /// Whether (d1, i1) comes before (d2, i2): smaller distance first, then smaller index.
  @inline(__always)
  static func precedes(_ d1: Float, _ i1: Int, _ d2: Float, _ i2: Int) -> Bool {
    d1 < d2 || (d1 == d2 && i1 < i2)
  }

  /// The `k` entries of `row` that come first in (distance, index) order, skipping `excluded`,
  /// written to `distances`/`indices` in ascending order.
  ///
  /// A bounded max-heap whose top distance is kept in a register, so the common case (a
  /// candidate farther than all kept ones) is one comparison; heapsort orders it at the end.
  /// O(n + r log k) for r replacements.
  static func smallest(
    _ k: Int, of row: UnsafeBufferPointer<Float>, excluding excluded: Int,
    distances: inout [Float], indices: inout [Int]
  ) {
    distances.withUnsafeMutableBufferPointer { hd in
      indices.withUnsafeMutableBufferPointer { hi in
        var size = 0
        var top = Float.infinity
        var topIndex = Int.max
        for j in 0..<row.count where j != excluded {
          let dj = row[j]
          if size < k {
            // Sift up.
            var c = size
            size += 1
            while c > 0 {
              let p = (c - 1) / 2
              guard precedes(hd[p], hi[p], dj, j) else { break }
              hd[c] = hd[p]
              hi[c] = hi[p]
              c = p
            }
            hd[c] = dj
            hi[c] = j
            if size == k {
              top = hd[0]
              topIndex = hi[0]
            }
          } else if dj <= top, precedes(dj, j, top, topIndex) {
            siftDown(dj, j, size: k, hd, hi)
            top = hd[0]
            topIndex = hi[0]
          }
        }
        // Heapsort: move the largest to the end, one at a time.
        var end = size
        while end > 1 {
          end -= 1
          let d = hd[end], j = hi[end]
          hd[end] = hd[0]
          hi[end] = hi[0]
          siftDown(d, j, size: end, hd, hi)
        }
      }
    }
  }

  /// Replaces the top of a max-heap of (distance, index) pairs and restores the heap.
  @inline(__always)
  static func siftDown(
    _ d: Float, _ j: Int, size: Int, _ distances: UnsafeMutableBufferPointer<Float>,
    _ indices: UnsafeMutableBufferPointer<Int>
  ) {
    var c = 0
    while true {
      let l = 2 * c + 1
      if l >= size { break }
      var m = l
      if l + 1 < size && precedes(distances[l], indices[l], distances[l + 1], indices[l + 1]) {
        m = l + 1
      }
      guard precedes(d, j, distances[m], indices[m]) else { break }
      distances[c] = distances[m]
      indices[c] = indices[m]
      c = m
    }
    distances[c] = d
    indices[c] = j
  }

  /// Sorts parallel arrays of (distance, index) pairs ascending (insertion sort: k is small).
  static func sortPairs(_ distances: inout [Float], _ indices: inout [Int]) {
    for a in 1..<max(1, distances.count) {
      let d = distances[a], j = indices[a]
      var b = a
      while b > 0 && precedes(d, j, distances[b - 1], indices[b - 1]) {
        distances[b] = distances[b - 1]
        indices[b] = indices[b - 1]
        b -= 1
      }
      distances[b] = d
      indices[b] = j
    }
  }
}

/// Squared Euclidean distances from blocks of rows to all rows of one data set.
///
/// Shared by exact k-NN and trustworthiness. For `d > 8` it centres the data once and uses
/// ‖a‖² − 2 a·b + ‖b‖² with one `sgemm` per block (clamped at 0); for small `d` it sums the
/// squared differences directly, which is as fast there and free of cancellation.
struct PairwiseSquaredDistances {
  let n: Int
  let d: Int
  let usesGEMM: Bool
  /// The data, centred when `usesGEMM`, else as given.
  let values: [Float]
  let squaredNorms: [Float]

  /// Rows per block so that one block of distances holds about 2²⁰ values (4 MB).
  var blockRows: Int { max(1, min(n, (1 << 20) / max(1, n))) }

  init(_ x: Tensor) {
    n = x.rows
    d = x.rowSize
    usesGEMM = d > 8
    guard usesGEMM else {
      values = x.scalars
      squaredNorms = []
      return
    }
    let n = self.n, d = self.d
    var means = [Double](repeating: 0, count: d)
    var centred = x.scalars
    var norms = [Float](repeating: 0, count: n)
    centred.withUnsafeMutableBufferPointer { v in
      for i in 0..<n {
        for j in 0..<d { means[j] += Double(v[i * d + j]) }
      }
      let m = means.map { Float($0 / Double(max(1, n))) }
      for i in 0..<n {
        for j in 0..<d { v[i * d + j] -= m[j] }
        let row = UnsafeBufferPointer(rebasing: v[i * d..<(i + 1) * d])
        norms[i] = PairwiseSquaredDistances.squaredNorm(row)
      }
    }
    values = centred
    squaredNorms = norms
  }

  static func squaredNorm(_ x: UnsafeBufferPointer<Float>) -> Float {
    var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
    var j = 0
    while j + 4 <= x.count {
      s0 += x[j] * x[j]
      s1 += x[j + 1] * x[j + 1]
      s2 += x[j + 2] * x[j + 2]
      s3 += x[j + 3] * x[j + 3]
      j += 4
    }
    while j < x.count {
      s0 += x[j] * x[j]
      j += 1
    }
    return (s0 + s1) + (s2 + s3)
  }

  /// Calls `body` with each row's squared distances to all `n` rows, in row order, computed a
  /// block of ``blockRows`` rows at a time into one reused buffer (`body` may change the row it
  /// is given). Stops early when `isCancelled` returns true before a block.
  func forEachRow(
    isCancelled: () -> Bool,
    _ body: (_ index: Int, _ row: UnsafeMutableBufferPointer<Float>) -> Void
  ) {
    let n = self.n, blockRows = self.blockRows
    var block = [Float](repeating: 0, count: blockRows * n)
    block.withUnsafeMutableBufferPointer { dist in
      var start = 0
      while start < n && !isCancelled() {
        let rows = min(blockRows, n - start)
        fill(start..<start + rows, into: dist)
        for r in 0..<rows {
          body(start + r, UnsafeMutableBufferPointer(rebasing: dist[r * n..<(r + 1) * n]))
        }
        start += rows
      }
    }
  }

  /// Writes the squared distances of rows `rows` to all `n` rows into `out[0 ..< rows.count · n]`.
  func fill(_ rows: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) {
    let n = self.n, d = self.d, b = rows.count
    values.withUnsafeBufferPointer { v in
      if usesGEMM {
        BLAS.gemm(
          transposeA: false, transposeB: true, m: b, n: n, k: d, alpha: -2,
          a: v.baseAddress.map { $0 + rows.lowerBound * d }, b: v.baseAddress, beta: 0,
          c: out.baseAddress)
        squaredNorms.withUnsafeBufferPointer { norms in
          for r in 0..<b {
            let ni = norms[rows.lowerBound + r]
            let base = r * n
            for j in 0..<n { out[base + j] = max(0, out[base + j] + ni + norms[j]) }
          }
        }
      } else if d == 2 {
        // Plane embeddings (trustworthiness, 2-D k-NN): the two differences inline.
        for r in 0..<b {
          let i = rows.lowerBound + r
          let xi = v[2 * i], yi = v[2 * i + 1]
          let base = r * n
          for j in 0..<n {
            let dx = xi - v[2 * j], dy = yi - v[2 * j + 1]
            out[base + j] = dx * dx + dy * dy
          }
        }
      } else {
        for r in 0..<b {
          let i = rows.lowerBound + r
          let xi = UnsafeBufferPointer(rebasing: v[i * d..<(i + 1) * d])
          for j in 0..<n {
            out[r * n + j] = NearestNeighbors.squaredDistance(
              xi, UnsafeBufferPointer(rebasing: v[j * d..<(j + 1) * d]))
          }
        }
      }
    }
  }
}
