/// Elementwise kernels written with SIMD vectors: the compiler does not vectorise these loops by
/// itself, because it cannot prove that the buffers do not overlap.
enum Kernels {
  typealias Vector = SIMD8<Float>

  /// x ← max(x, 0).
  static func relu(_ x: UnsafeMutableBufferPointer<Float>) {
    guard let base = x.baseAddress else { return }
    let raw = UnsafeMutableRawPointer(base)
    var i = 0
    let zero = Vector(repeating: 0)
    while i + Vector.scalarCount <= x.count {
      let v = raw.loadUnaligned(fromByteOffset: i * 4, as: Vector.self)
      raw.storeBytes(
        of: v.replacing(with: zero, where: .!(v .> zero)), toByteOffset: i * 4, as: Vector.self)
      i += Vector.scalarCount
    }
    while i < x.count {
      if !(x[i] > 0) { x[i] = 0 }
      i += 1
    }
  }

  /// g ← g where y > 0, else 0: ReLU's backward pass from its output y.
  static func reluMask(_ g: UnsafeMutableBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) {
    guard let gBase = g.baseAddress, let yBase = y.baseAddress else { return }
    let gRaw = UnsafeMutableRawPointer(gBase), yRaw = UnsafeRawPointer(yBase)
    let zero = Vector(repeating: 0)
    var i = 0
    while i + Vector.scalarCount <= g.count {
      let gv = gRaw.loadUnaligned(fromByteOffset: i * 4, as: Vector.self)
      let yv = yRaw.loadUnaligned(fromByteOffset: i * 4, as: Vector.self)
      gRaw.storeBytes(
        of: gv.replacing(with: zero, where: .!(yv .> zero)), toByteOffset: i * 4, as: Vector.self)
      i += Vector.scalarCount
    }
    while i < g.count {
      if !(y[i] > 0) { g[i] = 0 }
      i += 1
    }
  }
}

extension Kernels {
  /// target[0 ..< count] += source[0 ..< count].
  static func add(_ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, count: Int)
  {
    let t = UnsafeMutableRawPointer(target), s = UnsafeRawPointer(source)
    var i = 0
    while i + Vector.scalarCount <= count {
      let sum =
        t.loadUnaligned(fromByteOffset: i * 4, as: Vector.self)
        + s.loadUnaligned(fromByteOffset: i * 4, as: Vector.self)
      t.storeBytes(of: sum, toByteOffset: i * 4, as: Vector.self)
      i += Vector.scalarCount
    }
    while i < count {
      target[i] += source[i]
      i += 1
    }
  }
}

extension Kernels {
  /// target[i] = source[i] + value for i in 0 ..< count.
  static func add(
    _ value: Float, to source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>,
    count: Int
  ) {
    let t = UnsafeMutableRawPointer(target), s = UnsafeRawPointer(source)
    let v = Vector(repeating: value)
    var i = 0
    while i + Vector.scalarCount <= count {
      t.storeBytes(
        of: s.loadUnaligned(fromByteOffset: i * 4, as: Vector.self) + v, toByteOffset: i * 4,
        as: Vector.self)
      i += Vector.scalarCount
    }
    while i < count {
      target[i] = source[i] + value
      i += 1
    }
  }

  /// Copies `count` values and returns their sum (eight partial sums in a fixed order).
  static func copySum(
    _ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int
  ) -> Float {
    let t = UnsafeMutableRawPointer(target), s = UnsafeRawPointer(source)
    var sums = Vector(repeating: 0)
    var i = 0
    while i + Vector.scalarCount <= count {
      let v = s.loadUnaligned(fromByteOffset: i * 4, as: Vector.self)
      t.storeBytes(of: v, toByteOffset: i * 4, as: Vector.self)
      sums += v
      i += Vector.scalarCount
    }
    var total = sums.sum()
    while i < count {
      target[i] = source[i]
      total += source[i]
      i += 1
    }
    return total
  }
}
