import Dispatch
import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor

@Suite("Parallel chunks and the worker team", .timeLimit(.minutes(1)))
struct ParallelTests {
  /// How many times each chunk of `count` ran in one `Parallel.forEach`.
  static func runCounts(_ count: Int) -> [Int] {
    var runs = [Int](repeating: 0, count: count)
    runs.withUnsafeMutableBufferPointer { slots in
      // Each chunk writes its own slot only.
      nonisolated(unsafe) let slots = slots
      Parallel.forEach(count) { c in slots[c] += 1 }
    }
    return runs
  }

  /// How many times each chunk of `count` ran in one job of `team`, which must be idle.
  static func runCounts(_ count: Int, on team: WorkerTeam) -> [Int]? {
    var runs = [Int](repeating: 0, count: count)
    let ran = runs.withUnsafeMutableBufferPointer { slots in
      // Each chunk writes its own slot only.
      nonisolated(unsafe) let slots = slots
      return team.run(count) { c in slots[c] += 1 }
    }
    return ran ? runs : nil
  }

  // The two tests of the team's own life run on teams of their own: the shared team is busy
  // with whatever other suites run meanwhile (its jobs would go to Dispatch, and its workers
  // would never fall asleep).

  @Test func everyChunkRunsOnceInJobsBackToBack() {
    let team = WorkerTeam(workers: 1)
    // Back to back, the workers find each job while still spinning on the last one.
    for round in 0..<2_000 {
      let count = round % 37
      let runs = Self.runCounts(count, on: team)
      #expect(runs == [Int](repeating: 1, count: count), "\(count) chunks, round \(round)")
    }
  }

  @Test func everyChunkRunsOnceAfterTheWorkersFellAsleep() {
    let team = WorkerTeam(workers: 1)
    for _ in 0..<5 {
      // Once past their spin time the workers sleep (no output says so: their state is
      // polled), and the job must wake them.
      #expect(poll(every: 0.001, upTo: 30) { team.isAsleep }, "the workers never fell asleep")
      #expect(Self.runCounts(16, on: team) == [Int](repeating: 1, count: 16))
    }
  }

  @Test func callsFromSeveralThreadsAtOnceEachRunEveryChunk() {
    // One caller has the team; the others find it busy and go to Dispatch.
    let failures = Parallel.map(8) { caller in
      (0..<300).filter { round in
        Self.runCounts(2 + (caller + round) % 9)
          != [Int](repeating: 1, count: 2 + (caller + round) % 9)
      }.count
    }
    #expect(failures == [Int](repeating: 0, count: 8))
  }

  @Test func aJobMayRunParallelChunksOfItsOwn() {
    let inner = Parallel.map(6) { outer in Self.runCounts(5 + outer) }
    #expect(inner == (0..<6).map { [Int](repeating: 1, count: 5 + $0) })
  }

  @Test func mapKeepsChunkOrder() {
    for round in 0..<200 {
      #expect(Parallel.map(round % 13) { $0 * $0 } == (0..<round % 13).map { $0 * $0 })
    }
  }
}
