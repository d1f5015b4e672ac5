import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookNN

/// Finite-difference checks of every hand-written gradient.
///
/// For a layer f, the scalar L = Σ f(x) ⊙ R (R fixed and random) has ∂L/∂x = backward(R). Each
/// analytic gradient is compared with central differences (L(x + ε) − L(x − ε)) / 2ε through the
/// relative error ‖a − n‖ / max(‖a‖, ‖n‖), which must stay below 1e-3 in Float32. Inputs of
/// piecewise-linear layers (ReLU, max-pool) are kept away from their kinks so that ε never
/// crosses one.
@Suite("Gradient checks") struct GradientCheckTests {
  static let tolerance = 1e-3

  /// Σ output ⊙ weights, in Double.
  static func weightedSum(_ output: Tensor, _ weights: Tensor) -> Double {
    zip(output.scalars, weights.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
  }

  /// ‖a − n‖ / max(‖a‖, ‖n‖); 0 when both are below 1e-4, as for a bias that a batch
  /// normalisation cancels (its gradient is 0, its differences are rounding noise).
  static func relativeError(_ a: [Double], _ n: [Double]) -> Double {
    let diff = zip(a, n).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
    let na = a.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
    let nn = n.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
    guard max(na, nn) >= 1e-4 else { return 0 }
    return diff / max(na, nn)
  }

  /// Checks the input gradient and every parameter gradient of `layer` at `input`, in the
  /// training step `training` when it is given (dropout's mask, fixed by the step).
  static func check<L: Layer>(
    _ layer: L, input: Tensor, epsilon: Float, seed: Int = 1, training: TrainingContext? = nil
  ) {
    func forward(_ l: L, _ x: Tensor) -> (output: Tensor, cache: L.Cache) {
      training.map { l.forward(x, training: $0) } ?? l.forward(x)
    }
    var generator = SeededGenerator(seed: seed)
    let (output, cache) = forward(layer, input)
    let weights = Tensor.uniform(shape: output.shape, low: -1, high: 1, generator: &generator)
    var parameterGradients: [Tensor] = []
    let inputGradient = layer.backward(
      weights, cache: cache, gradients: &parameterGradients, needsInputGradient: true)
    #expect(inputGradient.shape == input.shape)
    #expect(parameterGradients.count == layer.parameters.count)

    func loss(_ l: L, _ x: Tensor) -> Double { weightedSum(forward(l, x).output, weights) }

    // Input gradient.
    var numeric: [Double] = []
    for i in 0..<input.count {
      var plus = input, minus = input
      plus[flat: i] += epsilon
      minus[flat: i] -= epsilon
      numeric.append((loss(layer, plus) - loss(layer, minus)) / Double(2 * epsilon))
    }
    let inputError = relativeError(inputGradient.scalars.map(Double.init), numeric)
    #expect(inputError < tolerance, "input gradient of \(L.self): relative error \(inputError)")

    // Parameter gradients.
    for p in layer.parameters.indices {
      var numeric: [Double] = []
      for i in 0..<layer.parameters[p].count {
        var plus = layer, minus = layer
        plus.parameters[p][flat: i] += epsilon
        minus.parameters[p][flat: i] -= epsilon
        numeric.append((loss(plus, input) - loss(minus, input)) / Double(2 * epsilon))
      }
      let error = relativeError(parameterGradients[p].scalars.map(Double.init), numeric)
      #expect(error < tolerance, "gradient of parameter \(p) of \(L.self): relative error \(error)")
    }
  }

  /// Values in ±[0.1, 1], so that a step of 1e-3 never crosses zero.
  static func awayFromZero(shape: [Int], seed: Int) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor(shape: shape) { v in
      for i in v.indices {
        let magnitude = g.nextFloat(in: 0.1, 1)
        v[i] = g.nextInt(below: 2) == 0 ? magnitude : -magnitude
      }
    }
  }

  @Test func dense() {
    var g = SeededGenerator(seed: 2)
    let layer = Dense(inputs: 5, outputs: 4, initialization: .glorot, generator: &g)
    var withBias = layer
    withBias.parameters[1] = Tensor.uniform(shape: [4], low: -1, high: 1, generator: &g)
    Self.check(
      withBias, input: Tensor.uniform(shape: [3, 5], low: -1, high: 1, generator: &g), epsilon: 1e-2
    )
  }

  @Test func denseOnImageShapedInput() {
    var g = SeededGenerator(seed: 3)
    let layer = Dense(inputs: 8, outputs: 3, initialization: .he, generator: &g)
    Self.check(
      layer, input: Tensor.uniform(shape: [2, 2, 2, 2], low: -1, high: 1, generator: &g),
      epsilon: 1e-2)
  }

  @Test(arguments: [(1, 0), (1, 1), (2, 1), (2, 0)])
  func conv2D(stride: Int, padding: Int) {
    var g = SeededGenerator(seed: 4)
    var layer = Conv2D(
      inChannels: 2, outChannels: 3, kernel: 3, stride: stride, padding: padding,
      initialization: .he, generator: &g)
    layer.parameters[1] = Tensor.uniform(shape: [3], low: -1, high: 1, generator: &g)
    Self.check(
      layer, input: Tensor.uniform(shape: [2, 2, 6, 5], low: -1, high: 1, generator: &g),
      epsilon: 1e-2)
  }

  @Test func maxPool2D() {
    // Distinct values 0.05 apart in random order: ε = 1e-3 never changes which one is largest.
    var g = SeededGenerator(seed: 5)
    let count = 2 * 2 * 5 * 4
    let values = g.permutation(count).map { Float($0) * 0.05 - 2 }
    Self.check(
      MaxPool2D(size: 2), input: Tensor(shape: [2, 2, 5, 4], scalars: values), epsilon: 1e-3)
  }

  @Test func flatten() {
    var g = SeededGenerator(seed: 6)
    Self.check(
      Flatten(), input: Tensor.uniform(shape: [2, 3, 2, 2], low: -1, high: 1, generator: &g),
      epsilon: 1e-2)
  }

  @Test(arguments: Activation.Function.allCases)
  func activation(_ function: Activation.Function) {
    Self.check(
      Activation(function), input: Self.awayFromZero(shape: [4, 6], seed: 7), epsilon: 1e-3)
  }

  @Test func softmax() {
    var g = SeededGenerator(seed: 8)
    Self.check(
      Softmax(), input: Tensor.uniform(shape: [3, 5], low: -2, high: 2, generator: &g),
      epsilon: 1e-2)
  }

  /// Checks every input's gradient of a join (`sum`, `concat`) at `inputs`.
  static func checkJoin<L: Layer>(_ layer: L, inputs: [Tensor], epsilon: Float, seed: Int = 1) {
    var generator = SeededGenerator(seed: seed)
    let (output, cache) = layer.forward(joining: inputs)
    let weights = Tensor.uniform(shape: output.shape, low: -1, high: 1, generator: &generator)
    var parameterGradients: [Tensor] = []
    let gradients = layer.backward(
      weights, cache: cache, gradients: &parameterGradients,
      needsInputGradients: inputs.map { _ in true })
    #expect(gradients.map(\.shape) == inputs.map(\.shape))
    for k in inputs.indices {
      var numeric: [Double] = []
      for i in 0..<inputs[k].count {
        var plus = inputs, minus = inputs
        plus[k][flat: i] += epsilon
        minus[k][flat: i] -= epsilon
        let up = weightedSum(layer.forward(joining: plus).output, weights)
        let down = weightedSum(layer.forward(joining: minus).output, weights)
        numeric.append((up - down) / Double(2 * epsilon))
      }
      let error = relativeError(gradients[k].scalars.map(Double.init), numeric)
      #expect(error < tolerance, "input \(k) of \(L.self): relative error \(error)")
    }
  }

  @Test func sum() {
    var g = SeededGenerator(seed: 11)
    let inputs = (0..<3).map { _ in
      Tensor.uniform(shape: [2, 3, 2, 2], low: -1, high: 1, generator: &g)
    }
    Self.checkJoin(Sum(inputs: 3), inputs: inputs, epsilon: 1e-2)
  }

  @Test(arguments: [0, 1, 2])
  func concatenate(axis: Int) {
    var g = SeededGenerator(seed: 12)
    // Sizes 2 and 3 along the joined axis, [2, 3, 2] elsewhere.
    let inputs = [2, 3].map { size in
      var shape = [2, 3, 2]
      shape[axis] = size
      return Tensor.uniform(shape: [2] + shape, low: -1, high: 1, generator: &g)
    }
    let layer = Concatenate(axis: axis, inputs: 2)
    Self.checkJoin(layer, inputs: inputs, epsilon: 1e-2)
    // The values themselves: each input's slab in order along the axis.
    let joined = layer.forward(joining: inputs).output
    var expectedShape = [2, 3, 2]
    expectedShape[axis] = 5
    #expect(joined.shape == [2] + expectedShape)
    #expect(joined.sum() == inputs[0].sum() + inputs[1].sum())
    if axis == 0 {
      #expect(Array(joined.scalars[0..<12]) == Array(inputs[0].scalars[0..<12]))
      #expect(Array(joined.scalars[12..<30]) == Array(inputs[1].scalars[0..<18]))
    }
  }

  /// Every loss with every head, against central differences of its value.
  @Test(arguments: [
    (Loss.crossEntropy, LossHead.softmaxLogits), (.crossEntropy, .output), (.bce, .sigmoidLogits),
    (.bce, .output), (.mse, .output),
  ])
  func loss(_ loss: Loss, head: LossHead) {
    var g = SeededGenerator(seed: 9)
    let b = 4, d = 3
    let prediction: Tensor
    let target: Tensor
    switch (loss, head) {
    case (.crossEntropy, .softmaxLogits):
      prediction = Tensor.uniform(shape: [b, d], low: -3, high: 3, generator: &g)
      target = Tensor(shape: [b, d]) { t in for r in 0..<b { t[r * d + g.nextInt(below: d)] = 1 } }
    case (.crossEntropy, _):
      prediction = Tensor.uniform(shape: [b, d], low: 0.1, high: 0.9, generator: &g)
      target = Tensor(shape: [b, d]) { t in for r in 0..<b { t[r * d + g.nextInt(below: d)] = 1 } }
    case (.bce, .sigmoidLogits):
      prediction = Tensor.uniform(shape: [b, d], low: -4, high: 4, generator: &g)
      target = Tensor.uniform(shape: [b, d], low: 0, high: 1, generator: &g)
    case (.bce, _):
      prediction = Tensor.uniform(shape: [b, d], low: 0.05, high: 0.95, generator: &g)
      target = Tensor.uniform(shape: [b, d], low: 0, high: 1, generator: &g)
    default:
      prediction = Tensor.uniform(shape: [b, d], low: -2, high: 2, generator: &g)
      target = Tensor.uniform(shape: [b, d], low: -2, high: 2, generator: &g)
    }
    let (_, gradient) = loss.evaluate(prediction: prediction, target: target, head: head)
    let epsilon: Float = 1e-3
    var numeric: [Double] = []
    for i in 0..<prediction.count {
      var plus = prediction, minus = prediction
      plus[flat: i] += epsilon
      minus[flat: i] -= epsilon
      let up = loss.evaluate(prediction: plus, target: target, head: head).value
      let down = loss.evaluate(prediction: minus, target: target, head: head).value
      numeric.append((up - down) / Double(2 * epsilon))
    }
    let error = Self.relativeError(gradient.scalars.map(Double.init), numeric)
    #expect(error < Self.tolerance, "\(loss) with \(head): relative error \(error)")
  }

  @Test func fusedSoftmaxCrossEntropyMatchesItsDefinition() {
    // Logits [1000, 0, -1000]: a naive softmax overflows; the fused loss is exact.
    let logits = Tensor(shape: [1, 3], scalars: [1000, 0, -1000])
    let target = Tensor(shape: [1, 3], scalars: [0, 1, 0])
    let (value, gradient) = Loss.crossEntropy.evaluate(
      prediction: logits, target: target, head: .softmaxLogits)
    #expect(abs(value - 1000) < 1e-6)
    #expect(gradient.scalars == [1, -1, 0])
    // A hand-computed case: logits [1, 2, 3], class 2: −log(e³ / (e + e² + e³)) = 0.40760596.
    let (v2, _) = Loss.crossEntropy.evaluate(
      prediction: Tensor(shape: [1, 3], scalars: [1, 2, 3]),
      target: Tensor(shape: [1, 3], scalars: [0, 0, 1]),
      head: .softmaxLogits)
    #expect(abs(v2 - 0.40760596) < 1e-6)
  }

  /// A whole network end to end: the gradients `fit` uses, against central differences of the
  /// network's loss.
  @Test(arguments: [
    "mlp", "mlp-logits", "mlp-one-logit", "mlp-dropout", "cnn", "autoencoder", "residual",
    "residual-logits", "concat",
  ])
  func wholeNetwork(_ kind: String) throws {
    let model: Model
    let inputs: Tensor
    var g = SeededGenerator(seed: 10)
    if kind.hasPrefix("residual") {
      model = try GraphModels.residual(output: kind == "residual" ? .softmax : nil)
      inputs = Tensor.uniform(shape: [4, 6], low: -1, high: 1, generator: &g)
    } else if kind == "concat" {
      model = try GraphModels.concatenated()
      inputs = Tensor.uniform(shape: [4, 1, 5, 5], low: -1, high: 1, generator: &g)
    } else if kind.hasPrefix("mlp") {
      // Logits: the loss fuses the softmax (sigmoid for one output) and every layer trains.
      // Dropout's masks are fixed by the step given below.
      let outputs = kind == "mlp-one-logit" ? 1 : 3
      model = try Model.mlp(
        [6, 5, 4, outputs], activation: .tanh, output: kind == "mlp" ? .softmax : .linear,
        dropout: kind == "mlp-dropout" ? 0.4 : 0, seed: 3)
      inputs = Tensor.uniform(shape: [4, 6], low: -1, high: 1, generator: &g)
    } else if kind == "autoencoder" {
      model = try Model.autoencoder([6, 4, 2], seed: 3)
      inputs = Tensor.uniform(shape: [4, 6], low: 0, high: 1, generator: &g)
    } else {
      model = try Model.cnn(
        input: [1, 6, 6], conv: [2], kernel: 3, pool: 2, dense: [4], classes: 3, activation: .tanh,
        seed: 3)
      inputs = Tensor.uniform(shape: [4, 1, 6, 6], low: -1, high: 1, generator: &g)
    }
    let labels = kind == "mlp-one-logit" ? [0, 1, 1, 0] : [0, 2, 1, 2]
    // Small enough that no max-pool window of the CNN changes its winner.
    try Self.checkWholeNetwork(
      model, inputs: inputs, labels: labels, epsilon: kind == "cnn" ? 1e-3 : 1e-2, name: kind,
      training: kind == "mlp-dropout" ? TrainingContext(seed: 1, epoch: 1, step: 0) : nil)
  }

  /// Checks every parameter gradient `fit` uses for `model` on one batch against central
  /// differences of the model's loss, in the training step `training` when it is given.
  static func checkWholeNetwork(
    _ model: Model, inputs: Tensor, labels: [Int], epsilon: Float = 1e-2, name: String = "model",
    training: TrainingContext? = nil
  ) throws {
    let kind = name
    let target = model.target(for: inputs, labels: labels)
    let loss = model.defaultLoss
    let head = model.lossHead(for: loss)
    func pass(_ model: Model) -> Model.ChunkPass {
      model.gradients(of: inputs, target: target, loss: loss, head: head, training: training)
    }
    let gradients = pass(model).gradients
    for l in model.layers.indices {
      for p in model.layers[l].parameters.indices {
        var numeric: [Double] = []
        for i in 0..<model.layers[l].parameters[p].count {
          var plus = model, minus = model
          plus.layers[l].parameters[p][flat: i] += epsilon
          minus.layers[l].parameters[p][flat: i] -= epsilon
          numeric.append((pass(plus).loss - pass(minus).loss) / Double(2 * epsilon))
        }
        let error = Self.relativeError(gradients[l][p].scalars.map(Double.init), numeric)
        #expect(
          error < Self.tolerance, "\(kind) layer \(l + 1) parameter \(p): relative error \(error)")
      }
    }
  }
}
