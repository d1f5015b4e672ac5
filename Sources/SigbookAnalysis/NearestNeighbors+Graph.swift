/// A sparse weighted graph in compressed sparse row (CSR) form: the neighbours of vertex `i` are
/// `columns[rowStart[i] ..< rowStart[i + 1]]`, in increasing order, with their `weights`.
///
/// t-SNE keeps its joint probabilities P in one, UMAP its fuzzy simplicial set.
struct SparseGraph: Sendable, Equatable {
  /// The number of vertices.
  let count: Int
  /// Offsets of each row in `columns` and `weights`; `count + 1` entries.
  var rowStart: [Int]
  var columns: [Int]
  var weights: [Double]

  /// The number of stored entries.
  var entryCount: Int { columns.count }

  /// The symmetric graph with weight `combine(w_ij, w_ji)` on every pair that is a neighbour pair
  /// in at least one direction (an absent direction weighs 0); pairs whose combined weight is 0
  /// are left out.
  ///
  /// `weights[i·k + t]` is the weight of the directed edge from `i` to its `t`-th neighbour.
  /// `combine` must be symmetric in its arguments for the result to be symmetric (the t-SNE sum
  /// (a + b)/2n and UMAP's fuzzy union a + b − ab are).
  static func symmetrized(
    _ knn: NearestNeighbors, weights directed: [Double], combine: (Double, Double) -> Double
  ) -> SparseGraph {
    let n = knn.count, k = knn.k
    precondition(directed.count == n * k, "one weight per neighbour pair")
    // Reverse lists by counting sort: for each j, the i that list j, in increasing i.
    var reverseStart = [Int](repeating: 0, count: n + 1)
    for j in knn.indices { reverseStart[j + 1] += 1 }
    for j in 0..<n { reverseStart[j + 1] += reverseStart[j] }
    var fill = reverseStart
    var reverseSources = [Int](repeating: 0, count: n * k)
    var reverseWeights = [Double](repeating: 0, count: n * k)
    for i in 0..<n {
      for t in 0..<k {
        let j = knn.indices[i * k + t]
        reverseSources[fill[j]] = i
        reverseWeights[fill[j]] = directed[i * k + t]
        fill[j] += 1
      }
    }
    var rowStart = [Int](repeating: 0, count: n + 1)
    var columns: [Int] = []
    var weights: [Double] = []
    columns.reserveCapacity(2 * n * k)
    weights.reserveCapacity(2 * n * k)
    var forward = [(column: Int, weight: Double)](repeating: (0, 0), count: k)
    for i in 0..<n {
      for t in 0..<k { forward[t] = (knn.indices[i * k + t], directed[i * k + t]) }
      forward.sort { $0.column < $1.column }
      var a = 0
      var b = reverseStart[i]
      let bEnd = reverseStart[i + 1]
      while a < k || b < bEnd {
        let column: Int
        let value: Double
        if b >= bEnd || (a < k && forward[a].column < reverseSources[b]) {
          column = forward[a].column
          value = combine(forward[a].weight, 0)
          a += 1
        } else if a >= k || reverseSources[b] < forward[a].column {
          column = reverseSources[b]
          value = combine(0, reverseWeights[b])
          b += 1
        } else {
          column = forward[a].column
          value = combine(forward[a].weight, reverseWeights[b])
          a += 1
          b += 1
        }
        if value != 0 {
          columns.append(column)
          weights.append(value)
        }
      }
      rowStart[i + 1] = columns.count
    }
    return SparseGraph(count: n, rowStart: rowStart, columns: columns, weights: weights)
  }

  /// The same graph without the entries whose weight is below `threshold`.
  func pruned(below threshold: Double) -> SparseGraph {
    var rowStart = [Int](repeating: 0, count: count + 1)
    var columns: [Int] = []
    var weights: [Double] = []
    columns.reserveCapacity(entryCount)
    weights.reserveCapacity(entryCount)
    for i in 0..<count {
      for e in self.rowStart[i]..<self.rowStart[i + 1] where self.weights[e] >= threshold {
        columns.append(self.columns[e])
        weights.append(self.weights[e])
      }
      rowStart[i + 1] = columns.count
    }
    return SparseGraph(count: count, rowStart: rowStart, columns: columns, weights: weights)
  }

  /// The largest weight (0 for a graph without edges).
  var maxWeight: Double { weights.max() ?? 0 }

  /// The connected components: a label per vertex, numbered 0, 1, … in order of each
  /// component's smallest vertex, and the number of components.
  func components() -> (labels: [Int], count: Int) {
    var labels = [Int](repeating: -1, count: count)
    var stack: [Int] = []
    var next = 0
    for start in 0..<count where labels[start] < 0 {
      labels[start] = next
      stack.append(start)
      while let v = stack.popLast() {
        for e in rowStart[v]..<rowStart[v + 1] where labels[columns[e]] < 0 {
          labels[columns[e]] = next
          stack.append(columns[e])
        }
      }
      next += 1
    }
    return (labels, next)
  }

  /// The subgraph on `vertices` (given in increasing order), renumbered 0 ..< vertices.count.
  func subgraph(_ vertices: [Int]) -> SparseGraph {
    var position = [Int](repeating: -1, count: count)
    for (p, v) in vertices.enumerated() { position[v] = p }
    var rowStart = [Int](repeating: 0, count: vertices.count + 1)
    var columns: [Int] = []
    var weights: [Double] = []
    for (p, v) in vertices.enumerated() {
      for e in self.rowStart[v]..<self.rowStart[v + 1] where position[self.columns[e]] >= 0 {
        columns.append(position[self.columns[e]])
        weights.append(self.weights[e])
      }
      rowStart[p + 1] = columns.count
    }
    return SparseGraph(
      count: vertices.count, rowStart: rowStart, columns: columns, weights: weights)
  }
}
