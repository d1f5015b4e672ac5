import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookData
@testable import SigbookNN
@testable import SigbookWorkbook
@testable import SigbookONNX

/// A PyTorch MLP exported with `torch.onnx.export`'s defaults ends at its logits (no Softmax
/// node): sigbook reads them as logits and applies the softmax once, as ONNX Runtime + NumPy do
/// (`scripts/make-logits-fixture.py`).
@Suite("ONNX models that end at their logits") struct ONNXLogitsTests {
  /// What ONNX Runtime and NumPy computed for the fixture's inputs.
  struct Reference: Decodable {
    var normal_logits: [[Double]]
    var novel_logits: [[Double]]
    var normal_scores: [Double]
    var novel_scores: [Double]
    var auroc: Double
  }

  static func reference() throws -> Reference {
    try JSONDecoder().decode(
      Reference.self, from: Data(contentsOf: URL(fileURLWithPath: fixture("logits_reference.json")))
    )
  }

  @Test func theModelIsReadAsLogitsAndItsOutputsAreONNXRuntimes() throws {
    let net = try ONNXImporter.load(
      path: fixture("logits_mlp.onnx"), inputShape: nil, classNames: nil)
    #expect(net.outputKind == .logits)
    #expect(net.task == .classification)
    let reference = try Self.reference()
    let out = net.predict(try fixtureTensor("logits_normal.npy"))
    let error = largestRelativeError(
      out.scalars, reference.normal_logits.flatMap { $0.map(Float.init) })
    #expect(error <= 1e-5, "logits: relative error \(error)")
    let probabilities = net.probabilities(ofOutputs: out)
    for i in 0..<probabilities.rows {
      let row = (0..<3).map { Double(probabilities[flat: i * 3 + $0]) }
      #expect(row.allSatisfy { (0...1).contains($0) })
      #expect(abs(row.reduce(0, +) - 1) <= 1e-6)
    }
  }

  @Test func softmaxNoveltyEqualsONNXRuntimeAndNumPy() throws {
    let folder = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    let figures = try TemporaryFolder()
    let workbook = ONNXWorkbook(folder: folder.path, figures: figures.path("f.figures"))
    let session = workbook.session
    try workbook.run(
      """
      net = load_onnx("logits_mlp.onnx")
      normal = npy("logits_normal.npy")
      novel = npy("logits_novel.npy")
      n = novelty(net, reference: normal, normal: normal, novel: novel, method: .softmax)
      """)
    guard case .novelty(let result)? = session.variables["n"] else {
      Issue.record("novelty gave \(String(describing: session.variables["n"]))")
      return
    }
    let reference = try Self.reference()
    let row = try #require(result.rows.first)
    #expect(row.normalScores.count == reference.normal_scores.count)
    let scoreError =
      zip(
        row.normalScores + row.novelScores, reference.normal_scores + reference.novel_scores
      ).map { abs($0 - $1) }.max() ?? .infinity
    #expect(scoreError <= 1e-6, "MSP scores differ from ONNX Runtime + NumPy by \(scoreError)")
    let auroc = try #require(row.auroc)
    #expect(abs(auroc - reference.auroc) <= 1e-6, "AUROC \(auroc), reference \(reference.auroc)")
  }

  @Test func evaluateAndPredictTakeTheLogitsModel() throws {
    let net = try ONNXImporter.load(
      path: fixture("logits_mlp.onnx"), inputShape: nil, classNames: nil)
    let x = try fixtureTensor("logits_normal.npy")
    let data = Dataset(
      name: "normal", features: x, labels: (0..<x.rows).map { min(2, $0 / 14) },
      classNames: ["0", "1", "2"])
    let evaluation = net.evaluation(on: data)
    #expect(evaluation.title?.hasPrefix("cross_entropy loss") == true)
    let predictions = net.predictions(on: data)
    let column = try #require(predictions.columns.firstIndex(of: "probability"))
    for row in predictions.rows {
      guard case .number(let p) = row[column] else {
        Issue.record("probability \(row[column])")
        continue
      }
      #expect(p >= 1.0 / 3 && p <= 1)
    }
  }

  @Test func aSavedLinearOutputModelStaysLogitsThroughONNX() throws {
    let net = try Model.mlp([4, 6, 3], output: .linear, seed: 1)
    #expect(net.outputKind == .logits)
    let folder = try TemporaryFolder()
    let path = try folder.write("m.onnx", try ONNXFormat().encode(net))
    let loaded = try ONNXImporter.load(path: path, inputShape: nil, classNames: nil)
    #expect(loaded.outputKind == .logits)
    let soft = try ONNXImporter.load(
      path: try folder.write("s.onnx", try ONNXFormat().encode(try Model.mlp([4, 6, 3], seed: 1))),
      inputShape: nil, classNames: nil)
    #expect(soft.outputKind == .probabilities)
  }
}
