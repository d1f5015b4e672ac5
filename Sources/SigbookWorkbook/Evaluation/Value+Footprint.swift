import SigbookTensor
import SigbookAnalysis

/// The bytes a value holds, for the session's memory accounting (``Session/heldBytes``).
///
/// Large buffers are counted by the address of their storage, so that copies that share it
/// (`b = a`, a dataset inside a list and in a variable) count once; small parts are estimated.
struct MemoryFootprint {
  /// Bytes of buffers that copies may share, by their storage's address.
  var shared: [UInt: Int] = [:]
  /// Bytes of everything else.
  var own = 0

  /// The bytes counted, each shared buffer once.
  var total: Int { MemoryEstimate.sum([own] + Array(shared.values)) }

  /// Adds what another value holds.
  mutating func add(_ other: MemoryFootprint) {
    own = MemoryEstimate.sum(own, other.own)
    shared.merge(other.shared) { first, _ in first }
  }

  /// Adds an array's elements, by the address of its storage.
  mutating func add<T>(_ array: [T]) {
    array.withUnsafeBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return }
      shared[UInt(bitPattern: base)] = MemoryEstimate.product(
        buffer.count, MemoryLayout<T>.stride)
    }
  }

  mutating func add(_ tensor: Tensor) { add(tensor.scalars) }

  mutating func add(_ points: PointSet) {
    add(points.points)
    add(points.labels)
  }
}

extension Value {
  /// What the value holds in memory (see ``MemoryFootprint``).
  var footprint: MemoryFootprint {
    var f = MemoryFootprint()
    switch self {
    case .number, .bool, .range, .option, .layer, .nothing: break
    case .text(let t): f.own = t.utf8.count
    case .list(let items):
      f.own = MemoryEstimate.product(MemoryEstimate.listItemBytes, items.count)
      for item in items { f.add(item.footprint) }
    case .dataset(let d):
      f.add(d.features)
      f.add(d.labels)
    case .model(let m):
      for layer in m.layers { for p in layer.parameters { f.add(p) } }
    case .history(let h):
      f.own = MemoryEstimate.sum(
        MemoryEstimate.product(64, h.records.count), MemoryEstimate.product(8, h.batchLosses.count))
    case .table(let t):
      f.own = MemoryEstimate.product(32, t.rows.count, max(1, t.columns.count))
    case .figure(let figure): f.own = figure.svg.utf8.count
    case .signatures(let s):
      for layer in s.layers { f.add(layer) }
      f.add(s.labels)
    case .points(let p): f.add(p)
    case .clustering(let c):
      for layer in c.layers {
        f.add(layer.points)
        f.add(layer.result.assignments)
      }
    case .projection(let p):
      f.add(p.points)
      f.add(p.labels)
    case .novelty(let n):
      f.own = MemoryEstimate.product(
        16, n.rows.reduce(0) { $0 + $1.normalScores.count + $1.novelScores.count })
    }
    return f
  }
}
