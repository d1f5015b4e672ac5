import Foundation

/// The one source of randomness in sigbook: xoshiro256** (Blackman and Vigna, 2018), its state
/// filled from the seed by SplitMix64.
///
/// Same seed, same numbers on every machine and every Swift version: the generator, the
/// conversions to floating point, the bounded integers (Lemire's multiply-shift with rejection),
/// the normal deviates (Box–Muller) and the shuffle (Fisher–Yates) are all written here rather
/// than taken from the standard library, whose algorithms may change.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
  private var spareNormal: Double?

  /// Creates a generator whose whole sequence is determined by `seed`.
  public init(seed: UInt64) {
    s0 = Self.splitMix(seed, index: 0)
    s1 = Self.splitMix(seed, index: 1)
    s2 = Self.splitMix(seed, index: 2)
    s3 = Self.splitMix(seed, index: 3)
  }

  /// Output `index` (from 0) of SplitMix64 (Steele, Lea and Flood, 2014) started at `state`.
  ///
  /// A counter-based generator: any output is computed directly from the state and its index,
  /// without the ones before it, so work split any way draws the same numbers (dropout's masks).
  @inline(__always)
  package static func splitMix(_ state: UInt64, index: UInt64) -> UInt64 {
    var z = state &+ (index &+ 1) &* 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Creates a generator from a user's seed (any integer, negative ones included).
  public init(seed: Int) { self.init(seed: UInt64(bitPattern: Int64(seed))) }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    let result = rotate(s1 &* 5, 7) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = rotate(s3, 45)
    return result
  }

  private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

  /// A uniform `Double` in [0, 1) with 53 random bits.
  public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

  /// A uniform `Float` in [0, 1) with 24 random bits.
  public mutating func nextFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

  /// A uniform `Float` in [low, high).
  mutating func nextFloat(in low: Float, _ high: Float) -> Float {
    low + (high - low) * nextFloat()
  }

  /// A uniform integer in 0 ..< bound (Lemire's nearly divisionless method).
  ///
  /// - Precondition: `bound > 0`.
  public mutating func nextInt(below bound: Int) -> Int {
    precondition(bound > 0, "the bound of a random integer must be positive")
    let b = UInt64(bound)
    var product = next().multipliedFullWidth(by: b)
    if product.low < b {
      let threshold = (0 &- b) % b
      while product.low < threshold { product = next().multipliedFullWidth(by: b) }
    }
    return Int(product.high)
  }

  /// A standard normal deviate (Box–Muller; the second value of each pair is kept for the next
  /// call).
  public mutating func nextNormal() -> Double {
    if let spare = spareNormal {
      spareNormal = nil
      return spare
    }
    var u = nextDouble()
    while u <= 0 { u = nextDouble() }
    let v = nextDouble()
    let r = (-2 * Foundation.log(u)).squareRoot()
    let angle = 2 * Double.pi * v
    spareNormal = r * Foundation.sin(angle)
    return r * Foundation.cos(angle)
  }

  /// Shuffles `values` in place (Fisher–Yates, from the end).
  mutating func shuffle<T>(_ values: inout [T]) {
    var i = values.count - 1
    while i > 0 {
      let j = nextInt(below: i + 1)
      if i != j { values.swapAt(i, j) }
      i -= 1
    }
  }

  /// The numbers 0 ..< n in a random order.
  public mutating func permutation(_ n: Int) -> [Int] {
    var indices = Array(0..<n)
    shuffle(&indices)
    return indices
  }

  /// `count` distinct integers from 0 ..< n, in the order drawn.
  ///
  /// - Precondition: `count <= n`.
  public mutating func sample(_ count: Int, from n: Int) -> [Int] {
    precondition(count <= n, "cannot draw \(count) distinct values from \(n)")
    // A partial Fisher–Yates over a sparse map: O(count) time and memory.
    var swapped: [Int: Int] = [:]
    var result: [Int] = []
    result.reserveCapacity(count)
    for i in 0..<count {
      let j = i + nextInt(below: n - i)
      let vj = swapped[j] ?? j
      swapped[j] = swapped[i] ?? i
      result.append(vj)
    }
    return result
  }
}

extension Tensor {
  /// A tensor of values drawn uniformly from [low, high).
  public static func uniform(
    shape: [Int], low: Float, high: Float, generator: inout SeededGenerator
  ) -> Tensor {
    Tensor(shape: shape) { buffer in
      for i in buffer.indices { buffer[i] = generator.nextFloat(in: low, high) }
    }
  }

  /// A tensor of normal deviates with the given mean and standard deviation.
  public static func normal(
    shape: [Int], mean: Float = 0, standardDeviation: Float, generator: inout SeededGenerator
  ) -> Tensor {
    Tensor(shape: shape) { buffer in
      for i in buffer.indices {
        buffer[i] = mean + standardDeviation * Float(generator.nextNormal())
      }
    }
  }
}
