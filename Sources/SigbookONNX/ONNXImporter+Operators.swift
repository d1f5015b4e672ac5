import Foundation
import SigbookTensor
import SigbookNN
import SigbookWorkbook

extension ONNXImporter {
  /// The largest padding of a window read (`pads`): far beyond any real model's, small enough
  /// that output sizes cannot overflow.
  static let maxPadding = 1 << 16
  /// The most layers a model imported has: far beyond any network's nodes.
  static let maxLayers = 100_000

  // MARK: Inputs and attributes

  /// The value of a node's input `index`, or nil when it is absent (optional inputs).
  func input(_ node: Onnx_NodeProto, _ index: Int) throws(ONNXError) -> Value? {
    guard index < node.input.count, !node.input[index].isEmpty else { return nil }
    guard let value = values[node.input[index]] else {
      throw error(
        node, "takes '\(node.input[index])', which no earlier node or initializer produces")
    }
    return value
  }

  /// A constant input that must be there.
  func constantInput(_ node: Onnx_NodeProto, _ index: Int, _ what: String) throws(ONNXError)
    -> Constant
  {
    switch try input(node, index) {
    case .constant(let c)?: return c
    case .activation?, .perItem?, .laidOut?:
      throw error(
        node,
        "its \(what) '\(node.input[index])' is computed from the model's input; sigbook imports \(node.opType) with a constant \(what)"
      )
    case nil: throw error(node, "has no \(what) (input \(index + 1))")
    }
  }

  /// The activation input `index` names: sets `current` and `itemShape` to it and returns it.
  @discardableResult
  mutating func activationInput(_ node: Onnx_NodeProto, _ index: Int = 0) throws(ONNXError)
    -> Int
  {
    switch try input(node, index) {
    case .activation(let v)?:
      current = v
      itemShape = shapes[v]
      return v
    case .laidOut(let v, let layout)?:
      throw error(
        node,
        "takes '\(node.input[index])' \(describe(v, layout)), whose batch axis an earlier node moved from the front; sigbook follows such a value through Transpose, Reshape, Slice, Gather, Squeeze and MatMul, operations along its last axis and on each value, and reads it elsewhere once the batch is first again"
      )
    case .perItem?:
      throw error(
        node,
        "takes '\(node.input[index])', a constant expanded over the batch; sigbook imports it only joined to the tokens (Concat) or in arithmetic with an activation"
      )
    case .constant?:
      throw error(
        node,
        "takes the constant '\(node.input[index])' where a value computed from the input was expected"
      )
    case nil: throw error(node, "its input \(index + 1) is missing")
    }
  }

  func attribute(_ node: Onnx_NodeProto, _ name: String) -> Onnx_AttributeProto? {
    node.attribute.first { $0.name == name }
  }

  func int(_ node: Onnx_NodeProto, _ name: String, default value: Int) -> Int {
    attribute(node, name).map { Int($0.i) } ?? value
  }

  func float(_ node: Onnx_NodeProto, _ name: String, default value: Float) -> Float {
    attribute(node, name).map(\.f) ?? value
  }

  func ints(_ node: Onnx_NodeProto, _ name: String) -> [Int]? {
    attribute(node, name).map { $0.ints.map { Int($0) } }
  }

  func string(_ node: Onnx_NodeProto, _ name: String) -> String? {
    attribute(node, name).map { String(decoding: $0.s, as: UTF8.self) }
  }

  /// Binds the node's first output.
  mutating func bind(_ node: Onnx_NodeProto, _ value: Value) {
    if let name = node.output.first, !name.isEmpty { values[name] = value }
  }

  /// Binds the node's first output to a constant it computed, after checking that the constant
  /// holds as many values as its shape says and that the shape can be indexed without overflow:
  /// every later computation on constants relies on both.
  mutating func bind(_ node: Onnx_NodeProto, constant c: Constant) throws(ONNXError) {
    guard let count = DimArithmetic.boundedCount(c.shape) else {
      throw error(node, "computes a tensor of shape \(c.shape), more values than sigbook reads")
    }
    guard count == c.count else {
      throw error(node, "computes a tensor of shape \(c.shape) (\(count) values) from \(c.count)")
    }
    bind(node, .constant(c))
  }

  /// `Relu /act1/Relu`.
  static func origin(_ node: Onnx_NodeProto) -> String {
    node.name.isEmpty ? node.opType : "\(node.opType) \(node.name)"
  }

  // MARK: The graph

  /// A layer of `spec` with `parameters` (its own initial ones when nil).
  static func make(_ spec: LayerSpec, parameters: [Tensor]? = nil) -> any Layer {
    var generator = SeededGenerator(seed: 0)
    var layer = spec.makeLayer(initialization: .glorot, generator: &generator)
    if let parameters { layer.parameters = parameters }
    return layer
  }

  /// The name of the layer a node becomes: the node's name (else its first output's), made
  /// unique.
  func layerName(_ node: Onnx_NodeProto, step: String? = nil, unique: Bool = true) -> String {
    let base =
      (node.name.isEmpty ? (node.output.first ?? node.opType) : node.name)
      + (step.map { "/" + $0 } ?? "")
    guard unique else { return base }
    var name = base, n = 1
    while layerNames.contains(name) {
      n += 1
      name = "\(base)#\(n)"
    }
    return name
  }

  /// Adds a layer that takes `inputs` (by default `current`, the value the node reads) and
  /// binds the node's first output to its output.
  ///
  /// - Parameter step: for a node that becomes several layers, the name of this one's part
  ///   (`/Gather/slice`); the last layer takes the node's own name.
  mutating func append(
    _ layer: any Layer, inputs: [Int]? = nil, for node: Onnx_NodeProto, step: String? = nil
  ) throws(ONNXError) {
    let taken = inputs ?? [current]
    let result =
      taken.count == 1
      ? layer.outputShape(for: shapes[taken[0]])
      : layer.outputShape(joining: taken.map { shapes[$0] })
    switch result {
    case .success(let shape):
      guard let count = DimArithmetic.boundedCount(shape), count > 0 else {
        throw error(
          node,
          "makes items of shape \(shape); sigbook's layers make between 1 and \(DimArithmetic.maxValues) values an item"
        )
      }
      itemShape = shape
    case .failure(let mismatch): throw error(node, mismatch.message)
    }
    if layers.count >= Self.maxLayers {
      throw error(
        node,
        "makes the model's \(layers.count + 1)th layer; sigbook holds at most \(Self.maxLayers)")
    }
    layers.append(layer)
    wiring.append(taken)
    shapes.append(itemShape)
    origins.append(Self.origin(node))
    layerNames.append(layerName(node, step: step))
    current = layers.count
    switch layer.spec {
    case .dense, .conv, .affine, .linear, .convolution: foldable.insert(current)
    default: break
    }
    bind(node, .activation(current))
  }

  /// Whether a bias or a normalisation can be folded into the layer that makes `current`: it is
  /// dense, linear, convolutional or affine, and this node (input `index`) is its output's
  /// only use.
  func canFold(_ node: Onnx_NodeProto, input index: Int = 0) -> Bool {
    foldable.contains(current) && uses[node.input[index]] == 1
      && layers[current - 1].parameters.count == 2
  }

  /// Whether `current` is made by a linear layer, whose outputs lie along the last axis, not
  /// the first.
  var currentIsLinear: Bool {
    if case .linear = layers[current - 1].spec { true } else { false }
  }

  /// Changes the parameters of the layer that makes `current`: each output channel `o` becomes
  /// `x · scale[o] + shift[o]` of what it was.
  mutating func fold(scale: [Float]?, shift: [Float], for node: Onnx_NodeProto) {
    var layer = layers[current - 1]
    var weight = layer.parameters[0].scalars, bias = layer.parameters[1].scalars
    // Layers are made with at least one output (`importLinear`, `importConv`).
    let outputs = bias.count, perOutput = weight.count / Swift.max(outputs, 1)
    for o in 0..<outputs {
      if let scale {
        for j in o * perOutput..<(o + 1) * perOutput { weight[j] *= scale[o] }
        bias[o] *= scale[o]
      }
      bias[o] += shift[o]
    }
    layer.parameters = [
      Tensor(shape: layer.parameters[0].shape, scalars: weight),
      Tensor(shape: [outputs], scalars: bias),
    ]
    layers[current - 1] = layer
    origins[current - 1] += " + " + Self.origin(node)
    // The layer's output is now this node's.
    layerNames[current - 1] = ""
    layerNames[current - 1] = layerName(node)
    bind(node, .activation(current))
  }

  /// Makes the node's output the same value as its input (Identity, a no-op).
  mutating func alias(_ node: Onnx_NodeProto) throws(ONNXError) {
    guard let value = try input(node, 0) else { throw error(node, "has no input") }
    bind(node, value)
  }

  /// `Dropout`: a dropout layer of the node's ratio (an input from opset 12, an attribute
  /// before; 0.5 when absent), which passes values unchanged at inference and drops them if the
  /// model is trained. A ratio of 0, or a value whose batch axis is not first, is passed on as
  /// it is.
  mutating func importDropout(_ node: Onnx_NodeProto) throws(ONNXError) {
    if case .constant(let mode)? = try input(node, 2), mode.asInts?.first ?? 0 != 0 {
      throw error(node, "runs in training mode; sigbook imports models for inference")
    }
    let ratio = try scalarInput(node, 1, "ratio") ?? float(node, "ratio", default: 0.5)
    guard ratio >= 0, ratio < 1 else {
      throw error(node, "has a ratio of \(ratio); a dropout ratio is in [0, 1)")
    }
    guard ratio > 0, case .activation? = try input(node, 0) else { return try alias(node) }
    try activationInput(node)
    try append(Self.make(.dropout(rate: ratio)), for: node)
  }

  // MARK: Nodes

  /// Imports one node: computes it if its inputs are constants, else adds or folds a layer.
  mutating func importNode(_ node: Onnx_NodeProto) throws(ONNXError) {
    guard node.domain.isEmpty || node.domain == "ai.onnx" else {
      throw error(
        node,
        "is in the operator domain '\(node.domain)'; sigbook imports the standard ONNX operators: \(Self.operators.keys.sorted().joined(separator: ", "))"
      )
    }
    guard let allowed = Self.operators[node.opType] else {
      if ["If", "Loop", "Scan"].contains(node.opType) {
        throw error(
          node,
          "is control flow; sigbook imports graphs without control flow, made of \(Self.operators.keys.sorted().joined(separator: ", "))"
        )
      }
      throw error(
        node,
        "sigbook does not import the operator \(node.opType); it imports \(Self.operators.keys.sorted().joined(separator: ", "))"
      )
    }
    for a in node.attribute where !allowed.contains(a.name) {
      throw error(
        node,
        "attribute '\(a.name)' is not supported; \(node.opType) may carry \(allowed.isEmpty ? "no attributes" : allowed.sorted().joined(separator: ", "))"
      )
    }
    switch node.opType {
    case "Constant": try importConstant(node)
    case "Identity": try alias(node)
    case "Dropout": try importDropout(node)
    case "Cast": try importCast(node)
    case "Shape": try importShape(node)
    case "Gather": try importGather(node)
    case "Unsqueeze", "Squeeze": try importSqueeze(node)
    case "Concat": try importConcat(node)
    case "Slice": try importSlice(node)
    case "Split": try importSplit(node)
    case "Gemm": try importLinear(node)
    case "MatMul": try importMatMul(node)
    case "Add": try importArithmetic(node, .add)
    case "Sub": try importArithmetic(node, .subtract)
    case "Mul": try importArithmetic(node, .multiply)
    case "Div": try importArithmetic(node, .divide)
    case "Sum": try importSum(node)
    case "Relu": try importActivation(node, .relu)
    case "Tanh": try importActivation(node, .tanh)
    case "Sigmoid": try importActivation(node, .sigmoid)
    case "Erf", "Sqrt", "Exp", "Neg", "Reciprocal", "Gelu", "LeakyRelu", "HardSigmoid",
      "HardSwish", "Clip", "Pow":
      try importPointwise(node)
    case "Softmax": try importSoftmax(node)
    case "Conv": try importConv(node)
    case "MaxPool", "AveragePool": try importPool(node)
    case "GlobalAveragePool":
      try activationInput(node)
      if itemShape.count == 2 {
        // [channels, length] (tf2onnx's mean over a last axis): the mean along the length.
        return try append(Self.make(.reduceMean(axes: [1], keepsAxes: true)), for: node)
      }
      guard itemShape.count == 3 else {
        throw error(node, "sigbook pools maps [channels, height, width], not \(itemShape)")
      }
      try append(
        itemShape[1] == itemShape[2]
          ? Self.make(.averagePool(size: itemShape[1])) : Self.make(.globalAveragePool),
        for: node)
    case "ReduceMean": try importReduceMean(node)
    case "LayerNormalization": try importLayerNormalization(node)
    case "LRN": try importLRN(node)
    case "Flatten": try importFlatten(node)
    case "Reshape": try importReshape(node)
    case "Transpose": try importTranspose(node)
    case "BatchNormalization": try importBatchNormalization(node)
    case "Pad": try importPad(node)
    case "ConstantOfShape": try importConstantOfShape(node)
    case "Equal": try importEqual(node)
    case "Where": try importWhere(node)
    case "Expand": try importExpand(node)
    case "Tile": try importTile(node)
    case "ReduceProd": try importReduceProd(node)
    case "Max": try importMax(node)
    default: throw error(node, "is not imported")
    }
  }

  mutating func importConstant(_ node: Onnx_NodeProto) throws(ONNXError) {
    if let t = attribute(node, "value") {
      try bind(node, constant: try constant(t.t, what: "node \(Self.describe(node))'s value"))
    } else if let f = attribute(node, "value_float") {
      try bind(node, constant: Constant(shape: [], floats: [f.f]))
    } else if let f = attribute(node, "value_floats") {
      try bind(node, constant: Constant(shape: [f.floats.count], floats: f.floats))
    } else if let i = attribute(node, "value_int") {
      try bind(node, constant: Constant(shape: [], ints: [.known(Int(i.i))]))
    } else if let i = attribute(node, "value_ints") {
      try bind(
        node, constant: Constant(shape: [i.ints.count], ints: i.ints.map { .known(Int($0)) }))
    } else {
      throw error(node, "has no value, value_float(s) or value_int(s)")
    }
  }

  mutating func importCast(_ node: Onnx_NodeProto) throws(ONNXError) {
    let to = int(node, "to", default: 1)
    let isFloat = [1, 10, 11, 16].contains(to)
    switch try input(node, 0) {
    case .constant(let c)?:
      if isFloat, let f = c.asFloats {
        try bind(node, constant: Constant(shape: c.shape, floats: f))
      } else if !isFloat, let f = c.asFloats, c.ints == nil {
        var ints: [Dim] = []
        ints.reserveCapacity(f.count)
        for (i, x) in f.enumerated() {
          // ONNX casts truncate toward zero; NaN, ±inf and values beyond 64 bits have no integer.
          guard let n = Int(exactly: x.rounded(.towardZero)) else {
            throw error(
              node,
              "casts \(x) (value \(i) of its input) to the integer data type \(to), which cannot hold it"
            )
          }
          ints.append(.known(n))
        }
        try bind(node, constant: Constant(shape: c.shape, ints: ints))
      } else {
        try bind(node, constant: c)
      }
    case .activation?, .perItem?, .laidOut?:
      guard isFloat else {
        throw error(node, "casts the layers' values to data type \(to); sigbook computes in float")
      }
      try alias(node)
    case nil: throw error(node, "has no input")
    }
  }

  mutating func importShape(_ node: Onnx_NodeProto) throws(ONNXError) {
    var dims: [Dim]
    switch try input(node, 0) {
    case .constant(let c)?: dims = c.shape.map { .known($0) }
    case .activation(let v)?: dims = [.batchSize] + shapes[v].map { .known($0) }
    case .perItem(let c)?: dims = [.batchSize] + c.shape.map { .known($0) }
    case .laidOut(let v, let layout)?: dims = self.dims(v, layout)
    case nil: throw error(node, "has no input")
    }
    let rank = dims.count
    func clamp(_ i: Int) -> Int { min(max(i < 0 ? i + rank : i, 0), rank) }
    let start = clamp(int(node, "start", default: 0)), end = clamp(int(node, "end", default: rank))
    dims = start < end ? Array(dims[start..<end]) : []
    try bind(node, constant: Constant(shape: [dims.count], ints: dims))
  }

  mutating func importGather(_ node: Onnx_NodeProto) throws(ONNXError) {
    switch try input(node, 0) {
    case .activation?, .laidOut?: return try importGatherOfActivation(node)
    default: break
    }
    let data = try constantInput(node, 0, "data")
    let indices = try constantInput(node, 1, "indices")
    var axis = int(node, "axis", default: 0)
    if axis < 0 { axis += data.shape.count }
    if axis >= 0, axis < data.shape.count {
      var shape = data.shape
      shape.replaceSubrange(axis...axis, with: indices.shape)
      guard DimArithmetic.boundedCount(shape) != nil else {
        throw error(node, "gathers a tensor of shape \(shape), more values than sigbook reads")
      }
    }
    guard let positions = indices.asInts,
      let result = data.gathered(positions, indexShape: indices.shape, axis: axis)
    else {
      throw error(node, "gathers indices out of the range of its \(data.shape) data")
    }
    try bind(node, constant: result)
  }

  mutating func importSqueeze(_ node: Onnx_NodeProto) throws(ONNXError) {
    switch try input(node, 0) {
    case .constant?: break
    case .laidOut(let v, let layout)?: return try importSqueezeOfLayout(node, v, layout)
    default: return try importSqueezeOfActivation(node)
    }
    guard case .constant(let data)? = try input(node, 0) else { return }
    var axes = ints(node, "axes")
    if axes == nil, node.input.count > 1, !node.input[1].isEmpty {
      axes = try constantInput(node, 1, "axes").asInts
    }
    var shape = data.shape
    if node.opType == "Unsqueeze" {
      guard let axes else { throw error(node, "has no axes") }
      let rank = shape.count + axes.count
      let positions = axes.map { $0 < 0 ? $0 + rank : $0 }
      guard Set(positions).count == positions.count else {
        throw error(node, "names an axis twice in \(axes)")
      }
      for a in positions.sorted() {
        guard a >= 0, a <= shape.count else { throw error(node, "has an axis outside the rank") }
        shape.insert(1, at: a)
      }
    } else {
      let rank = shape.count
      let remove = Set(
        (axes ?? shape.indices.filter { shape[$0] == 1 }).map { $0 < 0 ? $0 + rank : $0 })
      // Squeeze removes axes of size 1 only: any other would drop values the shape no longer
      // counts.
      for a in remove where a < 0 || a >= rank || shape[a] != 1 {
        throw error(
          node,
          "squeezes axis \(a < 0 || a >= rank ? "\(a), outside the rank of" : "\(a) of size \(shape[a]) in") \(shape); only axes of size 1 can be removed"
        )
      }
      shape = shape.enumerated().filter { !remove.contains($0.offset) }.map(\.element)
    }
    var result = data
    result.shape = shape
    try bind(node, constant: result)
  }

  mutating func importConcat(_ node: Onnx_NodeProto) throws(ONNXError) {
    var parts: [Constant] = []
    for i in node.input.indices {
      guard case .constant(let c)? = try input(node, i) else {
        return try importConcatOfActivations(node)
      }
      parts.append(c)
    }
    guard parts.allSatisfy({ $0.shape.count <= 1 }) else {
      throw error(
        node, "joins tensors of rank 2 or more; sigbook computes Concat on vectors (shapes)")
    }
    if parts.allSatisfy({ $0.floats != nil }) {
      let all = parts.flatMap { $0.floats ?? [] }
      try bind(node, constant: Constant(shape: [all.count], floats: all))
    } else {
      var all: [Dim] = []
      for p in parts {
        guard let d = p.asDims else { throw error(node, "joins values that are not whole numbers") }
        all += d
      }
      try bind(node, constant: Constant(shape: [all.count], ints: all))
    }
  }

  /// `Slice` of a constant vector (a shape): `starts`, `ends`, `axes` and `steps` as inputs
  /// (opset 10 and later) or attributes (before).
  mutating func importSlice(_ node: Onnx_NodeProto) throws(ONNXError) {
    guard case .constant(let data)? = try input(node, 0) else {
      return try importSliceOfActivation(node)
    }
    func part(_ name: String, _ index: Int) throws(ONNXError) -> [Int]? {
      if let v = ints(node, name) { return v }
      guard index < node.input.count, !node.input[index].isEmpty else { return nil }
      return try constantInput(node, index, name).asInts
    }
    guard data.shape.count == 1, let starts = try part("starts", 1), let ends = try part("ends", 2)
    else {
      throw error(node, "slices a tensor of shape \(data.shape); sigbook slices vectors (shapes)")
    }
    let axes = try part("axes", 3) ?? [0], steps = try part("steps", 4) ?? [1]
    guard starts.count == 1, ends.count == 1, axes.allSatisfy({ $0 == 0 || $0 == -1 }), steps == [1]
    else {
      throw error(
        node, "slices with steps \(steps) on axes \(axes); sigbook slices vectors with step 1")
    }
    let n = data.shape[0]
    func clamp(_ i: Int) -> Int { min(max(i < 0 ? i + n : i, 0), n) }
    let range = clamp(starts[0])..<max(clamp(starts[0]), clamp(ends[0]))
    let indices = Array(range)
    guard let result = data.gathered(indices, indexShape: [indices.count], axis: 0) else {
      throw error(node, "slices outside its data")
    }
    try bind(node, constant: result)
  }

  /// `Gemm` (x · Bᵀ or x · B, times alpha, plus beta · C) and `MatMul` with a constant matrix:
  /// a dense layer on vectors, a linear one along the last axis of tokens (or of rows whose
  /// batch axis was moved).
  mutating func importLinear(_ node: Onnx_NodeProto) throws(ONNXError) {
    let layout = try rowInput(node)
    let b = try constantInput(node, 1, "weight")
    let isGemm = node.opType == "Gemm"
    guard int(node, "transA", default: 0) == 0 else {
      throw error(node, "transA = 1 is not supported; the input must be [batch, features]")
    }
    let transB = isGemm && int(node, "transB", default: 0) != 0
    guard itemShape.count == 1 || !isGemm || layout != nil else {
      throw error(
        node,
        "multiplies items of shape \(itemShape); sigbook imports \(node.opType) on vectors [batch, features] (flatten first)"
      )
    }
    guard b.shape.count == 2, let values = b.asFloats else {
      throw error(node, "its weight has shape \(b.shape); a matrix was expected")
    }
    let (inputs, outputs) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
    guard outputs > 0 else {
      throw error(node, "its weight has shape \(b.shape): a layer of no outputs")
    }
    guard inputs == itemShape.last else {
      throw error(
        node,
        "its weight \(b.shape)\(transB ? " (transposed)" : "") takes \(inputs) features but its input has \(itemShape.last ?? 0)"
      )
    }
    let alpha = isGemm ? float(node, "alpha", default: 1) : 1
    var weight = [Float](repeating: 0, count: inputs * outputs)
    for o in 0..<outputs {
      for i in 0..<inputs {
        weight[o * inputs + i] = alpha * (transB ? values[o * inputs + i] : values[i * outputs + o])
      }
    }
    var bias = [Float](repeating: 0, count: outputs)
    if isGemm, case .constant(let c)? = try input(node, 2) {
      let beta = float(node, "beta", default: 1)
      guard let cv = c.asFloats, cv.count == outputs || cv.count == 1 else {
        throw error(node, "its bias has shape \(c.shape); [\(outputs)] was expected")
      }
      for o in 0..<outputs { bias[o] = beta * cv[cv.count == 1 ? 0 : o] }
    }
    try append(
      Self.make(
        itemShape.count == 1
          ? .dense(inputs: inputs, outputs: outputs) : .linear(inputs: inputs, outputs: outputs),
        parameters: [
          Tensor(shape: [outputs, inputs], scalars: weight),
          Tensor(shape: [outputs], scalars: bias),
        ]), for: node)
    try rebind(node, layout)
  }

  /// A per-channel vector from a constant that broadcasts over items of `itemShape` channel by
  /// channel (`[C]` or `[1, C]` for vectors, `[C, 1, 1]` or `[1, C, 1, 1]` for maps), or from a
  /// single value.
  func perChannel(_ c: Constant) -> [Float]? {
    guard let values = c.asFloats, let channels = itemShape.first else { return nil }
    if values.count == 1 { return [Float](repeating: values[0], count: channels) }
    guard values.count == channels else { return nil }
    var shape = c.shape
    if shape.count == itemShape.count + 1, shape.first == 1 { shape.removeFirst() }
    let expected = [channels] + [Int](repeating: 1, count: itemShape.count - 1)
    return shape == expected ? values : nil
  }

  /// `Add`, `Sub`, `Mul` and `Div`: computed between constants (integers exactly), folded into
  /// the layer before as a bias or a scale where it can be, else a layer between the
  /// activation and a constant (`x + pos_embed`), or a join of two activations.
  mutating func importArithmetic(_ node: Onnx_NodeProto, _ operation: BinaryOperation)
    throws(ONNXError)
  {
    let a = try input(node, 0), b = try input(node, 1)
    switch (a, b) {
    case (.constant(let x)?, .constant(let y)?):
      try bind(node, constant: try computed(node, operation, x, y))
    case (.activation?, .constant(let c)?), (.constant(let c)?, .activation?):
      let constantFirst: Bool
      if case .constant? = a { constantFirst = true } else { constantFirst = false }
      try activationInput(node, constantFirst ? 1 : 0)
      try appendArithmetic(node, operation, c, constantFirst: constantFirst)
    case (.laidOut(let v, let layout)?, .constant(let c)?),
      (.constant(let c)?, .laidOut(let v, let layout)?):
      // A single value acts on each value as it lies; a vector along the last axis, row by row.
      let constantFirst: Bool
      if case .constant? = a { constantFirst = true } else { constantFirst = false }
      let index = constantFirst ? 1 : 0
      let last = dims(v, layout).last
      var constant = c
      let kept: Layout?
      if c.count == 1 {
        kept = try valueInput(node, index)
        constant.shape = [1]
      } else if let n = c.shape.last, c.count == n, last == .known(n) {
        kept = try rowInput(node, index)
        constant.shape = [n]
      } else {
        throw error(
          node,
          "\(operation.verb) a constant of shape \(c.shape) and '\(node.input[index])' \(describe(v, layout)), whose batch axis an earlier node moved; sigbook combines such a value with a single value or a vector along its last axis"
        )
      }
      try appendArithmetic(node, operation, constant, constantFirst: constantFirst)
      try rebind(node, kept)
    case (.perItem(let c)?, .activation?), (.activation?, .perItem(let c)?):
      let constantFirst: Bool
      if case .perItem? = a { constantFirst = true } else { constantFirst = false }
      try activationInput(node, constantFirst ? 1 : 0)
      try appendConstantOperation(node, operation, c, constantFirst: constantFirst)
    case (.laidOut(let x, let lx)?, .laidOut(let y, let ly)?)
    where lx == ly && shapes[x] == shapes[y]:
      // Two values laid out alike: combined as they lie.
      try append(
        operation == .add
          ? Self.make(.sum(inputs: 2)) : Self.make(.binary(operation)), inputs: [x, y], for: node)
      try bind(node, current, laidOut: lx)
    case (.activation?, .activation?), (.laidOut?, _), (_, .laidOut?):
      let x = try activationInput(node, 0), y = try activationInput(node, 1)
      guard shapes[x].count == shapes[y].count else {
        throw error(
          node,
          "\(operation.verb) values of \(shapes[x].count + 1) and \(shapes[y].count + 1) axes; sigbook broadcasts two activations of as many axes, their batch axes together"
        )
      }
      try append(
        operation == .add && shapes[x] == shapes[y]
          ? Self.make(.sum(inputs: 2)) : Self.make(.binary(operation)), inputs: [x, y], for: node)
    default:
      throw error(node, "\(operation.verb) values sigbook cannot combine (a missing input?)")
    }
  }

  /// `x ∘ c` (or `c ∘ x`) for the activation `current`: folded into the layer before as a
  /// bias or a scale where it can be, a per-channel affine layer in a chain, else a layer
  /// between the activation and the constant.
  mutating func appendArithmetic(
    _ node: Onnx_NodeProto, _ operation: BinaryOperation, _ c: Constant, constantFirst: Bool
  ) throws(ONNXError) {
    let inputIndex = constantFirst ? 1 : 0
    let commutes = operation == .add || operation == .multiply
    if commutes, canFold(node, input: inputIndex), let vector = foldedVector(c) {
      let zeros = [Float](repeating: 0, count: vector.count)
      return operation == .multiply
        ? fold(scale: vector, shift: zeros, for: node)
        : fold(scale: nil, shift: vector, for: node)
    }
    if commutes, isChainSoFar, let shift = perChannel(c) {
      // A chain keeps its per-channel affine layer, as sigbook's own models have.
      let isMul = operation == .multiply
      let zeros = [Float](repeating: 0, count: shift.count)
      return try append(
        Self.make(
          .affine(channels: shift.count),
          parameters: [
            isMul
              ? Tensor(shape: [shift.count], scalars: shift)
              : Tensor(repeating: 1, shape: [shift.count]),
            Tensor(shape: [shift.count], scalars: isMul ? zeros : shift),
          ]), for: node)
    }
    try appendConstantOperation(node, operation, c, constantFirst: constantFirst)
  }

  /// Whether every layer so far takes the one before: a chain.
  var isChainSoFar: Bool { wiring.indices.allSatisfy { wiring[$0] == [$0] } }

  /// A layer computing `x ∘ c` (or `c ∘ x`), the constant's shape made one item's: a leading
  /// axis of size 1 (the batch's) dropped when it has as many axes as the batch.
  mutating func appendConstantOperation(
    _ node: Onnx_NodeProto, _ operation: BinaryOperation, _ c: Constant, constantFirst: Bool
  ) throws(ONNXError) {
    guard let values = c.asFloats else {
      throw error(node, "\(operation.verb) the batch size to a value; sigbook cannot")
    }
    var shape = c.shape
    if shape.count == itemShape.count + 1 {
      guard shape.first == 1 else {
        throw error(
          node,
          "\(operation.verb) a constant of shape \(c.shape), which differs from one input to the next, and items of \(itemShape)"
        )
      }
      shape.removeFirst()
    }
    if shape.isEmpty { shape = [1] }
    guard shape.count <= itemShape.count else {
      throw error(
        node,
        "\(operation.verb) a constant of shape \(c.shape) and items of shape \(itemShape); the constant has more axes than an item"
      )
    }
    try append(
      Self.make(
        .binaryConstant(operation, shape: shape, constantFirst: constantFirst),
        parameters: [Tensor(shape: shape, scalars: values)]), for: node)
  }

  /// A constant as one value per output of the layer that makes `current` (a bias or a scale
  /// it can take): per channel (the first item axis) for dense, convolutional and affine
  /// layers, per value of the last axis for a linear one.
  func foldedVector(_ c: Constant) -> [Float]? {
    guard case .linear = layers[current - 1].spec else { return perChannel(c) }
    guard let values = c.asFloats, let width = itemShape.last else { return nil }
    if values.count == 1 { return [Float](repeating: values[0], count: width) }
    guard values.count == width, c.shape.dropLast().allSatisfy({ $0 == 1 }),
      c.shape.count <= itemShape.count
    else { return nil }
    return values
  }

  /// `x ∘ y` between constants of equal shapes or with one a single value: floats, or
  /// integers computed exactly (an overflow, a division by zero or by the batch size is an
  /// error).
  func computed(_ node: Onnx_NodeProto, _ operation: BinaryOperation, _ x: Constant, _ y: Constant)
    throws(ONNXError) -> Constant
  {
    let shape = x.count >= y.count ? x.shape : y.shape
    guard x.shape == y.shape || x.count == 1 || y.count == 1 else {
      throw error(
        node,
        "\(operation.verb) constants of shapes \(x.shape) and \(y.shape); sigbook computes on equal shapes or with a single value"
      )
    }
    let n = max(x.count, y.count)
    if x.ints != nil, y.ints != nil, let xd = x.asDims, let yd = y.asDims {
      var result: [Dim] = []
      for i in 0..<n {
        let dp = xd[xd.count == 1 ? 0 : i], dq = yd[yd.count == 1 ? 0 : i]
        // The batch size times a number, times or divided by a number (`batch · heads`).
        switch (operation, dp, dq) {
        case (.multiply, .batch(let k), .known(let m)), (.multiply, .known(let m), .batch(let k)):
          let (r, overflow) = k.multipliedReportingOverflow(by: m)
          guard !overflow, r > 0 else {
            throw error(node, "multiplies the batch size by \(m); sigbook cannot follow it")
          }
          result.append(.batch(r))
          continue
        case (.divide, .batch(let k), .known(let m)) where m > 0 && k % m == 0:
          result.append(k == m ? .batchSize : .batch(k / m))
          continue
        case (_, .known(let p), .known(let q)):
          let (r, overflow): (Int, Bool)
          switch operation {
          case .add: (r, overflow) = p.addingReportingOverflow(q)
          case .subtract: (r, overflow) = p.subtractingReportingOverflow(q)
          case .multiply: (r, overflow) = p.multipliedReportingOverflow(by: q)
          case .divide:
            guard q != 0 else { throw error(node, "divides the integer \(p) by zero") }
            (r, overflow) = p.dividedReportingOverflow(by: q)
          }
          guard !overflow else {
            throw error(
              node, "\(operation.verb) the integers \(p) and \(q), which overflows 64 bits")
          }
          result.append(.known(r))
        default:
          throw error(
            node,
            "\(operation.verb) the batch size and \(dp == .batchSize ? dq.text : dp.text), which sigbook does not know when it imports a model"
          )
        }
      }
      return Constant(shape: shape, ints: result)
    }
    guard let xv = x.asFloats, let yv = y.asFloats else {
      throw error(
        node,
        "\(operation.verb) the batch size, which sigbook does not know when it imports a model")
    }
    let values = (0..<n).map { i in
      operation.value(xv[xv.count == 1 ? 0 : i], yv[yv.count == 1 ? 0 : i])
    }
    return Constant(shape: shape, floats: values)
  }

  mutating func importActivation(_ node: Onnx_NodeProto, _ function: LayerSpec)
    throws(ONNXError)
  {
    let layout = try valueInput(node)
    try append(Self.make(function), for: node)
    try rebind(node, layout)
  }

  mutating func importSoftmax(_ node: Onnx_NodeProto) throws(ONNXError) {
    if case .laidOut(let v, let layout)? = try input(node, 0) {
      // Along the last axis (attention's weights over the keys), row by row.
      let rank = layout.groups.count
      let axis = int(node, "axis", default: opset < 13 ? 1 : -1)
      guard axis == -1 || axis == rank - 1 else {
        throw error(
          node,
          "takes a softmax along axis \(axis) of \(describe(v, layout)), whose batch axis an earlier node moved; sigbook takes such a softmax along the last axis"
        )
      }
      let kept = try rowInput(node)
      try append(
        Self.make(itemShape.count == 1 ? .softmax : .softmaxAlong(axis: itemShape.count - 1)),
        for: node)
      return try rebind(node, kept)
    }
    try activationInput(node)
    let axis = int(node, "axis", default: opset < 13 ? 1 : -1)
    let rank = itemShape.count + 1
    if itemShape.count == 1, axis == 1 || axis == -1 {
      return try append(Self.make(.softmax), for: node)
    }
    let along = try itemAxis(axis, rank: rank, node)
    if opset >= 13 { return try append(Self.make(.softmaxAlong(axis: along)), for: node) }
    // Before opset 13 the softmax is over every axis from `axis` on, as one: along the only
    // one of them longer than 1, or over their values flattened and shaped back.
    let trailing = Array(itemShape[along...])
    let long = trailing.indices.filter { trailing[$0] > 1 }
    if long.count <= 1 {
      return try append(
        Self.make(.softmaxAlong(axis: along + (long.first ?? 0))), for: node)
    }
    let shape = itemShape, first = layers.count
    defer { nameParts(of: node, from: first) }
    try append(
      Self.make(.reshape(shape: Array(shape[..<along]) + [trailing.reduce(1, *)])), for: node)
    try append(Self.make(.softmaxAlong(axis: along)), for: node)
    try append(Self.make(.reshape(shape: shape)), for: node)
  }

  /// The strides, pads ([top, left, bottom, right]) and dilations of a 2-D window (`Conv`,
  /// `MaxPool`, `AveragePool`) of `kernel` over maps of `itemShape`, `auto_pad` worked out.
  func window(_ node: Onnx_NodeProto, kernel: [Int]) throws(ONNXError)
    -> (strides: [Int], pads: [Int], dilations: [Int])
  {
    let strides = ints(node, "strides") ?? [1, 1]
    guard strides.count == 2, strides.allSatisfy({ $0 > 0 && $0 <= Self.maxPadding }) else {
      throw error(node, "strides \(strides) are not supported; sigbook uses two positive strides")
    }
    let dilations = ints(node, "dilations") ?? [1, 1]
    guard dilations.count == 2, dilations.allSatisfy({ $0 > 0 && $0 <= Self.maxPadding }) else {
      throw error(node, "dilations \(dilations) are not supported; sigbook uses two positive ones")
    }
    let autoPad = string(node, "auto_pad") ?? "NOTSET"
    switch autoPad {
    case "NOTSET", "":
      let pads = ints(node, "pads") ?? [0, 0, 0, 0]
      guard pads.count == 4, pads.allSatisfy({ $0 >= 0 && $0 <= Self.maxPadding }) else {
        throw error(
          node, "pads \(pads) are not supported; sigbook pads 2-D maps [top, left, bottom, right]")
      }
      return (strides, pads, dilations)
    case "VALID": return (strides, [0, 0, 0, 0], dilations)
    case "SAME_UPPER", "SAME_LOWER":
      guard itemShape.count == 3 else {
        throw error(node, "pads maps [channels, height, width], not \(itemShape)")
      }
      var begin = [0, 0], end = [0, 0]
      for axis in 0..<2 {
        let size = itemShape[axis + 1], stride = strides[axis]
        let extent = dilations[axis] * (kernel[axis] - 1) + 1
        let total = max(((size + stride - 1) / stride - 1) * stride + extent - size, 0)
        begin[axis] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
        end[axis] = total - begin[axis]
      }
      return (strides, [begin[0], begin[1], end[0], end[1]], dilations)
    default: throw error(node, "auto_pad '\(autoPad)' is not supported")
    }
  }

  /// `Conv`: sigbook's square convolution where it is one, else a convolution of any geometry
  /// (grouped, depthwise, rectangular kernels, two strides, uneven pads, dilations).
  mutating func importConv(_ node: Onnx_NodeProto) throws(ONNXError) {
    try activationInput(node)
    let w = try constantInput(node, 1, "weight")
    let groups = int(node, "group", default: 1)
    guard w.shape.count == 4, let weights = w.asFloats else {
      throw error(
        node,
        "its weight has shape \(w.shape); sigbook imports 2-D kernels [out, in / group, kh, kw]")
    }
    let kernel = [w.shape[2], w.shape[3]], outputs = w.shape[0]
    guard outputs > 0, kernel.allSatisfy({ $0 > 0 }) else {
      throw error(
        node,
        "its weight has shape \(w.shape): \(outputs == 0 ? "no output channels" : "an empty kernel")"
      )
    }
    if let k = ints(node, "kernel_shape"), k != kernel {
      throw error(node, "kernel_shape \(k) does not match its weight \(w.shape)")
    }
    guard groups > 0, outputs % groups == 0, itemShape.count == 3,
      itemShape[0] == w.shape[1] * groups
    else {
      throw error(
        node,
        "its weight \(w.shape) in \(groups) group\(groups == 1 ? "" : "s") takes \(w.shape[1] * groups) channels but its input is \(itemShape)"
      )
    }
    let (strides, pads, dilations) = try window(node, kernel: kernel)
    var bias = [Float](repeating: 0, count: outputs)
    if case .constant(let b)? = try input(node, 2) {
      guard let bv = b.asFloats, bv.count == outputs else {
        throw error(node, "its bias has shape \(b.shape); [\(outputs)] was expected")
      }
      bias = bv
    }
    let parameters = [
      Tensor(shape: w.shape, scalars: weights), Tensor(shape: [outputs], scalars: bias),
    ]
    let isSquare =
      groups == 1 && kernel[0] == kernel[1] && strides[0] == strides[1]
      && dilations == [1, 1] && Set(pads).count == 1
    let spec: LayerSpec =
      isSquare
      ? .conv(
        inChannels: itemShape[0], outChannels: outputs, kernel: kernel[0], stride: strides[0],
        padding: pads[0])
      : .convolution(
        Convolution(
          inChannels: itemShape[0], outChannels: outputs, kernel: kernel, strides: strides,
          pads: pads, dilations: dilations, groups: groups, hasBias: true))
    try append(Self.make(spec, parameters: parameters), for: node)
  }

  /// `MaxPool` and `AveragePool`: sigbook's non-overlapping square pooling where it is one,
  /// else a pooling of any geometry.
  mutating func importPool(_ node: Onnx_NodeProto) throws(ONNXError) {
    try activationInput(node)
    guard let kernel = ints(node, "kernel_shape"), kernel.count == 2,
      kernel.allSatisfy({ $0 > 0 && $0 <= Self.maxPadding })
    else {
      throw error(
        node,
        "kernel_shape \(ints(node, "kernel_shape") ?? []) is not supported; sigbook pools 2-D windows [kh, kw]"
      )
    }
    guard itemShape.count == 3 else {
      throw error(node, "pools maps [channels, height, width], not \(itemShape)")
    }
    let (strides, pads, dilations) = try window(node, kernel: kernel)
    guard dilations == [1, 1] else {
      throw error(node, "dilations \(dilations) are not supported in pooling; sigbook uses [1, 1]")
    }
    guard int(node, "storage_order", default: 0) == 0 else {
      throw error(node, "storage_order 1 is not supported")
    }
    let isMax = node.opType == "MaxPool"
    let ceilMode = int(node, "ceil_mode", default: 0) != 0
    let size = kernel[0]
    let dropsNothing = itemShape[1] % size == 0 && itemShape[2] % size == 0
    if kernel[0] == kernel[1], strides == kernel, pads == [0, 0, 0, 0], !ceilMode || dropsNothing {
      return try append(
        Self.make(isMax ? .maxPool(size: size) : .averagePool(size: size)), for: node)
    }
    guard zip(pads, kernel + kernel).allSatisfy({ $0 < $1 }) else {
      throw error(node, "pads \(pads) are not smaller than the window \(kernel)")
    }
    try append(
      Self.make(
        .pool(
          Pooling(
            isMax ? .max : .average, kernel: kernel, strides: strides, pads: pads,
            ceilMode: ceilMode,
            countIncludePad: int(node, "count_include_pad", default: 0) != 0))), for: node)
  }

  mutating func importFlatten(_ node: Onnx_NodeProto) throws(ONNXError) {
    try activationInput(node)
    let axis = int(node, "axis", default: 1)
    guard axis == 1 || (axis == -1 && itemShape.count == 1) else {
      throw error(node, "flattens from axis \(axis); sigbook flattens each item (axis 1)")
    }
    if itemShape.count == 1 { return try alias(node) }
    try append(Self.make(.flatten), for: node)
  }

  mutating func importReshape(_ node: Onnx_NodeProto) throws(ONNXError) {
    let target = try constantInput(node, 1, "shape")
    guard let dims = target.asDims else { throw error(node, "its shape is not whole numbers") }
    let allowZero = int(node, "allowzero", default: 0) != 0
    let movesBatch = dims.indices.contains { i in
      dims[i].value == nil && (i > 0 || dims[i] != .batchSize)
    }
    switch try input(node, 0) {
    case .constant(var c)?:
      var shape: [Int] = []
      for (i, d) in dims.enumerated() {
        guard let v = d.value else { throw error(node, "reshapes a constant by the batch size") }
        shape.append(v == 0 && !allowZero && i < c.shape.count ? c.shape[i] : v)
      }
      try resolveFreeSize(&shape, count: c.count, node, from: c.shape)
      guard DimArithmetic.boundedCount(shape) == c.count else {
        throw error(node, "cannot reshape \(c.shape) to \(shape)")
      }
      c.shape = shape
      try bind(node, constant: c)
      return
    case .laidOut(let v, let layout)?:
      return try importReshapeOfLayout(node, v, layout, to: dims, allowZero: allowZero)
    case .activation(let v)? where movesBatch:
      // The batch moved or merged with another axis (`[tokens · batch, width]`).
      return try importReshapeOfLayout(
        node, v, .plain(rank: shapes[v].count + 1), to: dims, allowZero: allowZero)
    case .activation?, .perItem?: try activationInput(node)
    case nil: throw error(node, "has no input")
    }
    let count = DimArithmetic.product(itemShape) ?? 0
    guard let first = dims.first else {
      throw error(node, "reshapes to a scalar; sigbook keeps the batch as the first axis")
    }
    var rest: [Int] = []
    for (i, d) in dims.enumerated().dropFirst() {
      guard let v = d.value else {
        throw error(
          node, "puts the batch size on axis \(i); sigbook keeps the batch as the first axis")
      }
      rest.append(v == 0 && !allowZero && i - 1 < itemShape.count ? itemShape[i - 1] : v)
    }
    let keepsBatch: Bool
    switch first {
    case .batch: keepsBatch = true  // Only the batch size itself comes here.
    case .known(let v):
      keepsBatch = (v == 0 && !allowZero) || v == -1 || (fixedBatch != nil && v == fixedBatch)
    }
    if rest.contains(-1) {
      guard first != .known(-1) else {
        throw error(
          node,
          "reshapes items of \(itemShape) to \(dims.map { $0.value.map(String.init) ?? "batch" }), which sigbook cannot resolve without knowing the batch size"
        )
      }
      try resolveFreeSize(&rest, count: count, node, from: itemShape)
    }
    if first == .known(-1), rest.allSatisfy({ $0 > 0 }), DimArithmetic.boundedCount(rest) != count {
      // `[-1, width]` of tokens: the batch merged with the tokens.
      return try importReshapeOfLayout(
        node, current, .plain(rank: itemShape.count + 1), to: dims, allowZero: allowZero)
    }
    if keepsBatch, DimArithmetic.boundedCount(rest) != count {
      throw error(
        node,
        "reshapes items of \(itemShape) (\(count) values) to \(rest), which do not hold \(count) values"
      )
    }
    guard keepsBatch, rest.allSatisfy({ $0 > 0 }) else {
      throw error(
        node,
        "reshapes items of \(itemShape) to \(dims.map { $0.value.map(String.init) ?? "batch" }), which changes the batch; sigbook reshapes each item"
      )
    }
    if rest == itemShape { return try alias(node) }
    try append(Self.make(rest.count == 1 ? .flatten : .reshape(shape: rest)), for: node)
  }

  /// Replaces the one `-1` of a Reshape's target by the size that makes `count` values, with
  /// checked arithmetic (a target such as `[1, 2⁴⁰, 2⁴⁰, -1]` must not overflow); refuses
  /// other negative sizes and a second `-1`.
  func resolveFreeSize(_ shape: inout [Int], count: Int, _ node: Onnx_NodeProto, from: [Int])
    throws(ONNXError)
  {
    guard shape.allSatisfy({ $0 >= -1 }), shape.count(where: { $0 == -1 }) <= 1 else {
      throw error(node, "cannot reshape \(from) to \(shape): sizes are -1 (once), 0 or positive")
    }
    guard let free = shape.firstIndex(of: -1) else { return }
    var others = shape
    others.remove(at: free)
    guard let known = DimArithmetic.product(others), known > 0, count % known == 0 else {
      throw error(node, "cannot reshape \(from) to \(shape)")
    }
    shape[free] = count / known
  }

  mutating func importTranspose(_ node: Onnx_NodeProto) throws(ONNXError) {
    switch try input(node, 0) {
    case .constant(let c)?:
      let perm = ints(node, "perm") ?? Array(c.shape.indices.reversed())
      guard perm.sorted() == Array(c.shape.indices) else {
        throw error(node, "perm \(perm) is not a permutation of the axes of \(c.shape)")
      }
      try bind(node, constant: c.transposed(perm))
    case .activation?, .laidOut?: try importTransposeOfActivation(node)
    case .perItem?: throw error(node, "transposes a constant expanded over the batch")
    case nil: throw error(node, "has no input")
    }
  }

  mutating func importBatchNormalization(_ node: Onnx_NodeProto) throws(ONNXError) {
    try activationInput(node)
    guard int(node, "training_mode", default: 0) == 0 else {
      throw error(node, "runs in training mode; sigbook imports models for inference")
    }
    let parts = [
      try constantInput(node, 1, "scale"), try constantInput(node, 2, "bias"),
      try constantInput(node, 3, "mean"), try constantInput(node, 4, "variance"),
    ].map(\.asFloats)
    let channels = itemShape.first ?? 0
    guard parts.allSatisfy({ $0?.count == channels }) else {
      throw error(
        node, "its parameters do not have \(channels) values, one per channel of \(itemShape)")
    }
    let gamma = parts[0] ?? [], beta = parts[1] ?? [], mean = parts[2] ?? [],
      variance = parts[3] ?? []
    let epsilonAttribute = float(node, "epsilon", default: 1e-5)
    let epsilon = Double(epsilonAttribute)
    // A variance below zero (or a denominator of zero) has no square root: folded, it would
    // make NaN or infinite weights that spoil every output without a word.
    for c in 0..<channels where !(Double(variance[c]) >= 0 && Double(variance[c]) + epsilon > 0) {
      throw error(
        node,
        "channel \(c) has variance \(variance[c]) (epsilon \(epsilonAttribute)); a variance must be at least 0, and variance + epsilon above 0"
      )
    }
    var scale = [Float](repeating: 0, count: channels), shift = scale
    for c in 0..<channels {
      let s = Double(gamma[c]) / (Double(variance[c]) + epsilon).squareRoot()
      scale[c] = Float(s)
      shift[c] = Float(Double(beta[c]) - Double(mean[c]) * s)
    }
    if canFold(node), layers[current - 1].parameters.last?.count == channels,
      itemShape.count == 1 || !currentIsLinear
    {
      fold(scale: scale, shift: shift, for: node)
    } else {
      try append(
        Self.make(
          .affine(channels: channels),
          parameters: [
            Tensor(shape: [channels], scalars: scale), Tensor(shape: [channels], scalars: shift),
          ]), for: node)
    }
  }

  mutating func importPad(_ node: Onnx_NodeProto) throws(ONNXError) {
    try activationInput(node)
    var pads = ints(node, "pads")
    if pads == nil { pads = try constantInput(node, 1, "pads").asInts }
    let mode = string(node, "mode") ?? "constant"
    guard let pads, pads.allSatisfy({ $0 == 0 }) else {
      throw error(
        node,
        "pads \(pads ?? []) in mode '\(mode)'; sigbook imports padding only as a convolution's pads attribute"
      )
    }
    try alias(node)
  }
}
