import Foundation
import SigbookTensor

extension TSNE {
  /// The fewest points for which `optimize` splits each gradient across the cores by default:
  /// below, an iteration is too short to pay for waking a second thread.
  static let concurrentPoints = 512

  /// Gradient descent with momentum and gains on `positions` (2n interleaved coordinates).
  ///
  /// - Parameter concurrently: whether each gradient's parts run on several threads; `nil` (the
  ///   default) decides by the number of points. The result is the same bits either way.
  static func optimize(
    _ positions: inout [Double], p: SparseGraph, options: TSNEOptions, concurrently: Bool? = nil,
    progress: ((Double) -> Void)?, isCancelled: () -> Bool
  ) throws(AnalysisError) {
    let n = p.count
    let learningRate =
      options.learningRate ?? max(Double(n) / options.earlyExaggeration / 4, 50)
    let total = options.iterations
    var gradient = [Double](repeating: 0, count: 2 * n)
    var update = [Double](repeating: 0, count: 2 * n)
    var gains = [Double](repeating: 1, count: 2 * n)
    var tree = BarnesHutTree()
    let attraction = AttractionTerms(p, parts: BarnesHutTree.partCount)
    var buffers = GradientBuffers(count: n)
    let isConcurrent = concurrently ?? (n >= concurrentPoints)
    for iteration in 0..<total {
      if isCancelled() { throw .cancelled }
      let exaggerated = iteration < options.earlyExaggerationIterations
      let exaggeration = exaggerated ? options.earlyExaggeration : 1
      let momentum = exaggerated ? options.initialMomentum : options.finalMomentum
      computeGradient(
        positions, attraction: attraction, exaggeration: exaggeration, theta: options.theta,
        tree: &tree, buffers: &buffers, into: &gradient, concurrently: isConcurrent)
      positions.withUnsafeMutableBufferPointer { y in
        gradient.withUnsafeBufferPointer { g in
          update.withUnsafeMutableBufferPointer { u in
            gains.withUnsafeMutableBufferPointer { gain in
              step(
                y, g, u, gain, n: n, learningRate: learningRate, momentum: momentum,
                maxStepNorm: options.maxStepNorm)
            }
          }
        }
      }
      progress?(Double(iteration + 1) / Double(total))
    }
  }

  /// One delta-bar-delta step with momentum, step clipping and re-centring.
  private static func step(
    _ y: UnsafeMutableBufferPointer<Double>, _ g: UnsafeBufferPointer<Double>,
    _ u: UnsafeMutableBufferPointer<Double>, _ gain: UnsafeMutableBufferPointer<Double>, n: Int,
    learningRate: Double, momentum: Double, maxStepNorm: Double
  ) {
    for c in 0..<(2 * n) {
      // Gains grow while descent keeps its direction (gradient against the last step) and
      // shrink when it turns.
      let g0 = (g[c] > 0) != (u[c] > 0) ? gain[c] + 0.2 : gain[c] * 0.8
      gain[c] = max(g0, 0.01)
      u[c] = momentum * u[c] - learningRate * gain[c] * g[c]
    }
    var meanX = 0.0, meanY = 0.0
    for i in 0..<n {
      let norm = (u[2 * i] * u[2 * i] + u[2 * i + 1] * u[2 * i + 1]).squareRoot()
      if norm > maxStepNorm {
        let s = maxStepNorm / norm
        u[2 * i] *= s
        u[2 * i + 1] *= s
      }
      y[2 * i] += u[2 * i]
      y[2 * i + 1] += u[2 * i + 1]
      meanX += y[2 * i]
      meanY += y[2 * i + 1]
    }
    meanX /= Double(n)
    meanY /= Double(n)
    for i in 0..<n {
      y[2 * i] -= meanX
      y[2 * i + 1] -= meanY
    }
  }

  /// What `computeGradient` works in, kept between iterations.
  struct GradientBuffers {
    /// The positions in `Float`, x and y apart, for the attractive forces.
    var xs: [Float]
    var ys: [Float]
    /// The attractive forces, 2n interleaved.
    var attractive: [Double]
    /// The repulsive forces, 2n interleaved (the exact sum's, when θ = 0).
    var repulsive: [Double]
    /// The tree's sums, by sorted point.
    var sums: BarnesHutTree.Sums

    init(count n: Int) {
      xs = [Float](repeating: 0, count: n)
      ys = xs
      attractive = [Double](repeating: 0, count: 2 * n)
      repulsive = attractive
      sums = BarnesHutTree.Sums(count: n)
    }
  }

  /// ∂KL/∂y: 4 (α · attraction − repulsion / Z), attraction over the nonzeros of P, repulsion
  /// and Z by Barnes–Hut (or exactly when θ = 0).
  ///
  /// Two rounds of parts, concurrent when `concurrently` is true: the tree's rebuilding beside the
  /// attraction's `BarnesHutTree.partCount` parts (the attraction needs no tree), then the
  /// repulsion's parts. Each part writes only its own points' sums and Z is added in a fixed
  /// order, so the gradient is the same bits on any number of threads.
  static func computeGradient(
    _ positions: [Double], attraction: AttractionTerms, exaggeration: Double, theta: Double,
    tree: inout BarnesHutTree, buffers: inout GradientBuffers, into gradient: inout [Double],
    concurrently: Bool
  ) {
    let n = attraction.count
    let usesTree = theta > 0
    for i in 0..<n {
      buffers.xs[i] = Float(positions[2 * i])
      buffers.ys[i] = Float(positions[2 * i + 1])
    }
    let parts = BarnesHutTree.partCount
    func run(_ count: Int, _ body: @Sendable (Int) -> Void) {
      if concurrently {
        Parallel.forEach(count, body)
      } else {
        for c in 0..<count { body(c) }
      }
    }
    // The attraction needs no tree: its parts run while one thread rebuilds the tree.
    buffers.xs.withUnsafeBufferPointer { xs in
      buffers.ys.withUnsafeBufferPointer { ys in
        buffers.attractive.withUnsafeMutableBufferPointer { attractive in
          withUnsafeMutablePointer(to: &tree) { tree in
            nonisolated(unsafe) let (xs, ys, attractive, tree) = (xs, ys, attractive, tree)
            run(1 + parts) { c in
              if c > 0 {
                attraction.forces(part: c - 1, xs: xs, ys: ys, into: attractive)
              } else if usesTree {
                tree.pointee.rebuild(positions, theta: theta)
              }
            }
          }
        }
      }
    }
    let tree = tree
    if usesTree {
      buffers.sums.z.withUnsafeMutableBufferPointer { z in
        buffers.sums.fx.withUnsafeMutableBufferPointer { fx in
          buffers.sums.fy.withUnsafeMutableBufferPointer { fy in
            buffers.sums.lists.withUnsafeMutableBufferPointer { lists in
              nonisolated(unsafe) let (z, fx, fy, lists) = (z, fx, fy, lists)
              run(parts) { p in tree.repulsion(part: p, z: z, fx: fx, fy: fy, lists: lists) }
            }
          }
        }
      }
    }
    let attractionScale = 4 * exaggeration
    if usesTree {
      let repulsionScale = 4 / BarnesHutTree.total(buffers.sums.z)
      for s in 0..<n {
        let i = tree.originalIndex(s)
        gradient[2 * i] =
          attractionScale * buffers.attractive[2 * i] - repulsionScale * buffers.sums.fx[s]
        gradient[2 * i + 1] =
          attractionScale * buffers.attractive[2 * i + 1] - repulsionScale * buffers.sums.fy[s]
      }
    } else {
      let repulsionScale = 4 / exactRepulsion(positions, into: &buffers.repulsive)
      for c in 0..<(2 * n) {
        gradient[c] =
          attractionScale * buffers.attractive[c] - repulsionScale * buffers.repulsive[c]
      }
    }
  }

  /// Σⱼ wᵢⱼ² (yᵢ − yⱼ) into `forces` and Z = Σᵢ≠ⱼ wᵢⱼ over all pairs, wᵢⱼ = 1/(1 + ‖yᵢ − yⱼ‖²).
  static func exactRepulsion(_ positions: [Double], into forces: inout [Double]) -> Double {
    let n = positions.count / 2
    var z = 0.0
    positions.withUnsafeBufferPointer { y in
      forces.withUnsafeMutableBufferPointer { f in
        for i in 0..<n {
          var fx = 0.0, fy = 0.0, zi = 0.0
          for j in 0..<n where j != i {
            let dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1]
            let w = 1 / (1 + dx * dx + dy * dy)
            zi += w
            fx += w * w * dx
            fy += w * w * dy
          }
          f[2 * i] = fx
          f[2 * i + 1] = fy
          z += zi
        }
      }
    }
    return z
  }

  /// KL(P ‖ Q) = Σ pᵢⱼ log(pᵢⱼ / qᵢⱼ) over the nonzeros of P, qᵢⱼ = wᵢⱼ / Z; Z exact for
  /// n ≤ 10,000, by Barnes–Hut above.
  static func klDivergence(_ positions: [Double], p: SparseGraph, theta: Double) -> Double {
    let n = p.count
    var scratch = [Double](repeating: 0, count: 2 * n)
    let z: Double
    if n <= 10_000 || theta == 0 {
      z = exactRepulsion(positions, into: &scratch)
    } else {
      var tree = BarnesHutTree()
      tree.rebuild(positions, theta: theta)
      z = tree.repulsion(into: &scratch)
    }
    var kl = 0.0
    for i in 0..<n {
      for e in p.rowStart[i]..<p.rowStart[i + 1] {
        let j = p.columns[e]
        let pij = p.weights[e]
        let dx = positions[2 * i] - positions[2 * j]
        let dy = positions[2 * i + 1] - positions[2 * j + 1]
        let q = 1 / (1 + dx * dx + dy * dy) / z
        kl += pij * log(max(pij, 1e-300) / max(q, 1e-300))
      }
    }
    return kl
  }
}

/// The nonzeros of P in `Float`, each row padded to a multiple of four entries (padding points
/// at the row's own vertex with weight 0, which adds nothing), so the attractive forces
/// Σⱼ pᵢⱼ wᵢⱼ (yᵢ − yⱼ) are summed four edges at a time; the rows are split into parts of about
/// equal numbers of entries, which may be summed concurrently.
///
/// (An AVX2 kernel of eight edges at a time, their coordinates fetched by `vgatherdps`, was
/// slower on the Zen 3 machine than these four-lane sums: 22% of W6's samples against 17%.)
struct AttractionTerms: Sendable {
  let count: Int
  private let rowStart: [Int]
  private let columns: [Int32]
  private let weights: [Float]
  /// Consecutive ranges of rows, one per part.
  private let parts: [Range<Int>]

  init(_ p: SparseGraph, parts partCount: Int) {
    count = p.count
    var rowStart = [0]
    var columns: [Int32] = []
    var weights: [Float] = []
    for i in 0..<p.count {
      for e in p.rowStart[i]..<p.rowStart[i + 1] {
        columns.append(Int32(p.columns[e]))
        weights.append(Float(p.weights[e]))
      }
      while columns.count % 4 != 0 {
        columns.append(Int32(i))
        weights.append(0)
      }
      rowStart.append(columns.count)
    }
    // Part q ends before the first row that starts at or after (q + 1)/partCount of the
    // entries; the last takes the rest.
    precondition(partCount > 0, "the attractive forces need at least one part")
    var parts: [Range<Int>] = []
    var row = 0
    for q in 0..<partCount {
      let first = row
      let end = columns.count * (q + 1) / partCount
      while row < p.count && (rowStart[row] < end || q == partCount - 1) { row += 1 }
      parts.append(first..<row)
    }
    self.rowStart = rowStart
    self.columns = columns
    self.weights = weights
    self.parts = parts
  }

  /// forces[2i], forces[2i + 1] ← Σⱼ pᵢⱼ wᵢⱼ (yᵢ − yⱼ) for the rows i of part `part`, with
  /// wᵢⱼ = 1 / (1 + ‖yᵢ − yⱼ‖²) and y = (xs, ys). Writes nothing else.
  func forces(
    part: Int, xs: UnsafeBufferPointer<Float>, ys: UnsafeBufferPointer<Float>,
    into forces: UnsafeMutableBufferPointer<Double>
  ) {
    guard part < parts.count else { return }
    rowStart.withUnsafeBufferPointer { rowStart in
      columns.withUnsafeBufferPointer { columns in
        weights.withUnsafeBufferPointer { weights in
          let one = SIMD4<Float>(repeating: 1)
          for i in parts[part] {
            let xi = SIMD4<Float>(repeating: xs[i]), yi = SIMD4<Float>(repeating: ys[i])
            var ax = SIMD4<Float>(), ay = SIMD4<Float>()
            var e = rowStart[i]
            let end = rowStart[i + 1]
            while e < end {
              let j0 = Int(columns[e]), j1 = Int(columns[e + 1])
              let j2 = Int(columns[e + 2]), j3 = Int(columns[e + 3])
              let dx = xi - SIMD4(xs[j0], xs[j1], xs[j2], xs[j3])
              let dy = yi - SIMD4(ys[j0], ys[j1], ys[j2], ys[j3])
              let p = SIMD4(weights[e], weights[e + 1], weights[e + 2], weights[e + 3])
              let pw = p / (one + dx * dx + dy * dy)
              ax += pw * dx
              ay += pw * dy
              e += 4
            }
            forces[2 * i] = (Double(ax[0]) + Double(ax[1])) + (Double(ax[2]) + Double(ax[3]))
            forces[2 * i + 1] = (Double(ay[0]) + Double(ay[1])) + (Double(ay[2]) + Double(ay[3]))
          }
        }
      }
    }
  }
}
