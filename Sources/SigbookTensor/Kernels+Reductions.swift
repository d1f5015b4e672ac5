/// Sums and per-element affine maps over runs of values: the statistics of a normalisation
/// (a channel's mean and variance over one map) and its gradient, vectorised, each sum taken
/// in `Vector.scalarCount` partial sums in a fixed order.
extension Kernels {
  /// Σ x[i] over `count` values.
  package static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
    let s = UnsafeRawPointer(x)
    var sums = Vector(repeating: 0)
    var i = 0
    while i + Vector.scalarCount <= count {
      sums += s.loadUnaligned(fromByteOffset: i * 4, as: Vector.self)
      i += Vector.scalarCount
    }
    var total = sums.sum()
    while i < count {
      total += x[i]
      i += 1
    }
    return total
  }

  /// Σ (x[i] − center)² over `count` values.
  package static func squaredDeviations(
    _ x: UnsafePointer<Float>, from center: Float, count: Int
  ) -> Float {
    let s = UnsafeRawPointer(x)
    let c = Vector(repeating: center)
    var sums = Vector(repeating: 0)
    var i = 0
    while i + Vector.scalarCount <= count {
      let d = s.loadUnaligned(fromByteOffset: i * 4, as: Vector.self) - c
      sums += d * d
      i += Vector.scalarCount
    }
    var total = sums.sum()
    while i < count {
      let d = x[i] - center
      total += d * d
      i += 1
    }
    return total
  }

  /// (Σ x[i], Σ x[i]·y[i]) over `count` values.
  package static func sumAndDot(
    _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int
  ) -> (sum: Float, dot: Float) {
    let sx = UnsafeRawPointer(x), sy = UnsafeRawPointer(y)
    var sums = Vector(repeating: 0), dots = Vector(repeating: 0)
    var i = 0
    while i + Vector.scalarCount <= count {
      let a = sx.loadUnaligned(fromByteOffset: i * 4, as: Vector.self)
      sums += a
      dots += a * sy.loadUnaligned(fromByteOffset: i * 4, as: Vector.self)
      i += Vector.scalarCount
    }
    var sum = sums.sum(), dot = dots.sum()
    while i < count {
      sum += x[i]
      dot += x[i] * y[i]
      i += 1
    }
    return (sum, dot)
  }

  /// target[i] = a · x[i] + b · y[i] + c for i in 0 ..< count (`target` may be `x`).
  package static func combine(
    _ a: Float, _ x: UnsafePointer<Float>, _ b: Float, _ y: UnsafePointer<Float>, plus c: Float,
    into target: UnsafeMutablePointer<Float>, count: Int
  ) {
    let sx = UnsafeRawPointer(x), sy = UnsafeRawPointer(y), t = UnsafeMutableRawPointer(target)
    let va = Vector(repeating: a), vb = Vector(repeating: b), vc = Vector(repeating: c)
    var i = 0
    while i + Vector.scalarCount <= count {
      let value =
        va * sx.loadUnaligned(fromByteOffset: i * 4, as: Vector.self)
        + vb * sy.loadUnaligned(fromByteOffset: i * 4, as: Vector.self) + vc
      t.storeBytes(of: value, toByteOffset: i * 4, as: Vector.self)
      i += Vector.scalarCount
    }
    while i < count {
      target[i] = a * x[i] + b * y[i] + c
      i += 1
    }
  }
}
