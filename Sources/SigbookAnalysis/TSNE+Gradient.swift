import Foundation

extension TSNE {
  /// Gradient descent with momentum and gains on `positions` (2n interleaved coordinates).
  static func optimize(
    _ positions: inout [Double], p: SparseGraph, options: TSNEOptions,
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
    var attraction = AttractionTerms(p)
    for iteration in 0..<total {
      if isCancelled() { throw .cancelled }
      let exaggerated = iteration < options.earlyExaggerationIterations
      let exaggeration = exaggerated ? options.earlyExaggeration : 1
      let momentum = exaggerated ? options.initialMomentum : options.finalMomentum
      computeGradient(
        positions, attraction: &attraction, exaggeration: exaggeration, theta: options.theta,
        tree: &tree, into: &gradient)
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

  /// ∂KL/∂y: 4 (α · attraction − repulsion / Z), attraction over the nonzeros of P, repulsion
  /// and Z by Barnes–Hut (or exactly when θ = 0).
  static func computeGradient(
    _ positions: [Double], attraction: inout AttractionTerms, exaggeration: Double,
    theta: Double, tree: inout BarnesHutTree, into gradient: inout [Double]
  ) {
    let z: Double
    if theta > 0 {
      tree.rebuild(positions, theta: theta)
      z = tree.repulsion(into: &gradient)
    } else {
      z = exactRepulsion(positions, into: &gradient)
    }
    attraction.combine(
      positions, attractionScale: 4 * exaggeration, repulsionScale: 4 / z, gradient: &gradient)
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
/// Σⱼ pᵢⱼ wᵢⱼ (yᵢ − yⱼ) are summed four edges at a time.
struct AttractionTerms {
  let count: Int
  private var rowStart: [Int]
  private var columns: [Int32]
  private var weights: [Float]
  private var xs: [Float]
  private var ys: [Float]

  init(_ p: SparseGraph) {
    count = p.count
    rowStart = [0]
    columns = []
    weights = []
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
    xs = [Float](repeating: 0, count: p.count)
    ys = xs
  }

  /// gradient ← attractionScale · Σⱼ pᵢⱼ wᵢⱼ (yᵢ − yⱼ) − repulsionScale · gradient.
  mutating func combine(
    _ positions: [Double], attractionScale: Double, repulsionScale: Double,
    gradient: inout [Double]
  ) {
    let n = count
    for i in 0..<n {
      xs[i] = Float(positions[2 * i])
      ys[i] = Float(positions[2 * i + 1])
    }
    xs.withUnsafeBufferPointer { xs in
      ys.withUnsafeBufferPointer { ys in
        gradient.withUnsafeMutableBufferPointer { g in
          rowStart.withUnsafeBufferPointer { rowStart in
            columns.withUnsafeBufferPointer { columns in
              weights.withUnsafeBufferPointer { weights in
                let one = SIMD4<Float>(repeating: 1)
                for i in 0..<n {
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
                  let fx = (Double(ax[0]) + Double(ax[1])) + (Double(ax[2]) + Double(ax[3]))
                  let fy = (Double(ay[0]) + Double(ay[1])) + (Double(ay[2]) + Double(ay[3]))
                  g[2 * i] = attractionScale * fx - repulsionScale * g[2 * i]
                  g[2 * i + 1] = attractionScale * fy - repulsionScale * g[2 * i + 1]
                }
              }
            }
          }
        }
      }
    }
  }
}
