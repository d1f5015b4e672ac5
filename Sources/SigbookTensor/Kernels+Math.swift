import CKernels

#if arch(x86_64)
  import _Builtin_intrinsics.intel
#endif

/// Elementary functions on eight values at once, for the loops that apply them to every value of
/// a batch (tanh layers, BCE on logits, Adam's step).
///
/// Swift's `squareRoot()` and `Foundation.exp`, `log1p`, `tanh` on a SIMD vector run lane by
/// lane (a libm call or a checked `sqrtss` per value); these stay in vector registers. They are
/// the Cephes single-precision approximations (Moshier, *Methods and Programs for Mathematical
/// Functions*, 1989), accurate to a few units in the last place, and give the same result for a
/// value wherever it sits in a buffer, so results stay reproducible.
extension Kernels {
  typealias Bits = SIMD8<UInt32>

  /// √x in each lane (`sqrtps` on x86-64).
  @inline(__always)
  static func squareRoot(_ x: Vector) -> Vector {
    #if arch(x86_64)
      let low = _mm_sqrt_ps(x.lowHalf), high = _mm_sqrt_ps(x.highHalf)
      return Vector(lowHalf: low, highHalf: high)
    #else
      var result = x
      for i in 0..<Vector.scalarCount { result[i] = x[i].squareRoot() }
      return result
    #endif
  }

  /// |x| in each lane.
  @inline(__always)
  static func magnitude(_ x: Vector) -> Vector {
    unsafeBitCast(unsafeBitCast(x, to: Bits.self) & 0x7FFF_FFFF, to: Vector.self)
  }

  /// eˣ in each lane, for x in [−87.3, 88] (clamped there: 0 and ∞ are never returned).
  ///
  /// x = n·ln 2 + r with n the nearest integer to x/ln 2 (by adding 1.5·2²³, which rounds
  /// without a `floor` call), eʳ by Cephes `expf`'s polynomial, 2ⁿ built in the exponent bits.
  @inline(__always)
  static func exp(_ x: Vector) -> Vector {
    let low = Vector(repeating: -87.33654), high = Vector(repeating: 88)
    var x = x.replacing(with: low, where: x .< low)
    x = x.replacing(with: high, where: x .> high)
    let magic = Vector(repeating: 12_582_912)
    let t = x * 1.442_695_04 + magic
    let n = t - magic
    let r = (x - n * 0.693_359_375) - n * -2.121_944_4e-4
    var p = Vector(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let y = p * (r * r) + r + 1
    // t's low bits hold n + 2²² + 2²³; n + 127 shifted into the exponent is 2ⁿ.
    let integer = unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((integer &+ 127) &<< 23, to: Vector.self)
    return y * scale
  }

  /// log(1 + e) in each lane for e in [0, 1], as 2·atanh(e / (2 + e)): the series in
  /// s = e / (2 + e) ≤ 1/3 converges to single precision in eight terms, with no cancellation
  /// for small e.
  @inline(__always)
  static func log1pUnit(_ e: Vector) -> Vector {
    let s = e / (e + 2)
    let z = s * s
    var p = Vector(repeating: 1.0 / 15)
    p = p * z + 1.0 / 13
    p = p * z + 1.0 / 11
    p = p * z + 1.0 / 9
    p = p * z + 1.0 / 7
    p = p * z + 1.0 / 5
    p = p * z + 1.0 / 3
    p = p * z + 1
    return 2 * s * p
  }

  /// tanh x in each lane: Cephes `tanhf`, an odd polynomial below |x| = 0.625 and
  /// 1 − 2 / (e^{2|x|} + 1) with x's sign above.
  @inline(__always)
  static func tanh(_ x: Vector) -> Vector {
    let a = magnitude(x)
    let z = x * x
    var p = Vector(repeating: -5.704_988_727_45e-3)
    p = p * z + 2.063_908_879_54e-2
    p = p * z - 5.373_971_555_31e-2
    p = p * z + 1.333_144_220_36e-1
    p = p * z - 3.333_328_194_22e-1
    let small = p * z * x + x
    let large = 1 - 2 / (exp(a + a) + 1)
    let sign = unsafeBitCast(x, to: Bits.self) & 0x8000_0000
    let signed = unsafeBitCast(unsafeBitCast(large, to: Bits.self) | sign, to: Vector.self)
    return small.replacing(with: signed, where: a .> 0.625)
  }
}

extension Kernels {
  /// The variant of `CKernels`' elementwise kernels (`Elementwise.c`) this processor runs — the
  /// AVX2 one, also on AVX-512 processors — or nil (Swift's vectors here). Both give the same
  /// bits: the C kernels perform these functions' operations in the same order, unfused.
  package static let elementwiseVariant: VectorVariant? =
    VectorVariant.avx2.isSupported ? .avx2 : nil

  /// The eight lanes added in lane order (as the C kernels add them).
  @inline(__always)
  static func laneSum(_ v: Vector) -> Float {
    var s: Float = 0
    for l in 0..<Vector.scalarCount { s += v[l] }
    return s
  }

  /// x ← √x.
  package static func squareRoot(_ x: UnsafeMutableBufferPointer<Float>) {
    apply(squareRoot, to: x)
  }

  /// x ← tanh x.
  ///
  /// - Parameter variant: `elementwiseVariant` runs the C kernel where the processor has one
  ///   (the same bits); nil, Swift's vectors.
  package static func tanh(
    _ x: UnsafeMutableBufferPointer<Float>, variant: VectorVariant? = elementwiseVariant
  ) {
    if let variant, let base = x.baseAddress,
      sigbook_tanh(variant.rawValue, base, x.count) == 0
    {
      return
    }
    apply(tanh, to: x)
  }

  /// x ← f(x), a vector at a time; the tail goes through `f` too (padded with zeros), so every
  /// value is computed alike.
  private static func apply(
    _ f: (Vector) -> Vector, to x: UnsafeMutableBufferPointer<Float>
  ) {
    guard let base = x.baseAddress else { return }
    let raw = UnsafeMutableRawPointer(base)
    var i = 0
    while i + Vector.scalarCount <= x.count {
      let v = raw.loadUnaligned(fromByteOffset: i * 4, as: Vector.self)
      raw.storeBytes(of: f(v), toByteOffset: i * 4, as: Vector.self)
      i += Vector.scalarCount
    }
    if i < x.count {
      var v = Vector(repeating: 0)
      for j in i..<x.count { v[j - i] = x[j] }
      let t = f(v)
      for j in i..<x.count { x[j] = t[j - i] }
    }
  }

  /// g ← g · (1 − y²): tanh's backward pass from its output y.
  package static func tanhMask(
    _ g: UnsafeMutableBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>
  ) {
    guard let gBase = g.baseAddress, let yBase = y.baseAddress else { return }
    let gRaw = UnsafeMutableRawPointer(gBase), yRaw = UnsafeRawPointer(yBase)
    var i = 0
    while i + Vector.scalarCount <= g.count {
      let gv = gRaw.loadUnaligned(fromByteOffset: i * 4, as: Vector.self)
      let yv = yRaw.loadUnaligned(fromByteOffset: i * 4, as: Vector.self)
      gRaw.storeBytes(of: gv * (1 - yv * yv), toByteOffset: i * 4, as: Vector.self)
      i += Vector.scalarCount
    }
    while i < g.count {
      g[i] *= 1 - y[i] * y[i]
      i += 1
    }
  }

  /// Binary cross-entropy on logits z against targets t: writes the gradient
  /// g = (σ(z) − t) · scale and returns Σ [max(z, 0) − z·t + log(1 + e^−|z|)].
  ///
  /// One exp per value serves the loss and the sigmoid: e = e^−|z|, σ(z) = 1/(1 + e) for z ≥ 0
  /// and e/(1 + e) below. The sum is kept in eight Float lanes over runs of 1,024 values and
  /// added (lane by lane, in lane order) to a Double after each run.
  ///
  /// - Parameter variant: `elementwiseVariant` runs the C kernel where the processor has one
  ///   (the same bits); nil, Swift's vectors.
  package static func binaryCrossEntropyWithLogits(
    _ z: UnsafeBufferPointer<Float>, _ t: UnsafeBufferPointer<Float>,
    gradient g: UnsafeMutableBufferPointer<Float>, scale: Float,
    variant: VectorVariant? = elementwiseVariant
  ) -> Double {
    let count = z.count
    guard count > 0, let zBase = z.baseAddress, let tBase = t.baseAddress,
      let gBase = g.baseAddress
    else { return 0 }
    if let variant {
      var loss = 0.0
      if sigbook_bce_logits(variant.rawValue, zBase, tBase, gBase, count, scale, &loss) == 0 {
        return loss
      }
    }
    let zRaw = UnsafeRawPointer(zBase), tRaw = UnsafeRawPointer(tBase)
    let gRaw = UnsafeMutableRawPointer(gBase)
    let zero = Vector(repeating: 0), one = Vector(repeating: 1)
    let vScale = Vector(repeating: scale)
    func step(_ x: Vector, _ y: Vector) -> (loss: Vector, gradient: Vector) {
      let e = exp(-magnitude(x))
      let r = one / (one + e)
      let sigma = r.replacing(with: e * r, where: x .< zero)
      let positive = x.replacing(with: zero, where: x .< zero)
      return (positive - x * y + log1pUnit(e), (sigma - y) * vScale)
    }
    var total = 0.0
    var run = Vector(repeating: 0)
    var i = 0
    var inRun = 0
    while i + Vector.scalarCount <= count {
      let o = i * 4
      let (loss, gradient) = step(
        zRaw.loadUnaligned(fromByteOffset: o, as: Vector.self),
        tRaw.loadUnaligned(fromByteOffset: o, as: Vector.self))
      gRaw.storeBytes(of: gradient, toByteOffset: o, as: Vector.self)
      run += loss
      i += Vector.scalarCount
      inRun += 1
      if inRun == 128 {
        total += Double(laneSum(run))
        run = zero
        inRun = 0
      }
    }
    if i < count {
      var x = zero, y = zero, mask = SIMDMask<SIMD8<Int32>>(repeating: false)
      for j in i..<count {
        x[j - i] = z[j]
        y[j - i] = t[j]
        mask[j - i] = true
      }
      let (loss, gradient) = step(x, y)
      for j in i..<count { g[j] = gradient[j - i] }
      run += loss.replacing(with: 0, where: .!mask)
    }
    return total + Double(laneSum(run))
  }
}
