import SigbookTensor

/// The architecture of a 2-D pooling of any geometry ONNX's `MaxPool` and `AveragePool`
/// describe: a rectangular window, two strides, a pad on each side, and the rounding of the
/// output size.
///
/// outH = ⌊(H + pads[0] + pads[2] − kernel[0]) / strides[0]⌋ + 1 (⌈…⌉ in ceil mode, less a last
/// window that would start in the bottom padding), likewise outW. Padded cells never win a
/// maximum; an average divides by the window's cells inside the input, or with
/// `countIncludePad` by its cells inside the padded input (PyTorch's and ONNX's rule).
public struct Pooling: Codable, Equatable, Sendable {
  /// What a window computes.
  public enum Kind: String, Codable, Sendable {
    /// The largest value of the window (ONNX's `MaxPool`).
    case max
    /// The mean of the window (ONNX's `AveragePool`).
    case average
  }

  /// What each window computes.
  public var kind: Kind
  /// [height, width].
  public var kernel: [Int]
  /// [vertical, horizontal].
  public var strides: [Int]
  /// [top, left, bottom, right], each smaller than the window along its axis.
  public var pads: [Int]
  /// Whether the output size is rounded up, keeping a last window that starts inside the
  /// input or its top or left padding but overruns the rest.
  public var ceilMode: Bool
  /// Whether an average counts the padding (average pooling only).
  public var countIncludePad: Bool

  /// A pooling; the stride defaults to the window (PyTorch's default), the rest to ONNX's.
  ///
  /// - Parameters:
  ///   - kernel: [height, width].
  ///   - strides: [vertical, horizontal]; nil for the window's size.
  ///   - pads: [top, left, bottom, right].
  public init(
    _ kind: Kind, kernel: [Int], strides: [Int]? = nil, pads: [Int] = [0, 0, 0, 0],
    ceilMode: Bool = false, countIncludePad: Bool = false
  ) {
    self.kind = kind
    self.kernel = kernel
    self.strides = strides ?? kernel
    self.pads = pads
    self.ceilMode = ceilMode
    self.countIncludePad = countIncludePad
  }

  /// The text people write for it: `maxpool(3, stride: 2, padding: 1)`, with only what differs
  /// from the defaults.
  var displayName: String {
    var text = "\(kind == .max ? "maxpool" : "avgpool")(\(Convolution.compact(kernel))"
    if strides != kernel { text += ", stride: \(Convolution.compact(strides))" }
    if pads.contains(where: { $0 != 0 }) { text += ", padding: \(Convolution.compact(pads))" }
    if ceilMode { text += ", ceil_mode: true" }
    if countIncludePad { text += ", count_include_pad: true" }
    return text + ")"
  }

  /// Why these sizes cannot make a layer, or nil.
  var sizeProblem: String? {
    guard kernel.count == 2 else { return "needs a window of 2 sizes [height, width]" }
    guard strides.count == 2 else { return "needs 2 strides [vertical, horizontal]" }
    guard pads.count == 4 else { return "needs 4 pads [top, left, bottom, right]" }
    guard kernel.allSatisfy({ $0 > 0 }) else { return "needs a window of at least 1" }
    guard strides.allSatisfy({ $0 > 0 }) else { return "needs strides of at least 1" }
    guard pads.allSatisfy({ $0 >= 0 }) else { return "needs pads of at least 0" }
    guard (kernel + strides).allSatisfy({ $0 <= Model.maxDimension }) else {
      return "has a size above \(Model.maxDimension)"
    }
    // A window of padding alone would have no value (ONNX Runtime refuses such pads too).
    guard pads[0] < kernel[0], pads[2] < kernel[0], pads[1] < kernel[1], pads[3] < kernel[1]
    else { return "needs pads smaller than its \(kernel[0])×\(kernel[1]) window" }
    return nil
  }

  /// The number of windows along an axis of `size`, or 0 when the padded axis is shorter than
  /// the window.
  static func outputLength(
    _ size: Int, kernel: Int, stride: Int, before: Int, after: Int, ceilMode: Bool
  ) -> Int {
    let room = size + before + after - kernel
    guard room >= 0 else { return 0 }
    guard ceilMode else { return room / stride + 1 }
    let count = (room + stride - 1) / stride + 1
    // The last window must start inside the input or its leading padding.
    return (count - 1) * stride >= size + before ? count - 1 : count
  }

  /// The output's height and width for maps of `height × width` (0 where the padded map is
  /// smaller than the window).
  ///
  /// - Precondition: `sizeProblem == nil`.
  public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
    (
      Self.outputLength(
        height, kernel: kernel[0], stride: strides[0], before: pads[0], after: pads[2],
        ceilMode: ceilMode),
      Self.outputLength(
        width, kernel: kernel[1], stride: strides[1], before: pads[1], after: pads[3],
        ceilMode: ceilMode)
    )
  }

  /// `[C, outH, outW]` for maps `[C, H, W]`, or why not.
  ///
  /// - Precondition: `sizeProblem == nil`.
  func outputShape(for input: [Int]) -> Result<[Int], ShapeMismatch> {
    guard input.count == 3 else {
      return .failure(
        ShapeMismatch("\(displayName) expects images [channels, height, width], not \(input)"))
    }
    let (h, w) = outputSize(height: input[1], width: input[2])
    guard h > 0, w > 0 else {
      return .failure(
        ShapeMismatch(
          "\(displayName) has a \(kernel[0])×\(kernel[1]) window, larger than its "
            + "\(input[1])×\(input[2]) maps padded by \(pads)"))
    }
    return .success([input[0], h, w])
  }
}

/// Max or average pooling of any `Pooling` geometry over `[batch, channels, height, width]`.
///
/// A maximum keeps, for each output, the offset of its winner in its map (the first in
/// row-major order on ties; padded cells never win), and the backward pass routes each gradient
/// there. An average spreads each gradient evenly over the window's input cells, divided as the
/// forward pass divided.
struct Pool2D: Layer {
  /// Each output's winner within its map (max pooling; empty for average), and the input's
  /// shape.
  struct Cache: Sendable {
    var argmax: [Int32]
    var inputShape: [Int]
  }

  let pooling: Pooling

  var spec: LayerSpec { .pool(pooling) }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    pooling.outputShape(for: inputShape)
  }

  /// The rows (or columns) of an axis of `size` that output `o`'s window covers inside the
  /// input, and how many it covers inside the padded input.
  private static func span(
    _ o: Int, kernel: Int, stride: Int, before: Int, after: Int, size: Int
  ) -> (cells: Range<Int>, padded: Int) {
    let start = o * stride - before
    let end = start + kernel
    return (max(start, 0)..<min(end, size), min(end, size + after) - start)
  }

  /// The windows of every output row and column of maps of `height × width`.
  private func spans(height: Int, width: Int) -> (
    rows: [(cells: Range<Int>, padded: Int)], columns: [(cells: Range<Int>, padded: Int)]
  ) {
    let (oh, ow) = pooling.outputSize(height: height, width: width)
    let k = pooling.kernel, s = pooling.strides, p = pooling.pads
    return (
      (0..<oh).map {
        Self.span($0, kernel: k[0], stride: s[0], before: p[0], after: p[2], size: height)
      },
      (0..<ow).map {
        Self.span($0, kernel: k[1], stride: s[1], before: p[1], after: p[3], size: width)
      }
    )
  }

  /// 1 / the number of cells an average divides by.
  private func scale(
    _ row: (cells: Range<Int>, padded: Int), _ column: (cells: Range<Int>, padded: Int)
  ) -> Float {
    pooling.countIncludePad
      ? 1 / Float(row.padded * column.padded) : 1 / Float(row.cells.count * column.cells.count)
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: Cache) {
    precondition(input.rank == 4, "pool input \(input.shape)")
    let planes = input.shape[0] * input.shape[1], height = input.shape[2], width = input.shape[3]
    let (rows, columns) = spans(height: height, width: width)
    let oh = rows.count, ow = columns.count
    let isMax = pooling.kind == .max
    var argmax = [Int32](repeating: 0, count: isMax ? planes * oh * ow : 0)
    let output = Tensor.overwriting(shape: [input.shape[0], input.shape[1], oh, ow]) { out in
      input.withUnsafeBufferPointer { x in
        argmax.withUnsafeMutableBufferPointer { arg in
          var o = 0
          for plane in 0..<planes {
            let base = plane * height * width
            for row in rows {
              for column in columns {
                if isMax {
                  // Every window holds an input cell: the pads are smaller than the window.
                  var best = row.cells.lowerBound * width + column.cells.lowerBound
                  var bestValue = x[base + best]
                  for y in row.cells {
                    for i in y * width + column.cells.lowerBound..<y * width
                      + column.cells.upperBound
                    where x[base + i] > bestValue {
                      best = i
                      bestValue = x[base + i]
                    }
                  }
                  out[o] = bestValue
                  arg[o] = Int32(best)
                } else {
                  var total: Float = 0
                  for y in row.cells {
                    for i in y * width + column.cells.lowerBound..<y * width
                      + column.cells.upperBound
                    {
                      total += x[base + i]
                    }
                  }
                  out[o] = total * scale(row, column)
                }
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
    let shape = cache.inputShape
    let planes = shape[0] * shape[1], height = shape[2], width = shape[3]
    let (rows, columns) = spans(height: height, width: width)
    let perPlane = rows.count * columns.count
    let isMax = pooling.kind == .max
    return Tensor(shape: shape) { dx in
      outputGradient.withUnsafeBufferPointer { g in
        var o = 0
        for plane in 0..<planes {
          let base = plane * height * width
          if isMax {
            for k in 0..<perPlane { dx[base + Int(cache.argmax[o + k])] += g[o + k] }
            o += perPlane
            continue
          }
          for row in rows {
            for column in columns {
              let share = g[o] * scale(row, column)
              for y in row.cells {
                for i in y * width + column.cells.lowerBound..<y * width + column.cells.upperBound {
                  dx[base + i] += share
                }
              }
              o += 1
            }
          }
        }
      }
    }
  }
}
