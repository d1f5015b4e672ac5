import SigbookTensor

/// The geometry of a 2-D convolution's window, and the unfolding (im2col) and folding (col2im)
/// that turn the convolution into matrix products.
///
/// Output pixel (oy, ox) reads input row oy·strideY − padTop + ky·dilationY and column
/// ox·strideX − padLeft + kx·dilationX for each tap (ky, kx); a tap outside the input reads 0.
/// The bottom and right pads only lengthen the output.
struct Im2Col: Sendable, Equatable {
  var channels: Int
  var kernelHeight: Int
  var kernelWidth: Int
  var strideY: Int
  var strideX: Int
  var padTop: Int
  var padLeft: Int
  var padBottom: Int
  var padRight: Int
  var dilationY: Int = 1
  var dilationX: Int = 1

  /// The number of rows of the unfolded matrix: one per (channel, ky, kx).
  var patch: Int { channels * kernelHeight * kernelWidth }

  /// ⌊(size + pads − dilation·(kernel − 1) − 1) / stride⌋ + 1, or 0 when the dilated kernel is
  /// larger than the padded input.
  static func outputLength(
    _ size: Int, kernel: Int, stride: Int, pads: Int, dilation: Int
  ) -> Int {
    let room = size + pads - dilation * (kernel - 1) - 1
    return room < 0 ? 0 : room / stride + 1
  }

  /// The output's height and width for an input of `height × width`.
  func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
    (
      Self.outputLength(
        height, kernel: kernelHeight, stride: strideY, pads: padTop + padBottom,
        dilation: dilationY),
      Self.outputLength(
        width, kernel: kernelWidth, stride: strideX, pads: padLeft + padRight,
        dilation: dilationX)
    )
  }

  /// The output columns `ox` (in 0 ..< ow) whose tap `kx` reads inside an input row of `width`.
  private func validRange(kx: Int, width: Int, ow: Int) -> Range<Int> {
    // 0 ≤ ox·s − p + kx·d < width; a negative bound's truncated division still clamps to 0.
    let offset = padLeft - kx * dilationX
    let low = max(0, (offset + strideX - 1) / strideX)
    let high = min(ow, (width + offset + strideX - 1) / strideX)
    return low..<max(low, high)
  }

  /// im2col: row (c, ky, kx) of the result, column (b, oy, ox), holds the input value that tap
  /// (ky, kx) of channel c reads for output pixel (oy, ox) of image b; padding reads 0.
  ///
  /// The rows of a group of consecutive channels are consecutive, so a grouped convolution
  /// multiplies each group's block of rows on its own. Each (row, b, oy) is one run over ox:
  /// contiguous for a horizontal stride of 1, so the copies vectorise.
  func unfold(_ input: Tensor) -> Tensor {
    let batch = input.shape[0], height = input.shape[2], width = input.shape[3]
    let (oh, ow) = outputSize(height: height, width: width)
    let c = channels, kh = kernelHeight, kw = kernelWidth, sy = strideY, sx = strideX
    let pt = padTop, pl = padLeft, dy = dilationY, dx = dilationX
    let pixels = oh * ow, columnsPerRow = batch * pixels
    // Every entry is written once: the input value, or 0 where the tap reads the padding (so
    // the megabytes of columns are not zeroed first).
    return Tensor.overwriting(shape: [c * kh * kw, columnsPerRow]) { out in
      input.withUnsafeBufferPointer { x in
        for channel in 0..<c {
          for ky in 0..<kh {
            for kx in 0..<kw {
              let row = (channel * kh + ky) * kw + kx
              let valid = validRange(kx: kx, width: width, ow: ow)
              for b in 0..<batch {
                let plane = (b * c + channel) * height * width
                for oy in 0..<oh {
                  let iy = oy * sy - pt + ky * dy
                  let target = row * columnsPerRow + b * pixels + oy * ow
                  guard iy >= 0 && iy < height else {
                    for ox in 0..<ow { out[target + ox] = 0 }
                    continue
                  }
                  for ox in 0..<min(valid.lowerBound, ow) { out[target + ox] = 0 }
                  for ox in min(valid.upperBound, ow)..<ow { out[target + ox] = 0 }
                  let source = plane + iy * width - pl + kx * dx
                  if sx == 1, !valid.isEmpty, let o = out.baseAddress, let i = x.baseAddress {
                    (o + target + valid.lowerBound).update(
                      from: i + source + valid.lowerBound, count: valid.count)
                  } else {
                    for ox in valid { out[target + ox] = x[source + ox * sx] }
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  /// col2im: adds every entry of `columns` back onto the input position it was read from.
  func fold(_ columns: Tensor, inputShape: [Int]) -> Tensor {
    let batch = inputShape[0], height = inputShape[2], width = inputShape[3]
    let (oh, ow) = outputSize(height: height, width: width)
    let c = channels, kh = kernelHeight, kw = kernelWidth, sy = strideY, sx = strideX
    let pt = padTop, pl = padLeft, dy = dilationY, dx = dilationX
    let pixels = oh * ow, columnsPerRow = batch * pixels
    return Tensor(shape: inputShape) { out in
      columns.withUnsafeBufferPointer { cols in
        for channel in 0..<c {
          for ky in 0..<kh {
            for kx in 0..<kw {
              let row = (channel * kh + ky) * kw + kx
              let valid = validRange(kx: kx, width: width, ow: ow)
              for b in 0..<batch {
                let plane = (b * c + channel) * height * width
                for oy in 0..<oh {
                  let iy = oy * sy - pt + ky * dy
                  guard iy >= 0 && iy < height else { continue }
                  let source = row * columnsPerRow + b * pixels + oy * ow
                  let target = plane + iy * width - pl + kx * dx
                  if sx == 1, !valid.isEmpty, let o = out.baseAddress, let p = cols.baseAddress {
                    Kernels.add(
                      o + target + valid.lowerBound, p + source + valid.lowerBound,
                      count: valid.count)
                  } else {
                    for ox in valid { out[target + ox * sx] += cols[source + ox] }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

extension Im2Col {
  /// The convolution of a batch `[batch, channels, H, W]` by `weight`
  /// `[out, channels / groups, kernelHeight, kernelWidth]` plus `bias` `[out]` (nil: none), and
  /// the unfolded input that the gradients need.
  ///
  /// The whole batch is unfolded once; then group g's output rows are W_g
  /// `[out/groups, patch/groups]` times its block of unfolded rows `[patch/groups, batch·pixels]`:
  /// one matrix product per group over the whole batch instead of one small product per image.
  func convolve(
    _ input: Tensor, weight: Tensor, bias: Tensor?, groups: Int
  ) -> (output: Tensor, columns: Tensor) {
    let batch = input.shape[0]
    let (oh, ow) = outputSize(height: input.shape[2], width: input.shape[3])
    let pixels = oh * ow, oc = weight.shape[0], n = batch * pixels
    let og = oc / groups, k = patch / groups
    let columns = unfold(input)
    // Rows g·og ..< (g + 1)·og of [out, batch·pixels] = W_g [og, k] · columns_g [k, n].
    var product = Tensor(unsetShape: [oc, n])
    weight.withUnsafeBufferPointer { w in
      columns.withUnsafeBufferPointer { cols in
        product.withUnsafeMutableBufferPointer { p in
          guard let w = w.baseAddress, let cols = cols.baseAddress, let p = p.baseAddress else {
            return
          }
          for g in 0..<groups {
            BLAS.gemm(
              transposeA: false, transposeB: false, m: og, n: n, k: k, a: w + g * og * k,
              b: cols + g * k * n, c: p + g * og * n)
          }
        }
      }
    }
    let bias = bias ?? Tensor(zeros: [oc])
    let output = Tensor.overwriting(shape: [batch, oc, oh, ow]) { out in
      product.withUnsafeBufferPointer { p in
        bias.withUnsafeBufferPointer { bias in
          guard let o = out.baseAddress, let pp = p.baseAddress else { return }
          for b in 0..<batch {
            for c in 0..<oc {
              let source = (c * batch + b) * pixels, target = (b * oc + c) * pixels
              Kernels.add(bias[c], to: pp + source, into: o + target, count: pixels)
            }
          }
        }
      }
    }
    return (output, columns)
  }

  /// The most unfolded values `convolved` holds at a time: 1 M floats (4 MB), a size that
  /// stays in the caches and is reused from the heap rather than mapped and zeroed anew.
  static let inferenceColumnBudget = 1 << 20

  /// `convolve`'s output alone, for inference: the batch is unfolded and multiplied a few
  /// images at a time, so that the unfolded input of a large batch (a 1,024-image batch of
  /// 16-channel 28 × 28 maps unfolds to 460 MB) is never held whole.
  /// Ungrouped convolutions run the direct kernel instead (`directlyConvolved`), where the
  /// processor has one of its variants, and 3 × 3 ones of stride 1 Winograd's algorithm
  /// (`winogradConvolved`), where it has AVX2.
  func convolved(_ input: Tensor, weight: Tensor, bias: Tensor?, groups: Int) -> Tensor {
    if isWinograd(groups: groups) {
      return winogradConvolved(input, transformed: Self.winogradWeights(weight), bias: bias)
    }
    if isDirect(groups: groups), let variant = VectorVariant.best {
      return directlyConvolved(input, weight: weight, bias: bias, variant: variant)
    }
    let batch = input.shape[0]
    let (oh, ow) = outputSize(height: input.shape[2], width: input.shape[3])
    let pixels = oh * ow, oc = weight.shape[0]
    let chunk = max(1, min(batch, Self.inferenceColumnBudget / max(1, patch * pixels)))
    if chunk >= batch {
      return convolve(input, weight: weight, bias: bias, groups: groups).output
    }
    let outputSize = oc * pixels, chunks = (batch + chunk - 1) / chunk
    // The chunks run on every core, each product on one OpenBLAS thread: the split depends on
    // the data alone, so the numbers do not depend on the core count.
    BLAS.beginSingleThreaded()
    defer { BLAS.endSingleThreaded() }
    return Tensor.overwriting(shape: [batch, oc, oh, ow]) { out in
      nonisolated(unsafe) let target = out.baseAddress
      Parallel.forEach(chunks) { c in
        let start = c * chunk, end = min(batch, start + chunk)
        let part = convolve(
          input.rows(start..<end), weight: weight, bias: bias, groups: groups
        ).output
        part.withUnsafeBufferPointer { p in
          guard let o = target, let p = p.baseAddress else { return }
          // Each chunk writes its own images only.
          (o + start * outputSize).update(from: p, count: (end - start) * outputSize)
        }
      }
    }
  }

  /// The gradients of `trainingForward` for ∂loss/∂output `outputGradient`: the weight's (its
  /// shape), the bias's `[out]`, and the input's (empty when `needsInputGradient` is false).
  /// `columns` is what `trainingForward` saved: the unfolded input, or the input itself where
  /// `trainsWithoutColumns`.
  func convolutionGradients(
    _ outputGradient: Tensor, columns: Tensor, weight: Tensor, groups: Int, inputShape: [Int],
    needsInputGradient: Bool
  ) -> (weight: Tensor, bias: Tensor, input: Tensor) {
    if trainsWithoutColumns(groups: groups, outChannels: weight.shape[0]) {
      // `columns` is the input itself (`trainingForward`).
      let (dw, db) = shiftedWeightGradients(
        input: columns, outputGradient: outputGradient, outChannels: weight.shape[0])
      guard needsInputGradient,
        let dx = inputGradientByConvolution(outputGradient, weight: weight, groups: groups)
      else { return (dw, db, Tensor(zeros: [0])) }
      return (dw, db, dx)
    }
    let batch = inputShape[0]
    let (oh, ow) = outputSize(height: inputShape[2], width: inputShape[3])
    let pixels = oh * ow, oc = weight.shape[0], n = batch * pixels
    let og = oc / groups, k = patch / groups
    // The gradient in the product's layout [out, batch·pixels], and the bias gradient.
    var biasGradient = Tensor(zeros: [oc])
    let gradientRows = Tensor.overwriting(shape: [oc, n]) { out in
      outputGradient.withUnsafeBufferPointer { g in
        biasGradient.withUnsafeMutableBufferPointer { db in
          guard let o = out.baseAddress, let gg = g.baseAddress else { return }
          for b in 0..<batch {
            for c in 0..<oc {
              let source = (b * oc + c) * pixels, target = (c * batch + b) * pixels
              db[c] += Kernels.copySum(gg + source, into: o + target, count: pixels)
            }
          }
        }
      }
    }
    // dW_g [og, k] = dY_g [og, n] · columns_g [k, n]ᵀ.
    var weightGradient = Tensor(unsetShape: weight.shape)
    gradientRows.withUnsafeBufferPointer { dy in
      columns.withUnsafeBufferPointer { cols in
        weightGradient.withUnsafeMutableBufferPointer { dw in
          guard let dy = dy.baseAddress, let cols = cols.baseAddress, let dw = dw.baseAddress
          else { return }
          for g in 0..<groups {
            BLAS.gemm(
              transposeA: false, transposeB: true, m: og, n: k, k: n, a: dy + g * og * n,
              b: cols + g * k * n, c: dw + g * og * k)
          }
        }
      }
    }
    guard needsInputGradient else { return (weightGradient, biasGradient, Tensor(zeros: [0])) }
    if let dx = inputGradientByConvolution(outputGradient, weight: weight, groups: groups) {
      return (weightGradient, biasGradient, dx)
    }
    // dColumns_g [k, n] = W_gᵀ · dY_g.
    var columnGradient = Tensor(unsetShape: [patch, n])
    weight.withUnsafeBufferPointer { w in
      gradientRows.withUnsafeBufferPointer { dy in
        columnGradient.withUnsafeMutableBufferPointer { dc in
          guard let w = w.baseAddress, let dy = dy.baseAddress, let dc = dc.baseAddress else {
            return
          }
          for g in 0..<groups {
            BLAS.gemm(
              transposeA: true, transposeB: false, m: k, n: n, k: og, a: w + g * og * k,
              b: dy + g * og * n, c: dc + g * k * n)
          }
        }
      }
    }
    return (weightGradient, biasGradient, fold(columnGradient, inputShape: inputShape))
  }

  /// For an ungrouped convolution of stride and dilation 1 whose pads are smaller than its
  /// kernel, the window of the convolution that computes its input gradient from its output
  /// gradient (`outChannels` channels): ∂x[c, y, x] = Σ_o Σ_(ky, kx) ∂y[o, y + padTop − ky,
  /// x + padLeft − kx] · w[o, c, ky, kx], which is the output gradient, padded by kernel − 1 −
  /// pad on each side, convolved by the kernel turned half a turn with its channels swapped
  /// (`transposedKernel`). nil otherwise (strides and groups keep im2col's fold).
  ///
  /// Inference's kernels (direct, or Winograd's) then compute it without the unfolded
  /// gradient (`patch` rows as long as the batch's pixels) and its fold, which summed nine
  /// overlapping columns into each input value: a fifth of a ResNet's training time.
  func transposedWindow(groups: Int, outChannels: Int) -> Im2Col? {
    guard groups == 1, strideY == 1, strideX == 1, dilationY == 1, dilationX == 1,
      padTop < kernelHeight, padBottom < kernelHeight, padLeft < kernelWidth,
      padRight < kernelWidth, VectorVariant.best != nil
    else { return nil }
    return Im2Col(
      channels: outChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth, strideY: 1,
      strideX: 1, padTop: kernelHeight - 1 - padTop, padLeft: kernelWidth - 1 - padLeft,
      padBottom: kernelHeight - 1 - padBottom, padRight: kernelWidth - 1 - padRight)
  }

  /// The input gradient as the convolution of `outputGradient` by the transposed kernel,
  /// where `transposedWindow` has one; nil otherwise (the caller folds the columns' gradient).
  func inputGradientByConvolution(
    _ outputGradient: Tensor, weight: Tensor, groups: Int
  ) -> Tensor? {
    guard let transposed = transposedWindow(groups: groups, outChannels: weight.shape[0]) else {
      return nil
    }
    return transposed.convolved(
      outputGradient, weight: Self.transposedKernel(weight), bias: nil, groups: 1)
  }

  /// `[out, in, kh, kw]` → `[in, out, kh, kw]`, each kernel turned half a turn:
  /// t[c, o, ky, kx] = w[o, c, kh − 1 − ky, kw − 1 − kx].
  static func transposedKernel(_ weight: Tensor) -> Tensor {
    let (out, channels) = (weight.shape[0], weight.shape[1])
    let (kh, kw) = (weight.shape[2], weight.shape[3])
    let taps = kh * kw
    return Tensor.overwriting(shape: [channels, out, kh, kw]) { t in
      weight.withUnsafeBufferPointer { w in
        for o in 0..<out {
          for c in 0..<channels {
            for tap in 0..<taps {
              t[(c * out + o) * taps + taps - 1 - tap] = w[(o * channels + c) * taps + tap]
            }
          }
        }
      }
    }
  }
}
