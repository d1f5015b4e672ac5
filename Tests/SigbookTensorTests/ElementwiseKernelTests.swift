import Foundation
import Testing

@testable import SigbookTensor

/// The C kernels of training's elementwise passes (`CKernels/Elementwise.c`) give the bits of
/// Swift's vectors, value by value: on a processor with AVX2, a model trains to the same weights
/// as on one without.
@Suite(
  "Elementwise kernels",
  .enabled(if: Kernels.elementwiseVariant != nil, "needs a processor with AVX2"))
struct ElementwiseKernelTests {
  /// Counts below a vector, of whole vectors, with a tail, and past a run of 1,024 values.
  static let counts = [1, 7, 8, 19, 1_024, 2_077]

  /// Values over every binade (random bit patterns, both signs, NaN and the infinities
  /// included), then values of the size logits and gradients take.
  static func values(_ count: Int, seed: UInt64, wide: Bool) -> [Float] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { i in
      if wide && i % 3 == 0 {
        return Float(bitPattern: UInt32(truncatingIfNeeded: generator.next()))
      }
      return Float(generator.nextDouble() * 40 - 20)
    }
  }

  /// Bit patterns, so that NaNs compare and +0 differs from −0.
  static func bits(_ x: [Float]) -> [UInt32] { x.map(\.bitPattern) }

  @Test(arguments: counts)
  func tanhMatchesSwift(count: Int) {
    let x = Self.values(count, seed: 1, wide: true)
    var swift = x, c = x
    swift.withUnsafeMutableBufferPointer { Kernels.tanh($0, variant: nil) }
    c.withUnsafeMutableBufferPointer { Kernels.tanh($0, variant: .avx2) }
    #expect(Self.bits(c) == Self.bits(swift))
  }

  @Test(arguments: counts)
  func binaryCrossEntropyMatchesSwift(count: Int) {
    let z = Self.values(count, seed: 2, wide: count < 100)
    var generator = SeededGenerator(seed: 3)
    let t = (0..<count).map { _ in Float(generator.nextDouble()) }
    func run(_ variant: VectorVariant?) -> (Double, [Float]) {
      var g = [Float](repeating: .nan, count: count)
      let loss = z.withUnsafeBufferPointer { zs in
        t.withUnsafeBufferPointer { ts in
          g.withUnsafeMutableBufferPointer { gs in
            Kernels.binaryCrossEntropyWithLogits(
              zs, ts, gradient: gs, scale: 1 / 64, variant: variant)
          }
        }
      }
      return (loss, g)
    }
    let (swiftLoss, swiftGradient) = run(nil)
    let (cLoss, cGradient) = run(.avx2)
    #expect(Self.bits(cGradient) == Self.bits(swiftGradient))
    #expect(cLoss.bitPattern == swiftLoss.bitPattern)
    if count >= 100 { #expect(cLoss.isFinite && cLoss > 0) }
  }

  @Test(arguments: counts)
  func adamMatchesSwift(count: Int) {
    let g = Self.values(count, seed: 4, wide: false).map { $0 / 100 }
    var generator = SeededGenerator(seed: 5)
    let p0 = (0..<count).map { _ in Float(generator.nextDouble() - 0.5) }
    let m0 = (0..<count).map { _ in Float(generator.nextDouble() - 0.5) / 10 }
    let v0 = (0..<count).map { _ in Float(generator.nextDouble()) / 100 }
    func run(_ variant: VectorVariant?) -> [[Float]] {
      var p = p0, m = m0, v = v0
      p.withUnsafeMutableBufferPointer { ps in
        g.withUnsafeBufferPointer { gs in
          m.withUnsafeMutableBufferPointer { ms in
            v.withUnsafeMutableBufferPointer { vs in
              // Step 3's bias corrections, as `Optimizer.update` computes them.
              Kernels.adam(
                ps, gs, ms, vs, beta1: 0.9, beta2: 0.999, stepSize: 1e-3 / 0.271,
                c2Root: Float(0.002997).squareRoot(), epsilon: 1e-8, variant: variant)
            }
          }
        }
      }
      return [p, m, v]
    }
    let swift = run(nil), c = run(.avx2)
    for (a, b) in zip(c, swift) { #expect(Self.bits(a) == Self.bits(b)) }
    #expect(swift[0] != p0)
  }
}
