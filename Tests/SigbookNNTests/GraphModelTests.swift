import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookData
@testable import SigbookNN
@testable import SigbookTensor

/// Small graph models for the tests: built from specs with a fixed seed.
enum GraphModels {
  /// Builds layers from specs (seeded) and wires them.
  static func build(
    _ specs: [LayerSpec], wiring: [[Int]], inputShape: [Int], seed: Int = 3
  ) throws -> Model {
    var generator = SeededGenerator(seed: seed)
    let layers = specs.map { $0.makeLayer(initialization: .glorot, generator: &generator) }
    return try Model(layers: layers, inputShape: inputShape, wiring: wiring)
  }

  /// x → dense → tanh → [dense → tanh] + skip → dense (→ softmax): one residual block.
  static func residual(output: LayerSpec? = .softmax) throws -> Model {
    var specs: [LayerSpec] = [
      .dense(inputs: 6, outputs: 5), .tanh, .dense(inputs: 5, outputs: 5), .tanh,
      .sum(inputs: 2), .dense(inputs: 5, outputs: 3),
    ]
    var wiring = [[0], [1], [2], [3], [2, 4], [5]]
    if let output {
      specs.append(output)
      wiring.append([6])
    }
    return try build(specs, wiring: wiring, inputShape: [6])
  }

  /// conv → batch norm → tanh → conv → batch norm, plus the input, → tanh, then global
  /// average pooling and a softmax classifier: ResNet's basic block (He et al., 2016), with
  /// tanh for ReLU so that finite differences cross no kink.
  static func residualBlock() throws -> Model {
    let conv = LayerSpec.conv(inChannels: 2, outChannels: 2, kernel: 3, stride: 1, padding: 1)
    let norm = LayerSpec.batchNorm(channels: 2, epsilon: 1e-5, momentum: 0.1)
    var model = try build(
      [
        conv, norm, .tanh, conv, norm, .sum(inputs: 2), .tanh, .globalAveragePool,
        .dense(inputs: 2, outputs: 3), .softmax,
      ],
      wiring: [[0], [1], [2], [3], [4], [5, 0], [6], [7], [8], [9]], inputShape: [2, 4, 4])
    // Weights and biases away from 1 and 0, running statistics away from 0 and 1.
    var g = SeededGenerator(seed: 30)
    for i in [1, 4] {
      model.layers[i].parameters = [
        Tensor.uniform(shape: [2], low: 0.5, high: 1.5, generator: &g),
        Tensor.uniform(shape: [2], low: -0.5, high: 0.5, generator: &g),
      ]
      model.layers[i].buffers = [
        Tensor.uniform(shape: [2], low: -0.5, high: 0.5, generator: &g),
        Tensor.uniform(shape: [2], low: 0.5, high: 2, generator: &g),
      ]
    }
    return model
  }

  /// A pre-norm transformer block on `[tokens, width]` items — self-attention with `heads`
  /// heads and a residual, then a GELU MLP with a residual — followed by the mean over tokens
  /// and a softmax classifier.
  static func attention(tokens t: Int, width d: Int, heads h: Int, classes: Int) throws -> Model {
    let e = d / h
    var specs: [LayerSpec] = [
      .layerNorm(shape: [d], epsilon: 1e-5), .linear(inputs: d, outputs: 3 * d),
      .slice(axis: 1, start: 0, end: d), .slice(axis: 1, start: d, end: 2 * d),
      .slice(axis: 1, start: 2 * d, end: 3 * d),
      .reshape(shape: [t, h, e]), .transpose(permutation: [1, 0, 2]),
      .reshape(shape: [t, h, e]), .transpose(permutation: [1, 2, 0]),
      .reshape(shape: [t, h, e]), .transpose(permutation: [1, 0, 2]),
      .matmul, .binaryConstant(.divide, shape: [1], constantFirst: false),
      .softmaxAlong(axis: 2), .matmul, .transpose(permutation: [1, 0, 2]),
      .reshape(shape: [t, d]), .linear(inputs: d, outputs: d), .binary(.add),
    ]
    var wiring = [
      [0], [1], [2], [2], [2], [3], [6], [4], [8], [5], [10], [7, 9], [12], [13], [14, 11], [15],
      [16], [17], [0, 18],
    ]
    specs += [
      .layerNorm(shape: [d], epsilon: 1e-5), .linear(inputs: d, outputs: 2 * d),
      .pointwise(.gelu), .linear(inputs: 2 * d, outputs: d), .binary(.add),
      .reduceMean(axes: [0], keepsAxes: false), .dense(inputs: d, outputs: classes), .softmax,
    ]
    wiring += [[19], [20], [21], [22], [19, 23], [24], [25], [26]]
    var model = try build(specs, wiring: wiring, inputShape: [t, d])
    // Scores divided by √(width of a head), as in Vaswani et al. (2017).
    model.layers[12].parameters = [Tensor(repeating: Float(e).squareRoot(), shape: [1])]
    return model
  }

  /// Two convolutions whose maps are joined along the channels (DenseNet's join), then a
  /// classifier.
  static func concatenated() throws -> Model {
    try build(
      [
        .conv(inChannels: 1, outChannels: 2, kernel: 3, stride: 1, padding: 1), .tanh,
        .conv(inChannels: 2, outChannels: 3, kernel: 3, stride: 1, padding: 1), .tanh,
        .concatenate(axis: 0, inputs: 2), .flatten, .dense(inputs: 125, outputs: 3), .softmax,
      ],
      wiring: [[0], [1], [2], [3], [2, 4], [5], [6], [7]], inputShape: [1, 5, 5])
  }

  /// The image operations of imported networks: a grouped convolution, local response
  /// normalisation, a strided depthwise convolution without bias, a padded max pool in ceil
  /// mode, an average pool counting its padding, their sum, then a classifier.
  static func imageOperations() throws -> Model {
    try build(
      [
        .convolution(
          Convolution(
            inChannels: 2, outChannels: 4, kernel: [3, 3], pads: [1, 1, 1, 1], groups: 2)),
        .tanh, .localResponseNorm(size: 3, alpha: 0.8, beta: 0.75, bias: 1.5),
        .convolution(
          Convolution(
            inChannels: 4, outChannels: 4, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1],
            groups: 4, hasBias: false)),
        .pool(
          Pooling(.max, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true)),
        .pool(
          Pooling(
            .average, kernel: [2, 2], strides: [1, 1], pads: [0, 0, 1, 1], countIncludePad: true)),
        .sum(inputs: 2), .flatten, .dense(inputs: 36, outputs: 3), .softmax,
      ],
      wiring: [[0], [1], [2], [3], [4], [5], [5, 6], [7], [8], [9]], inputShape: [2, 7, 7])
  }
}

@Suite("Graph models") struct GraphModelTests {
  /// A chain written as a graph gives bit-identical outputs, signatures and gradients.
  @Test func chainAsGraphMatchesChain() throws {
    let chain = try Model.mlp([6, 5, 4, 3], activation: .tanh, seed: 4)
    let graph = try Model(
      layers: chain.layers, inputShape: chain.inputShape,
      wiring: chain.layers.indices.map { [$0] })
    var g = SeededGenerator(seed: 5)
    let x = Tensor.uniform(shape: [70, 6], low: -1, high: 1, generator: &g)
    #expect(graph.predict(x, batchSize: 32) == chain.predict(x, batchSize: 32))
    #expect(graph.hiddenOutputs(x, batchSize: 32) == chain.hiddenOutputs(x, batchSize: 32))
    let labels = (0..<70).map { $0 % 3 }
    let target = chain.target(for: x, labels: labels)
    let loss = chain.defaultLoss
    let head = chain.lossHead(for: loss)
    let a = chain.gradients(of: x, target: target, loss: loss, head: head)
    let b = graph.gradients(of: x, target: target, loss: loss, head: head)
    #expect(a.loss == b.loss)
    #expect(a.gradients == b.gradients)
  }

  /// The residual block computes x + f(x), by hand.
  @Test func residualForwardIsTheSumOfItsBranches() throws {
    let model = try GraphModels.residual(output: nil)
    var g = SeededGenerator(seed: 6)
    let x = Tensor.uniform(shape: [3, 6], low: -1, high: 1, generator: &g)
    let h = model.layers[1].apply(model.layers[0].apply(x))
    let f = model.layers[3].apply(model.layers[2].apply(h))
    let expected = model.layers[5].apply(h + f)
    #expect(model.forward(x) == expected)
    #expect(model.layerShapes == [[5], [5], [5], [5], [5], [3]])
  }

  /// Wiring that names a later value, leaves an output unused, or joins mismatched shapes is
  /// refused with the layer's number.
  @Test func badWiringIsExplained() throws {
    func message(_ specs: [LayerSpec], _ wiring: [[Int]]) -> String? {
      do {
        _ = try GraphModels.build(specs, wiring: wiring, inputShape: [4])
        return nil
      } catch {
        return "\(error)"
      }
    }
    let dense: LayerSpec = .dense(inputs: 4, outputs: 4)
    #expect(message([dense, dense], [[0], [2]])?.contains("layer 2") == true)
    #expect(message([dense, dense], [[0], [0]])?.contains("output of layer 1") == true)
    #expect(
      message([.dense(inputs: 4, outputs: 3), .sum(inputs: 2)], [[0], [0, 1]])?
        .contains("adds values of one shape") == true)
    #expect(message([dense, .sum(inputs: 2)], [[0], [1]])?.contains("takes 2 values") == true)
  }

  /// A graph saved as safetensors reads back with its wiring and the same outputs.
  @Test func savedGraphReadsBack() throws {
    var g = SeededGenerator(seed: 7)
    let cases = [
      (
        try GraphModels.concatenated(),
        Tensor.uniform(shape: [2, 1, 5, 5], low: -1, high: 1, generator: &g)
      ),
      (
        try GraphModels.attention(tokens: 3, width: 4, heads: 2, classes: 3),
        Tensor.uniform(shape: [2, 3, 4], low: -1, high: 1, generator: &g)
      ),
      (
        try GraphModels.residualBlock(),
        Tensor.uniform(shape: [2, 2, 4, 4], low: -1, high: 1, generator: &g)
      ),
      (
        try GraphModels.imageOperations(),
        Tensor.uniform(shape: [2, 2, 7, 7], low: -1, high: 1, generator: &g)
      ),
    ]
    let folder = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: folder) }
    for (k, (model, x)) in cases.enumerated() {
      let path = folder.appendingPathComponent("graph\(k).safetensors").path
      try model.save(to: path)
      let loaded = try Model.load(from: path)
      #expect(loaded.wiring == model.wiring)
      #expect(loaded.specs == model.specs)
      #expect(loaded.layers.map(\.buffers) == model.layers.map(\.buffers))
      #expect(loaded.forward(x) == model.forward(x))
    }
  }

  /// A residual network learns: training lowers its loss and the result is the same for the same
  /// seed.
  @Test func residualNetworkTrains() throws {
    let model = try GraphModels.residual()
    var g = SeededGenerator(seed: 8)
    let x = Tensor.uniform(shape: [90, 6], low: -1, high: 1, generator: &g)
    // Three classes by the sign pattern of two inputs: learnable, not linear in one unit.
    let labels = (0..<90).map { i in
      let a = x[i, 0] > 0, b = x[i, 1] > 0
      return a && b ? 0 : (a || b ? 1 : 2)
    }
    var options = TrainingOptions()
    options.epochs = 30
    options.batchSize = 16
    options.learningRate = 0.1
    let before = model.measure(inputs: x, labels: labels).loss
    let trained = try model.fitted(inputs: x, labels: labels, options: options)
    let again = try model.fitted(inputs: x, labels: labels, options: options)
    let after = trained.measure(inputs: x, labels: labels).loss
    #expect(after < 0.7 * before, "loss \(before) → \(after)")
    #expect(trained.hasSameWeights(as: again))
    #expect(trained.wiring == model.wiring)
  }

  /// Training moves batch normalisation's running estimates to the data's statistics, the same
  /// way on every run.
  @Test func batchNormLearnsTheDataStatistics() throws {
    var generator = SeededGenerator(seed: 31)
    let layers = [
      LayerSpec.batchNorm(channels: 3, epsilon: 1e-5, momentum: 0.1),
      .dense(inputs: 3, outputs: 2), .softmax,
    ].map { $0.makeLayer(initialization: .glorot, generator: &generator) }
    let model = try Model(layers: layers, inputShape: [3])
    let means: [Float] = [5, -2, 0], deviations: [Float] = [2, 1, 0.5]
    let n = 640
    var g = SeededGenerator(seed: 32)
    let x = Tensor.normal(shape: [n, 3], standardDeviation: 1, generator: &g)
    let shifted = Tensor(
      shape: [n, 3],
      scalars: x.scalars.enumerated().map {
        $0.element * deviations[$0.offset % 3] + means[$0.offset % 3]
      })
    let labels = (0..<n).map { shifted[$0, 1] > -2 ? 1 : 0 }
    var options = TrainingOptions()
    options.epochs = 10
    options.batchSize = 64
    let trained = try model.fitted(inputs: shifted, labels: labels, options: options)
    let again = try model.fitted(inputs: shifted, labels: labels, options: options)
    #expect(trained.layers[0].buffers == again.layers[0].buffers)
    let runningMean = trained.layers[0].buffers[0].scalars
    let runningVariance = trained.layers[0].buffers[1].scalars
    for c in 0..<3 {
      #expect(abs(runningMean[c] - means[c]) < 0.3 * deviations[c], "channel \(c) mean")
      let variance = deviations[c] * deviations[c]
      #expect(abs(runningVariance[c] - variance) < 0.3 * variance, "channel \(c) variance")
    }
    // Trained, it separates the classes by the normalised second input.
    #expect((trained.measure(inputs: shifted, labels: labels).accuracy ?? 0) > 0.9)
  }
}
