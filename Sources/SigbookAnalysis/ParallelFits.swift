import Synchronization
import SigbookTensor

/// Independent fits on all cores (k-means restarts, probes of several layers): each with its
/// products on one OpenBLAS thread, whose sums then do not depend on the thread count, so the
/// results are the same on any number of cores.
enum ParallelFits {
  /// `body(i, check)` for every i in `0..<count`, concurrently, the results in order. `check`
  /// is the caller's cancellation check made safe to share: it is called by one thread at a
  /// time (it need not be thread-safe), and once it says stop, every later call says stop.
  static func map<T: Sendable>(
    _ count: Int, isCancelled: () -> Bool,
    _ body: @Sendable (_ index: Int, _ check: @Sendable () -> Bool) -> T
  ) -> [T] {
    let stop = Atomic<Bool>(false)
    let gate = Mutex(())
    return withoutActuallyEscaping(isCancelled) { isCancelled in
      nonisolated(unsafe) let poll = isCancelled
      let check: @Sendable () -> Bool = {
        if stop.load(ordering: .relaxed) { return true }
        let cancelled = gate.withLock { _ in poll() }
        if cancelled { stop.store(true, ordering: .relaxed) }
        return cancelled
      }
      BLAS.beginSingleThreaded()
      defer { BLAS.endSingleThreaded() }
      return Parallel.map(count) { body($0, check) }
    }
  }
}
