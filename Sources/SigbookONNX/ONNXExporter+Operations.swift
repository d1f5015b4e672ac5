import SigbookTensor
import SigbookNN

extension ONNXExporter {
  /// The nodes of one graph operation (pointwise functions, broadcast arithmetic, normalisation,
  /// reductions, slices, matrix products, pooling of any geometry) in opset 13, returning the
  /// name of its output.
  ///
  /// Functions opset 13 lacks are written as what they compute: GELU as `x · ½ (1 + erf(x/√2))`,
  /// hard-swish as `x · HardSigmoid(x)`, layer normalisation as its means and square root.
  ///
  /// - Parameters:
  ///   - operands: the names of the values the layer takes.
  ///   - itemShapes: the shape of one item of each operand.
  ///   - node: appends a node (operator, inputs, attributes) and returns its output's name.
  ///   - constant: adds a float initializer (shape, values) and returns its name.
  ///   - indices: adds a 1-D int64 initializer and returns its name.
  static func operation(
    _ spec: LayerSpec, _ operands: [String], parameters: [Tensor], buffers: [Tensor],
    itemShapes: [[Int]],
    node: (String, [String], [Onnx_AttributeProto]) -> String,
    constant: ([Int], [Float]) -> String, indices: ([Int]) -> String
  ) -> String {
    let x = operands[0]
    let itemShape = itemShapes[0]
    func scalar(_ value: Float) -> String { constant([], [value]) }
    // sigbook aligns two operands' batch axes; ONNX aligns their last: give both one rank.
    func aligned() -> [String] {
      let rank = itemShapes.map(\.count).max() ?? 0
      return zip(operands, itemShapes).map { name, shape in
        shape.count == rank
          ? name
          : node(
            "Reshape",
            [name, indices([0] + [Int](repeating: 1, count: rank - shape.count) + shape)], [])
      }
    }
    switch spec {
    case .pointwise(let function):
      switch function {
      case .gelu:
        let scaled = node("Div", [x, scalar(Float(2.0.squareRoot()))], [])
        let erf = node("Erf", [scaled], [])
        let shifted = node("Add", [erf, scalar(1)], [])
        let product = node("Mul", [x, shifted], [])
        return node("Mul", [product, scalar(0.5)], [])
      case .leakyRelu(let slope):
        return node("LeakyRelu", [x], [float("alpha", slope)])
      case .clip(let low, let high):
        return node("Clip", [x, scalar(low), scalar(high)], [])
      case .hardSwish:
        let gate = node("HardSigmoid", [x], [float("alpha", 1 / 6), float("beta", 0.5)])
        return node("Mul", [x, gate], [])
      case .hardSigmoid(let alpha, let beta):
        return node("HardSigmoid", [x], [float("alpha", alpha), float("beta", beta)])
      case .erf: return node("Erf", [x], [])
      case .sqrt: return node("Sqrt", [x], [])
      case .exp: return node("Exp", [x], [])
      case .log: return node("Log", [x], [])
      case .negate: return node("Neg", [x], [])
      case .reciprocal: return node("Reciprocal", [x], [])
      case .abs: return node("Abs", [x], [])
      case .power(let p): return node("Pow", [x, scalar(p)], [])
      case .scale(let c): return node("Mul", [x, scalar(c)], [])
      }
    case .dropout(let rate):
      // Without `training_mode` the node is the identity, as the layer is at inference; its
      // ratio keeps the rate for a model trained again.
      return rate > 0 ? node("Dropout", [x, scalar(rate)], []) : node("Identity", [x], [])
    case .binary(let op):
      return node(op.onnxName, aligned(), [])
    case .binaryConstant(let op, let shape, let constantFirst):
      let c = constant(shape, parameters[0].scalars)
      return node(op.onnxName, constantFirst ? [c, x] : [x, c], [])
    case .layerNorm(let shape, let epsilon):
      let axes = Array((itemShape.count - shape.count + 1)...itemShape.count)
      let mean = node("ReduceMean", [x], [ints("axes", axes), int("keepdims", 1)])
      let centred = node("Sub", [x, mean], [])
      let squares = node("Mul", [centred, centred], [])
      let variance = node("ReduceMean", [squares], [ints("axes", axes), int("keepdims", 1)])
      let deviation = node("Sqrt", [node("Add", [variance, scalar(epsilon)], [])], [])
      let normalized = node("Div", [centred, deviation], [])
      let scaled = node("Mul", [normalized, constant(shape, parameters[0].scalars)], [])
      return node("Add", [scaled, constant(shape, parameters[1].scalars)], [])
    case .softmaxAlong(let axis):
      return node("Softmax", [x], [int("axis", axis + 1)])
    case .reduceMean(let axes, let keeps):
      return node(
        "ReduceMean", [x], [ints("axes", axes.map { $0 + 1 }), int("keepdims", keeps ? 1 : 0)])
    case .globalAveragePool:
      return itemShape.count >= 2 ? node("GlobalAveragePool", [x], []) : node("Identity", [x], [])
    case .slice(let axis, let start, let end):
      return node("Slice", [x, indices([start]), indices([end]), indices([axis + 1])], [])
    case .matmul:
      return node("MatMul", aligned(), [])
    case .linear(let i, let o):
      // MatMul takes the weight as [inputs, outputs]: the transpose of nn.Linear's.
      let w = parameters[0].scalars
      var transposed = [Float](repeating: 0, count: w.count)
      for r in 0..<o {
        for c in 0..<i { transposed[c * o + r] = w[r * i + c] }
      }
      let product = node("MatMul", [x, constant([i, o], transposed)], [])
      return node("Add", [product, constant([o], parameters[1].scalars)], [])
    case .batchNorm(let c, let epsilon, _):
      // Inference: the running statistics normalise.
      let tensors = (parameters + buffers).map { constant([c], $0.scalars) }
      return node("BatchNormalization", [x] + tensors, [float("epsilon", epsilon)])
    case .classToken(let width):
      // The token expanded to [batch, 1, width], then put before the tokens.
      let batch = node(
        "Slice", [node("Shape", [x], []), indices([0]), indices([1]), indices([0])], [])
      let shape = node("Concat", [batch, indices([1, width])], [int("axis", 0)])
      let token = node("Expand", [constant([1, 1, width], parameters[0].scalars), shape], [])
      return node("Concat", [token, x], [int("axis", 1)])
    case .localResponseNorm(let size, let alpha, let beta, let bias):
      return node(
        "LRN", [x],
        [int("size", size), float("alpha", alpha), float("beta", beta), float("bias", bias)])
    case .pool(let p):
      // Opset 13's shape inference keeps a last window of ceil mode that would start in the
      // trailing padding, which ONNX Runtime (and opset 22) drops. Where ceil mode adds no
      // window, floor mode computes the same windows and is written instead; one that adds a
      // window along one axis and drops one along the other still meets the disagreement.
      var floor = p
      floor.ceilMode = false
      let addsWindows =
        p.ceilMode
        && floor.outputSize(height: itemShape[1], width: itemShape[2])
          != p.outputSize(height: itemShape[1], width: itemShape[2])
      var attributes = [
        ints("kernel_shape", p.kernel), ints("strides", p.strides), ints("pads", p.pads),
        int("ceil_mode", addsWindows ? 1 : 0),
      ]
      if p.kind == .average {
        attributes.append(int("count_include_pad", p.countIncludePad ? 1 : 0))
      }
      return node(p.kind == .max ? "MaxPool" : "AveragePool", [x], attributes)
    default:
      preconditionFailure("\(spec) is written by encode")
    }
  }

  static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .float
    a.f = value
    return a
  }
}
