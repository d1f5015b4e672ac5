import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookNN
@testable import SigbookTensor

/// The graph builders `resnet` and `vit`: their shapes, names and signatures, their gradients
/// as wholes, training, and saving.
@Suite("ResNet and ViT builders") struct GraphBuilderTests {
  @Test func resnetHasNamedStagesAndBlockSignatures() throws {
    let net = try Model.resnet(input: [1, 28, 28], widths: [8, 16, 32], blocks: 2, seed: 1)
    #expect(net.layerShapes.last == [10])
    let names = net.layerNames
    #expect(Set(names).count == names.count)
    #expect(names.contains("stage2.block1.shortcut.conv"))
    #expect(!names.contains("stage1.block1.shortcut.conv"))
    #expect(
      net.hiddenLayerIndices.map { names[$0] } == [
        "stage1.block1", "stage1.block2", "stage2.block1", "stage2.block2", "stage3.block1",
        "stage3.block2",
      ])
    // Maps of 28, 14 and 7.
    let widths = net.hiddenLayerIndices.map { net.layerShapes[$0] }
    #expect(
      widths == [
        [8, 28, 28], [8, 28, 28], [16, 14, 14], [16, 14, 14], [32, 7, 7], [32, 7, 7],
      ])
    // The skip of a block that keeps its width is its input.
    if let add = net.layerIndex(named: "stage1.block2.add"),
      let previous = net.layerIndex(named: "stage1.block1")
    {
      #expect(net.inputs(ofLayer: add).contains(previous + 1))
    } else {
      Issue.record("missing nodes")
    }
    #expect(throws: ShapeMismatch.self) {
      try Model.resnet(input: [1, 4, 4], widths: [2, 2, 2, 2, 2])
    }
  }

  /// Without skips: the same blocks and signatures, no additions, no projections.
  @Test func plainNetworkHasNoSkips() throws {
    let plain = try Model.resnet(input: [1, 28, 28], widths: [8, 16], skips: false, seed: 1)
    let names = plain.layerNames
    #expect(!names.contains { $0.hasSuffix(".add") || $0.contains("shortcut") })
    #expect(plain.hiddenLayerIndices.map { names[$0] } == ["stage1.block1", "stage2.block1"])
    #expect(plain.summary.hasSuffix("skips: false)"))
    if let block = plain.layerIndex(named: "stage2.block1") {
      #expect(plain.inputs(ofLayer: block) == [block])
    }
  }

  @Test func vitHasTokensHeadsAndBlockSignatures() throws {
    let net = try Model.vit(
      input: [1, 28, 28], patch: 7, width: 32, depth: 2, heads: 4, mlp: 64, seed: 1)
    #expect(net.layerShapes.last == [10])
    let names = net.layerNames
    #expect(Set(names).count == names.count)
    #expect(net.hiddenLayerIndices.map { names[$0] } == ["block1", "block2"])
    #expect(net.hiddenLayerIndices.map { net.layerShapes[$0] } == [[17, 32], [17, 32]])
    if let scores = net.layerIndex(named: "block1.attn.softmax") {
      #expect(net.layerShapes[scores] == [4, 17, 17])
    } else {
      Issue.record("no attention weights")
    }
    // Each row of attention weights sums to 1.
    var g = SeededGenerator(seed: 2)
    let x = Tensor.uniform(shape: [2, 1, 28, 28], low: 0, high: 1, generator: &g)
    let y = net.predict(x)
    for r in 0..<2 {
      let total = (0..<10).reduce(Float(0)) { $0 + y[r, $1] }
      #expect(abs(total - 1) < 1e-5)
    }
    #expect(throws: ShapeMismatch.self) { try Model.vit(input: [1, 28, 28], patch: 5) }
    #expect(throws: ShapeMismatch.self) { try Model.vit(width: 30, heads: 4) }
  }

  /// A small ViT's gradients, every parameter, against central differences; with dropout, in
  /// one training step (its masks fixed by the step).
  @Test(arguments: [0, 0.3] as [Float])
  func vitGradientsAsAWhole(dropout: Float) throws {
    var net = try Model.vit(
      input: [1, 4, 4], patch: 2, width: 4, depth: 1, heads: 2, mlp: 6, classes: 3,
      dropout: dropout, seed: 3)
    var g = SeededGenerator(seed: 4)
    // A class token and position embedding of N(0, 0.02²) make the class token's values nearly
    // equal, where layer normalisation divides by a tiny deviation and a step of ε is not
    // small: give them the spread of trained ones.
    for name in ["class_token", "pos_embed"] {
      guard let i = net.layerIndex(named: name) else { continue }
      net.layers[i].parameters = net.layers[i].parameters.map {
        Tensor.uniform(shape: $0.shape, low: -1, high: 1, generator: &g)
      }
    }
    let x = Tensor.uniform(shape: [3, 1, 4, 4], low: -1, high: 1, generator: &g)
    try GradientCheckTests.checkWholeNetwork(
      net, inputs: x, labels: [0, 2, 1],
      training: dropout > 0 ? TrainingContext(seed: 2, epoch: 1, step: 3) : nil)
  }

  /// Both train: the loss falls on a learnable task and the result is the same on every run.
  @Test(arguments: ["resnet", "vit"])
  func trains(_ kind: String) throws {
    let net =
      kind == "resnet"
      ? try Model.resnet(input: [1, 8, 8], widths: [4, 8], classes: 2, seed: 5)
      : try Model.vit(
        input: [1, 8, 8], patch: 4, width: 8, depth: 1, heads: 2, mlp: 16, classes: 2, seed: 5)
    // Class 1 has vertical stripes, class 0 horizontal ones, at a random phase, with noise.
    var g = SeededGenerator(seed: 6)
    let n = 96
    var values = [Float](repeating: 0, count: n * 64)
    let labels = (0..<n).map { $0 % 2 }
    for i in 0..<n {
      let phase = g.nextInt(below: 2)
      for p in 0..<64 {
        let line = labels[i] == 1 ? p % 8 : p / 8
        values[i * 64 + p] = ((line + phase) % 2 == 0 ? 0.8 : 0.1) + g.nextFloat(in: -0.1, 0.1)
      }
    }
    let x = Tensor(shape: [n, 1, 8, 8], scalars: values)
    var options = TrainingOptions()
    options.epochs = 8
    options.batchSize = 32
    options.optimizer = .adam
    options.learningRate = 0.01
    let before = net.measure(inputs: x, labels: labels).loss
    let trained = try net.fitted(inputs: x, labels: labels, options: options)
    let again = try net.fitted(inputs: x, labels: labels, options: options)
    let after = trained.measure(inputs: x, labels: labels)
    #expect(
      after.loss < 0.5 * before,
      "\(kind): loss \(before) → \(after.loss), history \(trained.history?.records.map(\.loss) ?? [])"
    )
    #expect((after.accuracy ?? 0) > 0.9, "\(kind)")
    #expect(trained.hasSameWeights(as: again))
    #expect(trained.layerNames == net.layerNames)
  }

  @Test func savedBuildersReadBackWithTheirNames() throws {
    let folder = try TemporaryFolder()
    var g = SeededGenerator(seed: 7)
    let x = Tensor.uniform(shape: [2, 1, 8, 8], low: 0, high: 1, generator: &g)
    for net in [
      try Model.resnet(input: [1, 8, 8], widths: [4, 8], classes: 3, seed: 8),
      try Model.vit(
        input: [1, 8, 8], patch: 4, width: 8, depth: 2, heads: 2, mlp: 16, classes: 3, seed: 8),
    ] {
      let path = folder.url.appendingPathComponent("net.safetensors").path
      try net.save(to: path)
      let loaded = try Model.load(from: path)
      #expect(loaded.layerNames == net.layerNames)
      #expect(loaded.hiddenLayerIndices == net.hiddenLayerIndices)
      #expect(loaded.summary == net.summary)
      #expect(loaded.predict(x) == net.predict(x))
    }
  }
}
