import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookNN
@testable import SigbookTensor

/// The direct convolution of inference (`Im2Col.directlyConvolved`, the C kernels of
/// `CKernels`) against im2col + GEMM (`Im2Col.convolve`, training's path), for each vector
/// variant this processor runs.
@Suite("Direct convolution") struct DirectConvolutionTests {
  /// A convolution's input `[batch, channels, height, width]`, output channels and window.
  struct Case: Sendable, CustomTestStringConvertible {
    var input: [Int]
    var outChannels: Int
    var window: Im2Col
    var hasBias: Bool

    /// Kernel [height, width], pads [top, left, bottom, right], strides and dilations
    /// [vertical, horizontal].
    init(
      _ input: [Int], out: Int, kernel: [Int], pads: [Int], strides: [Int] = [1, 1],
      dilations: [Int] = [1, 1], hasBias: Bool = true
    ) {
      (self.input, outChannels, self.hasBias) = (input, out, hasBias)
      window = Im2Col(
        channels: input[1], kernelHeight: kernel[0], kernelWidth: kernel[1],
        strideY: strides[0], strideX: strides[1], padTop: pads[0], padLeft: pads[1],
        padBottom: pads[2], padRight: pads[3], dilationY: dilations[0], dilationX: dilations[1])
    }

    var testDescription: String {
      let w = window
      return "\(input) → \(outChannels), kernel \(w.kernelHeight)×\(w.kernelWidth), pads "
        + "\([w.padTop, w.padLeft, w.padBottom, w.padRight]), strides \([w.strideY, w.strideX]), "
        + "dilations \([w.dilationY, w.dilationX])" + (hasBias ? "" : ", no bias")
    }
  }

  /// Kernels 1×1, 3×3, 5×5, 3×5 and 5×3; pads even, uneven and none; channel counts that fill no
  /// register block (1, 3, 17) and those of the benchmark's ResNet; maps 1 to 33 wide, from one
  /// vector of flat outputs to many tiles with a short last one; batches of 1, 5 and 19.
  static let cases: [Case] = [
    Case([1, 1, 28, 28], out: 16, kernel: [3, 3], pads: [1, 1, 1, 1]),
    Case([5, 16, 28, 28], out: 16, kernel: [3, 3], pads: [1, 1, 1, 1]),
    Case([5, 32, 14, 14], out: 32, kernel: [3, 3], pads: [1, 1, 1, 1]),
    Case([1, 64, 7, 7], out: 64, kernel: [3, 3], pads: [1, 1, 1, 1]),
    Case([5, 3, 7, 7], out: 17, kernel: [3, 3], pads: [1, 1, 1, 1]),
    Case([1, 17, 14, 14], out: 3, kernel: [5, 5], pads: [2, 2, 2, 2]),
    Case([5, 3, 33, 33], out: 1, kernel: [3, 5], pads: [0, 2, 1, 0]),
    Case([1, 17, 9, 28], out: 17, kernel: [3, 3], pads: [0, 0, 0, 0], hasBias: false),
    Case([5, 16, 1, 1], out: 3, kernel: [1, 1], pads: [0, 0, 0, 0]),
    Case([5, 3, 14, 14], out: 17, kernel: [1, 1], pads: [1, 0, 2, 3]),
    Case([1, 1, 1, 7], out: 3, kernel: [3, 3], pads: [1, 1, 1, 1]),
    Case([5, 1, 33, 1], out: 17, kernel: [5, 5], pads: [2, 3, 2, 1], hasBias: false),
    Case([1, 3, 7, 33], out: 5, kernel: [5, 3], pads: [4, 0, 0, 2]),
    // Three chunks of `Im2Col.directChunk` images, the last short, run concurrently.
    Case([19, 4, 14, 14], out: 6, kernel: [3, 3], pads: [1, 1, 1, 1]),
    // Strides: the ResNet's transitions (3×3 and 1×1 by 2), odd sizes, uneven strides and
    // pads, and dilations with and without a stride.
    Case([5, 16, 28, 28], out: 32, kernel: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2]),
    Case([5, 32, 14, 14], out: 64, kernel: [1, 1], pads: [0, 0, 0, 0], strides: [2, 2]),
    Case([1, 3, 9, 10], out: 17, kernel: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2]),
    Case([5, 1, 33, 7], out: 5, kernel: [5, 3], pads: [2, 0, 1, 2], strides: [3, 2]),
    Case([1, 5, 20, 21], out: 7, kernel: [3, 3], pads: [2, 1, 0, 3], dilations: [2, 3]),
    Case(
      [5, 5, 20, 21], out: 7, kernel: [3, 3], pads: [2, 1, 0, 3], strides: [3, 2],
      dilations: [2, 3], hasBias: false),
  ]

  /// Seeded inputs in [−1, 1], He-scaled weights and a bias in [−1, 1] (or none).
  static func operands(_ c: Case, seed: Int) -> (input: Tensor, weight: Tensor, bias: Tensor?) {
    var g = SeededGenerator(seed: seed)
    let w = c.window
    let input = Tensor.uniform(shape: c.input, low: -1, high: 1, generator: &g)
    let scale = Float(sqrt(6 / Double(w.patch)))
    let weight = Tensor.uniform(
      shape: [c.outChannels, w.channels, w.kernelHeight, w.kernelWidth], low: -scale,
      high: scale, generator: &g)
    let bias = Tensor.uniform(shape: [c.outChannels], low: -1, high: 1, generator: &g)
    return (input, weight, c.hasBias ? bias : nil)
  }

  /// The variant's output against im2col's, within float rounding (the same products, summed
  /// in another order).
  static func check(_ c: Case, variant: VectorVariant) {
    let (x, w, b) = operands(c, seed: c.input[1] * 100 + c.input[3])
    let direct = c.window.directlyConvolved(x, weight: w, bias: b, variant: variant)
    let unfolded = c.window.convolve(x, weight: w, bias: b, groups: 1).output
    #expect(direct.shape == unfolded.shape)
    #expect(largestRelativeError(direct.scalars, unfolded.scalars) < 1e-5)
  }

  @Test(
    .enabled(if: VectorVariant.avx512.isSupported, "needs a processor with AVX-512F"),
    arguments: cases)
  func avx512EqualsIm2Col(_ c: Case) {
    Self.check(c, variant: .avx512)
  }

  @Test(
    .enabled(if: VectorVariant.avx2.isSupported, "needs a processor with AVX2 and FMA"),
    arguments: cases)
  func avx2EqualsIm2Col(_ c: Case) {
    Self.check(c, variant: .avx2)
  }

  /// Every variant sums in one order (bias, then channels, then taps), whatever its blocking:
  /// the same bits from each.
  @Test(
    .enabled(
      if: VectorVariant.allCases.allSatisfy(\.isSupported),
      "needs a processor with both AVX2 and AVX-512F"),
    arguments: cases)
  func variantsAgreeToTheBit(_ c: Case) {
    let (x, w, b) = Self.operands(c, seed: 7)
    let outputs = VectorVariant.allCases.map {
      c.window.directlyConvolved(x, weight: w, bias: b, variant: $0)
    }
    #expect(outputs.allSatisfy { $0 == outputs[0] })
  }

  /// The ReLU at the store is the ReLU after: the same bits, in every variant (max is exact),
  /// and the variants still agree to the bit.
  @Test(arguments: cases)
  func reluAtTheStoreEqualsReluAfter(_ c: Case) {
    let (x, w, b) = Self.operands(c, seed: 11)
    let variants = VectorVariant.allCases.filter(\.isSupported)
    let fused = variants.map {
      c.window.directlyConvolved(x, weight: w, bias: b, relu: true, variant: $0)
    }
    for (variant, output) in zip(variants, fused) {
      var after = c.window.directlyConvolved(x, weight: w, bias: b, variant: variant)
      after.withUnsafeMutableBufferPointer { Kernels.relu($0) }
      #expect(output == after, "\(variant)")
      #expect(output.scalars.contains { $0 > 0 } && output.scalars.allSatisfy { $0 >= 0 })
    }
    #expect(fused.allSatisfy { $0 == fused[0] })
  }

  /// The residual added at the store is the sum after (`Sum`, then the ReLU): the same bits in
  /// every variant, with and without the ReLU, the masked last rows included.
  @Test(arguments: cases)
  func residualAtTheStoreEqualsSumAfter(_ c: Case) {
    let (x, w, b) = Self.operands(c, seed: 12)
    let variants = VectorVariant.allCases.filter(\.isSupported)
    let plain = c.window.directlyConvolved(x, weight: w, bias: b, variant: variants[0])
    var g = SeededGenerator(seed: 13)
    let residual = Tensor.uniform(shape: plain.shape, low: -2, high: 2, generator: &g)
    for relu in [false, true] {
      let fused = variants.map {
        c.window.directlyConvolved(
          x, weight: w, bias: b, residual: residual, relu: relu, variant: $0)
      }
      for (variant, output) in zip(variants, fused) {
        let convolved = c.window.directlyConvolved(x, weight: w, bias: b, variant: variant)
        var after = Sum(inputs: 2).forward(joining: [convolved, residual]).output
        if relu { after.withUnsafeMutableBufferPointer { Kernels.relu($0) } }
        #expect(output == after, "\(variant), relu \(relu)")
      }
      #expect(fused.allSatisfy { $0 == fused[0] })
    }
  }

  /// A 2×3 image padded by one row on top and one column on the right, two 2×2 kernels:
  /// worked by hand.
  @Test(arguments: VectorVariant.allCases.filter(\.isSupported))
  func handComputed(_ variant: VectorVariant) {
    let window = Im2Col(
      channels: 1, kernelHeight: 2, kernelWidth: 2, strideY: 1, strideX: 1, padTop: 1,
      padLeft: 0, padBottom: 0, padRight: 1)
    let x = Tensor(shape: [1, 1, 2, 3], scalars: [1, 2, 3, 4, 5, 6])
    let w = Tensor(shape: [2, 1, 2, 2], scalars: [1, 2, 3, 4, 0, 0, 0, 1])
    let b = Tensor(shape: [2], scalars: [10, -1])
    // Padded rows [0 0 0 0], [1 2 3 0], [4 5 6 0]; channel 0 at (0, 0) is 10 + 3·1 + 4·2.
    let expected: [Float] = [21, 28, 19, 47, 57, 31, 1, 2, -1, 4, 5, -1]
    let y = window.directlyConvolved(x, weight: w, bias: b, variant: variant)
    #expect(y.shape == [1, 2, 2, 3])
    #expect(y.scalars == expected)
  }

  /// The variant the processor's flags call for: AVX-512F first, then AVX2 with FMA, else
  /// none (im2col), read from the kernel's own account of the processor.
  @Test(
    .enabled(if: FileManager.default.fileExists(atPath: "/proc/cpuinfo"), "reads /proc/cpuinfo"))
  func dispatchFollowsTheProcessorFlags() throws {
    let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
    let flags = Set(
      info.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ")
        .map(String.init) ?? [])
    let expected: VectorVariant? =
      flags.contains("avx512f")
      ? .avx512 : flags.isSuperset(of: ["avx2", "fma"]) ? .avx2 : nil
    #expect(VectorVariant.best == expected)
  }

  /// Inference (`convolved`) takes the direct kernel for one group, and keeps im2col, to the bit
  /// training's forward, for two.
  @Test(
    .enabled(if: VectorVariant.best != nil, "needs a processor with AVX2 or AVX-512F"))
  func inferenceDispatch() throws {
    var g = SeededGenerator(seed: 3)
    let x = Tensor.uniform(shape: [3, 4, 9, 9], low: -1, high: 1, generator: &g)
    let w = Tensor.uniform(shape: [4, 4, 3, 3], low: -0.3, high: 0.3, generator: &g)
    let b = Tensor.uniform(shape: [4], low: -1, high: 1, generator: &g)
    let halves = Tensor.uniform(shape: [4, 2, 3, 3], low: -0.3, high: 0.3, generator: &g)
    let window = Im2Col(
      channels: 4, kernelHeight: 3, kernelWidth: 3, strideY: 2, strideX: 1, padTop: 1,
      padLeft: 1, padBottom: 1, padRight: 1)
    let variant = try #require(VectorVariant.best)
    #expect(window.isDirect(groups: 1) && !window.isDirect(groups: 2))
    #expect(
      window.convolved(x, weight: w, bias: b, groups: 1)
        == window.directlyConvolved(x, weight: w, bias: b, variant: variant))
    #expect(
      window.convolved(x, weight: halves, bias: b, groups: 2)
        == window.convolve(x, weight: halves, bias: b, groups: 2).output)
  }
}
