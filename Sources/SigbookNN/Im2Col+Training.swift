import SigbookTensor

extension Im2Col {
  /// Whether training keeps a convolution's input instead of unfolding it: an ungrouped
  /// convolution of stride and dilation 1 whose pads are smaller than its kernel, of at least
  /// `winogradMinimumChannels` input and output channels, on a processor with a vector variant
  /// of the direct kernel. (With fewer, the products per tap are too thin for OpenBLAS: a CNN
  /// of 1 → 8 → 16 channels trained 1.4 times slower.) Its forward pass is inference's
  /// (`convolved`: Winograd's algorithm or the direct kernel), its weight gradient one product
  /// per tap of shifted padded planes (`shiftedWeightGradients`), its input gradient the
  /// transposed convolution (`transposedWindow`): no unfolded input (nine copies of each value
  /// for a 3 × 3 kernel, a sixth of a ResNet's training time with its products' packing).
  func trainsWithoutColumns(groups: Int, outChannels: Int) -> Bool {
    channels >= Self.winogradMinimumChannels && outChannels >= Self.winogradMinimumChannels
      && transposedWindow(groups: groups, outChannels: outChannels) != nil
  }

  /// Training's forward pass: the output, and what the gradients need, which is the unfolded
  /// input or, where `trainsWithoutColumns`, the input itself.
  func trainingForward(
    _ input: Tensor, weight: Tensor, bias: Tensor?, groups: Int
  ) -> (output: Tensor, saved: Tensor) {
    if trainsWithoutColumns(groups: groups, outChannels: weight.shape[0]) {
      return (convolved(input, weight: weight, bias: bias, groups: groups), input)
    }
    let (output, columns) = convolve(input, weight: weight, bias: bias, groups: groups)
    return (output, columns)
  }

  /// The weight's and the bias's gradients of a convolution where `trainsWithoutColumns`, from
  /// its input `[batch, channels, H, W]` and ∂loss/∂output `[batch, out, oh, ow]`.
  ///
  /// With the input padded into planes of width Wq = W + padLeft + padRight and the output
  /// gradient laid out in the same rows (output (oy, ox) at oy·Wq + ox, zeros in the kw − 1
  /// columns past each row and after the last), tap (ky, kx) of every output reads the plane
  /// at that position plus ky·Wq + kx. So ∂w[o, c, ky, kx] = Σ_q ∂y[o, q] · x[c, q + ky·Wq +
  /// kx]: for each tap, one product `[out, q] · [channels, q]ᵀ` over the batch's planes laid
  /// end to end, the second operand read at the tap's offset (the zeros of the gradient meet
  /// the values past a row's valid outputs and the next image's first ones). The same sums as
  /// im2col's product, in another order.
  func shiftedWeightGradients(
    input: Tensor, outputGradient: Tensor, outChannels: Int
  ) -> (weight: Tensor, bias: Tensor) {
    let batch = input.shape[0], c = channels, height = input.shape[2], width = input.shape[3]
    let (oh, ow) = outputSize(height: height, width: width)
    let (kh, kw) = (kernelHeight, kernelWidth)
    let wq = width + padLeft + padRight, plane = (height + padTop + padBottom) * wq
    let length = batch * plane
    // Past the last plane, the largest offset: read only where the gradient is zero.
    let rowLength = length + (kh - 1) * wq + (kw - 1)
    var planes = Tensor(zeros: [c, rowLength])
    var gradientRows = Tensor(zeros: [outChannels, length])
    var biasGradient = Tensor(zeros: [outChannels])
    input.withUnsafeBufferPointer { x in
      planes.withUnsafeMutableBufferPointer { p in
        guard let x = x.baseAddress, let p = p.baseAddress else { return }
        for channel in 0..<c {
          for b in 0..<batch {
            let source = x + (b * c + channel) * height * width
            let target = p + channel * rowLength + b * plane + padTop * wq + padLeft
            for y in 0..<height {
              (target + y * wq).update(from: source + y * width, count: width)
            }
          }
        }
      }
    }
    outputGradient.withUnsafeBufferPointer { g in
      gradientRows.withUnsafeMutableBufferPointer { rows in
        biasGradient.withUnsafeMutableBufferPointer { db in
          guard let g = g.baseAddress, let rows = rows.baseAddress else { return }
          for b in 0..<batch {
            for o in 0..<outChannels {
              let source = g + (b * outChannels + o) * oh * ow
              let target = rows + o * length + b * plane
              var sum: Float = 0
              for y in 0..<oh {
                sum += Kernels.copySum(source + y * ow, into: target + y * wq, count: ow)
              }
              db[o] += sum
            }
          }
        }
      }
    }
    let taps = kh * kw
    var products = Tensor(unsetShape: [taps, outChannels, c])
    gradientRows.withUnsafeBufferPointer { dy in
      planes.withUnsafeBufferPointer { x in
        products.withUnsafeMutableBufferPointer { out in
          guard let dy = dy.baseAddress, let x = x.baseAddress, let out = out.baseAddress else {
            return
          }
          for ky in 0..<kh {
            for kx in 0..<kw {
              let tap = ky * kw + kx
              BLAS.gemm(
                transposeA: false, transposeB: true, m: outChannels, n: c, k: length, a: dy,
                b: x + ky * wq + kx, ldb: rowLength, c: out + tap * outChannels * c)
            }
          }
        }
      }
    }
    let weightGradient = Tensor.overwriting(shape: [outChannels, c, kh, kw]) { dw in
      products.withUnsafeBufferPointer { t in
        for tap in 0..<taps {
          for o in 0..<outChannels {
            for channel in 0..<c {
              dw[(o * c + channel) * taps + tap] = t[(tap * outChannels + o) * c + channel]
            }
          }
        }
      }
    }
    return (weightGradient, biasGradient)
  }
}
