import SigbookNN

/// The operators that tf2onnx's exports of Keras models use on constants and shapes: `Tile`
/// (a class token repeated to the batch size), `ReduceProd` and `Max` (the sizes of the batched
/// products an `einsum` becomes, `batch · heads` among them).
extension ONNXImporter {
  /// `Tile`: a constant repeated along its axes, computed at import; repeated over the batch
  /// (repeats `[batch, 1, …]` of a constant whose first axis is 1: a class token), the same
  /// value for every input, as `Expand` makes it; a layer's output only with every repeat 1.
  mutating func importTile(_ node: Onnx_NodeProto) throws(ONNXError) {
    let repeats = try constantInput(node, 1, "repeats")
    guard let dims = repeats.asDims, repeats.shape.count == 1 else {
      throw error(node, "its repeats are not a vector of whole numbers")
    }
    switch try input(node, 0) {
    case .constant(let c)?:
      guard dims.count == c.shape.count else {
        throw error(
          node, "has \(dims.count) repeats for a constant of \(c.shape.count) axes \(c.shape)")
      }
      let overBatch = dims.first == .batchSize
      if overBatch, c.shape.first != 1 {
        throw error(
          node,
          "tiles a constant of shape \(c.shape) over the batch; sigbook repeats a constant whose first axis is 1"
        )
      }
      var counts: [Int] = []
      for d in overBatch ? Array(dims.dropFirst()) : dims {
        guard let v = d.value, v >= 0 else {
          throw error(node, "repeats \(d.text) times; sigbook repeats the batch axis only")
        }
        counts.append(v)
      }
      let result = try tiled(c, dropsFirstAxis: overBatch, counts: counts, node)
      if overBatch { bind(node, .perItem(result)) } else { try bind(node, constant: result) }
    case .activation(let v)?:
      guard dims.allSatisfy({ $0 == .known(1) }) else {
        throw error(
          node,
          "repeats the values of a layer's output \(dims.map(\.text)); sigbook tiles constants only"
        )
      }
      bind(node, .activation(v))
    default: throw error(node, "tiles a value sigbook cannot")
    }
  }

  /// `c` (its first axis dropped when `dropsFirstAxis`, that axis being 1) repeated `counts[i]`
  /// times along axis i, as NumPy's `tile`.
  func tiled(_ c: Constant, dropsFirstAxis: Bool, counts: [Int], _ node: Onnx_NodeProto)
    throws(ONNXError) -> Constant
  {
    let shape = dropsFirstAxis ? Array(c.shape.dropFirst()) : c.shape
    let sizes = zip(shape, counts).map { $0 * $1 }
    guard let total = DimArithmetic.boundedCount(sizes) else {
      throw error(node, "tiles to a tensor of shape \(sizes), more values than sigbook reads")
    }
    // Output index → input index, axis by axis (each output coordinate modulo the input size).
    var sources = [Int](repeating: 0, count: total)
    for i in 0..<total {
      var rest = i, source = 0, step = 1
      for axis in stride(from: sizes.count - 1, through: 0, by: -1) {
        let coordinate = rest % sizes[axis]
        rest /= sizes[axis]
        source += (coordinate % shape[axis]) * step
        step *= shape[axis]
      }
      sources[i] = source
    }
    if let floats = c.floats { return Constant(shape: sizes, floats: sources.map { floats[$0] }) }
    return Constant(shape: sizes, ints: sources.map { (c.ints ?? [])[$0] })
  }

  /// `ReduceProd` of a vector known at import (the sizes of a shape): its product, the batch
  /// size among the factors at most once (`batch · heads`).
  mutating func importReduceProd(_ node: Onnx_NodeProto) throws(ONNXError) {
    let c = try constantInput(node, 0, "input")
    guard c.shape.count == 1 else {
      throw error(
        node, "multiplies the values of a tensor of shape \(c.shape); sigbook reduces vectors")
    }
    let keeps = int(node, "keepdims", default: 1) != 0
    var product =
      c.floats != nil
      ? Constant(shape: [1], floats: [1]) : Constant(shape: [1], ints: [.known(1)])
    for i in 0..<c.count {
      let factor =
        c.floats.map { Constant(shape: [1], floats: [$0[i]]) }
        ?? Constant(shape: [1], ints: [(c.ints ?? [])[i]])
      product = try computed(node, .multiply, product, factor)
    }
    product.shape = keeps ? [1] : []
    try bind(node, constant: product)
  }

  /// `Max` of constants known at import, element by element (equal shapes or single values):
  /// numbers, and the batch size against itself or against 1 (it is at least 1).
  mutating func importMax(_ node: Onnx_NodeProto) throws(ONNXError) {
    var result: Constant?
    for index in node.input.indices {
      let c = try constantInput(node, index, "input \(index + 1)")
      guard let x = result else {
        result = c
        continue
      }
      guard x.shape == c.shape || x.count == 1 || c.count == 1 else {
        throw error(
          node,
          "takes the largest of constants of shapes \(x.shape) and \(c.shape); sigbook compares equal shapes or a single value"
        )
      }
      let shape = x.count >= c.count ? x.shape : c.shape, n = max(x.count, c.count)
      if let a = x.floats ?? x.asFloats, let b = c.floats ?? c.asFloats,
        x.floats != nil || c.floats != nil
      {
        let values = (0..<n).map { i in max(a[a.count == 1 ? 0 : i], b[b.count == 1 ? 0 : i]) }
        result = Constant(shape: shape, floats: values)
        continue
      }
      guard let a = x.asDims, let b = c.asDims else {
        throw error(node, "takes the largest of values that are not numbers")
      }
      var dims: [Dim] = []
      for i in 0..<n {
        let p = a[a.count == 1 ? 0 : i], q = b[b.count == 1 ? 0 : i]
        switch (p, q) {
        case (.known(let u), .known(let v)): dims.append(.known(max(u, v)))
        case (.batch(let k), .batch(let m)) where k == m: dims.append(p)
        case (.batch(let k), .known(let v)) where v <= k,
          (.known(let v), .batch(let k))
        where v <= k:
          dims.append(.batch(k))
        default:
          throw error(
            node,
            "takes the largest of \(p.text) and \(q.text), which sigbook does not know when it imports a model"
          )
        }
      }
      result = Constant(shape: shape, ints: dims)
    }
    guard let result else { throw error(node, "has no input") }
    try bind(node, constant: result)
  }
}
