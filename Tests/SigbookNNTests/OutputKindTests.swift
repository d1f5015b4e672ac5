import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData
@testable import SigbookNN

/// A model's outputs are logits or probabilities; training, predictions and probabilities apply
/// the softmax (or sigmoid) exactly once either way.
@Suite("Output kind: logits or probabilities") struct OutputKindTests {
  static func data() throws -> Dataset {
    try Dataset.synthetic(.twoGaussians, n: 200, seed: 1)
  }

  static let options = TrainingOptions(epochs: 3, batchSize: 32, learningRate: 0.1, seed: 2)

  @Test func theKindIsReadFromTheLastOperation() throws {
    #expect(try Model.mlp([2, 8, 2]).outputKind == .probabilities)
    #expect(try Model.mlp([2, 8, 1], output: .sigmoid).outputKind == .probabilities)
    #expect(try Model.mlp([2, 8, 2], output: .linear).outputKind == .logits)
    #expect(try Model.mlp([2, 8, 1], output: .linear).outputKind == .logits)
    // A softmax followed by a reshape still gives probabilities.
    var generator = SeededGenerator(seed: 0)
    let dense = Dense(inputs: 2, outputs: 3, initialization: .glorot, generator: &generator)
    let reshaped = try Model(layers: [dense, Softmax(), Reshape(shape: [3])], inputShape: [2])
    #expect(reshaped.outputKind == .probabilities)
  }

  /// Softmax cross-entropy is fused the same way after a softmax layer and on logits, so the
  /// two models train to the same weights; the linear one no longer skips its last layer.
  @Test func aLinearOutputTrainsLikeASoftmaxOutput() throws {
    let data = try Self.data()
    let soft = try Model.mlp([2, 8, 2], seed: 3).fitted(on: data, options: Self.options)
    let linear = try Model.mlp([2, 8, 2], output: .linear, seed: 3).fitted(
      on: data, options: Self.options)
    let a = try #require(soft.history), b = try #require(linear.history)
    #expect(a.records.map(\.loss) == b.records.map(\.loss))
    #expect(a.records.map(\.accuracy) == b.records.map(\.accuracy))
    #expect(zip(soft.layers, linear.layers).allSatisfy { $0.parameters == $1.parameters })
    #expect(linear.accuracy(on: data) == soft.accuracy(on: data))
    #expect(
      linear.measure(inputs: data.features, labels: data.labels).loss
        == soft.measure(inputs: data.features, labels: data.labels).loss)
    // The probabilities of the logits are the softmax model's outputs.
    let p = linear.predictedProbabilities(data.features)
    let q = soft.predict(data.features)
    let error = zip(p.scalars, q.scalars).map { abs($0 - $1) }.max() ?? 1
    #expect(error <= 1e-6)
    #expect(soft.probabilities(ofOutputs: q).scalars == q.scalars)
  }

  /// One logit trains through the fused sigmoid (binary cross-entropy), as one sigmoid output
  /// does, and its class is `logit > 0`.
  @Test func oneLogitTrainsLikeOneSigmoidAndThresholdsAtZero() throws {
    let data = try Self.data()
    let sigmoid = try Model.mlp([2, 8, 1], output: .sigmoid, seed: 3).fitted(
      on: data, options: Self.options)
    let logit = try Model.mlp([2, 8, 1], output: .linear, seed: 3).fitted(
      on: data, options: Self.options)
    #expect(logit.defaultLoss == .bce)
    #expect(
      try #require(sigmoid.history).records.map(\.loss)
        == (try #require(logit.history)).records.map(\.loss))
    #expect(
      Model.classes(ofOutputs: Tensor(shape: [3, 1], scalars: [-0.2, 0.2, 0.7]), kind: .logits)
        == [0, 1, 1])
    #expect(
      Model.classes(
        ofOutputs: Tensor(shape: [3, 1], scalars: [0.2, 0.4, 0.7]), kind: .probabilities)
        == [0, 0, 1])
    #expect(logit.predictedClasses(data.features) == sigmoid.predictedClasses(data.features))
  }

  @Test func predictionsShowProbabilitiesOfLogits() throws {
    let data = try Self.data()
    let net = try Model.mlp([2, 8, 2], output: .linear, seed: 3)
    // Large weights give logits far outside [0, 1].
    var big = net
    big.layers[2].parameters[0] = big.layers[2].parameters[0].map { $0 * 40 }
    let table = big.predictions(on: data)
    let column = try #require(table.columns.firstIndex(of: "probability"))
    for row in table.rows {
      guard case .number(let p) = row[column] else { continue }
      #expect(p >= 0.5 && p <= 1, "probability \(p)")
    }
  }

  @Test func theKindSurvivesSafetensors() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "sigbook-kind-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    for output in [OutputActivation.linear, .softmax] {
      let net = try Model.mlp([2, 8, 2], output: output, seed: 3)
      let path = folder.appendingPathComponent("\(output).safetensors").path
      try net.save(to: path)
      let loaded = try Model.load(from: path)
      #expect(loaded.outputKind == net.outputKind)
    }
  }
}
