import SigbookTestSupport
import Testing

@testable import SigbookNN
@testable import SigbookTensor

/// Inference's convolutions with the batch normalisation and ReLU after them folded in
/// (`Model.fusedConvolutions`, `FusedConvolution`), against the same graph run layer by layer.
@Suite("Fused convolution") struct FusedConvolutionTests {
  /// A small ResNet whose batch norms hold seeded statistics and affine parameters away from
  /// their initial ones (the identity would hide a wrong fold).
  static func network(seed: Int) throws -> Model {
    var model = try Model.resnet(input: [1, 12, 12], widths: [4, 8], classes: 3, seed: seed)
    var g = SeededGenerator(seed: seed + 1)
    for i in model.layers.indices {
      guard var norm = model.layers[i] as? BatchNorm else { continue }
      let c = norm.channels
      norm.parameters = [
        Tensor.uniform(shape: [c], low: 0.5, high: 2, generator: &g),
        Tensor.uniform(shape: [c], low: -1, high: 1, generator: &g),
      ]
      norm.buffers = [
        Tensor.uniform(shape: [c], low: -0.5, high: 0.5, generator: &g),
        Tensor.uniform(shape: [c], low: 0.2, high: 3, generator: &g),
      ]
      model.layers[i] = norm
    }
    return model
  }

  /// Seeded images `[n, 1, 12, 12]` in [−1, 1].
  static func images(_ n: Int, seed: Int) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor.uniform(shape: [n, 1, 12, 12], low: -1, high: 1, generator: &g)
  }

  /// Every layer's output, `[n, width]`, layer by layer with nothing fused.
  static func unfused(_ model: Model, _ x: Tensor) -> [Tensor] {
    var outputs = [Tensor](repeating: Tensor(zeros: [0]), count: model.layers.count)
    _ = model.graphForward(x, through: model.layers.count - 1) { i, y in
      outputs[i] = y.flattenedRows
    }
    return outputs
  }

  /// The outputs of the layers `indices` (named `names`) for `x`, fused, checked against the
  /// layer-by-layer ones within float rounding; returns both.
  static func expectOutputsEqualUnfused(
    _ model: Model, _ names: [String], _ indices: [Int], _ x: Tensor
  ) -> (outputs: [Tensor], reference: [Tensor]) {
    let reference = unfused(model, x)
    let outputs = model.hiddenOutputs(x, at: indices, pooling: .none, batchSize: 4)
    for (h, i) in indices.enumerated() {
      #expect(outputs[h].shape == reference[i].shape, "\(names[h])")
      #expect(
        largestRelativeError(outputs[h].scalars, reference[i].scalars) < 1e-5, "\(names[h])")
    }
    return (outputs, reference)
  }

  static func index(_ model: Model, _ name: String) throws -> Int {
    try #require(model.layerIndex(named: name))
  }

  /// For the block outputs: every convolution takes its batch norm, and the ReLU after it where
  /// there is one that only it reads; a block's second convolution takes the residual sum and
  /// the ReLU after it (in stage 2 the sum comes after the shortcut's layers, which keep their
  /// own fold: convolution and batch norm, the sum being taken).
  @Test func foldsWhatNoOneElseReads() throws {
    let model = try Self.network(seed: 1)
    let last = try #require(model.hiddenLayerIndices.last)
    let plan = model.fusedConvolutions(
      through: last, keeping: Set(model.hiddenLayerIndices))
    let spans = try [
      ("stem.conv", "stem.relu", nil), ("stage1.block1.conv1", "stage1.block1.relu1", nil),
      ("stage1.block1.conv2", "stage1.block1", "stage1.block1.add"),
      ("stage2.block1.conv1", "stage2.block1.relu1", nil),
      ("stage2.block1.conv2", "stage2.block1", "stage2.block1.add"),
      ("stage2.block1.shortcut.conv", "stage2.block1.shortcut.bn", nil),
    ].map {
      (
        try Self.index(model, $0.0), try Self.index(model, $0.1),
        try $0.2.map { try Self.index(model, $0) }
      )
    }
    #expect(plan.count == spans.count)
    for (first, end, sum) in spans {
      #expect(plan[first]?.last == end)
      #expect(plan[first]?.relu == (model.layers[end] is Activation))
      #expect(plan[first]?.residual?.sum == sum)
    }
    // The residual's other operand: the stem's output in stage 1, the shortcut's in stage 2.
    let stage1 = try #require(plan[try Self.index(model, "stage1.block1.conv2")]?.residual)
    #expect(stage1.value == (try Self.index(model, "stem.relu")) + 1)
    let stage2 = try #require(plan[try Self.index(model, "stage2.block1.conv2")]?.residual)
    #expect(stage2.value == (try Self.index(model, "stage2.block1.shortcut.bn")) + 1)
    #expect(stage2.resume == (try Self.index(model, "stage2.block1.bn2")) + 1)
  }

  /// Asking for a block's sum keeps it: the second convolution then takes the sum but not the
  /// ReLU after it, and the sum and the block's output equal the layer-by-layer ones.
  @Test func requestedSumIsStillComputed() throws {
    let model = try Self.network(seed: 8)
    let names = ["stage1.block1.add", "stage1.block1", "stage2.block1.add", "stage2.block1"]
    let indices = try names.map { try Self.index(model, $0) }
    let plan = model.fusedConvolutions(through: indices[3], keeping: Set(indices))
    let conv2 = try Self.index(model, "stage2.block1.conv2")
    #expect(plan[conv2]?.last == indices[2] && plan[conv2]?.relu == false)
    _ = Self.expectOutputsEqualUnfused(model, names, indices, Self.images(11, seed: 9))
  }

  /// The fused signatures equal the layer-by-layer ones within float rounding (the scale is
  /// applied to the weights instead of the sums), for any core count.
  @Test func signaturesEqualTheUnfusedOnes() throws {
    let model = try Self.network(seed: 2)
    let x = Self.images(13, seed: 3)
    let reference = Self.unfused(model, x)
    let fused = model.hiddenOutputs(x, batchSize: 4)
    #expect(fused.count == model.hiddenLayerIndices.count)
    for (h, i) in model.hiddenLayerIndices.enumerated() {
      #expect(fused[h].shape == reference[i].shape)
      #expect(largestRelativeError(fused[h].scalars, reference[i].scalars) < 1e-5)
    }
    // The same values whatever the batches: each image's arithmetic is its own.
    #expect(model.hiddenOutputs(x, batchSize: 13).map(\.scalars) == fused.map(\.scalars))
  }

  /// Asking for a batch norm's output, or a convolution's, keeps it: the convolution before a
  /// requested batch norm takes it but not the ReLU after it, and a requested convolution
  /// takes nothing.
  @Test func requestedIntermediatesAreStillComputed() throws {
    let model = try Self.network(seed: 4)
    let names = [
      "stem.conv", "stem.bn", "stage1.block1.bn1", "stage1.block1.relu1", "stage2.block1.bn2",
      "stage2.block1",
    ]
    let indices = try names.map { try Self.index(model, $0) }
    let plan = model.fusedConvolutions(through: indices[5], keeping: Set(indices))
    #expect(plan[indices[0]] == nil)
    let conv1 = try Self.index(model, "stage1.block1.conv1")
    #expect(plan[conv1]?.last == indices[2] && plan[conv1]?.relu == false)
    let (outputs, reference) = Self.expectOutputsEqualUnfused(
      model, names, indices, Self.images(9, seed: 5))
    // Nothing folded into the convolution asked for: the same bits.
    #expect(outputs[0].scalars == reference[indices[0]].scalars)
  }

  /// Folding is inference's alone: the model's layers are not changed, and training from it
  /// gives the same model before and after its signatures were computed.
  @Test func trainingIsUntouched() throws {
    let model = try Self.network(seed: 6)
    let x = Self.images(16, seed: 7)
    let labels = (0..<16).map { $0 % 3 }
    var options = TrainingOptions()
    options.epochs = 1
    options.batchSize = 8
    let before = try model.fitted(inputs: x, labels: labels, options: options)
    _ = model.hiddenOutputs(x)
    let after = try model.fitted(inputs: x, labels: labels, options: options)
    #expect(model.hasSameWeights(as: try Self.network(seed: 6)))
    #expect(before.hasSameWeights(as: after))
    #expect(!before.hasSameWeights(as: model))
  }

  /// The fold itself, by hand: one output channel of weight [1, 2], bias 3, scaled by 2 and
  /// shifted by −1, gives weight [2, 4] and bias 5; no bias reads as 0.
  @Test func foldByHand() {
    let w = Tensor(shape: [1, 2, 1, 1], scalars: [1, 2])
    let folded = Model.fold(
      weight: w, bias: Tensor(shape: [1], scalars: [3]), scale: [2], shift: [-1])
    #expect(folded.weight.scalars == [2, 4] && folded.weight.shape == [1, 2, 1, 1])
    #expect(folded.bias.scalars == [5])
    #expect(Model.fold(weight: w, bias: nil, scale: [2], shift: [-1]).bias.scalars == [-1])
  }
}
