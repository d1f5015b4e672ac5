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
/// one with `nn.MultiheadAttention` (whose export moves the batch axis into the middle of its
/// values and merges it with the heads), at opsets 13 and 17. Imported, each computes what
/// ONNX Runtime computed for the same input, at its output and at every node sigbook keeps.
@Suite("ONNX graph import")
struct ONNXGraphImportTests {
  static let models = [
    "resnet_op13", "resnet_op17", "mobilenet_op13", "mobilenet_op17", "vit_op13", "vit_op17",
    "vit_mha_op13", "vit_mha_op17",
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
    let path = try fixture("graphs/\(name).onnx")
    let importer = try ONNXImporter.imported(
      try ONNXImporter.read(path: path), path: path, inputShape: nil)
    let model = try Self.load(name)
    let x = try Self.input(for: name)
    let data = try Data(contentsOf: URL(fileURLWithPath: fixture("graphs/\(name)/manifest.json")))
    let manifest = try JSONDecoder().decode([ManifestEntry].self, from: data)
    var compared = 0, laidOut = 0
    for entry in manifest {
      guard let i = model.layerIndex(named: entry.node) else { continue }
      let expected = try fixtureTensor("graphs/\(name)/\(entry.file)")
      var got = model.hiddenOutputs(x, at: [i], pooling: .none)[0]
      if let layout = importer.layouts[entry.node] {
        // The node's value lies otherwise than the layer holds it ([tokens, batch · heads, d]):
        // the layer's output, its axes in the layout's order, is the node's value.
        let full = Constant(shape: [x.shape[0]] + importer.shapes[i + 1], floats: got.scalars)
        got = full.transposed(layout.order).tensor
        laidOut += 1
      }
      #expect(
        got.count == expected.count, "\(entry.node): \(got.shape) against \(entry.shape)")
      let error = largestRelativeError(got.scalars, expected.scalars)
      #expect(error < 1e-4, "\(entry.node) (\(entry.op)) differs by \(error)")
      compared += 1
    }
    // Most nodes become layers of their own name; the rest were folded or computed at import.
    #expect(compared * 2 >= manifest.count, "\(compared) of \(manifest.count) nodes compared")
    // nn.MultiheadAttention's values from its projections to its output: q, k, v, their
    // heads, the scores, the weights, the context.
    #expect(laidOut == (name.hasPrefix("vit_mha") ? 12 : 0), "\(laidOut) laid-out nodes")
  }

  @Test("a graph's signatures are the ends of its residual blocks")
  func signaturesAreBlockOutputs() throws {
    let model = try Self.load("resnet_op17")
    let names = model.hiddenLayerIndices.map { model.layerNames[$0] }
    #expect(names == ["/stage1/relu2/Relu", "/stage2/relu2/Relu", "/stage3/relu2/Relu"])
  }

  @Test(
    "an imported graph saves as ONNX and reads back the same",
    arguments: ["resnet_op13", "vit_op17", "vit_mha_op17"])
  func importedGraphRoundTrips(name: String) throws {
    let model = try Self.load(name)
    let bytes = try ONNXExporter.encode(model)
    let again = try ONNXImporter.load(
      ONNXImporter.decode(Data(bytes), path: "again.onnx"), path: "again.onnx", inputShape: nil,
      classNames: nil)
    let x = try Self.input(for: name)
    #expect(largestRelativeError(again.forward(x).scalars, model.forward(x).scalars) < 1e-5)
  }

  /// `nn.MultiheadAttention`'s export, its values `[tokens, batch · heads, d]`, becomes
  /// per-input attention: the weights of each head for one input, `[heads, tokens, tokens]`.
  @Test("nn.MultiheadAttention's heads are each input's own", arguments: [13, 17])
  func multiheadAttentionIsPerInput(opset: Int) throws {
    let model = try Self.load("vit_mha_op\(opset)")
    let softmax = try #require(model.layerIndex(named: "/blocks/blocks.0/attn/mha/Softmax"))
    let x = try Self.input(for: "vit_mha_op\(opset)")
    let weights = model.hiddenOutputs(x, at: [softmax], pooling: .none)[0]
    #expect(weights.shape == [x.shape[0], 4 * 17 * 17])
    // Each row of weights sums to one.
    let rows = weights.scalars.count / 17
    for r in stride(from: 0, to: rows, by: 97) {
      let sum = weights.scalars[r * 17..<(r + 1) * 17].reduce(0, +)
      #expect(abs(sum - 1) < 1e-5)
    }
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

/// Values whose batch axis an export moved: followed through transposes and reshapes that
/// merge it with another axis and split it off again, and refused by name where they cannot be
/// read.
@Suite("ONNX values whose batch axis moved")
struct ONNXLayoutTests {
  typealias B = ONNXModelBuilder

  /// `x` of shape [batch, 3, 4] through `nodes`, the batch symbolic.
  static func load(_ nodes: [Onnx_NodeProto], _ initializers: [Onnx_TensorProto] = [])
    throws(ONNXError) -> Model
  {
    var proto = B.model(input: [1, 3, 4], initializers: initializers, nodes: nodes, output: "y")
    proto.graph.input[0].type.tensorType.shape.dim[0].dimParam = "batch"
    return try ONNXImporter.load(proto, path: "moved.onnx", inputShape: nil, classNames: nil)
  }

  /// [batch, tokens, width] → [tokens, batch, width] → [tokens, batch · 2, 2] →
  /// [batch · 2, tokens, 2] → [batch, 2, tokens, 2]: attention's heads, split off the width.
  @Test func headsSplitOffAndBack() throws {
    let model = try Self.load(
      [
        B.node("Transpose", ["x"], "t", [B.ints("perm", [1, 0, 2])]),
        B.node("Reshape", ["t", "heads"], "h"),
        B.node("Transpose", ["h"], "u", [B.ints("perm", [1, 0, 2])]),
        B.node("Reshape", ["u", "split"], "y"),
      ],
      [B.int64s("heads", [3], [0, -1, 2]), B.int64s("split", [4], [-1, 2, 3, 2])])
    let batch = 3
    let x = Tensor(shape: [batch, 3, 4], scalars: (0..<(batch * 12)).map(Float.init))
    let y = model.forward(x)
    #expect(y.shape == [batch, 2, 3, 2])
    // y[b, h, t, d] = x[b, t, 2h + d]
    var expected: [Float] = []
    for b in 0..<batch {
      for h in 0..<2 {
        for t in 0..<3 { for d in 0..<2 { expected.append(x.scalars[b * 12 + t * 4 + 2 * h + d]) } }
      }
    }
    #expect(y.scalars == expected)
  }

  @Test func valuesThatCannotBeReadAreRefusedByName() throws {
    let transpose = B.node("Transpose", ["x"], "t", [B.ints("perm", [1, 0, 2])])
    let output = try #require(throws: ONNXError.self) {
      try Self.load([transpose, B.node("Relu", ["t"], "y")])
    }
    #expect(
      output.description.contains(
        "its output 'y' [3, batch, 4] does not have the batch as its first axis"), "\(output)")
    let reduce = try #require(throws: ONNXError.self) {
      try Self.load([transpose, B.node("ReduceMean", ["t"], "y", [B.ints("axes", [2])])])
    }
    #expect(
      reduce.description.contains(
        "node 'y' (ReduceMean): takes 't' [3, batch, 4], whose batch axis an earlier node moved from the front"
      ), "\(reduce)")
    let merged = try #require(throws: ONNXError.self) {
      try Self.load(
        [transpose, B.node("Reshape", ["t", "shape"], "y")], [B.int64s("shape", [2], [5, -1])])
    }
    #expect(
      merged.description.contains(
        "node 'y' (Reshape): reshapes [3, batch, 4] to [5, -1]; sigbook reshapes such values only by merging or splitting their axes"
      ), "\(merged)")
  }
}
