import SigbookTestSupport
import Testing

@testable import SigbookNN
@testable import SigbookTensor

/// Winograd's F(2×2, 3×3) for inference's 3 × 3, stride-1 convolutions
/// (`Im2Col.winogradConvolved`, `CKernels`' WinogradConvolution.c) against im2col + GEMM and
/// against the direct kernel.
@Suite(
  "Winograd convolution",
  .enabled(if: VectorVariant.avx2.isSupported, "needs a processor with AVX2 and FMA"))
struct WinogradConvolutionTests {
  typealias Case = DirectConvolutionTests.Case

  /// Pads even, uneven and none; the ResNet's stages (28, 14 and 7 wide, rows of 14, 7 and 4
  /// tiles); odd outputs (a last row and column of tiles half used); maps from 1 × 1 to 33
  /// wide (several vectors of tiles a row, a short last one); channel counts that fill no
  /// register block (17, 20) and more than a group's budget (96 → 40); batches of 1, 5 and 19
  /// (three calls, the last short).
  static let cases: [Case] = [
    Case([5, 16, 28, 28], out: 16, kernel: [3, 3], pads: [1, 1, 1, 1]),
    Case([5, 32, 14, 14], out: 32, kernel: [3, 3], pads: [1, 1, 1, 1]),
    Case([3, 64, 7, 7], out: 64, kernel: [3, 3], pads: [1, 1, 1, 1]),
    Case([5, 16, 7, 7], out: 17, kernel: [3, 3], pads: [1, 1, 1, 1]),
    Case([1, 17, 9, 28], out: 17, kernel: [3, 3], pads: [0, 0, 0, 0], hasBias: false),
    Case([5, 16, 33, 33], out: 1, kernel: [3, 3], pads: [0, 2, 1, 0]),
    Case([1, 16, 1, 1], out: 3, kernel: [3, 3], pads: [1, 1, 1, 1]),
    Case([1, 16, 1, 7], out: 5, kernel: [3, 3], pads: [1, 1, 1, 1]),
    Case([5, 20, 33, 1], out: 7, kernel: [3, 3], pads: [2, 3, 2, 1], hasBias: false),
    Case([1, 96, 5, 6], out: 40, kernel: [3, 3], pads: [2, 1, 0, 3]),
    Case([19, 16, 14, 14], out: 6, kernel: [3, 3], pads: [1, 1, 1, 1]),
  ]

  static func winograd(
    _ c: Case, _ x: Tensor, _ w: Tensor, _ b: Tensor?, residual: Tensor? = nil,
    relu: Bool = false
  ) -> Tensor {
    c.window.winogradConvolved(
      x, transformed: Im2Col.winogradWeights(w), bias: b, residual: residual, relu: relu)
  }

  /// Within float rounding of im2col's sums (the same function, computed otherwise), and of
  /// the direct kernel's.
  @Test(arguments: cases)
  func equalsIm2ColAndDirect(_ c: Case) throws {
    #expect(c.window.isWinograd(groups: 1))
    let (x, w, b) = DirectConvolutionTests.operands(c, seed: c.input[1] * 100 + c.input[3])
    let fast = Self.winograd(c, x, w, b)
    let unfolded = c.window.convolve(x, weight: w, bias: b, groups: 1).output
    #expect(fast.shape == unfolded.shape)
    #expect(largestRelativeError(fast.scalars, unfolded.scalars) < 1e-5)
    let variant = try #require(VectorVariant.best)
    let direct = c.window.directlyConvolved(x, weight: w, bias: b, variant: variant)
    #expect(largestRelativeError(fast.scalars, direct.scalars) < 1e-5)
  }

  /// The residual and the ReLU at the store are the `Sum` and the ReLU after, to the bit, the
  /// masked last rows of each plane included.
  @Test(arguments: cases)
  func residualAndReluAtTheStoreEqualSumAndReluAfter(_ c: Case) {
    let (x, w, b) = DirectConvolutionTests.operands(c, seed: 12)
    let plain = Self.winograd(c, x, w, b)
    var g = SeededGenerator(seed: 13)
    let residual = Tensor.uniform(shape: plain.shape, low: -2, high: 2, generator: &g)
    for (add, relu) in [(false, true), (true, false), (true, true)] {
      let fused = Self.winograd(c, x, w, b, residual: add ? residual : nil, relu: relu)
      var after = add ? Sum(inputs: 2).forward(joining: [plain, residual]).output : plain
      if relu { after.withUnsafeMutableBufferPointer { Kernels.relu($0) } }
      #expect(fused == after, "residual \(add), relu \(relu)")
    }
  }

  /// Each image's outputs do not depend on the others in its call: a batch of 19 (three calls)
  /// gives, image by image, the bits of each image alone.
  @Test func imagesAreTheirOwn() {
    let c = Case([19, 16, 7, 9], out: 11, kernel: [3, 3], pads: [1, 1, 1, 1])
    let (x, w, b) = DirectConvolutionTests.operands(c, seed: 5)
    let whole = Self.winograd(c, x, w, b)
    let size = whole.count / 19
    for i in [0, 7, 8, 18] {
      let alone = Self.winograd(c, x.rows(i..<(i + 1)), w, b)
      #expect(Array(whole.scalars[(i * size)..<((i + 1) * size)]) == alone.scalars, "image \(i)")
    }
  }

  /// G g Gᵀ of a kernel worked by hand: rows of G are (1, 0, 0), (½, ½, ½), (½, −½, ½),
  /// (0, 0, 1), and the layout is [ξ, channel, out].
  @Test func weightTransformWorkedByHand() {
    let g = Tensor(shape: [1, 1, 3, 3], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9])
    let u = Im2Col.winogradWeights(g)
    #expect(u.shape == [16, 1, 1])
    // G g: rows (1 2 3), (6 7.5 9), (2 2.5 3), (7 8 9); then each row r ↦ (r₀, ½Σr,
    // ½(r₀ − r₁ + r₂), r₂).
    let expected: [Float] = [1, 3, 1, 3, 6, 11.25, 3.75, 9, 2, 3.75, 1.25, 3, 7, 12, 4, 9]
    #expect(u.scalars == expected)
  }

  /// Inference's `convolved` takes Winograd's algorithm for 3 × 3, stride 1, from 16
  /// channels, and the direct kernel otherwise (two groups, a stride, a 5 × 5 kernel, 15
  /// channels).
  @Test func inferenceTakesWinogradWhereItApplies() {
    let window = { (channels: Int, kernel: Int, stride: Int) in
      Im2Col(
        channels: channels, kernelHeight: kernel, kernelWidth: kernel, strideY: stride,
        strideX: stride, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
    }
    #expect(window(16, 3, 1).isWinograd(groups: 1))
    #expect(!window(16, 3, 1).isWinograd(groups: 2))
    #expect(!window(16, 3, 2).isWinograd(groups: 1))
    #expect(!window(16, 5, 1).isWinograd(groups: 1))
    #expect(!window(15, 3, 1).isWinograd(groups: 1))
    let c = Self.cases[3]
    let (x, w, b) = DirectConvolutionTests.operands(c, seed: 3)
    #expect(c.window.convolved(x, weight: w, bias: b, groups: 1) == Self.winograd(c, x, w, b))
  }
}

/// Training without unfolding (`Im2Col.trainsWithoutColumns`): a stride-1 convolution's input
/// gradient as the convolution of the output gradient by the transposed kernel
/// (`Im2Col.transposedWindow`) and its weight gradient as products of shifted planes
/// (`Im2Col.shiftedWeightGradients`), against the sums written out.
@Suite(
  "Convolution gradients without unfolding",
  .enabled(if: VectorVariant.best != nil, "needs a processor with AVX2 or AVX-512F"))
struct TransposedConvolutionTests {
  typealias Case = DirectConvolutionTests.Case

  /// 3 × 3 of 16 and 32 output channels (Winograd's algorithm computes the input gradient)
  /// and of fewer (the direct kernel); 5 × 5, 3 × 5, 1 × 1; pads none, "same", uneven; 16
  /// channels or more on both sides (no unfolding) and fewer (im2col's columns for the
  /// weight's gradient, the input's still by convolution).
  static let cases: [Case] = [
    Case([3, 16, 14, 14], out: 16, kernel: [3, 3], pads: [1, 1, 1, 1]),
    Case([2, 16, 9, 11], out: 32, kernel: [3, 3], pads: [0, 0, 0, 0]),
    Case([1, 17, 8, 7], out: 16, kernel: [5, 5], pads: [2, 2, 2, 2]),
    Case([1, 16, 8, 7], out: 20, kernel: [3, 5], pads: [0, 4, 2, 1]),
    Case([2, 20, 5, 5], out: 16, kernel: [1, 1], pads: [0, 0, 0, 0]),
    Case([2, 5, 9, 11], out: 32, kernel: [3, 3], pads: [1, 1, 1, 1]),
    Case([2, 4, 9, 11], out: 6, kernel: [3, 3], pads: [0, 0, 0, 0]),
    Case([2, 3, 8, 7], out: 17, kernel: [5, 5], pads: [2, 2, 2, 2]),
    Case([1, 3, 8, 7], out: 5, kernel: [3, 5], pads: [0, 4, 2, 1]),
    Case([2, 6, 5, 5], out: 4, kernel: [1, 1], pads: [0, 0, 0, 0]),
  ]

  @Test(arguments: cases)
  func equalsTheSumWrittenOut(_ c: Case) throws {
    let window = c.window
    let (x, w, _) = DirectConvolutionTests.operands(c, seed: 21)
    let (output, saved) = window.trainingForward(x, weight: w, bias: nil, groups: 1)
    let keepsInput = c.input[1] >= 16 && c.outChannels >= 16
    #expect(window.trainsWithoutColumns(groups: 1, outChannels: c.outChannels) == keepsInput)
    #expect((saved == x) == keepsInput)
    #expect(
      largestRelativeError(
        output.scalars, window.convolve(x, weight: w, bias: nil, groups: 1).output.scalars)
        < 1e-5)
    var g = SeededGenerator(seed: 22)
    let dy = Tensor.uniform(shape: output.shape, low: -1, high: 1, generator: &g)
    #expect(window.transposedWindow(groups: 1, outChannels: c.outChannels) != nil)
    let (dw, db, dx) = window.convolutionGradients(
      dy, columns: saved, weight: w, groups: 1, inputShape: x.shape, needsInputGradient: true)
    #expect(dx.shape == x.shape && dw.shape == w.shape && db.shape == [c.outChannels])
    // ∂x[n, ch, p, q] = Σ_o Σ_(ky, kx) ∂y[n, o, p + padTop − ky, q + padLeft − kx] · w[o, ch, ky, kx].
    let (n, channels, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (oh, ow) = (output.shape[2], output.shape[3])
    let (kh, kw) = (window.kernelHeight, window.kernelWidth)
    let dys = dy.scalars, ws = w.scalars
    var expected = [Float](repeating: 0, count: x.count)
    for b in 0..<n {
      for ch in 0..<channels {
        for p in 0..<h {
          for q in 0..<wd {
            var sum = 0.0
            for o in 0..<c.outChannels {
              for ky in 0..<kh {
                for kx in 0..<kw {
                  let i = p + window.padTop - ky, j = q + window.padLeft - kx
                  guard i >= 0, i < oh, j >= 0, j < ow else { continue }
                  sum +=
                    Double(dys[((b * c.outChannels + o) * oh + i) * ow + j])
                    * Double(ws[((o * channels + ch) * kh + ky) * kw + kx])
                }
              }
            }
            expected[((b * channels + ch) * h + p) * wd + q] = Float(sum)
          }
        }
      }
    }
    #expect(largestRelativeError(dx.scalars, expected) < 1e-5)
    // ∂w[o, ch, ky, kx] = Σ_(n, i, j) ∂y[n, o, i, j] · x[n, ch, i − padTop + ky, j − padLeft + kx];
    // ∂b[o] = Σ_(n, i, j) ∂y[n, o, i, j].
    let xs = x.scalars
    var expectedWeight = [Float](repeating: 0, count: w.count)
    var expectedBias = [Float](repeating: 0, count: c.outChannels)
    for o in 0..<c.outChannels {
      var biasSum = 0.0
      for b in 0..<n {
        for i in 0..<oh {
          for j in 0..<ow { biasSum += Double(dys[((b * c.outChannels + o) * oh + i) * ow + j]) }
        }
      }
      expectedBias[o] = Float(biasSum)
      for ch in 0..<channels {
        for ky in 0..<kh {
          for kx in 0..<kw {
            var sum = 0.0
            for b in 0..<n {
              for i in 0..<oh {
                for j in 0..<ow {
                  let p = i - window.padTop + ky, q = j - window.padLeft + kx
                  guard p >= 0, p < h, q >= 0, q < wd else { continue }
                  sum +=
                    Double(dys[((b * c.outChannels + o) * oh + i) * ow + j])
                    * Double(xs[((b * channels + ch) * h + p) * wd + q])
                }
              }
            }
            expectedWeight[((o * channels + ch) * kh + ky) * kw + kx] = Float(sum)
          }
        }
      }
    }
    #expect(largestRelativeError(dw.scalars, expectedWeight) < 1e-4)
    #expect(largestRelativeError(db.scalars, expectedBias) < 1e-4)
  }

  /// Strides and groups keep im2col's fold.
  @Test func stridesAndGroupsKeepTheFold() {
    let strided = Im2Col(
      channels: 4, kernelHeight: 3, kernelWidth: 3, strideY: 2, strideX: 2, padTop: 1,
      padLeft: 1, padBottom: 1, padRight: 1)
    #expect(strided.transposedWindow(groups: 1, outChannels: 8) == nil)
    let window = Im2Col(
      channels: 4, kernelHeight: 3, kernelWidth: 3, strideY: 1, strideX: 1, padTop: 1,
      padLeft: 1, padBottom: 1, padRight: 1)
    #expect(window.transposedWindow(groups: 2, outChannels: 8) == nil)
    let wide = Im2Col(
      channels: 4, kernelHeight: 3, kernelWidth: 3, strideY: 1, strideX: 1, padTop: 3,
      padLeft: 1, padBottom: 1, padRight: 1)
    #expect(wide.transposedWindow(groups: 1, outChannels: 8) == nil)
  }
}
