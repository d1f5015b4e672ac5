import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData
@testable import SigbookNN

/// Saving and loading models as safetensors.
@Suite("Model files") struct ModelFileTests {
  static func trainedModels() throws -> [(Model, Tensor)] {
    let digits = try Dataset.mnistSample(digits: [1, 7], perClass: 40, seed: 1)
    let options = TrainingOptions(epochs: 1, batchSize: 16, learningRate: 0.05)
    let mlp = try Model.mlp([784, 16, 8, 2], seed: 1).fitted(on: digits, options: options)
    let cnn = try Model.cnn(conv: [2, 3], dense: [5], classes: 2, seed: 1).fitted(
      on: digits, options: options)
    let ae = try Model.autoencoder([784, 12, 3], seed: 1).fitted(on: digits, options: options)
    return [(mlp, digits.features), (cnn, digits.features), (ae, digits.features)]
  }

  @Test func savedModelsLoadBackToIdenticalPredictions() throws {
    let folder = try TemporaryFolder()
    for (i, (model, inputs)) in try Self.trainedModels().enumerated() {
      let path = folder.path("model\(i).safetensors")
      try model.save(to: path)
      let loaded = try Model.load(from: path)
      #expect(loaded.hasSameWeights(as: model), "\(model.summary)")
      #expect(loaded.predict(inputs) == model.predict(inputs), "\(model.summary)")
      #expect(loaded.hiddenLayerIndices == model.hiddenLayerIndices)
      #expect(loaded.summary == model.summary && loaded.classNames == model.classNames)
      #expect(loaded.task == model.task && loaded.isTrained)
    }
  }

  @Test func savingTwiceGivesTheSameBytes() throws {
    let model = try Model.mlp([784, 8, 2], seed: 3)
    #expect(model.safetensorsBytes() == model.safetensorsBytes())
    #expect(model.namedParameters.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
  }

  @Test func filesWithoutAnArchitectureOrWithWrongShapesAreExplained() throws {
    let folder = try TemporaryFolder()
    let plain = folder.path("plain.safetensors")
    try Safetensors.write([("w", Tensor(zeros: [2]))], to: plain)
    let missing = try #require(throws: ModelFileError.self) { try Model.load(from: plain) }
    #expect(missing.description.contains("no sigbook architecture in its metadata"))

    let model = try Model.mlp([4, 3, 2])
    var tensors = model.namedParameters
    tensors[0].tensor = Tensor(zeros: [3, 5])
    let wrong = folder.path("wrong.safetensors")
    try Safetensors.write(tensors, metadata: model.savedMetadata, to: wrong)
    let mismatch = try #require(throws: ModelFileError.self) { try Model.load(from: wrong) }
    #expect(
      mismatch.description
        == "'\(wrong)': tensor '0.weight' has shape [3, 5] but dense(4, 3) needs [3, 4]")
  }

  @Test(
    .enabled(if: Interop.hasPythonSafetensors, "needs python3 with numpy and safetensors; skipped"))
  func pythonReadsASavedModelAndComputesTheSameOutputs() throws {
    let folder = try TemporaryFolder()
    let (model, inputs) = try Self.trainedModels()[0]
    let path = folder.path("mlp.safetensors")
    try model.save(to: path)
    let x = inputs.rows(0..<3).flattenedRows
    // NumPy recomputes the forward pass from the file's weights: dense, relu, dense, relu, dense,
    // softmax, and prints the class probabilities.
    let output = try Interop.python(
      """
      import json, sys
      import numpy as np
      from safetensors import safe_open
      from safetensors.numpy import load_file
      t = load_file(sys.argv[1])
      with safe_open(sys.argv[1], framework="np") as f:
          arch = json.loads(f.metadata()["sigbook.architecture"])
      x = np.array(json.loads(sys.argv[2]), dtype=np.float32).reshape(3, 784)
      h = np.maximum(x @ t["0.weight"].T + t["0.bias"], 0)
      h = np.maximum(h @ t["2.weight"].T + t["2.bias"], 0)
      z = h @ t["4.weight"].T + t["4.bias"]
      p = np.exp(z - z.max(axis=1, keepdims=True)); p /= p.sum(axis=1, keepdims=True)
      print(arch["summary"], t["0.weight"].dtype, t["0.weight"].shape)
      print(json.dumps(p.astype(float).ravel().tolist()))
      """, path, "[" + x.scalars.map { "\($0)" }.joined(separator: ",") + "]")
    let lines = output.split(separator: "\n")
    #expect(lines.first == "mlp(784, 16, 8, 2) float32 (16, 784)")
    let probabilities = try JSONDecoder().decode([Double].self, from: Data(lines[1].utf8))
    let ours = model.predict(inputs.rows(0..<3)).scalars
    #expect(zip(probabilities, ours).allSatisfy { abs($0 - Double($1)) < 1e-5 })
  }
}
