import Foundation
import SigbookTensor
import SigbookNN

extension BinaryOperation {
  /// How an error names what the operation does: `adds`, `divides`.
  var verb: String {
    switch self {
    case .add: "adds"
    case .subtract: "subtracts"
    case .multiply: "multiplies"
    case .divide: "divides"
    }
  }
}

/// The operators of graph models: joins, splits, products of activations, normalisations,
/// pointwise functions, and the constant computations exporters write around them.
extension ONNXImporter {
  /// An axis of a value of `rank` axes (the batch's, 0, among them) as an item axis (0 the
  /// first after the batch), a negative axis counted from the end; the batch axis is refused.
  func itemAxis(_ axis: Int, rank: Int, _ node: Onnx_NodeProto, _ what: String = "axis")
    throws(ONNXError) -> Int
  {
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0, a < rank else {
      throw error(node, "its \(what) \(axis) is outside the \(rank) axes of its input")
    }
    guard a > 0 else {
      throw error(
        node,
        "works along the batch axis (\(what) \(axis)); sigbook computes each input on its own, along its item axes"
      )
    }
    return a - 1
  }

  /// The node's integer list `name`: the attribute (older opsets) or the constant input `index`
  /// (newer ones), or nil when neither is there.
  func intList(_ node: Onnx_NodeProto, _ name: String, input index: Int) throws(ONNXError) -> [Int]?
  {
    if let v = ints(node, name) { return v }
    guard index < node.input.count, !node.input[index].isEmpty else { return nil }
    guard let v = try constantInput(node, index, name).asInts else {
      throw error(node, "its \(name) are not whole numbers known when the model is imported")
    }
    return v
  }

  /// Names the layers a node became after `first`: the last by the node (its output is the
  /// node's), the others as its parts (`/attn/Gather_3/part1`).
  mutating func nameParts(of node: Onnx_NodeProto, from first: Int) {
    guard layers.count - first > 1 else { return }
    for k in first..<layers.count { layerNames[k] = "" }
    for k in first..<layers.count {
      layerNames[k] = layerName(node, step: k == layers.count - 1 ? nil : "part\(k - first + 1)")
    }
  }

  /// `Gather` of one position along an axis of an activation (`x[:, 0]`, the class token; q,
  /// k or v from attention's stacked projections): a slice, the axis dropped for a scalar
  /// index, then whatever transpose was pending.
  mutating func importGatherOfActivation(_ node: Onnx_NodeProto) throws(ONNXError) {
    let indices = try constantInput(node, 1, "indices")
    guard let positions = indices.asInts, positions.count == 1, indices.shape.count <= 1 else {
      throw error(
        node,
        "gathers \(indices.count) positions of shape \(indices.shape) from the layers' values; sigbook gathers one position along an axis (x[:, k])"
      )
    }
    guard let (source, layout) = try laidOutInput(node, 0) else { throw error(node, "has no data") }
    let axis = int(node, "axis", default: 0)
    let itemAxis = try singleItemAxis(axis, of: source, layout, node, "gathers")
    current = source
    itemShape = shapes[source]
    let size = itemShape[itemAxis]
    let k = positions[0] < 0 ? positions[0] + size : positions[0]
    guard k >= 0, k < size else {
      throw error(node, "gathers position \(positions[0]) of an axis of size \(size)")
    }
    let first = layers.count
    defer { nameParts(of: node, from: first) }
    if size > 1 {
      try append(Self.make(.slice(axis: itemAxis, start: k, end: k + 1)), for: node)
    }
    var groups = layout.groups
    if indices.shape.isEmpty {
      // A scalar index drops the axis: from the items too, unless it is their only one.
      groups.removeAll { $0 == [itemAxis + 1] }
      if itemShape.count > 1 {
        var shape = itemShape
        shape.remove(at: itemAxis)
        try append(Self.make(.reshape(shape: shape)), for: node)
        groups = groups.map { $0.map { $0 > itemAxis + 1 ? $0 - 1 : $0 } }
      }
    }
    try bind(node, current, laidOut: Layout(groups: groups))
  }

  /// `Squeeze` and `Unsqueeze` of an activation: a reshape of its items.
  mutating func importSqueezeOfActivation(_ node: Onnx_NodeProto) throws(ONNXError) {
    try activationInput(node)
    let axes = try intList(node, "axes", input: 1)
    var shape = itemShape
    if node.opType == "Unsqueeze" {
      guard let axes else { throw error(node, "has no axes") }
      let rank = shape.count + 1 + axes.count
      var positions: [Int] = []
      for a in axes { positions.append(try itemAxis(a, rank: rank, node)) }
      guard Set(positions).count == positions.count else {
        throw error(node, "names an axis twice in \(axes)")
      }
      for p in positions.sorted() { shape.insert(1, at: min(p, shape.count)) }
    } else {
      let rank = shape.count + 1
      var remove: Set<Int> = []
      if let axes {
        for a in axes { remove.insert(try itemAxis(a, rank: rank, node)) }
      } else {
        remove = Set(shape.indices.filter { shape[$0] == 1 })
      }
      for a in remove where shape[a] != 1 {
        throw error(
          node, "squeezes axis \(a + 1) of size \(shape[a]); only axes of size 1 can be removed")
      }
      shape = shape.enumerated().filter { !remove.contains($0.offset) }.map(\.element)
      if shape.isEmpty { shape = [1] }
    }
    if shape == itemShape { return bind(node, .activation(current)) }
    try append(Self.make(.reshape(shape: shape)), for: node)
  }

  /// `Concat` of activations along an item axis; a constant expanded over the batch and
  /// joined before the tokens is a class token.
  mutating func importConcatOfActivations(_ node: Onnx_NodeProto) throws(ONNXError) {
    var parts: [Value] = []
    for i in node.input.indices {
      guard let v = try input(node, i) else { throw error(node, "has an empty input") }
      parts.append(v)
    }
    if parts.count == 2, case .perItem(let token) = parts[0], case .activation = parts[1] {
      let v = try activationInput(node, 1)
      let rank = shapes[v].count + 1
      let axis = try itemAxis(int(node, "axis", default: 0), rank: rank, node)
      guard axis == 0, token.shape.count == 2, token.shape[0] == 1, itemShape.count == 2,
        token.shape[1] == itemShape[1], let values = token.asFloats
      else {
        throw error(
          node,
          "joins a constant of shape \(token.shape) for every input to items of \(itemShape) along axis \(axis + 1); sigbook imports a class token, [1, width] before tokens [count, width]"
        )
      }
      return try append(
        Self.make(
          .classToken(width: token.shape[1]),
          parameters: [Tensor(shape: [token.shape[1]], scalars: values)]), for: node)
    }
    var taken: [Int] = []
    for i in parts.indices {
      guard case .activation = parts[i] else {
        throw error(
          node,
          "joins '\(node.input[i])', which is not computed from the model's input, to values that are; sigbook joins activations (and a class token before tokens)"
        )
      }
      taken.append(try activationInput(node, i))
    }
    let axis = try itemAxis(int(node, "axis", default: 0), rank: itemShape.count + 1, node)
    if taken.count == 1 { return bind(node, .activation(taken[0])) }
    try append(
      Self.make(.concatenate(axis: axis, inputs: taken.count)), inputs: taken, for: node)
  }

  /// `Slice` of an activation with step 1: one slice per item axis it narrows (the batch axis
  /// kept whole).
  mutating func importSliceOfActivation(_ node: Onnx_NodeProto) throws(ONNXError) {
    guard let (source, layout) = try laidOutInput(node, 0) else { throw error(node, "has no data") }
    current = source
    itemShape = shapes[source]
    let rank = layout.groups.count
    guard let starts = try intList(node, "starts", input: 1),
      let ends = try intList(node, "ends", input: 2)
    else { throw error(node, "has no starts or ends") }
    let axes = try intList(node, "axes", input: 3) ?? Array(0..<starts.count)
    let steps = try intList(node, "steps", input: 4) ?? [Int](repeating: 1, count: starts.count)
    let first = layers.count
    defer { nameParts(of: node, from: first) }
    guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count
    else {
      throw error(node, "has \(starts.count) starts, \(ends.count) ends and \(axes.count) axes")
    }
    guard steps.allSatisfy({ $0 == 1 }) else {
      throw error(node, "slices with steps \(steps); sigbook slices the layers' values with step 1")
    }
    for i in axes.indices {
      let full = axes[i] < 0 ? axes[i] + rank : axes[i]
      if (0..<rank) ~= full, layout.groups[full].contains(0) {
        // The whole batch (`x[:, …]` writes 0 to a huge end) changes nothing.
        guard starts[i] == 0, ends[i] >= Int(Int32.max) else {
          throw error(node, "slices the batch axis; sigbook computes each input on its own")
        }
        continue
      }
      let axis = try singleItemAxis(axes[i], of: source, layout, node, "slices")
      let size = itemShape[axis]
      func clamp(_ x: Int) -> Int { min(max(x < 0 ? x + size : x, 0), size) }
      let start = clamp(starts[i]), end = clamp(ends[i])
      guard end > start else {
        throw error(node, "slices \(starts[i])..<\(ends[i]) of an axis of size \(size): nothing")
      }
      if start == 0, end == size { continue }
      try append(Self.make(.slice(axis: axis, start: start, end: end)), for: node)
    }
    try bind(node, current, laidOut: layout)
  }

  /// `Split` of an activation along an item axis: one slice per output.
  mutating func importSplit(_ node: Onnx_NodeProto) throws(ONNXError) {
    guard let (v, layout) = try laidOutInput(node, 0) else {
      throw error(node, "splits a value that is not computed from the model's input")
    }
    let axis = try singleItemAxis(int(node, "axis", default: 0), of: v, layout, node, "splits")
    itemShape = shapes[v]
    let size = itemShape[axis]
    let outputs = node.output.count
    var sizes = try intList(node, "split", input: 1)
    if sizes == nil {
      guard outputs > 0 else { throw error(node, "has no outputs") }
      let part = (size + outputs - 1) / outputs
      sizes = (0..<outputs).map { i in max(0, min(part, size - i * part)) }
    }
    guard let sizes, sizes.count == outputs, sizes.allSatisfy({ $0 > 0 }),
      sizes.reduce(0, +) == size
    else {
      throw error(
        node,
        "splits an axis of size \(size) into \(sizes ?? []) for \(outputs) outputs; the parts must be positive and add up to the axis"
      )
    }
    var start = 0
    var made: [Int] = []
    for (i, part) in sizes.enumerated() {
      current = v
      itemShape = shapes[v]
      try append(
        Self.make(.slice(axis: axis, start: start, end: start + part)), for: node,
        step: "output\(i)")
      made.append(current)
      start += part
    }
    for (name, value) in zip(node.output, made) where !name.isEmpty {
      values[name] = layout.isPlain ? .activation(value) : .laidOut(value, layout)
    }
  }

  /// `MatMul`: by a constant matrix, a dense layer (vectors) or a linear one over the last
  /// axis (tokens); between two activations, their batched matrix product — also of values
  /// whose batch axis merged with the heads (`[batch · heads, tokens, d]`), each arranged so
  /// that its item axes follow its ONNX axes.
  mutating func importMatMul(_ node: Onnx_NodeProto) throws(ONNXError) {
    if case .constant? = try input(node, 1) { return try importLinear(node) }
    guard let (a, la) = try laidOutInput(node, 0), let (b, lb) = try laidOutInput(node, 1) else {
      throw error(
        node, "multiplies a constant by the layers' values; sigbook multiplies them by a constant")
    }
    if la.isPlain, lb.isPlain {
      guard shapes[a].count >= 2, shapes[a].count == shapes[b].count else {
        throw error(
          node,
          "multiplies items of \(shapes[a]) and \(shapes[b]); sigbook multiplies activations of as many axes, matrices [m, k] · [k, n] after the batch"
        )
      }
      return try append(Self.make(.matmul), inputs: [a, b], for: node)
    }
    let (x, lx) = try arranged(a, la, for: node, step: "arranged")
    let (y, ly) = try arranged(b, lb, for: node, step: "arranged")
    guard lx == ly, lx.groups.count >= 2, !lx.groups.suffix(2).joined().contains(0),
      shapes[x].count >= 2
    else {
      throw error(
        node,
        "multiplies \(describe(a, la)) and \(describe(b, lb)), whose batch axes lie differently; sigbook multiplies values whose batch lies on the same leading axis"
      )
    }
    try append(Self.make(.matmul), inputs: [x, y], for: node)
    try bind(node, current, laidOut: lx)
  }

  /// `Sum` of activations of one shape (a residual join of several branches).
  mutating func importSum(_ node: Onnx_NodeProto) throws(ONNXError) {
    var taken: [Int] = []
    for i in node.input.indices { taken.append(try activationInput(node, i)) }
    if taken.count == 1 { return bind(node, .activation(taken[0])) }
    try append(Self.make(.sum(inputs: taken.count)), inputs: taken, for: node)
  }

  /// A constant scalar input (`Clip`'s bounds, `Pow`'s exponent), or nil when absent.
  func scalarInput(_ node: Onnx_NodeProto, _ index: Int, _ what: String) throws(ONNXError)
    -> Float?
  {
    guard index < node.input.count, !node.input[index].isEmpty else { return nil }
    let c = try constantInput(node, index, what)
    guard c.count == 1, let value = c.asFloats?.first else {
      throw error(node, "its \(what) has shape \(c.shape); a single value was expected")
    }
    return value
  }

  /// The functions applied to each value: exact GELU, `Erf`, `Sqrt`, `Pow` by a constant,
  /// leaky ReLU, hard sigmoid and swish, `Clip` (ReLU6)… Computed at once on a constant.
  mutating func importPointwise(_ node: Onnx_NodeProto) throws(ONNXError) {
    let function: PointwiseFunction
    switch node.opType {
    case "Erf": function = .erf
    case "Sqrt": function = .sqrt
    case "Exp": function = .exp
    case "Neg": function = .negate
    case "Reciprocal": function = .reciprocal
    case "HardSwish": function = .hardSwish
    case "Gelu":
      let approximate = string(node, "approximate") ?? "none"
      guard approximate == "none" else {
        throw error(
          node, "approximates GELU with '\(approximate)'; sigbook computes the exact GELU (none)")
      }
      function = .gelu
    case "LeakyRelu": function = .leakyRelu(slope: float(node, "alpha", default: 0.01))
    case "HardSigmoid":
      function = .hardSigmoid(
        alpha: float(node, "alpha", default: 0.2), beta: float(node, "beta", default: 0.5))
    case "Pow":
      guard let exponent = try scalarInput(node, 1, "exponent") else {
        throw error(node, "has no exponent")
      }
      function = .power(exponent)
    case "Clip":
      let low: Float, high: Float
      if opset < 11 {
        low = float(node, "min", default: -.greatestFiniteMagnitude)
        high = float(node, "max", default: .greatestFiniteMagnitude)
      } else {
        low = try scalarInput(node, 1, "min") ?? -.greatestFiniteMagnitude
        high = try scalarInput(node, 2, "max") ?? .greatestFiniteMagnitude
      }
      guard low <= high else { throw error(node, "clips to [\(low), \(high)], which is empty") }
      if case .constant? = try input(node, 0) {
      } else if low == 0, high == .greatestFiniteMagnitude {
        return try importActivation(node, .relu)
      }
      function = .clip(min: low, max: high)
    default: throw error(node, "is not a pointwise function")
    }
    if case .constant(let c)? = try input(node, 0) {
      guard let values = c.asFloats else {
        throw error(node, "applies \(node.opType) to the batch size")
      }
      return try bind(node, constant: Constant(shape: c.shape, floats: values.map(function.value)))
    }
    let layout = try valueInput(node)
    try append(Self.make(.pointwise(function)), for: node)
    try rebind(node, layout)
  }

  /// `ReduceMean` over item axes, kept or dropped.
  mutating func importReduceMean(_ node: Onnx_NodeProto) throws(ONNXError) {
    try activationInput(node)
    let rank = itemShape.count + 1
    let keeps = int(node, "keepdims", default: 1) != 0
    guard let axes = try intList(node, opset >= 18 ? "" : "axes", input: opset >= 18 ? 1 : 99),
      !axes.isEmpty
    else {
      if int(node, "noop_with_empty_axes", default: 0) != 0 {
        return bind(node, .activation(current))
      }
      throw error(
        node, "averages over every axis, the batch's among them; sigbook averages item axes")
    }
    var itemAxes: [Int] = []
    for a in axes { itemAxes.append(try itemAxis(a, rank: rank, node)) }
    guard Set(itemAxes).count == itemAxes.count else {
      throw error(node, "names an axis twice in \(axes)")
    }
    try append(Self.make(.reduceMean(axes: itemAxes.sorted(), keepsAxes: keeps)), for: node)
  }

  /// `LayerNormalization` (opset 17) over the item axes from `axis` on.
  mutating func importLayerNormalization(_ node: Onnx_NodeProto) throws(ONNXError) {
    let layout: Layout?
    if case .laidOut(let v, let given)? = try input(node, 0) {
      let axis = int(node, "axis", default: -1)
      guard axis == -1 || axis == given.groups.count - 1 else {
        throw error(
          node,
          "normalises from axis \(axis) of \(describe(v, given)), whose batch axis an earlier node moved; sigbook normalises such a value along its last axis"
        )
      }
      layout = try rowInput(node)
    } else {
      layout = nil
      try activationInput(node)
    }
    let axis =
      layout == nil
      ? try itemAxis(int(node, "axis", default: -1), rank: itemShape.count + 1, node)
      : itemShape.count - 1
    let shape = Array(itemShape[axis...])
    let count = shape.reduce(1, *)
    let scale = try constantInput(node, 1, "scale")
    var bias = Constant(shape: shape, floats: [Float](repeating: 0, count: count))
    if case .constant(let b)? = try input(node, 2) { bias = b }
    guard let weight = scale.asFloats, let shift = bias.asFloats,
      weight.count == count || weight.count == 1, shift.count == count || shift.count == 1
    else {
      throw error(
        node,
        "its scale \(scale.shape) and bias \(bias.shape) do not match the normalised shape \(shape)"
      )
    }
    let epsilon = float(node, "epsilon", default: 1e-5)
    guard epsilon > 0, epsilon.isFinite else {
      throw error(node, "its epsilon \(epsilon) is not a positive number")
    }
    try append(
      Self.make(
        .layerNorm(shape: shape, epsilon: epsilon),
        parameters: [
          Tensor(
            shape: shape,
            scalars: weight.count == 1 ? .init(repeating: weight[0], count: count) : weight),
          Tensor(
            shape: shape,
            scalars: shift.count == 1 ? .init(repeating: shift[0], count: count) : shift),
        ]), for: node)
    try rebind(node, layout)
  }

  /// `LRN`: local response normalisation across channels.
  mutating func importLRN(_ node: Onnx_NodeProto) throws(ONNXError) {
    try activationInput(node)
    guard attribute(node, "size") != nil else { throw error(node, "has no size") }
    try append(
      Self.make(
        .localResponseNorm(
          size: int(node, "size", default: 1), alpha: float(node, "alpha", default: 1e-4),
          beta: float(node, "beta", default: 0.75), bias: float(node, "bias", default: 1))),
      for: node)
  }

  // MARK: Constant computations

  /// `ConstantOfShape`: a constant of a known shape filled with one value (0 by default).
  mutating func importConstantOfShape(_ node: Onnx_NodeProto) throws(ONNXError) {
    let shapeInput = try constantInput(node, 0, "shape")
    guard let shape = shapeInput.asInts else {
      throw error(
        node,
        "makes a tensor whose shape holds the batch size; sigbook computes such constants only when their shape is known"
      )
    }
    guard shape.allSatisfy({ $0 >= 0 }), let count = DimArithmetic.boundedCount(shape) else {
      throw error(node, "makes a tensor of shape \(shape), more values than sigbook reads")
    }
    var fill = Constant(shape: [1], floats: [0])
    if let t = attribute(node, "value") {
      fill = try constant(t.t, what: "node \(Self.describe(node))'s value")
    }
    guard fill.count == 1 else { throw error(node, "its value holds \(fill.count) values, not 1") }
    if let i = fill.ints?.first {
      try bind(node, constant: Constant(shape: shape, ints: .init(repeating: i, count: count)))
    } else {
      let f = fill.floats?.first ?? 0
      try bind(node, constant: Constant(shape: shape, floats: .init(repeating: f, count: count)))
    }
  }

  /// `Equal` between constants, the batch size among them: it is no known size and no
  /// negative number (`shape == -1` in `expand`).
  mutating func importEqual(_ node: Onnx_NodeProto) throws(ONNXError) {
    let x = try constantInput(node, 0, "input"), y = try constantInput(node, 1, "input")
    guard x.shape == y.shape || x.count == 1 || y.count == 1 else {
      throw error(node, "compares constants of shapes \(x.shape) and \(y.shape)")
    }
    let shape = x.count >= y.count ? x.shape : y.shape, n = max(x.count, y.count)
    var result: [Dim] = []
    if let xd = x.asDims, let yd = y.asDims, x.ints != nil || y.ints != nil {
      for i in 0..<n {
        let p = xd[xd.count == 1 ? 0 : i], q = yd[yd.count == 1 ? 0 : i]
        switch (p, q) {
        case (.batch(let a), .batch(let b)):
          guard a == b else {
            throw error(node, "compares batch · \(a) with batch · \(b), which sigbook cannot know")
          }
          result.append(.known(1))
        case (.known(let a), .known(let b)): result.append(.known(a == b ? 1 : 0))
        case (.batch, .known(let k)), (.known(let k), .batch):
          guard k <= 0 else {
            throw error(
              node, "compares the batch size with \(k), which sigbook cannot know when it imports")
          }
          result.append(.known(0))
        }
      }
    } else {
      guard let xv = x.asFloats, let yv = y.asFloats else {
        throw error(node, "compares values that are not numbers")
      }
      for i in 0..<n {
        result.append(.known(xv[xv.count == 1 ? 0 : i] == yv[yv.count == 1 ? 0 : i] ? 1 : 0))
      }
    }
    try bind(node, constant: Constant(shape: shape, ints: result))
  }

  /// `Where` between constants of one shape (or single values).
  mutating func importWhere(_ node: Onnx_NodeProto) throws(ONNXError) {
    let condition = try constantInput(node, 0, "condition")
    let x = try constantInput(node, 1, "input"), y = try constantInput(node, 2, "input")
    guard let c = condition.asInts else { throw error(node, "its condition is not known") }
    let all = [condition, x, y]
    let n = all.map(\.count).max() ?? 0
    guard let shape = all.first(where: { $0.count == n })?.shape,
      all.allSatisfy({ $0.shape == shape || $0.count == 1 })
    else {
      throw error(node, "takes constants of shapes \(all.map(\.shape)); one shape was expected")
    }
    func pick(_ i: Int) -> Bool { c[c.count == 1 ? 0 : i] != 0 }
    if x.ints != nil || y.ints != nil, let xd = x.asDims, let yd = y.asDims {
      let result = (0..<n).map { i in
        pick(i) ? xd[xd.count == 1 ? 0 : i] : yd[yd.count == 1 ? 0 : i]
      }
      return try bind(node, constant: Constant(shape: shape, ints: result))
    }
    guard let xv = x.asFloats, let yv = y.asFloats else {
      throw error(node, "chooses between values that are not numbers")
    }
    let result = (0..<n).map { i in pick(i) ? xv[xv.count == 1 ? 0 : i] : yv[yv.count == 1 ? 0 : i]
    }
    try bind(node, constant: Constant(shape: shape, floats: result))
  }

  /// `Expand` of a constant: to a shape led by the batch size, the same constant for every
  /// input (a class token); to a known shape, the broadcast constant. `Expand` of an
  /// activation to its own shape changes nothing.
  mutating func importExpand(_ node: Onnx_NodeProto) throws(ONNXError) {
    let target = try constantInput(node, 1, "shape")
    guard let dims = target.asDims, target.shape.count == 1 else {
      throw error(node, "its shape is not a vector of whole numbers")
    }
    switch try input(node, 0) {
    case .constant(let c)?:
      let leadsWithBatch = dims.first == .batchSize
      let known = leadsWithBatch ? Array(dims.dropFirst()) : dims
      var sizes: [Int] = []
      for d in known {
        guard let v = d.value else {
          throw error(node, "puts the batch size after the first axis of its shape")
        }
        sizes.append(v)
      }
      var shape = c.shape
      if leadsWithBatch {
        guard shape.count <= sizes.count + 1 else {
          throw error(node, "expands a constant of shape \(c.shape) to fewer axes")
        }
        if shape.count == sizes.count + 1 {
          guard shape.first == 1 else {
            throw error(node, "expands a constant of shape \(c.shape) over the batch")
          }
          shape.removeFirst()
        }
      }
      let result = try broadcast(c, shape: shape, to: sizes, node)
      if leadsWithBatch { bind(node, .perItem(result)) } else { try bind(node, constant: result) }
    case .activation(let v)?:
      let full: [Dim] = [.batchSize] + shapes[v].map { .known($0) }
      guard dims.count <= full.count,
        zip(dims.reversed(), full.reversed()).allSatisfy({ $0 == $1 || $0 == .known(1) })
      else {
        throw error(
          node,
          "expands items of \(shapes[v]) to \(dims.map { $0.value.map(String.init) ?? "batch" }); sigbook repeats no values of the layers"
        )
      }
      bind(node, .activation(v))
    default: throw error(node, "expands a value sigbook cannot")
    }
  }

  /// `c` (of `shape`, its values in C order) broadcast to `sizes` as in NumPy (a size of 1
  /// in `sizes` keeps the constant's).
  func broadcast(_ c: Constant, shape: [Int], to sizes: [Int], _ node: Onnx_NodeProto)
    throws(ONNXError) -> Constant
  {
    let rank = max(shape.count, sizes.count)
    let from = [Int](repeating: 1, count: rank - shape.count) + shape
    let to = [Int](repeating: 1, count: rank - sizes.count) + sizes
    var out: [Int] = []
    for (a, b) in zip(from, to) {
      guard a == b || a == 1 || b == 1 else {
        throw error(
          node, "expands a constant of shape \(c.shape) to \(sizes), which do not broadcast")
      }
      out.append(max(a, b))
    }
    guard let count = DimArithmetic.boundedCount(out), count <= DimArithmetic.maxValues else {
      throw error(node, "expands a constant to \(out), more values than sigbook reads")
    }
    // The source index of each output position: its coordinates, stretched axes held at 0.
    var sources: [Int] = []
    sources.reserveCapacity(count)
    for position in 0..<count {
      var rest = position, index = 0, step = 1
      for axis in stride(from: rank - 1, through: 0, by: -1) {
        let coordinate = rest % out[axis]
        rest /= out[axis]
        if from[axis] != 1 { index += coordinate * step }
        step *= from[axis]
      }
      sources.append(index)
    }
    if let ints = c.ints { return Constant(shape: out, ints: sources.map { ints[$0] }) }
    let floats = c.floats ?? []
    return Constant(shape: out, floats: sources.map { floats[$0] })
  }
}
