import SigbookTensor

/// Average pooling over non-overlapping `size × size` windows (stride = size), as PyTorch's
/// `nn.AvgPool2d(size)`; a trailing row or column that does not fill a window is dropped.
///
/// Models imported from ONNX use it; sigbook's own builders pool by maximum.
struct AveragePool2D: Layer {
  typealias Cache = [Int]

  let size: Int

  /// - Precondition: `size > 0`.
  init(size: Int) {
    precondition(size > 0, "a pooling window needs a positive size")
    self.size = size
  }

  var spec: LayerSpec { .averagePool(size: size) }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(for: inputShape)
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: [Int]) {
    precondition(input.rank == 4, "avgpool input \(input.shape)")
    let planes = input.shape[0] * input.shape[1], height = input.shape[2], width = input.shape[3]
    let oh = height / size, ow = width / size, s = size
    let scale = 1 / Float(s * s)
    let output = Tensor.overwriting(shape: [input.shape[0], input.shape[1], oh, ow]) { out in
      input.withUnsafeBufferPointer { x in
        var o = 0
        for plane in 0..<planes {
          let base = plane * height * width
          for oy in 0..<oh {
            for ox in 0..<ow {
              var total: Float = 0
              for dy in 0..<s {
                let line = base + (oy * s + dy) * width + ox * s
                for dx in 0..<s { total += x[line + dx] }
              }
              out[o] = total * scale
              o += 1
            }
          }
        }
      }
    }
    return (output, input.shape)
  }

  func backward(
    _ outputGradient: consuming Tensor, cache shape: [Int], gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    guard needsInputGradient else { return Tensor(zeros: [0]) }
    let planes = shape[0] * shape[1], height = shape[2], width = shape[3]
    let oh = height / size, ow = width / size, s = size
    let scale = 1 / Float(s * s)
    return Tensor(shape: shape) { dx in
      outputGradient.withUnsafeBufferPointer { g in
        var o = 0
        for plane in 0..<planes {
          let base = plane * height * width
          for oy in 0..<oh {
            for ox in 0..<ow {
              let share = g[o] * scale
              for dy in 0..<s {
                let line = base + (oy * s + dy) * width + ox * s
                for dx1 in 0..<s { dx[line + dx1] = share }
              }
              o += 1
            }
          }
        }
      }
    }
  }
}
