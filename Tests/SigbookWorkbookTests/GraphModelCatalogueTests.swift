import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookAnalysis
@testable import SigbookNN
@testable import SigbookWorkbook

/// `resnet`, `vit`, `nodes` and `signatures(…, at:, pool:)` in the language, on the embedded
/// sample.
@Suite("Graph models in the language") struct GraphModelCatalogueTests {
  static func session() throws -> Session {
    let session = Session(
      file: "t", baseDirectory: "/tmp", figuresDirectory: "/tmp/sigbook-graph-catalogue.figures")
    _ = try runSource(
      """
      data = mnist_sample(digits: [1, 7], per_class: 20)
      res = resnet(input: [1, 28, 28], widths: [4, 8], classes: 2, seed: 1)
      tiny = vit(input: [1, 28, 28], patch: 7, width: 8, depth: 2, heads: 2, mlp: 16, classes: 2)
      """, session: session)
    return session
  }

  func signatures(_ source: String, _ session: Session) throws -> SignatureSet {
    _ = try runSource("s = \(source)", session: session)
    guard case .signatures(let set)? = session.variables["s"] else {
      Issue.record("no signatures for \(source)")
      throw CancellationError()
    }
    return set
  }

  /// `dropout:` of the builders and `dropout()` in `sequential` make dropout layers that `fit`
  /// drops with: the same call trains the same weights, other than those of no dropout.
  @Test func dropoutFromTheLanguageDropsInTraining() throws {
    let session = try Self.session()
    _ = try runSource(
      """
      a = fit(mlp(784, 16, 2, dropout: 0.5), data, epochs: 2, seed: 3)
      b = fit(mlp(784, 16, 2, dropout: 0.5), data, epochs: 2, seed: 3)
      c = fit(mlp(784, 16, 2), data, epochs: 2, seed: 3)
      s = sequential(dense(784, 16), relu(), dropout(0.5), dense(16, 2), softmax())
      v = vit(patch: 7, width: 8, depth: 1, heads: 2, mlp: 16, classes: 2, dropout: 0.1)
      """, session: session)
    guard case .model(let a)? = session.variables["a"],
      case .model(let b)? = session.variables["b"],
      case .model(let c)? = session.variables["c"], case .model(let s)? = session.variables["s"],
      case .model(let v)? = session.variables["v"]
    else {
      Issue.record("no models")
      return
    }
    #expect(a.hasSameWeights(as: b))
    #expect(a.layers[0].parameters != c.layers[0].parameters)
    #expect(a.summary == "mlp(784, 16, 2, dropout: 0.5)" && s.specs == a.specs)
    let names = ["pos_drop", "block1.attn.proj_drop", "block1.mlp.drop1", "block1.mlp.drop2"]
    #expect(names.allSatisfy { v.layerIndex(named: $0) != nil })
  }

  @Test func nodesListsEveryNodeWithItsInputsAndShape() throws {
    let session = try Self.session()
    _ = try runSource("t = nodes(res)", session: session)
    guard case .table(let table)? = session.variables["t"] else {
      Issue.record("nodes gave no table")
      return
    }
    #expect(table.columns == ["name", "operation", "takes", "output", "parameters", "signature"])
    let add = try #require(table.rows.first { $0[0] == .text("stage2.block1.add") })
    #expect(add[2] == .text("stage2.block1.bn2, stage2.block1.shortcut.bn"))
    #expect(add[3] == .text("8×14×14"))
    let signatureRows = table.rows.filter { $0[5] == .text("yes") }.map { $0[0] }
    #expect(signatureRows == [.text("stage1.block1"), .text("stage2.block1")])
  }

  @Test func signaturesAtNamedNodesPooled() throws {
    let session = try Self.session()
    let whole = try signatures("signatures(res, data)", session)
    #expect(whole.widths == [4 * 28 * 28, 8 * 14 * 14])
    #expect(whole.layerNames[1].hasPrefix("H2 · stage2.block1"))
    let pooled = try signatures(
      "signatures(res, data, at: [\"stage2.block1\", \"stem.relu\"], pool: .max)", session)
    // In the order the network runs them.
    #expect(pooled.widths == [4, 8])
    #expect(pooled.layerNames[0].hasPrefix("H1 · stem.relu"))
    // The max over positions is at least the mean.
    let mean = try signatures("signatures(res, data, at: \"stage2.block1\", pool: .mean)", session)
    #expect(zip(mean.layers[0].scalars, pooled.layers[1].scalars).allSatisfy { $0 <= $1 + 1e-6 })
    let tokens = try signatures("signatures(tiny, data, pool: .class_token)", session)
    #expect(tokens.widths == [8, 8])
    let averaged = try signatures("signatures(tiny, data, pool: .mean)", session)
    #expect(averaged.widths == [8, 8] && averaged.layers[0] != tokens.layers[0])
    // Everything downstream takes them.
    _ = try runSource("kmeans(s, k: 2, restarts: 1, seed: 1)", session: session)
  }

  /// A Sankey of signatures taken at named nodes heads each column with its node, so that H1
  /// and H2 of `at:` are not read as the network's first layers; a chain's own stay H1, H2.
  @Test func sankeyColumnsNameTheirNodes() throws {
    let session = try Self.session()
    _ = try runSource(
      """
      c = kmeans(signatures(res, data, at: ["stem.relu", "stage2.block1"], pool: .mean), k: 2, restarts: 1, seed: 1)
      f = sankey(c, output: true)
      chain = kmeans(signatures(mlp(784, 6, 4, 2, seed: 1), data), k: 2, restarts: 1, seed: 1)
      g = sankey(chain)
      """, session: session)
    guard case .figure(let f)? = session.variables["f"],
      case .figure(let g)? = session.variables["g"]
    else {
      Issue.record("no figures")
      return
    }
    let texts = ParsedSVG(f.svg).texts
    #expect(texts.contains("H1 · stem.relu") && texts.contains("H2 · stage2.block1"))
    #expect(texts.contains("prediction"))
    let chainTexts = ParsedSVG(g.svg).texts
    #expect(chainTexts.contains("H1") && chainTexts.contains("H2"))
    #expect(!chainTexts.contains { $0.hasPrefix("H1 · ") })
  }

  @Test func unknownNodesAndImpossiblePoolingAreExplained() throws {
    let session = try Self.session()
    let typo = try #require(throws: WorkbookError.self) {
      _ = try runSource("signatures(tiny, data, at: [\"block1.atn.softmax\"])", session: session)
    }
    #expect(typo.message == "the model has no node named 'block1.atn.softmax'")
    #expect(typo.hint == "did you mean 'block1.attn.softmax'?")
    let pooling = try #require(throws: WorkbookError.self) {
      _ = try runSource("signatures(res, data, pool: .class_token)", session: session)
    }
    #expect(pooling.message.contains("not tokens"))
    let patch = try #require(throws: WorkbookError.self) {
      _ = try runSource("vit(patch: 5)", session: session)
    }
    #expect(patch.message.contains("does not divide"))
  }
}
