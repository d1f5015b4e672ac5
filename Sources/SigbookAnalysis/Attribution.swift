import Foundation
import SigbookTensor
import SigbookNN

/// Attributions: for each input, how much each of its values drove the network's score of a
/// class — Captum's methods (Kokhlikyan et al., 2020), computed at inference (batch
/// normalisations with their running statistics) on the score of the class, the logit when
/// the network ends in a softmax or sigmoid.
public enum Attribution {
  public enum Method: String, CaseIterable, Sendable {
    /// ∂score/∂x (Simonyan et al., 2014; Captum's `Saliency` with `abs=False`).
    case gradient
    /// The mean gradient over noisy copies x + ε, ε ~ N(0, σ²), σ = noise × (max − min) of the
    /// input (Smilkov et al., 2017; Captum's `NoiseTunnel(Saliency)`, `smoothgrad`).
    case smoothgrad
    /// (x − x′) × ∫₀¹ ∂score/∂x at x′ + α(x − x′) dα by Gauss–Legendre quadrature of `steps`
    /// points (Sundararajan et al., 2017; Captum's `IntegratedGradients`, its default method).
    case integrated_gradients
    /// The fall of the score when a window of the input is set to the baseline, averaged over
    /// the windows that cover each value (Zeiler & Fergus, 2014; Captum's `Occlusion`).
    case occlusion
  }

  public struct Options: Sendable {
    /// Integrated gradients: quadrature points.
    public var steps = 50
    /// SmoothGrad: noisy copies per input, and σ as a fraction of the input's range.
    public var samples = 25
    public var noise = 0.15
    /// Occlusion: the side of the square window (of every channel at once) and its stride.
    public var window = 4
    public var stride = 2
    /// The baseline value: the reference input of integrated gradients, what occlusion puts.
    public var baseline: Float = 0
    public var seed = 0

    public init() {}
  }

  /// The rows a chunk computes at once: inputs times their steps or samples, about this many.
  static let chunkRows = 256
  /// Chunks run side by side between two checks for Ctrl-C.
  static let wavesOf = 8

  /// One map per input (`inputs`' shape) of its values' share in the score of class
  /// `targets[i]`.
  ///
  /// Inputs are taken in fixed chunks, concurrently, each input's noise drawn from the seed and
  /// its index: the maps do not depend on the number of cores.
  ///
  /// - Parameters:
  ///   - progress: called with the fraction of inputs done (0…1) before every wave of chunks
  ///     and once at the end, for a progress bar.
  ///   - isCancelled: checked before every wave of chunks; when it returns true the maps stop.
  /// - Throws: `AnalysisError` for values that are not finite, a target outside the classes,
  ///   options out of range, or `.cancelled`.
  public static func maps(
    model: Model, inputs: Tensor, targets: [Int], method: Method, options: Options = Options(),
    progress: ((Double) -> Void)? = nil, isCancelled: () -> Bool = { false }
  ) throws(AnalysisError) -> Tensor {
    let n = inputs.rows
    guard targets.count == n else {
      throw .invalidArgument("\(targets.count) targets for \(n) inputs")
    }
    guard inputs.scalars.allSatisfy(\.isFinite) else {
      throw .nonFiniteValues(what: "the inputs")
    }
    let classes = model.outputCount
    if let bad = targets.first(where: { $0 < 0 || $0 >= max(classes, 1) }) {
      throw .invalidArgument("class \(bad) is not one of the network's \(classes) outputs")
    }
    switch method {
    case .integrated_gradients:
      guard (1...1000).contains(options.steps) else {
        throw .invalidArgument("steps must be between 1 and 1,000, not \(options.steps)")
      }
    case .smoothgrad:
      guard (1...1000).contains(options.samples) else {
        throw .invalidArgument("samples must be between 1 and 1,000, not \(options.samples)")
      }
      guard options.noise >= 0, options.noise.isFinite else {
        throw .invalidArgument("noise must be 0 or more, not \(options.noise)")
      }
    case .occlusion:
      guard options.window >= 1, options.stride >= 1 else {
        throw .invalidArgument(
          "the window (\(options.window)) and stride (\(options.stride)) must be at least 1")
      }
    case .gradient: break
    }
    let perInput: Int =
      switch method {
      case .gradient: 1
      case .smoothgrad: options.samples
      case .integrated_gradients: options.steps
      case .occlusion: 1
      }
    let inputsPerChunk = max(1, chunkRows / perInput)
    let chunks = (n + inputsPerChunk - 1) / inputsPerChunk
    BLAS.beginSingleThreaded()
    defer { BLAS.endSingleThreaded() }
    // Waves of chunks on the cores, a check for Ctrl-C between waves.
    var parts: [Tensor] = []
    var wave = 0
    while wave < chunks {
      if isCancelled() { throw .cancelled }
      progress?(Double(wave) / Double(chunks))
      let count = min(wavesOf, chunks - wave), first = wave
      parts += Parallel.map(count) { k -> Tensor in
        let c = first + k
        let range = (c * inputsPerChunk)..<min(n, (c + 1) * inputsPerChunk)
        let x = inputs.rows(range), t = Array(targets[range])
        switch method {
        case .gradient: return model.scoreGradients(x, targets: t).gradients
        case .smoothgrad:
          return smoothGrad(model, x, t, first: range.lowerBound, options: options)
        case .integrated_gradients: return integratedGradients(model, x, t, options: options)
        case .occlusion: return occlusion(model, x, t, options: options)
        }
      }
      wave += count
    }
    progress?(1)
    return Tensor.concatenate(parts).reshaped(inputs.shape)
  }

  /// For each input, the weighted sum of the gradients at `m` variants of it: variant s of
  /// input i is written by `variant(i, s, row)` into `row`, and its gradient weighs `weights[s]`.
  static func weightedGradients(
    _ model: Model, _ x: Tensor, _ targets: [Int], weights: [Double],
    variant: (_ input: Int, _ s: Int, _ row: inout ArraySlice<Float>) -> Void
  ) -> [Double] {
    let d = x.rowSize, m = weights.count
    var rows = [Float](repeating: 0, count: x.rows * m * d)
    var rowTargets: [Int] = []
    for i in 0..<x.rows {
      for s in 0..<m {
        variant(i, s, &rows[((i * m + s) * d)..<((i * m + s + 1) * d)])
        rowTargets.append(targets[i])
      }
    }
    let gradients = model.scoreGradients(
      Tensor(shape: [x.rows * m] + x.shape.dropFirst(), scalars: rows), targets: rowTargets
    ).gradients.scalars
    var out = [Double](repeating: 0, count: x.count)
    for i in 0..<x.rows {
      for j in 0..<d {
        for s in 0..<m { out[i * d + j] += weights[s] * Double(gradients[(i * m + s) * d + j]) }
      }
    }
    return out
  }

  static func smoothGrad(
    _ model: Model, _ x: Tensor, _ targets: [Int], first: Int, options: Options
  ) -> Tensor {
    let d = x.rowSize, m = options.samples
    var generators: [SeededGenerator] = []
    var sigmas: [Double] = []
    for i in 0..<x.rows {
      let row = x.scalars[(i * d)..<((i + 1) * d)]
      sigmas.append(options.noise * Double((row.max() ?? 0) - (row.min() ?? 0)))
      // Each input's noise from the seed and its index alone.
      generators.append(
        SeededGenerator(
          seed: UInt64(truncatingIfNeeded: options.seed)
            ^ (UInt64(first + i) &* 0x9E37_79B9_7F4A_7C15)))
    }
    let mean = weightedGradients(
      model, x, targets, weights: [Double](repeating: 1 / Double(m), count: m)
    ) { i, _, row in
      for (k, j) in row.indices.enumerated() {
        row[j] = x.scalars[i * d + k] + Float(sigmas[i] * generators[i].nextNormal())
      }
    }
    return Tensor(shape: x.shape, scalars: mean.map { Float($0) })
  }

  static func integratedGradients(
    _ model: Model, _ x: Tensor, _ targets: [Int], options: Options
  ) -> Tensor {
    let d = x.rowSize, b = options.baseline
    let (alphas, weights) = gaussLegendre(options.steps)
    let integral = weightedGradients(model, x, targets, weights: weights) { i, s, row in
      let alpha = Float(alphas[s])
      for (k, j) in row.indices.enumerated() {
        row[j] = b + alpha * (x.scalars[i * d + k] - b)
      }
    }
    return Tensor(
      shape: x.shape,
      scalars: integral.indices.map { Float(integral[$0] * Double(x.scalars[$0] - b)) })
  }

  /// The windows of an item: for maps `[C, H, W]`, squares of every channel; else runs of the
  /// flattened values. Each window is the list of value offsets it covers.
  static func windows(itemShape: [Int], window: Int, stride: Int) -> [[Int]] {
    func starts(_ size: Int, _ w: Int) -> [Int] {
      size <= w ? [0] : Array(Swift.stride(from: 0, through: size - w, by: stride))
    }
    if itemShape.count == 3 {
      let (c, h, w) = (itemShape[0], itemShape[1], itemShape[2])
      let wy = min(window, h), wx = min(window, w)
      return starts(h, wy).flatMap { y0 in
        starts(w, wx).map { x0 in
          (0..<c).flatMap { ch in
            (y0..<(y0 + wy)).flatMap { y in (x0..<(x0 + wx)).map { (ch * h + y) * w + $0 } }
          }
        }
      }
    }
    let d = itemShape.reduce(1, *), wd = min(window, d)
    return starts(d, wd).map { Array($0..<($0 + wd)) }
  }

  static func occlusion(_ model: Model, _ x: Tensor, _ targets: [Int], options: Options) -> Tensor {
    let d = x.rowSize, item = Array(x.shape.dropFirst())
    let all = windows(itemShape: item, window: options.window, stride: options.stride)
    var out = [Float](repeating: 0, count: x.count)
    var coverage = [Int](repeating: 0, count: d)
    for window in all { for j in window { coverage[j] += 1 } }
    let perPass = max(1, chunkRows)
    for i in 0..<x.rows {
      let row = Array(x.scalars[(i * d)..<((i + 1) * d)])
      let original = Double(
        model.scores(Tensor(shape: [1] + item, scalars: row)).scalars[targets[i]])
      var start = 0
      while start < all.count {
        let batch = all[start..<min(all.count, start + perPass)]
        var occluded = [Float](repeating: 0, count: batch.count * d)
        for (k, window) in batch.enumerated() {
          for j in 0..<d { occluded[k * d + j] = row[j] }
          for j in window { occluded[k * d + j] = options.baseline }
        }
        let scores = model.scores(Tensor(shape: [batch.count] + item, scalars: occluded))
        let classes = scores.rowSize
        for (k, window) in batch.enumerated() {
          let fall = Float(original - Double(scores.scalars[k * classes + targets[i]]))
          for j in window { out[i * d + j] += fall }
        }
        start += perPass
      }
      for j in 0..<d where coverage[j] > 0 { out[i * d + j] /= Float(coverage[j]) }
    }
    return Tensor(shape: x.shape, scalars: out)
  }

  /// The `n` Gauss–Legendre nodes and weights moved from [−1, 1] to [0, 1], nodes increasing:
  /// the roots of Pₙ by Newton's method from Tricomi's approximations, weights
  /// 2 / ((1 − x²) Pₙ′(x)²).
  static func gaussLegendre(_ n: Int) -> (nodes: [Double], weights: [Double]) {
    var nodes = [Double](repeating: 0, count: n), weights = [Double](repeating: 0, count: n)
    for i in 0..<n {
      var x = cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))
      var derivative = 0.0
      for _ in 0..<100 {
        var p0 = 1.0, p1 = x
        for j in stride(from: 2, through: n, by: 1) {
          let p2 = ((2 * Double(j) - 1) * x * p1 - (Double(j) - 1) * p0) / Double(j)
          p0 = p1
          p1 = p2
        }
        derivative = Double(n) * (x * p1 - p0) / (x * x - 1)
        let step = p1 / derivative
        x -= step
        if abs(step) < 1e-15 { break }
      }
      // cos gives the roots in decreasing order: store them increasing.
      nodes[n - 1 - i] = (x + 1) / 2
      weights[n - 1 - i] = 1 / ((1 - x * x) * derivative * derivative)
    }
    return (nodes, weights)
  }
}
