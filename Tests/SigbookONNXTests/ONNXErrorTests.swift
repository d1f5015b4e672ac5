import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookONNX

/// Corrupt and unsupported ONNX files: each error names the file and says what is wrong.
@Suite("ONNX errors") struct ONNXErrorTests {
  /// The error loading `path`, which must name the file.
  static func error(
    _ path: String, input: [Int]? = nil, classes: [String]? = nil
  ) throws -> String {
    let error = try #require(throws: ONNXError.self) {
      try ONNXImporter.load(path: path, inputShape: input, classNames: classes)
    }
    #expect(error.description.hasPrefix("'\(path)': "), "\(error)")
    return error.description
  }

  @Test func truncatedFilesAreExplained() throws {
    let folder = try TemporaryFolder()
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture("mlp.onnx"))))
    let path = try folder.write("cut.onnx", Array(bytes.prefix(bytes.count / 2)))
    #expect(try Self.error(path).contains("is truncated or corrupt"))
  }

  @Test(arguments: [
    Array("this is a text file, not a model\n".utf8), [0xff, 0xff, 0xff, 0xff, 0x0f],
    Array(repeating: 0, count: 64),
  ])
  func filesThatAreNotProtobufAreExplained(_ bytes: [UInt8]) throws {
    let folder = try TemporaryFolder()
    let path = try folder.write("model.onnx", bytes)
    let message = try Self.error(path)
    #expect(
      message.contains("is not an ONNX model") || message.contains("is truncated"), "\(message)")
  }

  @Test func emptyAndMissingFilesAreExplained() throws {
    let folder = try TemporaryFolder()
    #expect(try Self.error(folder.write("empty.onnx", [])).contains("is empty"))
    #expect(try Self.error(folder.path("nowhere.onnx")).contains("does not exist"))
  }

  @Test func unknownOperatorsNameTheNodeAndWhatIsSupported() throws {
    let folder = try TemporaryFolder()
    var proto = try fixtureProto("mlp.onnx")
    let index = try #require(proto.graph.node.firstIndex { $0.opType == "Tanh" })
    proto.graph.node[index].opType = "LSTM"
    let message = try Self.error(folder.write("lstm.onnx", proto))
    #expect(
      message.contains(
        "node '/act2/Tanh' (LSTM): sigbook does not import the operator LSTM; it imports Add, AveragePool"
      ),
      "\(message)")
  }

  @Test func unsupportedAttributesNameTheNodeAndWhatIsSupported() throws {
    let folder = try TemporaryFolder()
    var proto = try fixtureProto("cnn.onnx")
    let index = try #require(proto.graph.node.firstIndex { $0.opType == "Conv" })
    var attribute = Onnx_AttributeProto()
    attribute.name = "group"
    attribute.type = .int
    attribute.i = 2
    proto.graph.node[index].attribute.removeAll { $0.name == "group" }
    proto.graph.node[index].attribute.append(attribute)
    let grouped = try Self.error(folder.write("grouped.onnx", proto))
    #expect(
      grouped.contains(
        "(Conv): its weight [4, 1, 3, 3] in 2 groups takes 2 channels but its input is [1, 28, 28]"),
      "\(grouped)")
    attribute.name = "mystery"
    proto.graph.node[index].attribute.append(attribute)
    let unknown = try Self.error(folder.write("mystery.onnx", proto))
    #expect(
      unknown.contains("attribute 'mystery' is not supported; Conv may carry auto_pad, dilations"))
  }

  @Test func dynamicShapesAskForTheInputShape() throws {
    let folder = try TemporaryFolder()
    var proto = try fixtureProto("cnn.onnx")
    for i in 2...3 { proto.graph.input[0].type.tensorType.shape.dim[i].dimParam = "side" }
    let path = try folder.write("dynamic.onnx", proto)
    let message = try Self.error(path)
    #expect(
      message.contains(
        "input 'input' has [batch, 1, side, side]: its sizes other than the batch are dynamic")
        && message.contains("load_onnx(\"dynamic.onnx\", input: [1, 28, 28])"), "\(message)")
    // Given the shape, it loads and computes what PyTorch did.
    let net = try ONNXImporter.load(path: path, inputShape: [1, 28, 28], classNames: nil)
    let x = try fixtureTensor("x.npy")
    #expect(
      largestRelativeError(net.predict(x).scalars, try fixtureTensor("cnn_out.npy").scalars) <= 1e-5
    )
    #expect(
      try Self.error(path, input: [3, 28, 28]).contains("which input: [3, 28, 28] contradicts"))
    // A reshape to a size that depends on values sigbook cannot know.
    var reshaping = try fixtureProto("mlp.onnx")
    let gather = try #require(reshaping.graph.node.firstIndex { $0.opType == "Gather" })
    reshaping.graph.node[gather].opType = "NonZero"
    reshaping.graph.node[gather].attribute = []
    #expect(try Self.error(folder.write("nonzero.onnx", reshaping)).contains("operator NonZero"))
  }

  @Test func controlFlowAndMismatchedClassesAreExplained() throws {
    let folder = try TemporaryFolder()
    var proto = try fixtureProto("mlp.onnx")
    let index = try #require(proto.graph.node.firstIndex { $0.name == "/act2/Tanh" })
    proto.graph.node[index].opType = "If"
    #expect(
      try Self.error(folder.write("if.onnx", proto)).contains(
        "node '/act2/Tanh' (If): is control flow; sigbook imports graphs without control flow, made of Add, AveragePool"
      ))
    #expect(
      try Self.error(fixture("mlp.onnx"), classes: ["a", "b"]).contains(
        "classes: names 2 classes but the model has 10 outputs"))
  }

  /// A batch normalisation whose variance is below zero used to fold to NaN weights without a
  /// word; it is refused naming the file, the node and the channel, whether it follows a dense
  /// layer (folded into it) or stands alone (a per-channel affine layer).
  @Test func batchNormalizationWithANegativeVarianceIsRefused() throws {
    typealias B = ONNXModelBuilder
    let folder = try TemporaryFolder()
    func model(variance: [Float], afterDense: Bool) -> Onnx_ModelProto {
      let norm = ["scale", "bias", "mean", "variance"]
      return B.model(
        input: [1, 2],
        initializers: [
          B.floats("w", [2, 2], [1, 2, 3, 4]), B.floats("scale", [2], [1, 1]),
          B.floats("bias", [2], [0, 0]), B.floats("mean", [2], [0, 0]),
          B.floats("variance", [2], variance),
        ],
        nodes: afterDense
          ? [B.node("Gemm", ["x", "w"], "h"), B.node("BatchNormalization", ["h"] + norm, "y")]
          : [B.node("BatchNormalization", ["x"] + norm, "y")],
        output: "y")
    }
    for afterDense in [true, false] {
      let path = try folder.write("bn.onnx", model(variance: [1, -0.5], afterDense: afterDense))
      #expect(
        try Self.error(path).contains(
          "node 'y' (BatchNormalization): channel 1 has variance -0.5 (epsilon 1e-05); a "
            + "variance must be at least 0"))
      // A variance of zero is fine: epsilon keeps the square root above zero.
      let valid = try folder.write("ok.onnx", model(variance: [1, 0], afterDense: afterDense))
      let net = try ONNXImporter.load(path: valid, inputShape: nil, classNames: nil)
      #expect(net.predict(Tensor(shape: [1, 2], scalars: [1, 1])).isFinite)
    }
  }
}
