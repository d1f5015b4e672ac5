import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookNN
@testable import SigbookTensor
@testable import SigbookWorkbook
@testable import SigbookONNX

/// Models exported by PyTorch and Keras give the same hidden outputs and outputs in sigbook.
@Suite("ONNX import") struct ONNXImportTests {
  /// name, input array, number of signature layers, the fixture numbers of those layers.
  static let pytorch: [(name: String, layers: Int)] = [
    ("mlp", 2), ("cnn", 3), ("cnn_fixed", 3), ("ae", 3),
  ]

  @Test(arguments: pytorch)
  func signaturesEqualPyTorchsHiddenOutputs(_ c: (name: String, layers: Int)) throws {
    let net = try ONNXImporter.load(
      path: fixture("\(c.name).onnx"), inputShape: nil, classNames: nil)
    let arrays = c.name == "cnn_fixed" ? "cnn" : c.name
    let x = try fixtureTensor("x.npy")
    let hidden = net.hiddenOutputs(x)
    #expect(hidden.count == c.layers, "\(c.name): \(net.hiddenLayerIndices)")
    for (i, h) in hidden.enumerated() {
      let expected = try fixtureTensor("\(arrays)_h\(i + 1).npy")
      let error = largestRelativeError(h.scalars, expected.scalars)
      #expect(error <= 1e-5, "\(c.name) H\(i + 1): relative error \(error)")
    }
    let out = largestRelativeError(
      net.predict(x).scalars, try fixtureTensor("\(arrays)_out.npy").scalars)
    #expect(out <= 1e-5, "\(c.name) output: relative error \(out)")
    #expect(net.task == (c.name == "ae" ? .reconstruction : .classification))
    #expect(net.layerOrigins?.count == net.layers.count)
  }

  @Test func kerasThroughTF2ONNXGivesKerassOutputs() throws {
    let net = try ONNXImporter.load(path: fixture("keras.onnx"), inputShape: nil, classNames: nil)
    #expect(net.inputShape == [28, 28, 1])
    let x = try fixtureTensor("keras_x.npy")
    let out = largestRelativeError(
      net.predict(x).scalars, try fixtureTensor("keras_out.npy").scalars)
    #expect(out <= 1e-5, "keras output: relative error \(out)")
    // The dense hidden layer is the third signature layer (after two convolutions' activations).
    let hidden = net.hiddenOutputs(x)
    #expect(hidden.count == 3)
    let h3 = largestRelativeError(hidden[2].scalars, try fixtureTensor("keras_h3.npy").scalars)
    #expect(h3 <= 1e-5, "keras H3: relative error \(h3)")
  }

  @Test func weightsInExternalDataFilesLoad() throws {
    let folder = try TemporaryFolder()
    var proto = try fixtureProto("mlp.onnx")
    var blob = Data()
    for i in proto.graph.initializer.indices where proto.graph.initializer[i].hasRawData {
      var t = proto.graph.initializer[i]
      let entries = [
        ("location", "mlp.weights"), ("offset", String(blob.count)),
        ("length", String(t.rawData.count)),
      ]
      blob.append(t.rawData)
      t.clearRawData()
      t.dataLocation = .external
      t.externalData = entries.map { key, value in
        var e = Onnx_StringStringEntryProto()
        e.key = key
        e.value = value
        return e
      }
      proto.graph.initializer[i] = t
    }
    try folder.write("mlp.weights", [UInt8](blob))
    let path = try folder.write("mlp.onnx", proto)
    let net = try ONNXImporter.load(path: path, inputShape: nil, classNames: nil)
    let x = try fixtureTensor("x.npy")
    let error = largestRelativeError(
      net.predict(x).scalars, try fixtureTensor("mlp_out.npy").scalars)
    #expect(error <= 1e-5 && blob.count > 100_000)
    try FileManager.default.removeItem(atPath: folder.path("mlp.weights"))
    let missing = try #require(throws: ONNXError.self) {
      try ONNXImporter.load(path: path, inputShape: nil, classNames: nil)
    }
    #expect(missing.description.contains("is stored in 'mlp.weights', which cannot be read"))
  }

  @Test func workbooksLoadONNXAndNameTheClasses() throws {
    let folder = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    let workbook = ONNXWorkbook(
      folder: folder.path,
      figures: FileManager.default.temporaryDirectory.path + "/sigbook-onnx.figures")
    let names = (0..<10).map { "\"c\($0)\"" }.joined(separator: ", ")
    try workbook.run(
      "net = load_onnx(\"cnn.onnx\", classes: [\(names)])\nsig = signatures(net, npy(\"x.npy\"))\n"
        + "sig.layers\nsig.count")
    #expect(workbook.values == ["3", "8"])
    let unregistered = Session(
      file: "t.sigbook", baseDirectory: folder.path, figuresDirectory: "/tmp")
    let error = try #require(throws: WorkbookError.self) {
      try unregistered.run(try parseCell("load_onnx(\"cnn.onnx\")", file: "t.sigbook"))
    }
    #expect(error.message.contains("need the ONNX support that the sigbook command links"))
  }

  /// Equal input and output widths alone do not make an autoencoder: a classifier of 6 features
  /// into 6 logits, or of one feature into one logit, used to load as one. A network that
  /// narrows to a code and widens back is one, with or without a final Sigmoid.
  @Test(arguments: [
    ([6, 16, 6], false, Model.Task.classification), ([1, 4, 1], false, .classification),
    ([6, 2, 6], true, .reconstruction), ([6, 2, 6], false, .reconstruction),
    ([6, 2, 6, 6], false, .reconstruction),
  ])
  func anAutoencoderNarrowsToACode(_ widths: [Int], _ sigmoid: Bool, _ task: Model.Task) throws {
    typealias B = ONNXModelBuilder
    let folder = try TemporaryFolder()
    var initializers: [Onnx_TensorProto] = []
    var nodes: [Onnx_NodeProto] = []
    var current = "x"
    for (i, (inputs, outputs)) in zip(widths, widths.dropFirst()).enumerated() {
      initializers.append(
        B.floats(
          "w\(i)", [Int64(inputs), Int64(outputs)],
          (0..<inputs * outputs).map { Float($0 % 5) / 10 }))
      nodes.append(B.node("Gemm", [current, "w\(i)"], "g\(i)"))
      current = "g\(i)"
      if i < widths.count - 2 {
        nodes.append(B.node("Relu", [current], "r\(i)"))
        current = "r\(i)"
      }
    }
    if sigmoid {
      nodes.append(B.node("Sigmoid", [current], "s"))
      current = "s"
    }
    let path = try folder.write(
      "m.onnx",
      B.model(
        input: [1, Int64(widths[0])], initializers: initializers, nodes: nodes, output: current))
    let net = try ONNXImporter.load(path: path, inputShape: nil, classNames: nil)
    #expect(net.task == task, "\(widths)")
    if task == .reconstruction {
      // The code: the narrowest layer's activation.
      #expect(net.encoderLayerCount == 2)
    }
  }

  /// A Dropout node is a dropout layer of its ratio (an input from opset 12, an attribute
  /// before), named after the node: the identity in predictions, and what `fit` drops with, so
  /// the network trains otherwise than with a ratio of 0, which is no layer at all.
  @Test(arguments: [(Int64(13), Float(0.3)), (11, 0.2)])
  func dropoutNodesKeepTheirRatio(opset: Int64, ratio: Float) throws {
    typealias B = ONNXModelBuilder
    let folder = try TemporaryFolder()
    func load(ratio: Float) throws -> Model {
      var initializers = [
        B.floats("w1", [4, 8], (0..<32).map { Float($0 % 7) / 10 - 0.3 }),
        B.floats("w2", [8, 2], (0..<16).map { Float($0 % 5) / 10 - 0.2 }),
      ]
      var dropout = B.node("Dropout", ["h"], "d")
      if opset >= 12 {
        initializers.append(B.floats("ratio", [], [ratio]))
        dropout.input.append("ratio")
      } else {
        var attribute = Onnx_AttributeProto()
        attribute.name = "ratio"
        attribute.type = .float
        attribute.f = ratio
        dropout.attribute = [attribute]
      }
      var proto = B.model(
        input: [1, 4], initializers: initializers,
        nodes: [
          B.node("Gemm", ["x", "w1"], "g"), B.node("Relu", ["g"], "h"), dropout,
          B.node("Gemm", ["d", "w2"], "y"),
        ], output: "y")
      proto.opsetImport[0].version = opset
      return try ONNXImporter.load(
        path: folder.write("m\(ratio).onnx", proto), inputShape: nil, classNames: nil)
    }
    let net = try load(ratio: ratio), plain = try load(ratio: 0)
    #expect(net.specs.contains(.dropout(rate: ratio)) && net.layerIndex(named: "d") != nil)
    #expect(!plain.specs.contains { if case .dropout = $0 { true } else { false } })
    var g = SeededGenerator(seed: 9)
    let x = Tensor.uniform(shape: [40, 4], low: -1, high: 1, generator: &g)
    #expect(net.predict(x) == plain.predict(x))
    let labels = (0..<40).map { $0 % 2 }
    let options = TrainingOptions(epochs: 2, batchSize: 20, learningRate: 0.1, seed: 9)
    let trained = try net.fitted(inputs: x, labels: labels, options: options)
    let trainedPlain = try plain.fitted(inputs: x, labels: labels, options: options)
    #expect(trained.layers[0].parameters[0] != trainedPlain.layers[0].parameters[0])
  }
}
