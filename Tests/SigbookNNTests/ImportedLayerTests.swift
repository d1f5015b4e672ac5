import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookNN

/// The layers imported models need (average pooling, reshape, transpose, per-channel affine):
/// gradients against finite differences, and hand-computed outputs.
@Suite("Imported layers") struct ImportedLayerTests {
  @Test func averagePoolGradient() {
    var g = SeededGenerator(seed: 11)
    GradientCheckTests.check(
      AveragePool2D(size: 2),
      input: Tensor.uniform(shape: [2, 2, 5, 4], low: -1, high: 1, generator: &g), epsilon: 1e-2)
  }

  @Test func affineGradient() {
    var g = SeededGenerator(seed: 12)
    var layer = ChannelAffine(channels: 3)
    layer.parameters = [
      Tensor.uniform(shape: [3], low: -1, high: 1, generator: &g),
      Tensor.uniform(shape: [3], low: -1, high: 1, generator: &g),
    ]
    GradientCheckTests.check(
      layer, input: Tensor.uniform(shape: [2, 3, 2, 2], low: -1, high: 1, generator: &g),
      epsilon: 1e-2)
  }

  @Test func transposeAndReshapeGradients() {
    var g = SeededGenerator(seed: 13)
    GradientCheckTests.check(
      Transpose(permutation: [1, 2, 0]),
      input: Tensor.uniform(shape: [2, 3, 2, 4], low: -1, high: 1, generator: &g), epsilon: 1e-2)
    GradientCheckTests.check(
      Reshape(shape: [2, 6]),
      input: Tensor.uniform(shape: [2, 12], low: -1, high: 1, generator: &g), epsilon: 1e-2)
  }

  @Test func outputsByHand() {
    // [1, 2, 2, 3] (channels, height, width): NCHW → NHWC is [2, 3, 2].
    let x = Tensor(shape: [1, 2, 2, 3], scalars: (0..<12).map(Float.init))
    #expect(
      Transpose(permutation: [1, 2, 0]).apply(x).scalars == [
        0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11,
      ])
    #expect(AveragePool2D(size: 2).apply(x).scalars == [2, 8])
    let affine = ChannelAffine(
      weight: Tensor(shape: [2], scalars: [2, -1]), bias: Tensor(shape: [2], scalars: [1, 0]))
    #expect(affine.apply(x).scalars[0...6] == [1, 3, 5, 7, 9, 11, -6])
  }
}
