import SigbookTensor

/// How two shapes meet under NumPy's broadcasting rules: aligned on their last axes, an axis of
/// size 1 (or a missing one) stretches to the other's size.
///
/// The plan walks the output once, in order, and gives for every run of its innermost (merged)
/// axis the offsets where each operand's values start and the step each takes along the run (0
/// where it is stretched). Adjacent axes that both operands read contiguously, or both stretch,
/// are merged first, so `[N, T, D] + [1, T, D]` is `N` runs of `T·D`.
struct Broadcasting: Equatable {
  /// The output's shape.
  let shape: [Int]
  /// The merged axes' sizes; the last is the run.
  let axes: [Int]
  /// Each operand's stride along each merged axis (0 where it is stretched).
  let strides: [[Int]]

  /// The broadcast shape of `a` and `b`, or nil when an axis differs and neither is 1.
  static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = max(a.count, b.count)
    var shape: [Int] = []
    for axis in 0..<rank {
      let x = axis - (rank - a.count) >= 0 ? a[axis - (rank - a.count)] : 1
      let y = axis - (rank - b.count) >= 0 ? b[axis - (rank - b.count)] : 1
      guard x == y || x == 1 || y == 1 else { return nil }
      shape.append(x == 1 ? y : x)
    }
    return shape
  }

  /// The plan for operands of these shapes.
  ///
  /// - Precondition: the shapes broadcast (`shape(_:_:)` is not nil).
  init(_ operandShapes: [[Int]]) {
    var shape: [Int] = []
    for s in operandShapes {
      guard let next = Self.shape(shape, s) else {
        preconditionFailure("\(operandShapes) do not broadcast")
      }
      shape = next
    }
    self.shape = shape
    let rank = shape.count
    // Each operand's stride per output axis, before merging.
    let full: [[Int]] = operandShapes.map { s in
      let padded = [Int](repeating: 1, count: rank - s.count) + s
      var strides = [Int](repeating: 0, count: rank)
      var step = 1
      for axis in stride(from: rank - 1, through: 0, by: -1) {
        strides[axis] = padded[axis] == 1 && shape[axis] != 1 ? 0 : step
        step *= padded[axis]
      }
      return strides
    }
    var axes: [Int] = []
    var merged: [[Int]] = operandShapes.map { _ in [] }
    for axis in 0..<rank where shape[axis] != 1 {
      let canMerge =
        !axes.isEmpty
        && full.indices.allSatisfy { k in
          let outer = merged[k][merged[k].count - 1]
          return outer == full[k][axis] * shape[axis]
        }
      if canMerge {
        axes[axes.count - 1] *= shape[axis]
        for k in full.indices { merged[k][merged[k].count - 1] = full[k][axis] }
      } else {
        axes.append(shape[axis])
        for k in full.indices { merged[k].append(full[k][axis]) }
      }
    }
    if axes.isEmpty {
      axes = [1]
      merged = merged.map { _ in [0] }
    }
    self.axes = axes
    self.strides = merged
  }

  /// The number of output values.
  var count: Int { shape.reduce(1, *) }

  /// The length of each run.
  var run: Int { axes[axes.count - 1] }

  /// Calls `body(outputStart, operandStarts, operandSteps)` for every run, in output order.
  func forEachRun(_ body: (Int, [Int], [Int]) -> Void) {
    let outer = axes.dropLast()
    let steps = strides.map { $0[$0.count - 1] }
    var index = [Int](repeating: 0, count: outer.count)
    var starts = [Int](repeating: 0, count: strides.count)
    let runs = outer.reduce(1, *)
    for r in 0..<runs {
      body(r * run, starts, steps)
      // Odometer step over the outer axes, last fastest.
      var axis = outer.count - 1
      while axis >= 0 {
        index[axis] += 1
        for k in starts.indices { starts[k] += strides[k][axis] }
        if index[axis] < axes[axis] { break }
        for k in starts.indices { starts[k] -= strides[k][axis] * axes[axis] }
        index[axis] = 0
        axis -= 1
      }
    }
  }
}

/// An arithmetic operation between two values, elementwise after broadcasting.
public enum BinaryOperation: String, Codable, Sendable, CaseIterable {
  case add, subtract, multiply, divide

  /// The ONNX operator of the same meaning.
  public var onnxName: String {
    switch self {
    case .add: "Add"
    case .subtract: "Sub"
    case .multiply: "Mul"
    case .divide: "Div"
    }
  }

  /// a ∘ b.
  @inline(__always)
  public func value(_ a: Float, _ b: Float) -> Float {
    switch self {
    case .add: a + b
    case .subtract: a - b
    case .multiply: a * b
    case .divide: a / b
    }
  }

  /// ∂(a ∘ b)/∂a.
  @inline(__always)
  func derivativeA(_ a: Float, _ b: Float) -> Float {
    switch self {
    case .add, .subtract: 1
    case .multiply: b
    case .divide: 1 / b
    }
  }

  /// ∂(a ∘ b)/∂b.
  @inline(__always)
  func derivativeB(_ a: Float, _ b: Float) -> Float {
    switch self {
    case .add: 1
    case .subtract: -1
    case .multiply: a
    case .divide: -a / (b * b)
    }
  }

  /// Whether the derivatives read the operands (so backward needs them kept).
  var needsOperands: Bool { self == .multiply || self == .divide }

  /// `a ∘ b` over whole shapes (batch axis included), broadcast.
  static func apply(_ op: BinaryOperation, _ a: Tensor, _ b: Tensor) -> Tensor {
    let plan = Broadcasting([a.shape, b.shape])
    let run = plan.run
    return Tensor.overwriting(shape: plan.shape) { out in
      a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
          plan.forEachRun { o, starts, steps in
            var ia = starts[0], ib = starts[1]
            let sa = steps[0], sb = steps[1]
            switch op {
            case .add:
              for j in 0..<run {
                out[o + j] = x[ia] + y[ib]
                ia += sa
                ib += sb
              }
            case .subtract:
              for j in 0..<run {
                out[o + j] = x[ia] - y[ib]
                ia += sa
                ib += sb
              }
            case .multiply:
              for j in 0..<run {
                out[o + j] = x[ia] * y[ib]
                ia += sa
                ib += sb
              }
            case .divide:
              for j in 0..<run {
                out[o + j] = x[ia] / y[ib]
                ia += sa
                ib += sb
              }
            }
          }
        }
      }
    }
  }

  /// The gradients of `a ∘ b` with respect to `a` and to `b` (each summed over the axes it was
  /// stretched along), for those asked for; an empty tensor for the others.
  static func gradients(
    _ op: BinaryOperation, _ outputGradient: Tensor, _ a: Tensor, _ b: Tensor,
    aShape: [Int], bShape: [Int], needs: (Bool, Bool)
  ) -> (Tensor, Tensor) {
    let plan = Broadcasting([aShape, bShape])
    let run = plan.run
    var ga = needs.0 ? Tensor(zeros: aShape) : Tensor(zeros: [0])
    var gb = needs.1 ? Tensor(zeros: bShape) : Tensor(zeros: [0])
    let readsOperands = op.needsOperands
    outputGradient.withUnsafeBufferPointer { g in
      a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
          ga.withUnsafeMutableBufferPointer { da in
            gb.withUnsafeMutableBufferPointer { db in
              plan.forEachRun { o, starts, steps in
                var ia = starts[0], ib = starts[1]
                for j in 0..<run {
                  let xa: Float = readsOperands ? x[ia] : 0
                  let yb: Float = readsOperands ? y[ib] : 0
                  if needs.0 { da[ia] += g[o + j] * op.derivativeA(xa, yb) }
                  if needs.1 { db[ib] += g[o + j] * op.derivativeB(xa, yb) }
                  ia += steps[0]
                  ib += steps[1]
                }
              }
            }
          }
        }
      }
    }
    return (ga, gb)
  }
}

/// An arithmetic operation between two values of a graph (`x * gate`, `q / scale`,
/// `x + f(x)` between broadcastable shapes), item shapes broadcast as in NumPy; ONNX's `Add`,
/// `Sub`, `Mul` and `Div` between activations.
struct Binary: Layer {
  /// The operands when the derivatives read them, and their shapes.
  typealias Cache = (operands: [Tensor], shapes: [[Int]])

  let operation: BinaryOperation

  var spec: LayerSpec { .binary(operation) }
  var arity: Int { 2 }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(for: inputShape)
  }

  func outputShape(joining inputShapes: [[Int]]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(joining: inputShapes)
  }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: Cache) {
    preconditionFailure("\(operation) takes two values")
  }

  /// The operands with their items' ranks made equal by axes of size 1 after the batch axis
  /// (so the batch axes meet each other, not an item axis).
  private static func aligned(_ inputs: [Tensor]) -> [Tensor] {
    let rank = inputs.map(\.rank).max() ?? 0
    return inputs.map { x in
      x.rank == rank
        ? x
        : x.reshaped([x.rows] + [Int](repeating: 1, count: rank - x.rank) + x.shape.dropFirst())
    }
  }

  func forward(joining inputs: [Tensor]) -> (output: Tensor, cache: Cache) {
    precondition(inputs.count == 2 && inputs[0].rows == inputs[1].rows)
    let operands = Self.aligned(inputs)
    let output = BinaryOperation.apply(operation, operands[0], operands[1])
    return (output, (operation.needsOperands ? operands : [], inputs.map(\.shape)))
  }

  func backward(
    _ outputGradient: consuming Tensor, cache: Cache, gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    preconditionFailure("\(operation) takes two values")
  }

  func backward(
    _ outputGradient: consuming Tensor, cache: Cache, gradients: inout [Tensor],
    needsInputGradients: [Bool]
  ) -> [Tensor] {
    let empty = Tensor(zeros: [0])
    let (a, b) = cache.operands.count == 2 ? (cache.operands[0], cache.operands[1]) : (empty, empty)
    let rank = max(cache.shapes[0].count, cache.shapes[1].count)
    let padded = cache.shapes.map { s in
      [s[0]] + [Int](repeating: 1, count: rank - s.count) + s.dropFirst()
    }
    let (ga, gb) = BinaryOperation.gradients(
      operation, outputGradient, a, b, aShape: padded[0], bShape: padded[1],
      needs: (needsInputGradients[0], needsInputGradients[1]))
    return [
      needsInputGradients[0] ? ga.reshaped(cache.shapes[0]) : ga,
      needsInputGradients[1] ? gb.reshaped(cache.shapes[1]) : gb,
    ]
  }
}

/// An arithmetic operation between a value and a tensor of the model's own (a learned position
/// embedding added to tokens, a scale, an exporter's constant): `x ∘ c`, or `c ∘ x` when
/// `constantFirst`. The constant's shape broadcasts against one item's, both ways as in NumPy
/// (a `[tokens, 1]` value times a `[1, width]` weight is `[tokens, width]`, as Keras's layer
/// normalisation exported by tf2onnx scales); the batch axis is never stretched. It is a
/// parameter, so it trains.
struct ConstantBinary: Layer {
  /// The input when the derivatives read it, and its shape.
  typealias Cache = (input: Tensor, shape: [Int])

  let operation: BinaryOperation
  let constantFirst: Bool
  /// `[constant]`.
  var parameters: [Tensor]
  var parameterNames: [String] { ["constant"] }

  init(_ operation: BinaryOperation, constant: Tensor, constantFirst: Bool) {
    self.operation = operation
    self.constantFirst = constantFirst
    parameters = [constant]
  }

  var spec: LayerSpec {
    .binaryConstant(operation, shape: parameters[0].shape, constantFirst: constantFirst)
  }

  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch> {
    spec.outputShape(for: inputShape)
  }

  /// The constant shaped as a batch of one.
  private var batchedConstant: Tensor { parameters[0].reshaped([1] + parameters[0].shape) }

  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: Cache) {
    let x = input
    let c = batchedConstant
    let output =
      constantFirst
      ? BinaryOperation.apply(operation, c, x) : BinaryOperation.apply(operation, x, c)
    return (output, (operation.needsOperands ? x : Tensor(zeros: [0]), x.shape))
  }

  func apply(_ input: consuming Tensor) -> Tensor {
    let c = batchedConstant
    return constantFirst
      ? BinaryOperation.apply(operation, c, input) : BinaryOperation.apply(operation, input, c)
  }

  func backward(
    _ outputGradient: consuming Tensor, cache: Cache, gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor {
    let c = batchedConstant
    let (gx, gc): (Tensor, Tensor)
    if constantFirst {
      (gc, gx) = BinaryOperation.gradients(
        operation, outputGradient, c, cache.input, aShape: c.shape, bShape: cache.shape,
        needs: (true, needsInputGradient))
    } else {
      (gx, gc) = BinaryOperation.gradients(
        operation, outputGradient, cache.input, c, aShape: cache.shape, bShape: c.shape,
        needs: (needsInputGradient, true))
    }
    gradients.append(gc.reshaped(parameters[0].shape))
    return gx
  }
}
