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
    let (c, height, width) = (Int32(channels), Int32(input.shape[2]), Int32(input.shape[3]))
    let (oc, kh, kw) = (Int32(weight.shape[0]), Int32(kernelHeight), Int32(kernelWidth))
    let steps = (Int32(strideY), Int32(strideX), Int32(dilationY), Int32(dilationX))
    let pads = (Int32(padTop), Int32(padLeft), Int32(padBottom), Int32(padRight))
    return inImageChunks(
      input, weight: weight, outChannels: weight.shape[0], bias: bias, residual: residual
    ) { x, images, w, b, r, out in
      let status = sigbook_direct_convolution(
        variant.rawValue, x, images, c, height, width, w, b, oc, kh, kw, steps.0, steps.1,
        steps.2, steps.3, pads.0, pads.1, pads.2, pads.3, r, relu ? 1 : 0, out)
      precondition(status == 0, "the direct convolution could not allocate its planes")
    }
  }

  /// The output `[batch, outChannels, oh, ow]` of a kernel called by `body(input, images,
  /// weight, bias, residual, output)` for each chunk of `directChunk` images of `input`, on every
  /// core, with the chunk's first image of the input, residual and output. Each chunk reads the
  /// shared input, weights and residual and writes its own images only.
  ///
  /// - Precondition: `residual` nil or of the output's shape.
  func inImageChunks(
    _ input: Tensor, weight: Tensor, outChannels oc: Int, bias: Tensor?, residual: Tensor?,
    _ body:
      @escaping @Sendable (
        UnsafePointer<Float>, Int32, UnsafePointer<Float>, UnsafePointer<Float>?,
        UnsafePointer<Float>?, UnsafeMutablePointer<Float>
      ) -> Void
  ) -> Tensor {
    let batch = input.shape[0], height = input.shape[2], width = input.shape[3]
    let (oh, ow) = outputSize(height: height, width: width)
    let imageSize = channels * height * width, outputSize = oc * oh * ow
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
              nonisolated(unsafe) let (target, source, weights, biases, sums) = (o, x, w, b, r)
              Parallel.forEach(chunks) { chunk in
                let start = chunk * Self.directChunk, end = min(batch, start + Self.directChunk)
                body(
                  source + start * imageSize, Int32(end - start), weights, biases,
                  sums.map { $0 + start * outputSize }, target + start * outputSize)
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
