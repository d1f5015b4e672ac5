import SigbookTensor

/// Gives each item a new shape with the same number of values (no copy): what an imported
/// model's `Reshape` to images does (`[784]` → `[1, 28, 28]`).
struct Reshape: Layer {
  typealias Cache = [Int]

  /// The shape of one output item.
  let shape: [Int]

  init(shape: [Int]) { self.shape = shape }

  var spec: LayerSpec { .reshape(shape: shape) }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(for: inputShape)
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: [Int]) {
    let inputShape = input.shape
    return (input.reshaped([input.rows] + shape), inputShape)
  }

  func backward(
    _ outputGradient: consuming Tensor, cache shape: [Int], gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    needsInputGradient ? outputGradient.reshaped(shape) : Tensor(zeros: [0])
  }
}

/// Permutes the axes of each item (the batch axis stays first): what an imported Keras model
/// does between its NHWC inputs and NCHW convolutions.
///
/// Output axis `i` is input axis `permutation[i]` (as `numpy.transpose`, counting the item's
/// axes from 0).
struct Transpose: Layer {
  typealias Cache = [Int]

  let permutation: [Int]

  /// - Precondition: `permutation` is a permutation of `0..<permutation.count`.
  init(permutation: [Int]) {
    precondition(permutation.sorted() == Array(permutation.indices), "a permutation of the axes")
    self.permutation = permutation
  }

  var spec: LayerSpec { .transpose(permutation: permutation) }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(for: inputShape)
  }

  /// Copies `input` (a batch) with its item axes permuted by `permutation`.
  static func permuted(_ input: Tensor, _ permutation: [Int]) -> Tensor {
    let itemShape = Array(input.shape.dropFirst())
    let rank = itemShape.count
    var inputStrides = [Int](repeating: 1, count: rank)
    for a in stride(from: rank - 2, through: 0, by: -1) {
      inputStrides[a] = inputStrides[a + 1] * itemShape[a + 1]
    }
    let outShape = permutation.map { itemShape[$0] }
    // The input stride of each output axis: walking the output in order reads the input here.
    let strides = permutation.map { inputStrides[$0] }
    let itemCount = itemShape.reduce(1, *), batch = input.rows
    return Tensor.overwriting(shape: [batch] + outShape) { out in
      input.withUnsafeBufferPointer { x in
        var index = [Int](repeating: 0, count: rank)
        for b in 0..<batch {
          let base = b * itemCount
          var source = base
          for o in 0..<itemCount {
            out[base + o] = x[source]
            // Odometer step over the output's axes, last fastest.
            var a = rank - 1
            while a >= 0 {
              index[a] += 1
              source += strides[a]
              if index[a] < outShape[a] { break }
              source -= strides[a] * outShape[a]
              index[a] = 0
              a -= 1
            }
          }
        }
      }
    }
  }

  /// The permutation that undoes this one.
  var inverse: [Int] {
    var inverse = [Int](repeating: 0, count: permutation.count)
    for (i, p) in permutation.enumerated() { inverse[p] = i }
    return inverse
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: [Int]) {
    let shape = input.shape
    return (Self.permuted(input, permutation), shape)
  }

  func backward(
    _ outputGradient: consuming Tensor, cache shape: [Int], gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    needsInputGradient ? Self.permuted(outputGradient, inverse) : Tensor(zeros: [0])
  }
}
