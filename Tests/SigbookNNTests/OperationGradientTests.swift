import SigbookTestSupport
import Testing

@testable import SigbookNN
@testable import SigbookTensor

/// Finite-difference checks of the graph operations (pointwise functions, broadcast
/// arithmetic, normalisation, reductions, slices, matrix products), with the same measure and
/// tolerance as `GradientCheckTests`, and of an attention block as a whole.
@Suite("Gradient checks of graph operations") struct OperationGradientTests {
  /// Values in ±[0.1, 1] scaled by `scale`, shifted by `shift`.
  static func values(_ shape: [Int], seed: Int, scale: Float = 1, shift: Float = 0) -> Tensor {
    let t = GradientCheckTests.awayFromZero(shape: shape, seed: seed)
    return Tensor(shape: shape, scalars: t.scalars.map { $0 * scale + shift })
  }

  static let functions: [PointwiseFunction] = [
    .gelu, .leakyRelu(slope: 0.1), .clip(min: 0, max: 6), .clip(min: -0.5, max: 0.5), .hardSwish,
    .hardSigmoid(alpha: 0.2, beta: 0.5), .erf, .sqrt, .exp, .log, .negate, .reciprocal, .abs,
    .power(2), .power(3),
  ]

  @Test(arguments: functions)
  func pointwise(_ function: PointwiseFunction) {
    let input: Tensor
    switch function {
    case .sqrt, .log, .reciprocal, .power:
      // Positive and away from 0.
      input = Self.values([3, 5], seed: 1, scale: 0.5, shift: 1)
    case .hardSwish:
      // Both sides of ±3 and of 0, never within ε of a kink.
      input = Self.values([3, 5], seed: 1, scale: 4)
    case .clip(let low, _) where low < 0:
      // Inside and outside [−0.5, 0.5], away from its ends.
      input = Self.values([3, 5], seed: 1, scale: 1, shift: 0.03)
    default:
      input = Self.values([3, 5], seed: 1, scale: 2)
    }
    GradientCheckTests.check(Pointwise(function), input: input, epsilon: 1e-3)
  }

  @Test func dropoutIsTheIdentity() {
    let x = Self.values([2, 4], seed: 2)
    let layer = Dropout(rate: 0.5)
    #expect(layer.apply(x) == x)
    GradientCheckTests.check(layer, input: x, epsilon: 1e-2)
  }

  /// Operand shapes (batch first) that broadcast in different ways.
  static let binaryShapes: [([Int], [Int])] = [
    ([2, 3, 4], [2, 3, 4]), ([2, 3, 1, 4], [2, 1, 5, 4]), ([2, 3, 4], [2, 4]),
    ([2, 1], [2, 3, 2]),
  ]

  @Test(arguments: BinaryOperation.allCases)
  func binary(_ operation: BinaryOperation) {
    for (k, (a, b)) in Self.binaryShapes.enumerated() {
      // Divisors away from 0.
      let x = Self.values(a, seed: 3 + k)
      let y = Self.values(b, seed: 7 + k, scale: 0.5, shift: operation == .divide ? 1.2 : 0)
      GradientCheckTests.checkJoin(Binary(operation: operation), inputs: [x, y], epsilon: 1e-2)
    }
  }

  @Test(arguments: BinaryOperation.allCases, [false, true])
  func binaryWithAConstant(_ operation: BinaryOperation, constantFirst: Bool) {
    for (k, shape) in [[4], [3, 1], [3, 4]].enumerated() {
      let shift: Float = operation == .divide ? 1.2 : 0
      let constant = Self.values(shape, seed: 11 + k, scale: 0.5, shift: constantFirst ? 0 : shift)
      let layer = ConstantBinary(operation, constant: constant, constantFirst: constantFirst)
      let x = Self.values([2, 3, 4], seed: 13 + k, scale: 0.5, shift: constantFirst ? shift : 0)
      GradientCheckTests.check(layer, input: x, epsilon: 1e-2)
    }
  }

  /// A constant that widens the value, as Keras's layer normalisation scales its
  /// `[tokens, 1]` reciprocal deviations by a `[1, width]` weight (tf2onnx's export).
  @Test(arguments: BinaryOperation.allCases, [false, true])
  func constantWideningTheValue(_ operation: BinaryOperation, constantFirst: Bool) {
    let shift: Float = operation == .divide ? 1.2 : 0
    let constant = Self.values([1, 4], seed: 21, scale: 0.5, shift: constantFirst ? 0 : shift)
    let layer = ConstantBinary(operation, constant: constant, constantFirst: constantFirst)
    #expect((try? layer.outputShape(for: [3, 1]).get()) == [3, 4])
    let x = Self.values([2, 3, 1], seed: 23, scale: 0.5, shift: constantFirst ? shift : 0)
    #expect(layer.apply(x).shape == [2, 3, 4])
    GradientCheckTests.check(layer, input: x, epsilon: 1e-2)
  }

  @Test(arguments: [[4], [3, 4]])
  func layerNorm(_ shape: [Int]) {
    var g = SeededGenerator(seed: 17)
    var layer = LayerNorm(shape: shape, epsilon: 1e-5)
    layer.parameters = [
      Tensor.uniform(shape: shape, low: 0.5, high: 1.5, generator: &g),
      Tensor.uniform(shape: shape, low: -1, high: 1, generator: &g),
    ]
    let x = Tensor.uniform(shape: [2, 2, 3, 4], low: -2, high: 2, generator: &g)
    GradientCheckTests.check(layer, input: x, epsilon: 1e-2)
  }

  /// Each group comes out with mean 0 and variance 1 before the affine step.
  @Test func layerNormNormalises() {
    var g = SeededGenerator(seed: 18)
    let x = Tensor.uniform(shape: [3, 5, 8], low: -4, high: 9, generator: &g)
    let y = LayerNorm(shape: [8], epsilon: 1e-6).apply(x).scalars
    for group in 0..<15 {
      let values = y[group * 8..<(group + 1) * 8].map(Double.init)
      let mean = values.reduce(0, +) / 8
      let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 8
      #expect(abs(mean) < 1e-5 && abs(variance - 1) < 1e-3)
    }
  }

  @Test(arguments: [0, 1, 2])
  func softmaxAlong(_ axis: Int) {
    var g = SeededGenerator(seed: 19)
    let x = Tensor.uniform(shape: [2, 3, 4, 2], low: -2, high: 2, generator: &g)
    let layer = AxisSoftmax(axis: axis)
    GradientCheckTests.check(layer, input: x, epsilon: 1e-2)
    // Along the last axis it is the row softmax.
    if axis == 2 {
      #expect(layer.apply(x).flattenedRows.scalars.count == 48)
      let rows = x.reshaped([24, 2])
      let expected = Softmax().apply(rows).scalars
      let error = zip(layer.apply(x).scalars, expected).map { abs($0 - $1) }.max() ?? 1
      #expect(error < 1e-6)
    }
  }

  @Test(arguments: [([1], true), ([0, 2], false), ([2], false)])
  func reduceMean(axes: [Int], keeps: Bool) {
    let layer = ReduceMean(axes: axes, keepsAxes: keeps)
    let x = Self.values([2, 3, 4, 2], seed: 20)
    GradientCheckTests.check(layer, input: x, epsilon: 1e-2)
    let shape = layer.spec.outputShape(for: [3, 4, 2])
    #expect(shape == .success(Array(layer.apply(x).shape.dropFirst())))
  }

  @Test func globalAveragePool() {
    let x = Self.values([2, 3, 4, 5], seed: 21)
    let layer = ReduceMean(axes: nil, keepsAxes: true)
    GradientCheckTests.check(layer, input: x, epsilon: 1e-2)
    let y = layer.apply(x)
    #expect(y.shape == [2, 3, 1, 1])
    let first = x.scalars[0..<20].reduce(0, +) / 20
    #expect(abs(y.scalars[0] - first) < 1e-6)
  }

  @Test(arguments: [(0, 1, 3), (1, 0, 2), (2, 3, 4)])
  func slice(axis: Int, start: Int, end: Int) {
    let layer = Slice(axis: axis, start: start, end: end)
    let x = Self.values([2, 3, 4, 5], seed: 22)
    GradientCheckTests.check(layer, input: x, epsilon: 1e-2)
    #expect(
      layer.spec.outputShape(for: [3, 4, 5]) == .success(Array(layer.apply(x).shape.dropFirst())))
  }

  @Test(arguments: [
    ([2, 3, 4, 5], [2, 3, 5, 2]), ([2, 3, 4, 5], [2, 5, 2]), ([2, 4, 5], [2, 1, 5, 3]),
  ])
  func matmul(_ a: [Int], _ b: [Int]) {
    let x = Self.values(a, seed: 23)
    let y = Self.values(b, seed: 24)
    let layer = MatMul()
    GradientCheckTests.checkJoin(layer, inputs: [x, y], epsilon: 1e-2)
    // The first product is the plain matrix product.
    let m = a[a.count - 2], k = a[a.count - 1], n = b[b.count - 1]
    let first = Tensor.matmul(
      Tensor(shape: [m, k], scalars: Array(x.scalars[0..<m * k])),
      Tensor(shape: [k, n], scalars: Array(y.scalars[0..<k * n])))
    let output = layer.forward(joining: [x, y]).output
    #expect(Array(output.scalars[0..<m * n]) == first.scalars)
  }

  @Test func linearOverTheLastAxis() {
    var g = SeededGenerator(seed: 25)
    var layer = Linear(
      dense: Dense(inputs: 4, outputs: 3, initialization: .glorot, generator: &g))
    layer.parameters[1] = Tensor.uniform(shape: [3], low: -1, high: 1, generator: &g)
    GradientCheckTests.check(layer, input: Self.values([2, 5, 4], seed: 26), epsilon: 1e-2)
  }

  /// Training's batch normalisation: batch statistics, over maps and over vectors.
  @Test(arguments: [[4, 3, 2, 2], [5, 3]])
  func batchNorm(_ shape: [Int]) {
    var g = SeededGenerator(seed: 28)
    var layer = BatchNorm(channels: 3, epsilon: 1e-5, momentum: 0.1)
    layer.parameters = [
      Tensor.uniform(shape: [3], low: 0.5, high: 1.5, generator: &g),
      Tensor.uniform(shape: [3], low: -1, high: 1, generator: &g),
    ]
    let x = Tensor.uniform(shape: shape, low: -2, high: 3, generator: &g)
    GradientCheckTests.check(layer, input: x, epsilon: 1e-2)
  }

  /// Inference normalises by the running estimates, which each training batch moves by the
  /// momentum towards its own mean and unbiased variance.
  @Test func batchNormRunningStatistics() {
    var layer = BatchNorm(channels: 2, epsilon: 1e-5, momentum: 0.25)
    // Channel 0 holds 1, 2, 3, 4 over two items; channel 1 holds 10, 10, 10, 10.
    let x = Tensor(shape: [2, 2, 2], scalars: [1, 2, 10, 10, 3, 4, 10, 10])
    let (_, cache) = layer.forward(x)
    guard let statistics = layer.statistics(of: cache) else {
      Issue.record("batch normalisation measured nothing")
      return
    }
    #expect(statistics[0].scalars == [2.5, 10])
    let sampleVariance: Float = 5.0 / 3
    #expect(abs(statistics[1].scalars[0] - sampleVariance) < 1e-6)
    #expect(statistics[1].scalars[1] == 0)
    layer.absorb(statistics: statistics)
    #expect(layer.buffers[0].scalars == [0.625, 2.5])
    let variance: Float = 0.75 + 0.25 * 5 / 3
    #expect(abs(layer.buffers[1].scalars[0] - variance) < 1e-6)
    let y = layer.apply(x).scalars
    let expected = (1 - 0.625) / (layer.buffers[1].scalars[0] + 1e-5).squareRoot()
    #expect(abs(y[0] - expected) < 1e-5)
  }

  /// A convolutional residual block with batch normalisation (ResNet's), as a whole.
  @Test func residualBlockWithBatchNormAsAWhole() throws {
    let model = try GraphModels.residualBlock()
    var g = SeededGenerator(seed: 29)
    let inputs = Tensor.uniform(shape: [4, 2, 4, 4], low: -1, high: 1, generator: &g)
    try GradientCheckTests.checkWholeNetwork(model, inputs: inputs, labels: [0, 2, 1, 2])
  }

  /// A pre-norm self-attention block with its residual, as a whole: the gradients `fit` uses,
  /// against central differences of the loss.
  @Test func attentionBlockAsAWhole() throws {
    let model = try GraphModels.attention(tokens: 3, width: 4, heads: 2, classes: 3)
    var g = SeededGenerator(seed: 27)
    let inputs = Tensor.uniform(shape: [4, 3, 4], low: -1, high: 1, generator: &g)
    try GradientCheckTests.checkWholeNetwork(model, inputs: inputs, labels: [0, 2, 1, 2])
  }
}
