import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData
@testable import SigbookNN

/// Dropout drops in training only: its masks (rate, scale, where they come from), its gradient,
/// the identity at inference, and what it changes in a trained model. Independence from the
/// threads and the chunks is in `TrainingDeterminismTests`.
@Suite("Dropout") struct DropoutTests {
  /// A training step, as `fit` makes them.
  static let step = TrainingContext(seed: 3, epoch: 2, step: 5)

  /// Backward multiplies by the factors forward drew: with the mask fixed by the step, central
  /// differences agree with it, and the check is not of the identity.
  @Test func backwardMatchesFiniteDifferencesWithTheMaskFixed() {
    let x = OperationGradientTests.values([4, 6], seed: 2)
    let layer = Dropout(rate: 0.4)
    GradientCheckTests.check(layer, input: x, epsilon: 1e-2, training: Self.step)
    let (y, _) = layer.forward(x, training: Self.step)
    #expect(y.scalars.contains(0) && y != x)
  }

  /// About `rate` of many values are dropped, the others scaled by 1 / (1 − rate): a value's
  /// expectation is kept.
  @Test(arguments: [0.1, 0.5, 0.8] as [Float])
  func dropsTheRateAndScalesTheRest(_ rate: Float) {
    let x = Tensor(repeating: 2, shape: [64, 10, 100])
    let (y, _) = Dropout(rate: rate).forward(x, training: Self.step)
    let dropped = Double(y.scalars.count(where: { $0 == 0 })) / Double(y.count)
    // 64,000 draws: the fraction's standard deviation is at most 0.002.
    #expect(abs(dropped - Double(rate)) < 0.01, "rate \(rate): dropped \(dropped)")
    #expect(y.scalars.allSatisfy { $0 == 0 || $0 == 2 / (1 - rate) })
    let mean = y.scalars.reduce(0.0) { $0 + Double($1) } / Double(y.count)
    #expect(abs(mean - 2) < 0.05, "rate \(rate): mean \(mean)")
    // Rows and units are drawn apart: no two rows drop the same units.
    let rows = (0..<64).map { y.rows($0..<$0 + 1).scalars }
    #expect(Set(rows).count == 64)
  }

  /// The mask is a function of the seed, the epoch, the step, the layer and each value's row
  /// within the whole batch: the same context draws the same mask, any other field another,
  /// and a chunk that starts at row 32 draws rows 32… of the whole batch's.
  @Test func masksComeFromTheStepAndEachValuesPlace() {
    let layer = Dropout(rate: 0.5)
    let whole = layer.mask(rows: 70, units: 20, training: Self.step)
    #expect(layer.mask(rows: 70, units: 20, training: Self.step) == whole)
    let chunk = layer.mask(rows: 32, units: 20, training: Self.step.startingAt(row: 32))
    #expect(chunk.scalars == whole.rows(32..<64).scalars)
    let others = [
      TrainingContext(seed: 4, epoch: 2, step: 5), TrainingContext(seed: 3, epoch: 3, step: 5),
      TrainingContext(seed: 3, epoch: 2, step: 6), Self.step.at(layer: 1),
    ]
    for other in others {
      #expect(layer.mask(rows: 70, units: 20, training: other) != whole, "\(other)")
    }
  }

  /// At inference a dropout layer passes values unchanged: a network with dropout predicts,
  /// gives signatures and attributions exactly as the same network without it (builders draw
  /// the same weights: dropout layers take nothing from the generator).
  @Test func inferenceIsTheIdentity() throws {
    let x = OperationGradientTests.values([3, 8], seed: 4)
    let layer = Dropout(rate: 0.5)
    #expect(layer.apply(x) == x && layer.forward(x).output == x)
    let data = try Dataset.mnistSample(perClass: 2, seed: 4)
    let plain = try Model.mlp([784, 16, 8, 10], seed: 4)
    let dropping = try Model.mlp([784, 16, 8, 10], dropout: 0.5, seed: 4)
    #expect(dropping.layers.count == plain.layers.count + 2)
    #expect(dropping.predict(data.features) == plain.predict(data.features))
    #expect(dropping.hiddenOutputs(data.features) == plain.hiddenOutputs(data.features))
    #expect(dropping.hiddenLayerWidths == [16, 8])
    let targets = Array(data.labels.prefix(4))
    let attributions = dropping.scoreGradients(data.features.rows(0..<4), targets: targets)
    let reference = plain.scoreGradients(data.features.rows(0..<4), targets: targets)
    #expect(attributions.gradients == reference.gradients)
    let vit = try Model.vit(patch: 7, width: 8, depth: 1, heads: 2, mlp: 16, seed: 4)
    let vitDropping = try Model.vit(
      patch: 7, width: 8, depth: 1, heads: 2, mlp: 16, dropout: 0.3, seed: 4)
    #expect(vitDropping.predict(data.features) == vit.predict(data.features))
  }

  /// Training drops: the same seed trains the same weights, and they are not those of the same
  /// network trained without dropout (a dropout that did nothing would give those), though it
  /// still learns.
  @Test func trainingWithDropoutDiffersFromWithout() throws {
    let digits = try Dataset.mnistSample(digits: [1, 7], perClass: 60, seed: 5)
    let options = TrainingOptions(
      epochs: 3, batchSize: 40, learningRate: 0.05, optimizer: .sgd, seed: 5)
    let plain = try Model.mlp([784, 32, 2], seed: 5).fitted(on: digits, options: options)
    let net = try Model.mlp([784, 32, 2], dropout: 0.5, seed: 5)
    let dropping = try net.fitted(on: digits, options: options)
    let again = try net.fitted(on: digits, options: options)
    #expect(dropping.hasSameWeights(as: again))
    #expect(dropping.history?.batchLosses == again.history?.batchLosses)
    #expect(dropping.history?.batchLosses != plain.history?.batchLosses)
    #expect(dropping.layers[0].parameters[0] != plain.layers[0].parameters[0])
    #expect(dropping.predict(digits.features) != plain.predict(digits.features))
    #expect(dropping.accuracy(on: digits) >= 0.9)
    // Another seed drops other values.
    var other = options
    other.seed = 6
    #expect(!(try net.fitted(on: digits, options: other)).hasSameWeights(as: dropping))
  }

  /// A rate outside [0, 1) is refused by every builder, saying so.
  @Test(arguments: [-0.1, 1, .nan] as [Float])
  func buildersRefuseARateOutsideTheUnitInterval(_ rate: Float) {
    let errors = [
      #expect(throws: ShapeMismatch.self) { try Model.mlp([4, 3, 2], dropout: rate) },
      #expect(throws: ShapeMismatch.self) { try Model.cnn(dropout: rate) },
      #expect(throws: ShapeMismatch.self) { try Model.vit(dropout: rate) },
    ]
    for error in errors {
      #expect(error?.message.contains("dropout must be in [0, 1)") == true)
    }
  }

  /// A saved model keeps its dropout layers and their rate.
  @Test func savedModelsKeepTheRate() throws {
    let folder = try TemporaryFolder()
    let path = folder.url.appendingPathComponent("net.safetensors").path
    let net = try Model.cnn(
      input: [1, 8, 8], conv: [2], dense: [4], classes: 3, dropout: 0.25, seed: 6)
    try net.save(to: path)
    let loaded = try Model.load(from: path)
    #expect(loaded.specs == net.specs && loaded.summary == net.summary)
    #expect(loaded.specs.filter { $0 == .dropout(rate: 0.25) }.count == 2)
  }
}
