import SigbookTensor

/// Checking an architecture before any of its layers is built, so that a size typed wrong
/// (`mlp(784, 100000, 100000, 10)`) or a corrupt saved model (`dense(-5, 2)`, sizes of 2⁶²) is
/// explained instead of crashing or exhausting memory.
extension Model {
  /// The most trainable values a model may hold: 150 million (600 MB as 32-bit floats, about
  /// 1,500 times a `mlp(784, 128, 10)`; VGG-19, the largest of the classic image networks, has
  /// 144 million).
  static let maxParameters = 150_000_000

  /// The most values one layer may produce for one input: 10 million (a convolution of 64
  /// channels over 224 × 224 images produces 3.2 million).
  static let maxLayerOutput = 10_000_000

  /// The largest size of one dimension or layer argument: 2³¹ − 1, so that shape arithmetic
  /// cannot overflow.
  static let maxDimension = Int(Int32.max)

  /// The most values one join (`sum`, `concat`) may take.
  static let maxJoinInputs = 1024

  /// Checks the sizes, shapes and totals of an architecture without building it.
  ///
  /// Every size must be positive (padding not negative) and at most 2³¹ − 1; each layer must
  /// take the previous one's output; each layer may output at most `maxLayerOutput` values per
  /// input and the whole model hold at most `maxParameters` parameters. A softmax over a single
  /// value (always 1, so nothing can be learnt) is refused.
  ///
  /// - Parameters:
  ///   - specs: the layers, first to last.
  ///   - inputShape: the shape of one input.
  ///   - name: how to name the model in messages (`mlp(784, 100000, 10)`).
  ///   - memoryLimit: the most its parameters may take as 32-bit floats (a session's
  ///     `--max-memory`).
  ///   - wiring: for a graph, what each layer takes (see `Model.wiring`); nil for a chain.
  /// - Returns: the shape of one item after each layer.
  /// - Throws: `ShapeMismatch` naming the layer (1-based) and what is wrong, with a hint.
  @discardableResult
  public static func checkArchitecture(
    _ specs: [LayerSpec], inputShape: [Int], name: String, memoryLimit: MemoryLimit = .unlimited,
    wiring: [[Int]]? = nil
  ) throws(ShapeMismatch) -> [[Int]] {
    guard !specs.isEmpty else { throw ShapeMismatch("a model needs at least one layer") }
    guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 > 0 && $0 <= maxDimension }) else {
      throw ShapeMismatch(
        "\(name) has an input shape \(inputShape) whose sizes are not all between 1 and \(maxDimension)"
      )
    }
    guard let inputCount = DataLimits.product(inputShape), inputCount <= maxLayerOutput else {
      throw ShapeMismatch(
        "\(name) takes inputs of shape \(inputShape), more than \(NumberFormat.grouped(maxLayerOutput)) values",
        hint:
          "sigbook builds models of inputs of at most \(NumberFormat.grouped(maxLayerOutput)) values"
      )
    }
    if let wiring { try checkWiring(wiring, layers: specs.count, name: name) }
    var shape = inputShape
    var shapes: [[Int]] = []
    var parameters = 0
    for (i, spec) in specs.enumerated() {
      let layer = "layer \(i + 1) of \(name), \(spec.displayName),"
      if let problem = spec.sizeProblem { throw ShapeMismatch("\(layer) \(problem)") }
      let inputShapes = wiring?[i].map { $0 == 0 ? inputShape : shapes[$0 - 1] } ?? [shape]
      shape = inputShapes[0]
      if spec == .softmax, DataLimits.product(shape) == 1 {
        throw ShapeMismatch(
          "\(layer) is a softmax over 1 value, which is always 1: the model cannot learn",
          hint:
            "for two classes use 2 outputs, or 1 output with a sigmoid (mlp's output: .sigmoid) "
            + "and loss: .bce")
      }
      switch spec.outputShape(joining: inputShapes) {
      case .success(let next): shape = next
      case .failure(let mismatch):
        throw ShapeMismatch("layer \(i + 1) of \(name): \(mismatch.message)")
      }
      // Sizes are below 2³¹, so these products of at most two or three of them cannot overflow
      // except the output's, which is checked.
      guard let outputs = DataLimits.product(shape), outputs <= maxLayerOutput else {
        throw ShapeMismatch(
          "\(layer) outputs \(shape) per input, more than \(NumberFormat.grouped(maxLayerOutput)) values",
          hint: "use fewer channels or units, or pool earlier")
      }
      parameters += spec.parameterCount
      guard parameters <= maxParameters else {
        throw ShapeMismatch(
          "\(name) would have more than \(NumberFormat.grouped(maxParameters)) parameters "
            + "(\(NumberFormat.grouped(parameters)) up to layer \(i + 1), \(spec.displayName)); sigbook builds "
            + "models of at most \(NumberFormat.grouped(maxParameters))",
          hint: "use fewer or narrower layers")
      }
      shapes.append(shape)
    }
    do {
      try memoryLimit.check(
        DataLimits.product([4, parameters]) ?? .max,
        for: "\(name), with \(NumberFormat.grouped(parameters)) parameters,",
        advice: "use fewer or narrower layers")
    } catch {
      throw ShapeMismatch(error.message, hint: error.hint)
    }
    return shapes
  }

  /// Checks a graph's wiring: one entry per layer, each naming earlier values only (0 the
  /// model's input, j the output of layer j), and every layer's output used by a later one but
  /// the last's, which is the model's output.
  static func checkWiring(_ wiring: [[Int]], layers: Int, name: String) throws(ShapeMismatch) {
    guard wiring.count == layers else {
      throw ShapeMismatch("\(name) wires \(wiring.count) layers but has \(layers)")
    }
    var used = [Bool](repeating: false, count: layers + 1)
    for (i, inputs) in wiring.enumerated() {
      guard !inputs.isEmpty, inputs.count <= maxJoinInputs else {
        throw ShapeMismatch("layer \(i + 1) of \(name) takes \(inputs.count) values")
      }
      for v in inputs {
        guard v >= 0, v <= i else {
          throw ShapeMismatch(
            "layer \(i + 1) of \(name) takes value \(v), which is not computed before it "
              + "(0 is the input, j the output of layer j)")
        }
        used[v] = true
      }
    }
    if let unused = (1..<layers).first(where: { !used[$0] }) {
      throw ShapeMismatch("the output of layer \(unused) of \(name) is not used by any layer")
    }
  }
}

extension LayerSpec {
  /// Why the sizes of this layer cannot make one (zero or negative, or absurdly large), or nil.
  var sizeProblem: String? {
    let limit = Model.maxDimension
    switch self {
    case .dense(let i, let o):
      guard i > 0, o > 0 else { return "needs positive sizes" }
      guard i <= limit, o <= limit else { return "has a size above \(limit)" }
    case .conv(let i, let o, let k, let s, let p):
      guard i > 0, o > 0 else { return "needs positive numbers of channels" }
      guard k > 0 else { return "needs a kernel of at least 1" }
      guard s > 0 else { return "needs a stride of at least 1" }
      guard p >= 0 else { return "needs a padding of at least 0" }
      guard [i, o, k, s, p].allSatisfy({ $0 <= limit }) else { return "has a size above \(limit)" }
    case .maxPool(let size):
      guard size > 0 else { return "needs a window of at least 1" }
      guard size <= limit else { return "has a window above \(limit)" }
    case .averagePool(let size):
      guard size > 0 else { return "needs a window of at least 1" }
      guard size <= limit else { return "has a window above \(limit)" }
    case .reshape(let shape):
      guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 && $0 <= limit }) else {
        return "needs sizes between 1 and \(limit)"
      }
    case .transpose(let permutation):
      guard permutation.sorted() == Array(permutation.indices) else {
        return "needs a permutation of 0..<\(permutation.count)"
      }
    case .affine(let c):
      guard c > 0, c <= limit else { return "needs between 1 and \(limit) channels" }
    case .sum(let n):
      guard n > 0, n <= Model.maxJoinInputs else {
        return "needs between 1 and \(Model.maxJoinInputs) values"
      }
    case .concatenate(let axis, let n):
      guard n > 0, n <= Model.maxJoinInputs else {
        return "needs between 1 and \(Model.maxJoinInputs) values"
      }
      guard axis >= 0, axis < 8 else { return "needs an item axis between 0 and 7" }
    case .pointwise(let f):
      if case .leakyRelu(let slope) = f, !slope.isFinite { return "needs a finite slope" }
      if case .clip(let low, let high) = f, !(low <= high) { return "needs min ≤ max" }
      if case .hardSigmoid(let a, let b) = f, !(a.isFinite && b.isFinite) {
        return "needs finite alpha and beta"
      }
      if case .power(let p) = f, !p.isFinite { return "needs a finite exponent" }
      if case .scale(let c) = f, !c.isFinite { return "needs a finite factor" }
    case .dropout(let rate):
      guard rate >= 0, rate < 1 else { return "needs a rate in [0, 1)" }
    case .binaryConstant(_, let shape, _), .layerNorm(let shape, _):
      guard shape.count <= 8, shape.allSatisfy({ $0 > 0 && $0 <= limit }),
        DataLimits.product(shape).map({ $0 <= limit }) == true
      else { return "needs a shape of at most 8 axes of sizes between 1 and \(limit)" }
      if case .layerNorm(let shape, let epsilon) = self {
        guard !shape.isEmpty else { return "needs at least one axis" }
        guard epsilon > 0, epsilon.isFinite else { return "needs a positive epsilon" }
      }
    case .softmaxAlong(let axis):
      guard axis >= 0, axis < 8 else { return "needs an item axis between 0 and 7" }
    case .reduceMean(let axes, _):
      guard !axes.isEmpty, Set(axes).count == axes.count, axes.allSatisfy({ $0 >= 0 && $0 < 8 })
      else { return "needs distinct item axes between 0 and 7" }
    case .slice(let axis, let start, let end):
      guard axis >= 0, axis < 8 else { return "needs an item axis between 0 and 7" }
      guard start >= 0, end > start, end <= limit else { return "needs 0 ≤ start < end" }
    case .classToken(let width):
      guard width > 0, width <= limit else { return "needs a width between 1 and \(limit)" }
    case .batchNorm(let c, let epsilon, let momentum):
      guard c > 0, c <= limit else { return "needs between 1 and \(limit) channels" }
      guard epsilon > 0, epsilon.isFinite else { return "needs a positive epsilon" }
      guard momentum >= 0, momentum <= 1 else { return "needs a momentum in [0, 1]" }
    case .linear(let i, let o):
      guard i > 0, o > 0 else { return "needs positive sizes" }
      guard i <= limit, o <= limit else { return "has a size above \(limit)" }
    case .convolution(let c): return c.sizeProblem
    case .localResponseNorm(let size, let alpha, let beta, let bias):
      guard size > 0 else { return "needs a window of at least 1 channel" }
      guard size <= limit else { return "has a window above \(limit)" }
      guard alpha.isFinite, beta.isFinite, bias.isFinite else {
        return "needs finite alpha, beta and bias"
      }
      // The base bias + alpha/size · Σx² must stay positive for any input.
      guard alpha >= 0, bias > 0 else { return "needs alpha ≥ 0 and a positive bias" }
    case .pool(let p): return p.sizeProblem
    case .flatten, .relu, .tanh, .sigmoid, .softmax, .binary, .globalAveragePool, .matmul: break
    }
    return nil
  }

  /// The shapes of the layer's parameters, in `parameters` order (weight, then bias).
  ///
  /// - Precondition: `sizeProblem == nil`.
  var parameterShapes: [[Int]] {
    switch self {
    case .dense(let i, let o): [[o, i], [o]]
    case .conv(let i, let o, let k, _, _): [[o, i, k, k], [o]]
    case .affine(let c): [[c], [c]]
    case .binaryConstant(_, let shape, _): [shape]
    case .layerNorm(let shape, _): [shape, shape]
    case .linear(let i, let o): [[o, i], [o]]
    case .batchNorm(let c, _, _): [[c], [c]]
    case .classToken(let width): [[width]]
    case .convolution(let c): c.parameterShapes
    default: []
    }
  }

  /// The names of the layer's parameters in a saved file, in `parameterShapes` order.
  var parameterNames: [String] {
    switch self {
    case .binaryConstant: ["constant"]
    case .classToken: ["token"]
    default: Array(["weight", "bias"].prefix(parameterShapes.count))
    }
  }

  /// The shapes of the layer's buffers (`Layer.buffers`), in order.
  var bufferShapes: [[Int]] {
    switch self {
    case .batchNorm(let c, _, _): [[c], [c]]
    default: []
    }
  }

  /// The names of the layer's buffers in a saved file, in `bufferShapes` order.
  var bufferNames: [String] {
    switch self {
    case .batchNorm: ["running_mean", "running_var"]
    default: []
    }
  }

  /// The number of trainable values, saturating at `Int.max` instead of overflowing.
  var parameterCount: Int {
    parameterShapes.reduce(0) { total, shape in
      let (sum, overflow) = total.addingReportingOverflow(DataLimits.product(shape) ?? .max)
      return overflow ? .max : sum
    }
  }

  /// The shape of one output item for one input item, as the layer built from this spec
  /// computes it, without building it.
  ///
  /// - Precondition: `sizeProblem == nil` and the input's sizes are at most 2³¹ − 1.
  func outputShape(for input: [Int]) -> Result<[Int], ShapeMismatch> {
    switch self {
    case .dense(let i, let o):
      let n = DataLimits.product(input) ?? .max
      return n == i
        ? .success([o])
        : .failure(ShapeMismatch("\(displayName) expects \(i) inputs but gets \(n)"))
    case .conv(let i, let o, let k, let s, let p):
      guard input.count == 3, input[0] == i else {
        return .failure(
          ShapeMismatch(
            "\(displayName) expects images of \(i) channel\(i == 1 ? "" : "s") [\(i), height, width] but gets \(input)"
          ))
      }
      let h = (input[1] + 2 * p - k) / s + 1
      let w = (input[2] + 2 * p - k) / s + 1
      guard input[1] + 2 * p >= k, input[2] + 2 * p >= k, h > 0, w > 0 else {
        return .failure(
          ShapeMismatch(
            "\(displayName) has a kernel larger than its \(input[1])×\(input[2]) input (padded by \(p))"
          ))
      }
      return .success([o, h, w])
    case .maxPool(let size):
      guard input.count == 3 else {
        return .failure(ShapeMismatch("\(displayName) expects images, not \(input)"))
      }
      guard input[1] >= size, input[2] >= size else {
        return .failure(ShapeMismatch("\(displayName) cannot pool \(input[1])×\(input[2]) maps"))
      }
      return .success([input[0], input[1] / size, input[2] / size])
    case .averagePool(let size):
      guard input.count == 3 else {
        return .failure(ShapeMismatch("\(displayName) expects images, not \(input)"))
      }
      guard input[1] >= size, input[2] >= size else {
        return .failure(ShapeMismatch("\(displayName) cannot pool \(input[1])×\(input[2]) maps"))
      }
      return .success([input[0], input[1] / size, input[2] / size])
    case .reshape(let shape):
      let n = DataLimits.product(input) ?? .max
      return n == (DataLimits.product(shape) ?? .max)
        ? .success(shape)
        : .failure(ShapeMismatch("\(displayName) cannot hold the \(n) values of \(input)"))
    case .transpose(let permutation):
      return permutation.count == input.count
        ? .success(permutation.map { input[$0] })
        : .failure(
          ShapeMismatch("\(displayName) permutes \(permutation.count) axes, not those of \(input)"))
    case .classToken(let width):
      return input.count == 2 && input[1] == width
        ? .success([input[0] + 1, width])
        : .failure(ShapeMismatch("\(displayName) expects tokens [count, \(width)], not \(input)"))
    case .affine(let c), .batchNorm(let c, _, _):
      return input.first == c
        ? .success(input)
        : .failure(ShapeMismatch("\(displayName) expects \(c) channels first, not \(input)"))
    case .flatten:
      return .success([DataLimits.product(input) ?? .max])
    case .relu, .tanh, .sigmoid, .softmax, .sum, .pointwise, .dropout:
      return .success(input)
    case .binary, .matmul:
      return outputShape(joining: [input, input])
    case .binaryConstant(_, let shape, _):
      guard let result = Broadcasting.shape(input, shape), result.count == input.count else {
        return .failure(
          ShapeMismatch("\(displayName) does not broadcast against items of \(input)"))
      }
      return .success(result)
    case .layerNorm(let shape, _):
      return input.count >= shape.count && Array(input.suffix(shape.count)) == shape
        ? .success(input)
        : .failure(
          ShapeMismatch("\(displayName) normalises items ending in \(shape), not \(input)"))
    case .softmaxAlong(let axis):
      return axis < input.count
        ? .success(input)
        : .failure(ShapeMismatch("\(displayName) needs an axis that \(input) lacks"))
    case .reduceMean(let axes, let keeps):
      guard axes.allSatisfy({ $0 < input.count }) else {
        return .failure(ShapeMismatch("\(displayName) needs axes that \(input) lacks"))
      }
      return .success(
        keeps
          ? input.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
          : input.enumerated().filter { !axes.contains($0.offset) }.map(\.element))
    case .globalAveragePool:
      return input.count >= 2
        ? .success([input[0]] + [Int](repeating: 1, count: input.count - 1))
        : .failure(ShapeMismatch("\(displayName) expects maps [channels, …], not \(input)"))
    case .slice(let axis, let start, let end):
      return axis < input.count && end <= input[axis]
        ? .success(input.enumerated().map { $0.offset == axis ? end - start : $0.element })
        : .failure(ShapeMismatch("\(displayName) reaches past the axes of \(input)"))
    case .linear(let i, let o):
      return input.last == i
        ? .success(input.dropLast() + [o])
        : .failure(ShapeMismatch("\(displayName) expects items ending in \(i), not \(input)"))
    case .concatenate(let axis, _):
      return axis < input.count
        ? .success(input)
        : .failure(ShapeMismatch("\(displayName) joins along an axis that \(input) lacks"))
    case .convolution(let c):
      return c.outputShape(for: input)
    case .localResponseNorm:
      // ONNX's LRN takes images only (ONNX Runtime checks it).
      return input.count == 3
        ? .success(input)
        : .failure(
          ShapeMismatch("\(displayName) expects images [channels, height, width], not \(input)"))
    case .pool(let p):
      return p.outputShape(for: input)
    }
  }

  /// The shape of one output item for one item of each input, as the layer built from this spec
  /// computes it: a join's (`sum`, `concat`) from all its inputs, any other layer's from its one.
  ///
  /// - Precondition: `sizeProblem == nil` and the inputs' sizes are at most 2³¹ − 1.
  func outputShape(joining inputs: [[Int]]) -> Result<[Int], ShapeMismatch> {
    let expected: Int =
      switch self {
      case .sum(let n), .concatenate(_, let n): n
      case .binary, .matmul: 2
      default: 1
      }
    guard inputs.count == expected else {
      return .failure(
        ShapeMismatch(
          "\(displayName) takes \(expected) value\(expected == 1 ? "" : "s"), not \(inputs.count)"))
    }
    guard let first = inputs.first, inputs.count > 1 else { return outputShape(for: inputs[0]) }
    switch self {
    case .sum:
      guard inputs.allSatisfy({ $0 == first }) else {
        return .failure(
          ShapeMismatch(
            "\(displayName) adds values of one shape, not \(inputs.map { "\($0)" }.joined(separator: " and "))"
          ))
      }
      return .success(first)
    case .concatenate(let axis, _):
      let sameElsewhere = inputs.allSatisfy { shape in
        shape.count == first.count && axis < shape.count
          && shape.indices.allSatisfy { $0 == axis || shape[$0] == first[$0] }
      }
      guard sameElsewhere else {
        return .failure(
          ShapeMismatch(
            "\(displayName) joins values whose other axes agree, not \(inputs.map { "\($0)" }.joined(separator: " and "))"
          ))
      }
      var shape = first
      shape[axis] = inputs.reduce(0) { $0 + $1[axis] }
      return .success(shape)
    case .binary:
      // Items of fewer axes gain leading axes of size 1 (the batch axes meet each other).
      guard let shape = Broadcasting.shape(inputs[0], inputs[1]) else {
        return .failure(
          ShapeMismatch("\(displayName) cannot broadcast \(inputs[0]) with \(inputs[1])"))
      }
      return .success(shape)
    case .matmul:
      let a = inputs[0], b = inputs[1]
      guard a.count >= 2, b.count >= 2, a[a.count - 1] == b[b.count - 2],
        let leading = Broadcasting.shape(Array(a.dropLast(2)), Array(b.dropLast(2)))
      else {
        return .failure(
          ShapeMismatch("\(displayName) cannot multiply \(a) by \(b)"))
      }
      return .success(leading + [a[a.count - 2], b[b.count - 1]])
    default:
      return outputShape(for: first)
    }
  }

  /// The spec of a hidden activation.
  static func activation(_ function: Activation.Function) -> LayerSpec {
    switch function {
    case .relu: .relu
    case .tanh: .tanh
    case .sigmoid: .sigmoid
    }
  }
}
