import SigbookTensor

/// The elementwise sum of several values of one shape: a residual connection's join
/// (`x + f(x)`), ONNX's `Add` between activations and `Sum`.
///
/// Each input's gradient is the output's gradient.
struct Sum: Layer {
  typealias Cache = Int

  /// How many values are added.
  let inputs: Int

  init(inputs: Int) { self.inputs = inputs }

  var spec: LayerSpec { .sum(inputs: inputs) }
  var arity: Int { inputs }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(for: inputShape)
  }

  func outputShape(joining inputShapes: [[Int]]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(joining: inputShapes)
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: Int) { (input, 1) }

  func forward(joining inputs: [Tensor]) -> (output: Tensor, cache: Int) {
    precondition(!inputs.isEmpty && inputs.allSatisfy { $0.shape == inputs[0].shape })
    var total = inputs[0]
    let count = total.count
    total.withUnsafeMutableBufferPointer { t in
      for other in inputs.dropFirst() {
        other.withUnsafeBufferPointer { o in
          guard let tp = t.baseAddress, let op = o.baseAddress else { return }
          Kernels.add(tp, op, count: count)
        }
      }
    }
    return (total, inputs.count)
  }

  func backward(
    _ outputGradient: consuming Tensor, cache: Int, gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    needsInputGradient ? outputGradient : Tensor(zeros: [0])
  }

  func backward(
    _ outputGradient: consuming Tensor, cache: Int, gradients: inout [Tensor],
    needsInputGradients: [Bool]
  ) -> [Tensor] {
    let gradient = outputGradient
    return needsInputGradients.map { $0 ? gradient : Tensor(zeros: [0]) }
  }
}

/// Values joined along one of their item axes (`axis` 0 is the first axis after the batch: the
/// channels of images): DenseNet's and Inception's join, ONNX's `Concat`.
///
/// Each input's gradient is its slice of the output's gradient.
struct Concatenate: Layer {
  /// Each input's size along the axis.
  typealias Cache = [Int]

  /// The item axis the values are joined along.
  let axis: Int
  /// How many values are joined.
  let inputs: Int

  init(axis: Int, inputs: Int) {
    self.axis = axis
    self.inputs = inputs
  }

  var spec: LayerSpec { .concatenate(axis: axis, inputs: inputs) }
  var arity: Int { inputs }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(for: inputShape)
  }

  func outputShape(joining inputShapes: [[Int]]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(joining: inputShapes)
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: [Int]) {
    let size = input.shape[axis + 1]
    return (input, [size])
  }

  func forward(joining inputs: [Tensor]) -> (output: Tensor, cache: [Int]) {
    let first = inputs[0].shape
    // Items are `outer` blocks (the rows and the axes before `axis`) of each input's slab.
    let outer = first[...axis].reduce(1, *)
    let sizes = inputs.map { $0.shape[axis + 1] }
    let slabs = inputs.map { $0.shape[(axis + 1)...].reduce(1, *) }
    let slab = slabs.reduce(0, +)
    var shape = first
    shape[axis + 1] = sizes.reduce(0, +)
    let output = Tensor.overwriting(shape: shape) { out in
      var offset = 0
      for (input, width) in zip(inputs, slabs) {
        input.withUnsafeBufferPointer { x in
          for o in 0..<outer {
            UnsafeMutableBufferPointer(
              rebasing: out[(o * slab + offset)..<(o * slab + offset + width)]
            )
            .update(fromContentsOf: x[(o * width)..<((o + 1) * width)])
          }
        }
        offset += width
      }
    }
    return (output, sizes)
  }

  func backward(
    _ outputGradient: consuming Tensor, cache: [Int], gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    needsInputGradient ? outputGradient : Tensor(zeros: [0])
  }

  func backward(
    _ outputGradient: consuming Tensor, cache sizes: [Int], gradients: inout [Tensor],
    needsInputGradients: [Bool]
  ) -> [Tensor] {
    let shape = outputGradient.shape
    let outer = shape[...axis].reduce(1, *)
    let inner = shape[(axis + 2)...].reduce(1, *)
    let slab = shape[(axis + 1)...].reduce(1, *)
    var offset = 0
    var result: [Tensor] = []
    for (size, needed) in zip(sizes, needsInputGradients) {
      let width = size * inner
      defer { offset += width }
      guard needed else {
        result.append(Tensor(zeros: [0]))
        continue
      }
      var inputShape = shape
      inputShape[axis + 1] = size
      let start = offset
      result.append(
        outputGradient.withUnsafeBufferPointer { g in
          Tensor.overwriting(shape: inputShape) { x in
            for o in 0..<outer {
              UnsafeMutableBufferPointer(rebasing: x[(o * width)..<((o + 1) * width)])
                .update(fromContentsOf: g[(o * slab + start)..<(o * slab + start + width)])
            }
          }
        })
    }
    return result
  }
}
