import CKernels
import SigbookTensor

extension Im2Col {
  /// The fewest input channels for which inference takes Winograd's algorithm: below, the
  /// transforms of each tile cost more than the products they save (a network's first
  /// convolution, of one to three channels, stays direct).
  static let winogradMinimumChannels = 16

  /// Whether inference computes this convolution by Winograd's F(2×2, 3×3)
  /// (`winogradConvolved`): one group, a 3 × 3 kernel, stride and dilation 1, at least
  /// `winogradMinimumChannels` input channels, on a processor with AVX2 and FMA.
  func isWinograd(groups: Int) -> Bool {
    groups == 1 && kernelHeight == 3 && kernelWidth == 3 && strideY == 1 && strideX == 1
      && dilationY == 1 && dilationX == 1 && channels >= Self.winogradMinimumChannels
      && VectorVariant.avx2.isSupported
  }

  /// A 3 × 3 kernel `[out, channels, 3, 3]` transformed for `winogradConvolved`: G g Gᵀ for
  /// each pair of channels, `[16, channels, out]`. Transform once, convolve many batches.
  static func winogradWeights(_ weight: Tensor) -> Tensor {
    precondition(weight.rank == 4 && weight.shape[2] == 3 && weight.shape[3] == 3)
    let out = weight.shape[0], channels = weight.shape[1]
    return Tensor.overwriting(shape: [16, channels, out]) { u in
      weight.withUnsafeBufferPointer { w in
        guard let w = w.baseAddress, let u = u.baseAddress else { return }
        sigbook_winograd_weights(w, Int32(out), Int32(channels), u)
      }
    }
  }

  /// `directlyConvolved` by Winograd's F(2×2, 3×3) (`CKernels`' `sigbook_winograd_convolution`)
  /// from `transformed` (`winogradWeights`): 16 multiply-adds per 2 × 2 outputs and pair of
  /// channels instead of 36. The same function, within a few float roundings of the direct
  /// sum; the bias, `residual` and `relu` as there, exact. Each image's outputs are its own:
  /// the same bits however the batch is split.
  ///
  /// - Precondition: `isWinograd(groups: 1)`, and `residual` nil or of the output's shape.
  func winogradConvolved(
    _ input: Tensor, transformed: Tensor, bias: Tensor?, residual: Tensor? = nil,
    relu: Bool = false
  ) -> Tensor {
    precondition(isWinograd(groups: 1) && transformed.shape[1] == channels)
    let pads = (Int32(padTop), Int32(padLeft), Int32(padBottom), Int32(padRight))
    let (c, height, width) = (Int32(channels), Int32(input.shape[2]), Int32(input.shape[3]))
    let oc = transformed.shape[2]
    return inImageChunks(
      input, weight: transformed, outChannels: oc, bias: bias, residual: residual
    ) { x, images, u, b, r, out in
      let status = sigbook_winograd_convolution(
        x, images, c, height, width, u, b, Int32(oc), pads.0, pads.1, pads.2, pads.3, r,
        relu ? 1 : 0, out)
      precondition(status == 0, "the Winograd convolution could not allocate its tiles")
    }
  }
}
