import ArgumentParser
import Foundation
import SigbookCore

/// `sigbook bench`: release-build throughput of the engine's hot paths.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure the engine's throughput (run it from a release build).")

  func run() throws {
    let n = 1024
    var g = SeededGenerator(seed: 0)
    let a = Tensor.uniform(shape: [n, n], low: -1, high: 1, generator: &g)
    let b = Tensor.uniform(shape: [n, n], low: -1, high: 1, generator: &g)
    var c = Tensor(zeros: [n, n])
    c.gemm(a, b)
    let reps = 10
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<reps { c.gemm(a, b) }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let gflops = 2 * Double(n * n * n) * Double(reps) / seconds / 1e9
    print(String(format: "matmul 1024³: %.1f GFLOP/s (%d threads)", gflops, BLAS.threadCount))
  }
}
