import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData
@testable import SigbookNN
@testable import SigbookONNX
@testable import SigbookWorkbook

/// Graph models exported by `torch.onnx.export` (`scripts/make-graph-fixtures.py`): a ResNet, a
/// MobileNet block stack (depthwise convolutions, ReLU6, hard-swish), a ViT written by hand and
/// one with `nn.MultiheadAttention`, at opsets 13 and 17. Imported, each computes what ONNX
/// Runtime computed for the same input, at its output and at every node sigbook keeps — but
/// the last, whose export moves the batch axis into the middle of its values and merges it
/// with the heads, which sigbook refuses by name.
@Suite("ONNX graph import")
struct ONNXGraphImportTests {
  static let models = [
    "resnet_op13", "resnet_op17", "mobilenet_op13", "mobilenet_op17", "vit_op13", "vit_op17",
  ]

  struct ManifestEntry: Decodable {
    let node: String
    let op: String
    let output: String
    let file: String
    let shape: [Int]
  }

  static func input(for name: String) throws -> Tensor {
    try fixtureTensor(name.hasPrefix("mobilenet") ? "graphs/x32.npy" : "graphs/x28.npy")
  }

  static func load(_ name: String) throws -> Model {
    try ONNXImporter.load(
      path: fixture("graphs/\(name).onnx"), inputShape: nil, classNames: nil)
  }

  @Test("the output equals ONNX Runtime's", arguments: models)
  func outputMatchesONNXRuntime(name: String) throws {
    let model = try Self.load(name)
    let x = try Self.input(for: name)
    let expected = try fixtureTensor("graphs/\(name)/output.npy")
    let output = model.forward(x)
    #expect(output.shape == expected.shape)
    #expect(largestRelativeError(output.scalars, expected.scalars) < 1e-4)
    // The batch is symbolic in the file: one input gives the first row.
    let one = model.forward(x.rows(0..<1))
    #expect(largestRelativeError(one.scalars, Array(expected.scalars.prefix(one.count))) < 1e-4)
    #expect(model.isGraph)
  }

  @Test("every node kept computes what ONNX Runtime computed", arguments: models)
  func nodesMatchONNXRuntime(name: String) throws {
    let model = try Self.load(name)
    let x = try Self.input(for: name)
    let data = try Data(contentsOf: URL(fileURLWithPath: fixture("graphs/\(name)/manifest.json")))
    let manifest = try JSONDecoder().decode([ManifestEntry].self, from: data)
    var compared = 0
    for entry in manifest {
      guard let i = model.layerIndex(named: entry.node) else { continue }
      let expected = try fixtureTensor("graphs/\(name)/\(entry.file)")
      let got = model.hiddenOutputs(x, at: [i], pooling: .none)[0]
      #expect(
        got.count == expected.count, "\(entry.node): \(got.shape) against \(entry.shape)")
      let error = largestRelativeError(got.scalars, expected.scalars)
      #expect(error < 1e-4, "\(entry.node) (\(entry.op)) differs by \(error)")
      compared += 1
    }
    // Most nodes become layers of their own name; the rest were folded or computed at import.
    #expect(compared * 2 >= manifest.count, "\(compared) of \(manifest.count) nodes compared")
  }

  @Test("a graph's signatures are the ends of its residual blocks")
  func signaturesAreBlockOutputs() throws {
    let model = try Self.load("resnet_op17")
    let names = model.hiddenLayerIndices.map { model.layerNames[$0] }
    #expect(names == ["/stage1/relu2/Relu", "/stage2/relu2/Relu", "/stage3/relu2/Relu"])
  }

  @Test(
    "an imported graph saves as ONNX and reads back the same",
    arguments: ["resnet_op13", "vit_op17"])
  func importedGraphRoundTrips(name: String) throws {
    let model = try Self.load(name)
    let bytes = try ONNXExporter.encode(model)
    let again = try ONNXImporter.load(
      ONNXImporter.decode(Data(bytes), path: "again.onnx"), path: "again.onnx", inputShape: nil,
      classNames: nil)
    let x = try Self.input(for: name)
    #expect(largestRelativeError(again.forward(x).scalars, model.forward(x).scalars) < 1e-5)
  }

  /// `nn.MultiheadAttention` is exported as `[tokens, batch, width]` values reshaped to
  /// `[tokens, batch · heads, d]`: refused at the node, saying why.
  @Test("nn.MultiheadAttention's export is refused at its first transpose", arguments: [13, 17])
  func multiheadAttentionIsRefused(opset: Int) throws {
    let error = try #require(throws: ONNXError.self) {
      try Self.load("vit_mha_op\(opset)")
    }
    #expect(
      error.description.contains(
        "node '/blocks/blocks.0/attn/mha/MatMul' (MatMul): takes '/blocks/blocks.0/attn/mha/Transpose_output_0', a transpose [1, 0, 2] that moves the batch axis"
      ), "\(error)")
  }

  /// In a workbook: the nodes listed by name, signatures taken at the ends of the residual
  /// blocks by default and at any node by name, pooled over the maps.
  @Test func workbooksOpenAGraphAtItsNodes() throws {
    let folder = try #require(Bundle.module.url(forResource: "Fixtures/graphs", withExtension: nil))
    let workbook = ONNXWorkbook(
      folder: folder.path,
      figures: FileManager.default.temporaryDirectory.path + "/sigbook-graphs.figures")
    try workbook.run(
      """
      net = load_onnx("resnet_op17.onnx")
      x = npy("x28.npy")
      sig = signatures(net, x)
      sig.layers
      at = signatures(net, x, at: ["/stage2/Add", "/stem/stem.2/Relu"], pool: .mean)
      at.layers
      """)
    #expect(workbook.values == ["3", "2"])
    let error = try #require(throws: WorkbookError.self) {
      try workbook.run("signatures(net, x, at: [\"/stage2/add\"])")
    }
    #expect(error.hint == "did you mean '/stage2/Add'?", "\(error)")
  }
}
