import CKernels
import SigbookTensor

extension Im2Col {
  /// Whether the direct kernel computes this convolution: one group (any kernel, strides,
  /// dilations and pads).
  func isDirect(groups: Int) -> Bool { groups == 1 }

  /// Images per call of the direct kernel: the chunks run on every core, and the split depends
  /// on the batch alone, so the numbers do not depend on the core count.
  static let directChunk = 8

  /// `convolved` by the direct kernel: no unfolded columns, each image's padded planes read in
  /// place (inference's path where `isDirect`; `convolve` keeps im2col, whose columns the
  /// gradients need). A stride splits the padded image into phase planes, one per offset
  /// within the stride, in which every tap again reads contiguous runs.
  ///
  /// Each output value is its bias plus the sum over input channels, then taps, of weight ×
  /// input: the same products as im2col's, summed in another order (equal within float
  /// rounding), and the same order in every variant, so the variants agree to the bit. With
  /// `relu`, each value is stored as max(value, 0) (a NaN as 0, as `Activation(.relu)`): the
  /// ReLU that follows the convolution, exact, without another pass over the maps. A
  /// `residual` of the output's shape is added to each value before the ReLU: a residual
  /// block's sum, the same float addition as a separate `Sum`.
  ///
  /// - Precondition: `variant.isSupported`, a positive output size, and `residual` nil or of
  ///   the output's shape.
  func directlyConvolved(
    _ input: Tensor, weight: Tensor, bias: Tensor?, residual: Tensor? = nil, relu: Bool = false,
    variant: VectorVariant
  ) -> Tensor {
    precondition(variant.isSupported, "the \(variant) convolution on this processor")
    let batch = input.shape[0], height = input.shape[2], width = input.shape[3]
    let (oh, ow) = outputSize(height: height, width: width)
    let oc = weight.shape[0], imageSize = channels * height * width, outputSize = oc * oh * ow
    let kh = kernelHeight, kw = kernelWidth, c = channels
    let pads = (Int32(padTop), Int32(padLeft), Int32(padBottom), Int32(padRight))
    let steps = (Int32(strideY), Int32(strideX), Int32(dilationY), Int32(dilationX))
    precondition(residual.map { $0.shape == [batch, oc, oh, ow] } ?? true)
    let chunks = (batch + Self.directChunk - 1) / Self.directChunk
    return Tensor.overwriting(shape: [batch, oc, oh, ow]) { out in
      input.withUnsafeBufferPointer { x in
        weight.withUnsafeBufferPointer { w in
          withOptionalPointer(bias) { b in
            withOptionalPointer(residual) { r in
              guard let o = out.baseAddress, let x = x.baseAddress, let w = w.baseAddress else {
                return
              }
              // Each chunk reads the shared input, weights and residual and writes its own
              // images only.
              nonisolated(unsafe) let (target, source, weights, biases, sums) = (o, x, w, b, r)
              Parallel.forEach(chunks) { chunk in
                let start = chunk * Self.directChunk, end = min(batch, start + Self.directChunk)
                let status = sigbook_direct_convolution(
                  variant.rawValue, source + start * imageSize, Int32(end - start), Int32(c),
                  Int32(height), Int32(width), weights, biases, Int32(oc), Int32(kh), Int32(kw),
                  steps.0, steps.1, steps.2, steps.3, pads.0, pads.1, pads.2, pads.3,
                  sums.map { $0 + start * outputSize }, relu ? 1 : 0, target + start * outputSize)
                precondition(status == 0, "the direct convolution could not allocate its planes")
              }
            }
          }
        }
      }
    }
  }

  /// `body` with the tensor's storage, or nil for no tensor.
  func withOptionalPointer<R>(
    _ tensor: Tensor?, _ body: (UnsafePointer<Float>?) -> R
  ) -> R {
    guard let tensor else { return body(nil) }
    return tensor.withUnsafeBufferPointer { body($0.baseAddress) }
  }
}
