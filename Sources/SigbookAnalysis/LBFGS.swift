/// Limited-memory BFGS (Nocedal & Wright, *Numerical Optimization*, algorithms 7.4 and 7.5) for
/// smooth functions of many variables, in Double: the two-loop recursion over the last `memory`
/// steps, and a backtracking line search that keeps the Armijo condition and skips pairs
/// whose curvature sᵀy is not positive.
struct LBFGS {
  /// How a minimisation ended.
  struct Outcome {
    var x: [Double]
    var value: Double
    var iterations: Int
    /// Calls of the function (one per iteration, more where the line search backtracks).
    var evaluations: Int
    /// Whether the gradient fell below the tolerance (else the iterations ran out, or no step
    /// lowered the value any more).
    var converged: Bool
  }

  var memory = 10
  var maxIterations = 1000
  /// Converged when the largest gradient component is at most this.
  var gradientTolerance = 1e-6

  /// Minimises `f`, which returns the value at x and writes the gradient into its second
  /// argument, from `start`. Stops early (not converged) when `isCancelled` returns true.
  func minimize(
    from start: [Double], isCancelled: () -> Bool = { false },
    _ f: (_ x: [Double], _ gradient: inout [Double]) -> Double
  ) -> Outcome {
    let n = start.count
    var x = start
    var g = [Double](repeating: 0, count: n)
    var evaluations = 1
    var value = f(x, &g)
    var steps: [(s: [Double], y: [Double], rho: Double)] = []
    var direction = [Double](repeating: 0, count: n)
    var trial = [Double](repeating: 0, count: n)
    var trialGradient = [Double](repeating: 0, count: n)
    var iteration = 0
    while iteration < maxIterations {
      if Self.largest(g) <= gradientTolerance {
        return Outcome(
          x: x, value: value, iterations: iteration, evaluations: evaluations, converged: true)
      }
      if isCancelled() { break }
      iteration += 1
      // Two-loop recursion: direction = −H·g.
      for i in 0..<n { direction[i] = -g[i] }
      var alphas = [Double](repeating: 0, count: steps.count)
      for j in stride(from: steps.count - 1, through: 0, by: -1) {
        let a = steps[j].rho * Self.dot(steps[j].s, direction)
        alphas[j] = a
        Self.add(-a, steps[j].y, to: &direction)
      }
      if let last = steps.last {
        let gamma = Self.dot(last.s, last.y) / Self.dot(last.y, last.y)
        for i in 0..<n { direction[i] *= gamma }
      } else {
        // The first step: a length of one along the gradient, at most.
        let norm = Self.dot(g, g).squareRoot()
        let scale = 1 / max(1, norm)
        for i in 0..<n { direction[i] *= scale }
      }
      for j in 0..<steps.count {
        let b = steps[j].rho * Self.dot(steps[j].y, direction)
        Self.add(alphas[j] - b, steps[j].s, to: &direction)
      }
      var slope = Self.dot(g, direction)
      if slope >= 0 {
        // Not a descent direction (rounding): start again from the gradient.
        steps.removeAll()
        for i in 0..<n { direction[i] = -g[i] / max(1, Self.dot(g, g).squareRoot()) }
        slope = Self.dot(g, direction)
      }
      // Backtracking until the value falls enough (Armijo, c = 1e-4).
      var t = 1.0
      var trialValue = 0.0
      var accepted = false
      for _ in 0..<40 {
        for i in 0..<n { trial[i] = x[i] + t * direction[i] }
        trialValue = f(trial, &trialGradient)
        evaluations += 1
        if trialValue.isFinite, trialValue <= value + 1e-4 * t * slope {
          accepted = true
          break
        }
        t *= 0.5
      }
      guard accepted else { break }
      var s = [Double](repeating: 0, count: n), y = [Double](repeating: 0, count: n)
      for i in 0..<n {
        s[i] = trial[i] - x[i]
        y[i] = trialGradient[i] - g[i]
      }
      let curvature = Self.dot(s, y)
      if curvature > 1e-12 * Self.dot(y, y).squareRoot() * Self.dot(s, s).squareRoot() {
        steps.append((s, y, 1 / curvature))
        if steps.count > memory { steps.removeFirst() }
      }
      let previous = value
      swap(&x, &trial)
      swap(&g, &trialGradient)
      value = trialValue
      // A value that no longer changes: as converged as rounding allows.
      if abs(previous - value) <= 1e-15 * max(1, abs(value)) {
        return Outcome(
          x: x, value: value, iterations: iteration, evaluations: evaluations,
          converged: Self.largest(g) <= gradientTolerance * 100)
      }
    }
    return Outcome(
      x: x, value: value, iterations: iteration, evaluations: evaluations,
      converged: Self.largest(g) <= gradientTolerance)
  }

  static func dot(_ a: [Double], _ b: [Double]) -> Double {
    var sum = 0.0
    for i in a.indices { sum += a[i] * b[i] }
    return sum
  }

  /// y += a·x, element by element, through buffer pointers: indexing the arrays of `steps`
  /// inside the loop kept it scalar, with a uniqueness check per element (5% of W12's process).
  static func add(_ a: Double, _ x: [Double], to y: inout [Double]) {
    x.withUnsafeBufferPointer { x in
      y.withUnsafeMutableBufferPointer { y in
        for i in 0..<y.count { y[i] += a * x[i] }
      }
    }
  }

  static func largest(_ v: [Double]) -> Double { v.reduce(0) { max($0, abs($1)) } }
}
