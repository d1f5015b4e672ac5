import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor

@Suite("Kernels") struct KernelsTests {
  /// Exponents UMAP's curve can give (b ∈ [0.79, 1.93]), with b − 1 and a few beyond.
  static let exponents: [Double] = [0.79, 0.895, 1.93, -0.105, -0.21, 0.5, 1, 2, -2, 6, -6]

  /// The reductions and the affine combination against the same sums in Double, for runs
  /// shorter than a vector, a whole vector and a vector and a tail.
  @Test(arguments: [0, 5, 8, 19])
  func reductionsMatchDoubleSums(count: Int) {
    var generator = SeededGenerator(seed: 3)
    let x = (0..<count).map { _ in Float(generator.nextDouble() * 4 - 2) }
    let y = (0..<count).map { _ in Float(generator.nextDouble() * 4 - 2) }
    let sum = x.reduce(0.0) { $0 + Double($1) }
    let squares = x.reduce(0.0) { $0 + (Double($1) - 0.25) * (Double($1) - 0.25) }
    let dot = zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    x.withUnsafeBufferPointer { xs in
      y.withUnsafeBufferPointer { ys in
        let xp = xs.baseAddress ?? UnsafePointer(bitPattern: 4)!
        let yp = ys.baseAddress ?? UnsafePointer(bitPattern: 4)!
        #expect(isClose(Double(Kernels.sum(xp, count: count)), sum, tolerance: 1e-5))
        #expect(
          isClose(
            Double(Kernels.squaredDeviations(xp, from: 0.25, count: count)), squares,
            tolerance: 1e-5))
        let both = Kernels.sumAndDot(xp, yp, count: count)
        #expect(isClose(Double(both.sum), sum, tolerance: 1e-5))
        #expect(isClose(Double(both.dot), dot, tolerance: 1e-5))
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { o in
          guard let o = o.baseAddress else { return }
          Kernels.combine(2, xp, -3, yp, plus: 0.5, into: o, count: count)
        }
        for i in 0..<count { #expect(out[i] == 2 * x[i] + -3 * y[i] + 0.5) }
      }
    }
  }

  @Test(arguments: exponents)
  func powerMatchesFoundationPowOverTheWholeFloatRange(_ b: Double) {
    var generator = SeededGenerator(seed: 11)
    var worst = 0.0
    // Random bit patterns cover every binade, denormals included; then the layout's range.
    var xs = (0..<20_000).map { _ in
      Float(bitPattern: UInt32(generator.nextInt(below: 0x7F80_0000 - 1) + 1))
    }
    xs += (0..<20_000).map { _ in Float(exp2(generator.nextDouble() * 40 - 20)) }
    xs += [.leastNonzeroMagnitude, .leastNormalMagnitude, 1, .greatestFiniteMagnitude]
    for x in xs {
      let exact = Foundation.pow(Double(x), b)
      let got = Kernels.power(x, b)
      if exact > Double(Float.greatestFiniteMagnitude) {
        #expect(got == .infinity || Double(got) >= Double(Float.greatestFiniteMagnitude) * 0.999)
      } else if exact >= Double(Float.leastNormalMagnitude) {
        worst = max(worst, abs(Double(got) - exact) / exact)
      } else {
        #expect(abs(Double(got) - exact) <= Double(Float.leastNormalMagnitude))
      }
    }
    #expect(worst <= 3e-7, "largest relative error \(worst) for b = \(b)")
  }

  @Test func powerTablesHoldWhatTheySay() {
    for i in 0..<16 {
      let low = Double(bitPattern: 0x3FE6_6000_0000_0000 + (UInt64(i) << 48))
      let high = Double(bitPattern: 0x3FE6_6000_0000_0000 + (UInt64(i + 1) << 48))
      let centre = (low + high) / 2
      #expect(abs(Kernels.logReciprocals[i] * centre - 1) <= 1e-15)
      #expect(abs(Kernels.logCentres[i] - log2(centre)) <= 1e-15)
    }
    for j in 0..<32 {
      let value = Double(bitPattern: Kernels.exp2Table[j] + (UInt64(j) << 47))
      #expect(abs(value / exp2(Double(j) / 32) - 1) <= 1e-15)
    }
  }
}
