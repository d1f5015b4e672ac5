import SigbookTensor

/// A 2-D convolution over `[batch, channels, height, width]` batches, by im2col and one GEMM.
///
/// The weight is `[outChannels, inChannels, kernel, kernel]` and the bias `[outChannels]`
/// (PyTorch's `nn.Conv2d` layout). The whole batch is unfolded into one matrix
/// `[inChannels · kernel², batch · outH · outW]`, so each pass is a single large matrix product
/// instead of one small product per image, and the unfolding copies contiguous runs
/// (`Im2Col`, which takes any geometry and groups).
///
/// outH = ⌊(H + 2·padding − kernel) / stride⌋ + 1, likewise outW.
struct Conv2D: Layer {
  /// What the gradients need (the unfolded input, or the input itself: `Im2Col.trainingForward`)
  /// and the input's shape.
  struct Cache: Sendable {
    var columns: Tensor
    var inputShape: [Int]
  }

  /// `[weight [out, in, k, k], bias [out]]`.
  var parameters: [Tensor]
  var parameterNames: [String] { ["weight", "bias"] }
  let inChannels: Int
  let outChannels: Int
  let kernel: Int
  let stride: Int
  let padding: Int

  /// A convolution with weights drawn by `initialization` (fan-in = in·k², fan-out = out·k²) and
  /// a zero bias.
  ///
  /// - Precondition: all sizes positive, padding not negative.
  init(
    inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
    initialization: Initialization, generator: inout SeededGenerator
  ) {
    precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0)
    self.inChannels = inChannels
    self.outChannels = outChannels
    self.kernel = kernel
    self.stride = stride
    self.padding = padding
    let k2 = kernel * kernel
    let weight = initialization.weights(
      shape: [outChannels, inChannels, kernel, kernel], fanIn: inChannels * k2,
      fanOut: outChannels * k2, generator: &generator)
    parameters = [weight, Tensor(zeros: [outChannels])]
  }

  var spec: LayerSpec {
    .conv(
      inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride,
      padding: padding)
  }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    guard inputShape.count == 3, inputShape[0] == inChannels else {
      return .failure(
        ShapeMismatch(
          "\(spec.displayName) expects images of \(inChannels) channel\(inChannels == 1 ? "" : "s") "
            + "[\(inChannels), height, width] but gets \(inputShape)"))
    }
    let (h, w) = outputSize(height: inputShape[1], width: inputShape[2])
    guard h > 0, w > 0 else {
      return .failure(
        ShapeMismatch("\(spec.displayName) cannot take \(inputShape[1])×\(inputShape[2]) images"))
    }
    return .success([outChannels, h, w])
  }

  func outputSize(height: Int, width: Int) -> (Int, Int) {
    ((height + 2 * padding - kernel) / stride + 1, (width + 2 * padding - kernel) / stride + 1)
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: Cache) {
    precondition(input.rank == 4 && input.shape[1] == inChannels, "conv input \(input.shape)")
    let (output, saved) = window.trainingForward(
      input, weight: parameters[0], bias: parameters[1], groups: 1)
    return (output, Cache(columns: saved, inputShape: input.shape))
  }

  /// Inference: the output alone, by the direct kernel or unfolded a few images at a time
  /// (`Im2Col.convolved`).
  func apply(_ input: consuming Tensor) -> Tensor {
    precondition(input.rank == 4 && input.shape[1] == inChannels, "conv input \(input.shape)")
    return window.convolved(input, weight: parameters[0], bias: parameters[1], groups: 1)
  }

  func backward(
    _ outputGradient: consuming Tensor, cache: Cache, gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    let (weight, bias, input) = window.convolutionGradients(
      outputGradient, columns: cache.columns, weight: parameters[0], groups: 1,
      inputShape: cache.inputShape, needsInputGradient: needsInputGradient)
    gradients.append(weight)
    gradients.append(bias)
    return input
  }

  /// The geometry of this convolution's unfolding.
  var window: Im2Col {
    Im2Col(
      channels: inChannels, kernelHeight: kernel, kernelWidth: kernel, strideY: stride,
      strideX: stride, padTop: padding, padLeft: padding, padBottom: padding,
      padRight: padding)
  }
}

/// Max pooling over non-overlapping `size × size` windows (stride = size); a trailing row or
/// column that does not fill a window is dropped, as in PyTorch's default.
struct MaxPool2D: Layer {
  /// The flat input offset of each output's maximum, and the input's shape.
  struct Cache: Sendable {
    var argmax: [Int32]
    var inputShape: [Int]
  }

  let size: Int

  /// - Precondition: `size > 0`.
  init(size: Int) {
    precondition(size > 0, "a pooling window needs a positive size")
    self.size = size
  }

  var spec: LayerSpec { .maxPool(size: size) }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    guard inputShape.count == 3 else {
      return .failure(ShapeMismatch("maxpool(\(size)) expects images, not \(inputShape)"))
    }
    guard inputShape[1] >= size, inputShape[2] >= size else {
      return .failure(
        ShapeMismatch("maxpool(\(size)) cannot pool \(inputShape[1])×\(inputShape[2]) maps"))
    }
    return .success([inputShape[0], inputShape[1] / size, inputShape[2] / size])
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: Cache) {
    precondition(input.rank == 4, "maxpool input \(input.shape)")
    let planes = input.shape[0] * input.shape[1], height = input.shape[2], width = input.shape[3]
    let oh = height / size, ow = width / size, s = size
    var argmax = [Int32](repeating: 0, count: planes * oh * ow)
    let output = Tensor.overwriting(shape: [input.shape[0], input.shape[1], oh, ow]) { out in
      input.withUnsafeBufferPointer { x in
        argmax.withUnsafeMutableBufferPointer { arg in
          var o = 0
          if s == 2 {
            // The common window, unrolled: four comparisons per output.
            for plane in 0..<planes {
              let base = plane * height * width
              for oy in 0..<oh {
                let top = base + 2 * oy * width, bottom = top + width
                for ox in 0..<ow {
                  // Selects rather than branches: which of the four wins is unpredictable.
                  let i0 = top + 2 * ox, i2 = bottom + 2 * ox
                  let a = x[i0], b = x[i0 + 1], c = x[i2], d = x[i2 + 1]
                  let top1 = b > a ? i0 + 1 : i0, topValue = b > a ? b : a
                  let bottom1 = d > c ? i2 + 1 : i2, bottomValue = d > c ? d : c
                  let best = bottomValue > topValue ? bottom1 : top1
                  out[o] = bottomValue > topValue ? bottomValue : topValue
                  arg[o] = Int32(best)
                  o += 1
                }
              }
            }
            return
          }
          for plane in 0..<planes {
            let base = plane * height * width
            for oy in 0..<oh {
              for ox in 0..<ow {
                var best = base + oy * s * width + ox * s
                var bestValue = x[best]
                for dy in 0..<s {
                  let line = base + (oy * s + dy) * width + ox * s
                  for dx in 0..<s where x[line + dx] > bestValue {
                    best = line + dx
                    bestValue = x[best]
                  }
                }
                out[o] = bestValue
                arg[o] = Int32(best)
                o += 1
              }
            }
          }
        }
      }
    }
    return (output, Cache(argmax: argmax, inputShape: input.shape))
  }

  func backward(
    _ outputGradient: consuming Tensor, cache: Cache, gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    guard needsInputGradient else { return Tensor(zeros: [0]) }
    return Tensor(shape: cache.inputShape) { dx in
      outputGradient.withUnsafeBufferPointer { g in
        for (o, i) in cache.argmax.enumerated() { dx[Int(i)] += g[o] }
      }
    }
  }
}

/// Reshapes `[batch, c, h, w]` into `[batch, c·h·w]` (no copy).
struct Flatten: Layer {
  typealias Cache = [Int]

  init() {}

  var spec: LayerSpec { .flatten }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    .success([inputShape.reduce(1, *)])
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: [Int]) {
    (input.flattenedRows, input.shape)
  }

  func backward(
    _ outputGradient: consuming Tensor, cache shape: [Int], gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    needsInputGradient ? outputGradient.reshaped(shape) : Tensor(zeros: [0])
  }
}
