import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookNN
@testable import SigbookAnalysis
@testable import SigbookONNX

/// Attributions of networks exported from PyTorch equal Captum's for the same inputs, targets,
/// baseline and steps (`scripts/make-attribution-fixtures.py`): a CNN whose batch
/// normalisation has running statistics away from 0 and 1 (folded into its convolution on
/// import) and a residual block. sigbook's own graphs, with batch normalisation layers and
/// attention, against finite differences of their inference.
@Suite("Attributions against Captum")
struct AttributionTests {
  static let targets = [0, 1, 2, 3]

  @Test(
    "gradients, integrated gradients and occlusion equal Captum's",
    arguments: ["cnn", "residual"])
  func equalCaptum(name: String) throws {
    let model = try ONNXImporter.load(
      path: fixture("attribution/\(name).onnx"), inputShape: nil, classNames: nil)
    #expect(model.scoresAreLogits == false)
    let x = try fixtureTensor("attribution/x.npy")
    for (method, file) in [
      (Attribution.Method.gradient, "saliency"), (.integrated_gradients, "ig"),
      (.occlusion, "occlusion"),
    ] {
      let expected = try fixtureTensor("attribution/\(name)_\(file).npy")
      let maps = try Attribution.maps(
        model: model, inputs: x, targets: Self.targets, method: method)
      #expect(maps.shape == x.shape)
      let error = largestRelativeError(maps.scalars, expected.scalars)
      #expect(error < 1e-4, "\(name) \(method): \(error)")
    }
  }

  /// Integrated gradients add up to the score's rise from the baseline (completeness), and
  /// SmoothGrad with no noise is the gradient; both the same whatever the chunking.
  @Test func completenessAndSmoothGrad() throws {
    let model = try ONNXImporter.load(
      path: fixture("attribution/residual.onnx"), inputShape: nil, classNames: nil)
    let x = try fixtureTensor("attribution/x.npy")
    var options = Attribution.Options()
    options.steps = 64
    let ig = try Attribution.maps(
      model: model, inputs: x, targets: Self.targets, method: .integrated_gradients,
      options: options)
    let scores = model.scores(x), zero = model.scores(Tensor(zeros: x.shape))
    for i in 0..<4 {
      let total = ig.scalars[(i * 144)..<((i + 1) * 144)].reduce(0, +)
      let rise = scores.scalars[i * 4 + i] - zero.scalars[i * 4 + i]
      #expect(abs(total - rise) < 1e-3 * max(1, abs(rise)), "input \(i): \(total) against \(rise)")
    }
    options.noise = 0
    options.samples = 3
    let smooth = try Attribution.maps(
      model: model, inputs: x, targets: Self.targets, method: .smoothgrad, options: options)
    let gradient = try Attribution.maps(
      model: model, inputs: x, targets: Self.targets, method: .gradient)
    #expect(largestRelativeError(smooth.scalars, gradient.scalars) < 1e-5)
  }

  /// The gradient of a ResNet (batch normalisations with running statistics, not batch ones)
  /// and of a ViT equals central differences of the scores `predict` computes.
  @Test("gradients of built graphs equal finite differences", arguments: ["resnet", "vit"])
  func builtGraphsMatchFiniteDifferences(name: String) throws {
    var model =
      name == "resnet"
      ? try Model.resnet(input: [1, 8, 8], widths: [3, 4], classes: 3, seed: 2)
      : try Model.vit(
        input: [1, 8, 8], patch: 4, width: 8, depth: 1, heads: 2, mlp: 8, classes: 3, seed: 2)
    // Running statistics away from 0 and 1, as after training.
    var g = SeededGenerator(seed: 5)
    for i in model.layers.indices where !model.layers[i].buffers.isEmpty {
      let c = model.layers[i].buffers[0].count
      model.layers[i].buffers = [
        Tensor.uniform(shape: [c], low: -0.5, high: 0.5, generator: &g),
        Tensor.uniform(shape: [c], low: 0.5, high: 2, generator: &g),
      ]
    }
    let x = Tensor.uniform(shape: [2, 1, 8, 8], low: 0, high: 1, generator: &g)
    let gradient = model.scoreGradients(x, targets: [1, 2]).gradients
    let h: Float = 1e-2
    for j in [0, 9, 27, 63, 64 + 17, 64 + 40] {
      var plus = x.scalars, minus = x.scalars
      plus[j] += h
      minus[j] -= h
      let row = j / 64, target = [1, 2][row]
      let up = model.scores(Tensor(shape: x.shape, scalars: plus)).scalars[row * 3 + target]
      let down = model.scores(Tensor(shape: x.shape, scalars: minus)).scalars[row * 3 + target]
      let numeric = (up - down) / (2 * h)
      #expect(
        abs(numeric - gradient.scalars[j]) < 2e-3 * max(1, abs(numeric)),
        "\(name) value \(j): \(gradient.scalars[j]) against \(numeric)")
    }
  }

  @Test func gaussLegendreIntegratesPolynomialsExactly() {
    let (nodes, weights) = Attribution.gaussLegendre(5)
    // Exact for degree 2n − 1 = 9 on [0, 1]: ∫ x⁹ = 1/10.
    let integral = zip(nodes, weights).reduce(0.0) { $0 + $1.1 * pow($1.0, 9) }
    #expect(abs(integral - 0.1) < 1e-14)
    #expect(abs(weights.reduce(0, +) - 1) < 1e-14)
    #expect(nodes == nodes.sorted())
  }
}
