import CKernels

/// Elementwise kernels written with SIMD vectors: the compiler does not vectorise these loops by
/// itself, because it cannot prove that the buffers do not overlap.
package enum Kernels {
  typealias Vector = SIMD8<Float>

  /// x ← max(x, 0).
  package static func relu(_ x: UnsafeMutableBufferPointer<Float>) {
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
  package static func reluMask(
    _ g: UnsafeMutableBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>
  ) {
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
  package static func add(
    _ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, count: Int
  ) {
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
  package static func add(
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
  package static func copySum(
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

extension Kernels {
  /// p ← p − lr·g: plain SGD's step.
  package static func sgd(
    _ p: UnsafeMutableBufferPointer<Float>, _ g: UnsafeBufferPointer<Float>, learningRate lr: Float
  ) {
    guard let pBase = p.baseAddress, let gBase = g.baseAddress else { return }
    let pr = UnsafeMutableRawPointer(pBase), gr = UnsafeRawPointer(gBase)
    let rate = Vector(repeating: lr)
    var i = 0
    while i + Vector.scalarCount <= p.count {
      let o = i * 4
      let step = rate * gr.loadUnaligned(fromByteOffset: o, as: Vector.self)
      pr.storeBytes(
        of: pr.loadUnaligned(fromByteOffset: o, as: Vector.self) - step, toByteOffset: o,
        as: Vector.self)
      i += Vector.scalarCount
    }
    while i < p.count {
      p[i] -= lr * g[i]
      i += 1
    }
  }

  /// Adam's step on one parameter (see `Optimizer`), eight values at a time. Each value is
  /// computed by the same operations in the same order as the scalar loop, so the results are
  /// identical to it.
  ///
  /// - Parameter variant: `elementwiseVariant` runs the C kernel where the processor has one
  ///   (the same bits); nil, Swift's vectors.
  package static func adam(
    _ p: UnsafeMutableBufferPointer<Float>, _ g: UnsafeBufferPointer<Float>,
    _ m: UnsafeMutableBufferPointer<Float>, _ v: UnsafeMutableBufferPointer<Float>,
    beta1 b1: Float, beta2 b2: Float, stepSize: Float, c2Root: Float, epsilon eps: Float,
    variant: VectorVariant? = elementwiseVariant
  ) {
    guard let pBase = p.baseAddress, let gBase = g.baseAddress, let mBase = m.baseAddress,
      let vBase = v.baseAddress
    else { return }
    if let variant,
      sigbook_adam(
        variant.rawValue, pBase, gBase, mBase, vBase, p.count, b1, b2, stepSize, c2Root, eps) == 0
    {
      return
    }
    let pr = UnsafeMutableRawPointer(pBase), gr = UnsafeRawPointer(gBase)
    let mr = UnsafeMutableRawPointer(mBase), vr = UnsafeMutableRawPointer(vBase)
    let vb1 = Vector(repeating: b1), vb2 = Vector(repeating: b2)
    let a1 = Vector(repeating: 1 - b1), a2 = Vector(repeating: 1 - b2)
    let vStep = Vector(repeating: stepSize), vRoot = Vector(repeating: c2Root)
    let vEps = Vector(repeating: eps)
    var i = 0
    while i + Vector.scalarCount <= p.count {
      let o = i * 4
      let gv = gr.loadUnaligned(fromByteOffset: o, as: Vector.self)
      let mv = vb1 * mr.loadUnaligned(fromByteOffset: o, as: Vector.self) + a1 * gv
      let vv = vb2 * vr.loadUnaligned(fromByteOffset: o, as: Vector.self) + a2 * gv * gv
      mr.storeBytes(of: mv, toByteOffset: o, as: Vector.self)
      vr.storeBytes(of: vv, toByteOffset: o, as: Vector.self)
      let update = vStep * mv / (squareRoot(vv) / vRoot + vEps)
      pr.storeBytes(
        of: pr.loadUnaligned(fromByteOffset: o, as: Vector.self) - update, toByteOffset: o,
        as: Vector.self)
      i += Vector.scalarCount
    }
    while i < p.count {
      m[i] = b1 * m[i] + (1 - b1) * g[i]
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
      p[i] -= stepSize * m[i] / (v[i].squareRoot() / c2Root + eps)
      i += 1
    }
  }
}
