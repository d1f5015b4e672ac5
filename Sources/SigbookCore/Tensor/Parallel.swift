import Dispatch

/// Work split into a fixed number of chunks run on every core, with results that do not depend
/// on how many cores there are.
///
/// The split is decided by the data alone (never by the core count), each chunk writes only its
/// own results, and whatever is combined afterwards is combined in chunk order: so a run on one
/// core and a run on sixteen give bit-identical numbers.
enum Parallel {
  /// Calls `body(chunk)` for every chunk in `0 ..< count`, concurrently when `count > 1`.
  ///
  /// The calls run in any order and at the same time: `body` must only read shared state and
  /// write what belongs to its chunk.
  static func forEach(_ count: Int, _ body: @Sendable (Int) -> Void) {
    if count <= 1 {
      for i in 0..<count { body(i) }
      return
    }
    DispatchQueue.concurrentPerform(iterations: count, execute: body)
  }

  /// The results of `body(chunk)` for `0 ..< count`, in chunk order, computed concurrently.
  static func map<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    var results = [T?](repeating: nil, count: count)
    results.withUnsafeMutableBufferPointer { slots in
      // Each chunk writes its own slot only.
      nonisolated(unsafe) let slots = slots
      forEach(count) { i in slots[i] = body(i) }
    }
    return results.map { result in
      guard let result else { preconditionFailure("a parallel chunk produced no result") }
      return result
    }
  }
}

extension BLAS {
  /// Runs `body` with OpenBLAS on one thread, restoring the previous count afterwards.
  ///
  /// Training and batch inference split their work into fixed chunks themselves (`Parallel`):
  /// OpenBLAS's own threads would then compete with them, and its small-matrix kernels sum in a
  /// different order with one thread than with several, so results would depend on the thread
  /// count. One thread per product keeps them identical everywhere.
  static func singleThreaded<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
    let previous = threadCount
    if previous != 1 { setThreadCount(1) }
    defer { if previous != 1 { setThreadCount(previous) } }
    return try body()
  }
}
