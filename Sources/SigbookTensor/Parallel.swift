import Dispatch
import Foundation
import Synchronization

/// Work split into a fixed number of chunks run on every core, with results that do not depend
/// on how many cores there are.
///
/// The split is decided by the data alone (never by the core count), each chunk writes only its
/// own results, and whatever is combined afterwards is combined in chunk order: so a run on one
/// core and a run on sixteen give bit-identical numbers.
package enum Parallel {
  /// Calls `body(chunk)` for every chunk in `0 ..< count`, concurrently when `count > 1`.
  ///
  /// The calls run in any order and at the same time: `body` must only read shared state and
  /// write what belongs to its chunk.
  package static func forEach(_ count: Int, _ body: @Sendable (Int) -> Void) {
    // Inside a chunk of a call that keeps every core busy, the cores are taken: the chunks
    // run here, one after another, rather than on more threads competing for them.
    if count <= 1 || WorkerTeam.isSaturating {
      for i in 0..<count { body(i) }
      return
    }
    if let team = WorkerTeam.shared, team.run(count, body) { return }
    DispatchQueue.concurrentPerform(iterations: count, execute: body)
  }

  /// The results of `body(chunk)` for `0 ..< count`, in chunk order, computed concurrently.
  package static func map<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
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

/// Threads kept for `Parallel.forEach`, one fewer than the cores (the caller is the last).
///
/// Dispatch's `concurrentPerform` wakes its worker for every call, and on this kind of machine
/// the worker starts some 50 µs later: a loop of short parallel steps (training's batches, the
/// epochs of a UMAP layout) then runs on one core. These threads instead wait for the next job
/// spinning for `spinTime` after each one, as OpenMP's threads do, then sleep until woken.
///
/// One job at a time: a call made while the team is busy goes to Dispatch instead, except from
/// inside a job that has a chunk for every thread (`isSaturating`), where it runs on the
/// calling thread (batch inference's convolutions, each inside one batch of a wave of batches:
/// Dispatch's threads there only competed with the team's for the cores, 5% of W10's time in
/// the scheduler). Which thread runs a chunk never changes what it computes.
final class WorkerTeam: @unchecked Sendable {
  /// The team, or nil on one core.
  static let shared: WorkerTeam? = {
    let workers = ProcessInfo.processInfo.activeProcessorCount - 1
    return workers > 0 ? WorkerTeam(workers: workers) : nil
  }()

  /// How long an idle worker spins before it sleeps.
  static let spinTime = Duration.microseconds(500)

  /// Spins before a waiting thread starts yielding its core at every turn: another thread that
  /// needs the core (OpenBLAS's, another process's) then gets it, and the wait stays short.
  static let pureSpins = 1_000

  /// One call's chunks, claimed one by one by whichever thread comes first.
  private final class Job: @unchecked Sendable {
    let count: Int
    /// Set while the call runs; cleared before it returns (`run` must not let it escape).
    var body: (@Sendable (Int) -> Void)?
    let next = Atomic<Int>(0)
    let done = Atomic<Int>(0)

    init(count: Int, body: @escaping @Sendable (Int) -> Void) {
      self.count = count
      self.body = body
    }

    /// Runs chunks until none is left unclaimed; `saturating`: the job has a chunk for every
    /// thread of the team.
    func help(saturating: Bool) {
      if saturating { WorkerTeam.saturatingKey.set(true) }
      defer { if saturating { WorkerTeam.saturatingKey.set(false) } }
      while true {
        let chunk = next.wrappingAdd(1, ordering: .relaxed).oldValue
        if chunk >= count { return }
        call(chunk)
        done.wrappingAdd(1, ordering: .releasing)
      }
    }

    /// The body's reference is dropped before the chunk is counted done, so that once every
    /// chunk is, nothing but the job holds it.
    @inline(never) private func call(_ chunk: Int) { body.unsafelyUnwrapped(chunk) }
  }

  /// Guards `job`, `generation` and `sleepers`; the condition a sleeping worker waits on.
  private let condition = NSCondition()
  private var job: Job?
  private var generation = 0
  private var sleepers = 0
  /// `generation`, readable without the lock by spinning workers.
  private let published = Atomic<Int>(0)
  private let busy = Atomic<Bool>(false)

  /// How many worker threads the team has (besides the caller).
  private let workers: Int

  /// Set on a thread while it runs chunks of a job that has one for every thread of the team.
  fileprivate static let saturatingKey = ThreadFlag()

  /// Whether the calling thread is running a chunk of a team job that keeps every core busy.
  static var isSaturating: Bool { saturatingKey.value }

  /// Whether every worker is asleep, waiting to be woken: what a test polls before checking
  /// that a job wakes them.
  var isAsleep: Bool { condition.withLock { sleepers == workers } }

  /// A team of `workers` threads that live as long as the process (`shared` is the one
  /// `Parallel` uses; tests make their own, so that no other test's jobs keep it busy).
  init(workers: Int) {
    self.workers = workers
    for _ in 0..<workers {
      let thread = Thread { [self] in work() }
      thread.name = "sigbook worker"
      thread.start()
    }
  }

  /// Runs `body` for `0 ..< count` on the team and the calling thread; false, having run
  /// nothing, when the team is busy.
  func run(_ count: Int, _ body: @Sendable (Int) -> Void) -> Bool {
    guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    else { return false }
    defer { busy.store(false, ordering: .releasing) }
    withoutActuallyEscaping(body) { body in
      let job = Job(count: count, body: body)
      condition.lock()
      self.job = job
      generation += 1
      published.store(generation, ordering: .releasing)
      if sleepers > 0 { condition.broadcast() }
      condition.unlock()
      job.help(saturating: count > workers)
      var spins = 0
      while job.done.load(ordering: .acquiring) < count {
        spins &+= 1
        if spins > Self.pureSpins { sched_yield() }
      }
      condition.lock()
      self.job = nil
      condition.unlock()
      job.body = nil
    }
    return true
  }

  /// A worker's life: wait for a job (spinning, then asleep), help with it, again.
  private func work() {
    let clock = ContinuousClock()
    var seen = 0
    while true {
      var deadline: ContinuousClock.Instant?
      var spins = 0
      while published.load(ordering: .acquiring) == seen {
        spins &+= 1
        guard spins > Self.pureSpins else { continue }
        sched_yield()
        let now = clock.now
        if deadline == nil { deadline = now + Self.spinTime }
        guard let deadline, now >= deadline else { continue }
        condition.lock()
        while generation == seen {
          sleepers += 1
          condition.wait()
          sleepers -= 1
        }
        condition.unlock()
        break
      }
      condition.lock()
      seen = generation
      let job = job
      condition.unlock()
      job?.help(saturating: (job?.count ?? 0) > workers)
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

/// A flag of each thread's own (POSIX thread-specific data), false until set.
final class ThreadFlag: Sendable {
  private let key: pthread_key_t

  init() {
    var key = pthread_key_t()
    precondition(pthread_key_create(&key, nil) == 0, "no thread-specific key left")
    self.key = key
  }

  var value: Bool { pthread_getspecific(key) != nil }

  func set(_ value: Bool) {
    // Any non-null pointer marks the flag as set; nothing is ever stored behind it.
    _ = pthread_setspecific(key, value ? UnsafeRawPointer(bitPattern: 1) : nil)
  }
}
