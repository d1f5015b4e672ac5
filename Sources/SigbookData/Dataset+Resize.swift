import SigbookTensor

extension Dataset {
  /// The largest side `resized` makes: as large as images the catalogue can hold sensibly.
  public static let maxResizedSide = 4096

  /// The same inputs with every image resampled to `height` × `width` pixels, labels kept.
  ///
  /// Each axis is resampled on its own (the two passes are separable):
  /// - an axis that shrinks is **area-averaged**: output pixel `o` is the mean of the input
  ///   interval [o·s, (o + 1)·s), s = input / output size, each input pixel weighted by how
  ///   much of it the interval covers (OpenCV's `INTER_AREA`; for whole factors, 28 → 14, the
  ///   mean of each block, as Pillow's `BOX`);
  /// - an axis that grows is **linearly interpolated** between the two nearest input pixels,
  ///   pixel centres aligned (x = (o + 0.5)·s − 0.5, clamped to the edge pixels: PyTorch's
  ///   `interpolate(mode: "bilinear", align_corners: False)`);
  /// - an axis that keeps its size is copied.
  ///
  /// Images are `[C, H, W]` inputs (every channel resampled alike) or vectors whose length is a
  /// square (`[784]`, taken as a square image and returned as a vector of `height · width`).
  ///
  /// - Throws: `DataError.invalidArgument` for inputs that are not images, or a side below 1 or
  ///   above `maxResizedSide`.
  public func resized(height: Int, width: Int) throws -> Dataset {
    for (name, side) in [("height", height), ("width", width)]
    where side < 1 || side > Self.maxResizedSide {
      throw DataError.invalidArgument(
        "\(name) must be between 1 and \(Self.maxResizedSide) pixels, not \(side)")
    }
    let shape = featureShape
    let channels: Int, inHeight: Int, inWidth: Int, outShape: [Int]
    if shape.count == 3 {
      (channels, inHeight, inWidth) = (shape[0], shape[1], shape[2])
      outShape = [channels, height, width]
    } else if shape.count == 1, let side = Optional(Int(Double(shape[0]).squareRoot())),
      side * side == shape[0], side > 0
    {
      (channels, inHeight, inWidth) = (1, side, side)
      outShape = [height * width]
    } else {
      throw DataError.invalidArgument(
        "'\(name)' holds inputs of shape \(shape), not images [channels, height, width] "
          + "(or vectors of a square number of pixels)")
    }
    let rowWeights = Self.resamplingWeights(from: inHeight, to: height)
    let columnWeights = Self.resamplingWeights(from: inWidth, to: width)
    let planes = count * channels
    let inPlane = inHeight * inWidth, outPlane = height * width
    var result = Tensor(zeros: [count] + outShape)
    // Columns first into a [inHeight, width] buffer, then rows: every output pixel is the
    // same sum in the same order on every run.
    var across = [Float](repeating: 0, count: inHeight * width)
    features.withUnsafeBufferPointer { source in
      result.withUnsafeMutableBufferPointer { target in
        for p in 0..<planes {
          let image = p * inPlane
          for y in 0..<inHeight {
            for (x, taps) in columnWeights.enumerated() {
              var sum: Float = 0
              for (j, w) in taps { sum += w * source[image + y * inWidth + j] }
              across[y * width + x] = sum
            }
          }
          let out = p * outPlane
          for (y, taps) in rowWeights.enumerated() {
            for x in 0..<width {
              var sum: Float = 0
              for (i, w) in taps { sum += w * across[i * width + x] }
              target[out + y * width + x] = sum
            }
          }
        }
      }
    }
    var resized = self
    resized.features = result
    resized.name = "\(name) at \(height)×\(width)"
    return resized
  }

  /// For each output pixel of an axis, the input pixels it reads and their weights (adding up
  /// to 1): area averaging when the axis shrinks, linear interpolation when it grows.
  static func resamplingWeights(from input: Int, to output: Int) -> [[(Int, Float)]] {
    let scale = Double(input) / Double(output)
    if output == input { return (0..<output).map { [($0, 1)] } }
    if output < input {
      return (0..<output).map { o in
        let start = Double(o) * scale, end = Double(o + 1) * scale
        var taps: [(Int, Float)] = []
        var j = Int(start.rounded(.down))
        while Double(j) < end, j < input {
          let covered = min(end, Double(j + 1)) - max(start, Double(j))
          if covered > 1e-12 { taps.append((j, Float(covered / scale))) }
          j += 1
        }
        return taps
      }
    }
    return (0..<output).map { o in
      let x = min(max((Double(o) + 0.5) * scale - 0.5, 0), Double(input - 1))
      let left = Int(x.rounded(.down))
      let t = x - Double(left)
      guard left + 1 < input, t > 0 else { return [(left, 1)] }
      return [(left, Float(1 - t)), (left + 1, Float(t))]
    }
  }
}
