/// A 2-D convolution over `[batch, channels, height, width]` batches, by im2col and one GEMM.
///
/// The weight is `[outChannels, inChannels, kernel, kernel]` and the bias `[outChannels]`
/// (PyTorch's `nn.Conv2d` layout). The whole batch is unfolded into one matrix
/// `[batch · outH · outW, inChannels · kernel²]`, so each pass is a single large matrix product
/// instead of one small product per image.
///
/// outH = ⌊(H + 2·padding − kernel) / stride⌋ + 1, likewise outW.
public struct Conv2D: Layer {
  /// The unfolded input and the input's shape.
  public struct Cache: Sendable {
    var columns: Tensor
    var inputShape: [Int]
  }

  /// `[weight [out, in, k, k], bias [out]]`.
  public var parameters: [Tensor]
  public var parameterNames: [String] { ["weight", "bias"] }
  public let inChannels: Int
  public let outChannels: Int
  public let kernel: Int
  public let stride: Int
  public let padding: Int

  /// A convolution with weights drawn by `initialization` (fan-in = in·k², fan-out = out·k²) and
  /// a zero bias.
  ///
  /// - Precondition: all sizes positive, padding not negative.
  public init(
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

  public var spec: LayerSpec {
    .conv(
      inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride,
      padding: padding)
  }

  public func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
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

  public func forward(_ input: Tensor) -> (output: Tensor, cache: Cache) {
    precondition(input.rank == 4 && input.shape[1] == inChannels, "conv input \(input.shape)")
    let batch = input.shape[0], height = input.shape[2], width = input.shape[3]
    let (oh, ow) = outputSize(height: height, width: width)
    let columns = unfold(input)
    let pixels = oh * ow
    // [batch·pixels, out] = columns · Wᵀ
    var product = Tensor(zeros: [batch * pixels, outChannels])
    product.gemm(
      columns, parameters[0].reshaped([outChannels, inChannels * kernel * kernel]),
      transposeB: true)
    let oc = outChannels
    let output = Tensor(shape: [batch, oc, oh, ow]) { out in
      product.withUnsafeBufferPointer { p in
        parameters[1].withUnsafeBufferPointer { bias in
          for b in 0..<batch {
            for q in 0..<pixels {
              let row = (b * pixels + q) * oc
              for c in 0..<oc { out[(b * oc + c) * pixels + q] = p[row + c] + bias[c] }
            }
          }
        }
      }
    }
    return (output, Cache(columns: columns, inputShape: input.shape))
  }

  public func backward(
    _ outputGradient: Tensor, cache: Cache, gradients: inout [Tensor], needsInputGradient: Bool
  ) -> Tensor {
    let batch = cache.inputShape[0], height = cache.inputShape[2], width = cache.inputShape[3]
    let (oh, ow) = outputSize(height: height, width: width)
    let pixels = oh * ow, oc = outChannels
    // The gradient in the columns' row order: [batch·pixels, out].
    let gradientRows = Tensor(shape: [batch * pixels, oc]) { out in
      outputGradient.withUnsafeBufferPointer { g in
        for b in 0..<batch {
          for c in 0..<oc {
            let source = (b * oc + c) * pixels
            for q in 0..<pixels { out[(b * pixels + q) * oc + c] = g[source + q] }
          }
        }
      }
    }
    let patch = inChannels * kernel * kernel
    var weightGradient = Tensor(zeros: [oc, patch])
    weightGradient.gemm(gradientRows, cache.columns, transposeA: true)
    gradients.append(weightGradient.reshaped([oc, inChannels, kernel, kernel]))
    gradients.append(gradientRows.columnSums())
    guard needsInputGradient else { return Tensor(zeros: [0]) }
    var columnGradient = Tensor(zeros: [batch * pixels, patch])
    columnGradient.gemm(gradientRows, parameters[0].reshaped([oc, patch]))
    return fold(columnGradient, inputShape: cache.inputShape)
  }

  /// im2col: row (b, oy, ox) holds the patch (c, ky, kx) under output pixel (oy, ox) of image b;
  /// positions in the padding read 0.
  func unfold(_ input: Tensor) -> Tensor {
    let batch = input.shape[0], channels = inChannels, height = input.shape[2]
    let width = input.shape[3]
    let (oh, ow) = outputSize(height: height, width: width)
    let k = kernel, s = stride, p = padding
    let patch = channels * k * k
    return Tensor(shape: [batch * oh * ow, patch]) { out in
      input.withUnsafeBufferPointer { x in
        var row = 0
        for b in 0..<batch {
          for oy in 0..<oh {
            for ox in 0..<ow {
              var column = row * patch
              for c in 0..<channels {
                let plane = (b * channels + c) * height * width
                for ky in 0..<k {
                  let iy = oy * s - p + ky
                  if iy < 0 || iy >= height {
                    column += k
                    continue
                  }
                  let line = plane + iy * width
                  for kx in 0..<k {
                    let ix = ox * s - p + kx
                    if ix >= 0 && ix < width { out[column] = x[line + ix] }
                    column += 1
                  }
                }
              }
              row += 1
            }
          }
        }
      }
    }
  }

  /// col2im: adds every patch entry of `columns` back onto the input position it was read from.
  func fold(_ columns: Tensor, inputShape: [Int]) -> Tensor {
    let batch = inputShape[0], channels = inChannels, height = inputShape[2]
    let width = inputShape[3]
    let (oh, ow) = outputSize(height: height, width: width)
    let k = kernel, s = stride, p = padding
    let patch = channels * k * k
    return Tensor(shape: inputShape) { out in
      columns.withUnsafeBufferPointer { cols in
        var row = 0
        for b in 0..<batch {
          for oy in 0..<oh {
            for ox in 0..<ow {
              var column = row * patch
              for c in 0..<channels {
                let plane = (b * channels + c) * height * width
                for ky in 0..<k {
                  let iy = oy * s - p + ky
                  if iy < 0 || iy >= height {
                    column += k
                    continue
                  }
                  let line = plane + iy * width
                  for kx in 0..<k {
                    let ix = ox * s - p + kx
                    if ix >= 0 && ix < width { out[line + ix] += cols[column] }
                    column += 1
                  }
                }
              }
              row += 1
            }
          }
        }
      }
    }
  }
}

/// Max pooling over non-overlapping `size × size` windows (stride = size); a trailing row or
/// column that does not fill a window is dropped, as in PyTorch's default.
public struct MaxPool2D: Layer {
  /// The flat input offset of each output's maximum, and the input's shape.
  public struct Cache: Sendable {
    var argmax: [Int32]
    var inputShape: [Int]
  }

  public let size: Int

  /// - Precondition: `size > 0`.
  public init(size: Int) {
    precondition(size > 0, "a pooling window needs a positive size")
    self.size = size
  }

  public var spec: LayerSpec { .maxPool(size: size) }

  public func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    guard inputShape.count == 3 else {
      return .failure(ShapeMismatch("maxpool(\(size)) expects images, not \(inputShape)"))
    }
    guard inputShape[1] >= size, inputShape[2] >= size else {
      return .failure(
        ShapeMismatch("maxpool(\(size)) cannot pool \(inputShape[1])×\(inputShape[2]) maps"))
    }
    return .success([inputShape[0], inputShape[1] / size, inputShape[2] / size])
  }

  public func forward(_ input: Tensor) -> (output: Tensor, cache: Cache) {
    precondition(input.rank == 4, "maxpool input \(input.shape)")
    let planes = input.shape[0] * input.shape[1], height = input.shape[2], width = input.shape[3]
    let oh = height / size, ow = width / size, s = size
    var argmax = [Int32](repeating: 0, count: planes * oh * ow)
    let output = Tensor(shape: [input.shape[0], input.shape[1], oh, ow]) { out in
      input.withUnsafeBufferPointer { x in
        argmax.withUnsafeMutableBufferPointer { arg in
          var o = 0
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

  public func backward(
    _ outputGradient: Tensor, cache: Cache, gradients: inout [Tensor], needsInputGradient: Bool
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
public struct Flatten: Layer {
  public typealias Cache = [Int]

  public init() {}

  public var spec: LayerSpec { .flatten }

  public func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    .success([inputShape.reduce(1, *)])
  }

  public func forward(_ input: Tensor) -> (output: Tensor, cache: [Int]) {
    (input.flattenedRows, input.shape)
  }

  public func backward(
    _ outputGradient: Tensor, cache shape: [Int], gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    needsInputGradient ? outputGradient.reshaped(shape) : Tensor(zeros: [0])
  }
}
