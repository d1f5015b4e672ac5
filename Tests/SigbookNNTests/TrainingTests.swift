import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData
@testable import SigbookNN

/// Training on the embedded MNIST sample: the accuracy and loss figures users rely on.
@Suite("Training") struct TrainingTests {
  @Test func mlpTellsOnesFromSevens() throws {
    let digits = try Dataset.mnistSample(digits: [1, 7])
    let (train, test) = try digits.split(testFraction: 0.2, seed: 7)
    let net = try Model.mlp([784, 32, 64, 2], seed: 7)
    let options = TrainingOptions(
      epochs: 5, batchSize: 32, learningRate: 0.05, optimizer: .sgd, seed: 7)
    let trained = try net.fitted(on: train, options: options, validation: test)
    let accuracy = trained.accuracy(on: test)
    #expect(accuracy >= 0.98, "held-out accuracy \(accuracy)")
    #expect(trained.classNames == ["1", "7"])
    let history = try #require(trained.history)
    #expect(history.records.count == 5)
    #expect(history.records.last?.validationAccuracy == accuracy)
    #expect(try #require(history.records.last?.loss) < history.records[0].loss)
    // The argument is untouched: values are immutable.
    let fresh = try Model.mlp([784, 32, 64, 2], seed: 7)
    #expect(!net.isTrained && net.hasSameWeights(as: fresh))
  }

  @Test func cnnClassifiesTenDigits() throws {
    let digits = try Dataset.mnistSample()
    let (train, test) = try digits.split(testFraction: 0.2, seed: 1)
    let net = try Model.cnn(
      input: [1, 28, 28], conv: [8, 16], kernel: 3, pool: 2, dense: [64], classes: 10, seed: 1)
    let options = TrainingOptions(
      epochs: 4, batchSize: 32, learningRate: 0.002, optimizer: .adam, seed: 1)
    let trained = try net.fitted(on: train, options: options)
    let accuracy = trained.accuracy(on: test)
    #expect(accuracy >= 0.93, "held-out accuracy \(accuracy)")
  }

  @Test func autoencoderLowersReconstructionLoss() throws {
    let digits = try Dataset.mnistSample(perClass: 100, seed: 2)
    let ae = try Model.autoencoder([784, 100, 10], seed: 2)
    #expect(ae.defaultLoss == .bce)
    #expect(ae.hiddenLayerWidths == [100, 10, 100])
    let options = TrainingOptions(
      epochs: 10, batchSize: 32, learningRate: 0.005, optimizer: .adam, seed: 2)
    let trained = try ae.fitted(on: digits, options: options)
    let records = try #require(trained.history).records
    let drop = 1 - records[9].loss / records[0].loss
    #expect(drop >= 0.4, "reconstruction loss \(records[0].loss) → \(records[9].loss)")
    #expect(records[0].accuracy == nil)
    // The code is informative: inputs do not all share one code.
    let code = trained.hiddenOutputs(digits.features.rows(0..<50))[1]
    #expect(code.rows(0..<1).scalars != code.rows(49..<50).scalars)
  }

  @Test func sameSeedGivesBitIdenticalWeightsOtherSeedDoesNot() throws {
    let data = try Dataset.mnistSample(digits: [1, 7], perClass: 60)
    let net = try Model.mlp([784, 16, 2])
    func train(_ seed: Int) throws -> Model {
      try net.fitted(
        on: data,
        options: TrainingOptions(
          epochs: 2, batchSize: 16, learningRate: 0.05, optimizer: .momentum, seed: seed))
    }
    let a = try train(3), b = try train(3), c = try train(4)
    #expect(a.hasSameWeights(as: b))
    #expect(!a.hasSameWeights(as: c))
    let otherInitialisation = try Model.mlp([784, 16, 2], seed: 1)
    #expect(!otherInitialisation.hasSameWeights(as: net))
  }

  /// A loss that explodes is stopped as soon as it passes 1,000 times its first value, before
  /// it becomes NaN (which the same check would also stop).
  @Test func anExplodingLossStopsWithAClearMessage() throws {
    let data = try Dataset.mnistSample(digits: [1, 7], perClass: 50)
    let net = try Model.mlp([784, 32, 2], output: .linear)
    let options = TrainingOptions(epochs: 3, batchSize: 10, learningRate: 1e6, loss: .mse)
    let error = try #require(throws: TrainingError.self) {
      try net.fitted(on: data, options: options)
    }
    #expect(error.description.hasPrefix("the loss grew from "))
    #expect(error.description.contains("training diverged and stopped"))
    // The engine states the facts; the catalogue adds the hint in the language's words.
    #expect(!error.description.contains("lr"))
    guard case .diverged(_, _, _, _, let learningRate) = error else {
      Issue.record("expected divergence, got \(error)")
      return
    }
    #expect(learningRate == 1e6)
  }

  @Test func cancellationStopsAtTheNextBatch() throws {
    let data = try Dataset.mnistSample(digits: [1, 7], perClass: 50)
    var batches = 0
    let error = try #require(throws: TrainingError.self) {
      try Model.mlp([784, 8, 2]).fitted(
        on: data, options: TrainingOptions(epochs: 50, batchSize: 10),
        progress: { _ in batches += 1 }, isCancelled: { batches >= 3 })
    }
    #expect(error == .cancelled(epoch: 1, batch: 4))
  }

  @Test func mismatchedDataIsExplained() throws {
    let data = try Dataset.synthetic(.twoGaussians, n: 40)
    let error = try #require(throws: TrainingError.self) {
      try Model.mlp([784, 32, 2]).fitted(on: data, options: TrainingOptions())
    }
    #expect(error.description == "mlp expects 784 inputs but '\(data.name)' has 2 features")
    let tooFewOutputs = try #require(throws: TrainingError.self) {
      try Model.mlp([784, 8, 2]).fitted(
        on: try Dataset.mnistSample(digits: [1, 2, 3], perClass: 5), options: TrainingOptions())
    }
    #expect(tooFewOutputs.description.contains("2 outputs for 2 classes but"))
  }

  @Test func adamAndMomentumTrainTwoGaussians() throws {
    let data = try Dataset.synthetic(.fourGaussians, n: 400, sigma: 0.2, seed: 1)
    for optimizer in Optimizer.allCases {
      let net = try Model.mlp([2, 16, 2], activation: .tanh, seed: 1)
      let lr = optimizer == .adam ? 0.02 : 0.1
      let trained = try net.fitted(
        on: data,
        options: TrainingOptions(epochs: 40, batchSize: 16, learningRate: lr, optimizer: optimizer))
      #expect(trained.accuracy(on: data) > 0.95, "\(optimizer)")
    }
  }

  @Test func singleSigmoidOutputUsesBinaryCrossEntropy() throws {
    let data = try Dataset.synthetic(.twoGaussians, n: 200, sigma: 0.3, seed: 2)
    let net = try Model.mlp([2, 8, 1], output: .sigmoid, seed: 2)
    #expect(net.defaultLoss == .bce && net.classCount == 2)
    let trained = try net.fitted(
      on: data, options: TrainingOptions(epochs: 20, batchSize: 16, learningRate: 0.5))
    #expect(trained.accuracy(on: data) > 0.95)
  }

  @Test func hiddenOutputsAreTheActivationsOfEveryHiddenLayer() throws {
    let net = try Model.mlp([4, 3, 5, 2], seed: 1)
    var g = SeededGenerator(seed: 1)
    let x = Tensor.uniform(shape: [7, 4], low: -1, high: 1, generator: &g)
    let hidden = net.hiddenOutputs(x, batchSize: 3)
    #expect(net.hiddenLayerIndices == [1, 3] && hidden.map(\.shape) == [[7, 3], [7, 5]])
    // By hand: layer by layer.
    let h1 = net.layers[1].apply(net.layers[0].apply(x))
    let h2 = net.layers[3].apply(net.layers[2].apply(h1))
    #expect(hidden[0] == h1 && hidden[1] == h2)
    // Dense chains write each batch straight into the signatures: the same values as layer by
    // layer, for an autoencoder's linear code and for tanh, a last batch short, image-shaped rows.
    for model in [
      try Model.autoencoder([6, 5, 2], seed: 2),
      try Model.mlp([6, 4, 3, 2], activation: .tanh, seed: 3),
    ] {
      let images = Tensor.uniform(shape: [11, 1, 2, 3], low: -1, high: 1, generator: &g)
      var x = images.flattenedRows
      var expected: [Tensor] = []
      for (i, layer) in model.layers.enumerated() {
        x = layer.apply(x)
        if model.hiddenLayerIndices.contains(i) { expected.append(x) }
      }
      #expect(model.hiddenOutputs(images, batchSize: 4) == expected)
      #expect(
        model.hiddenOutputs(images, batchSize: 4, isCancelled: { true }).map(\.shape)
          == expected.map(\.shape))
    }
    let cnn = try Model.cnn(
      input: [1, 8, 8], conv: [2], kernel: 3, pool: 2, dense: [4], classes: 3)
    #expect(cnn.hiddenLayerWidths == [2 * 8 * 8, 4])
  }
}

@Suite("Input shapes") struct InputShapeTests {
  @Test func aConvolutionalModelTakesFlatVectorsOfTheRightSize() throws {
    let images = try Dataset.mnistSample(digits: [1, 7], perClass: 20)
    let flat = Dataset(
      name: "flat", features: images.features.flattenedRows, labels: images.labels,
      classNames: images.classNames)
    let net = try Model.cnn(input: [1, 28, 28], conv: [2], dense: [4], classes: 2, seed: 1)
    let options = TrainingOptions(epochs: 1, batchSize: 8, learningRate: 0.01)
    let fromImages = try net.fitted(on: images, options: options)
    let fromVectors = try net.fitted(on: flat, options: options)
    #expect(fromImages.hasSameWeights(as: fromVectors))
    #expect(fromVectors.predict(flat.features) == fromImages.predict(images.features))
    #expect(fromVectors.hiddenOutputs(flat.features).map(\.shape) == [[40, 1568], [40, 4]])
  }

  /// Cosine annealing: lr at the first step, half of it halfway, near 0 at the last; training
  /// with it is deterministic and differs from a constant rate.
  @Test func cosineScheduleAnnealsTheRate() throws {
    let schedule = LearningRateSchedule.cosine
    #expect(schedule.rate(0.1, step: 0, of: 100) == 0.1)
    #expect(abs(schedule.rate(0.1, step: 50, of: 100) - 0.05) < 1e-12)
    #expect(schedule.rate(0.1, step: 99, of: 100) < 0.0001)
    #expect(LearningRateSchedule.constant.rate(0.1, step: 99, of: 100) == 0.1)
    let net = try Model.mlp([4, 6, 2], seed: 1)
    var g = SeededGenerator(seed: 2)
    let x = Tensor.uniform(shape: [64, 4], low: -1, high: 1, generator: &g)
    let labels = (0..<64).map { x[$0, 0] > 0 ? 1 : 0 }
    var options = TrainingOptions(epochs: 3, batchSize: 16, learningRate: 0.1)
    let constant = try net.fitted(inputs: x, labels: labels, options: options)
    options.schedule = .cosine
    let annealed = try net.fitted(inputs: x, labels: labels, options: options)
    let again = try net.fitted(inputs: x, labels: labels, options: options)
    #expect(annealed.hasSameWeights(as: again))
    #expect(!annealed.hasSameWeights(as: constant))
  }
}
