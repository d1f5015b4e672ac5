import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookNN
@testable import SigbookPlot
@testable import SigbookWorkbook

/// The catalogue's figures that compare or combine, from workbook code: names in legends and
/// captions, the errors that say why, and what `fit` now records.
@Suite("Figure functions that compare") struct FigureComparisonCatalogueTests {
  /// The texts of the SVG a line of workbook code makes (its last statement's figure).
  static func texts(_ code: String, _ session: Session) throws -> (kind: String, texts: [String]) {
    _ = try runSource("f__ = " + code, session: session)
    guard case .figure(let f)? = session.variables["f__"] else {
      Issue.record("\(code) gave no figure")
      return ("", [])
    }
    let parsed = ParsedSVG(f.svg)
    #expect(parsed.error == nil, "\(code)")
    return (f.kind, parsed.texts)
  }

  /// Old code drew one column without ribbons and called H2 "L1".
  @Test func sankeyOfOneLayerIsAnErrorThatSaysWhy() throws {
    let folder = try TemporaryFolder()
    let session = try FigureCatalogueTests.session(folder)
    let error = try #require(throws: WorkbookError.self) {
      _ = try runSource("sankey(clusters[2])", session: session)
    }
    #expect(
      error.message
        == "a Sankey needs two or more layers; this clustering has one (H2) — pass the whole clustering"
    )
    #expect(error.location.column == 8)
    #expect(error.hint == "or add output: true to follow its clusters to the network's predictions")
    _ = try runSource("c2 = clusters[2]", session: session)
    let named = try #require(throws: WorkbookError.self) {
      _ = try runSource("sankey(c2)", session: session)
    }
    #expect(named.message.hasPrefix("a Sankey needs two or more layers; 'c2' has one (H2)"))
    // With the predictions as a second column, one layer is enough.
    let (kind, texts) = try Self.texts("sankey(clusters[2], output: true)", session)
    #expect(kind == "sankey")
    #expect(texts.contains("H2") && texts.contains("prediction"))
    #expect(texts.contains { $0.hasPrefix("L2:c0 (") } && !texts.contains { $0.hasPrefix("L1:") })
    #expect(texts.contains { $0.hasPrefix("7 (") })
  }

  @Test func sankeyWithOutputAddsThePredictionsAsALastColumn() throws {
    let folder = try TemporaryFolder()
    let session = try FigureCatalogueTests.session(folder)
    let (_, texts) = try Self.texts("sankey(clusters, output: true)", session)
    #expect(["H1", "H2", "prediction"].allSatisfy(texts.contains))
    #expect(
      texts.contains { $0.hasPrefix("L1:c0 (") } && texts.contains { $0.hasPrefix("L2:c0 (") })
    #expect(texts.contains { $0.hasPrefix("1 (") } && texts.contains { $0.hasPrefix("7 (") })
    let error = try #require(throws: WorkbookError.self) {
      _ = try runSource("sankey(kmeans(pts, k: 2), output: true)", session: session)
    }
    #expect(error.message.hasPrefix("output: true needs the network's predictions"))
  }

  /// Old code named the layer of `clusters[2]` "L1" in paths while layer_report said "H2".
  @Test func pathsOfOneLayerUseItsRealNumber() throws {
    let folder = try TemporaryFolder()
    let session = try FigureCatalogueTests.session(folder)
    _ = try runSource(
      "p2 = paths(clusters[2])\nr2 = layer_report(clusters[2])\np = paths(clusters)",
      session: session)
    guard case .table(let p2)? = session.variables["p2"],
      case .table(let r2)? = session.variables["r2"],
      case .table(let p)? = session.variables["p"]
    else {
      Issue.record("no tables")
      return
    }
    #expect(r2.rows.first?.first == .text("H2"))
    #expect(!p2.rows.isEmpty)
    for row in p2.rows {
      guard case .text(let path)? = row.first else { continue }
      #expect(path.hasPrefix("L2:c") && !path.contains("→"), "\(path)")
    }
    for row in p.rows {
      guard case .text(let path)? = row.first else { continue }
      #expect(path.hasPrefix("L1:c") && path.contains(" → L2:c"), "\(path)")
    }
  }

  /// Old code refused a range for `x:` (it took ranges only where whole numbers were expected).
  @Test func lineTakesRangesAndSeveralSeries() throws {
    let folder = try TemporaryFolder()
    let session = try FigureCatalogueTests.session(folder)
    #expect(try Self.texts("line(x: 1...3, y: [3, 1, 2])", session).kind == "line")
    let (_, texts) = try Self.texts(
      "line(x: 0..<3, y: [[1, 2, 3], [3, 2.5, 1]], labels: [\"rise\", \"fall\"], title: \"two\")",
      session)
    #expect(texts.contains("rise") && texts.contains("fall") && texts.contains("two"))
    let cases: [(code: String, message: String)] = [
      ("line(x: 1...3, y: [[1, 2, 3], [1, 2]])", "series 2 of y has 2 values but x has 3"),
      ("line(x: 1...3, y: [1, 2])", "x has 3 values but y has 2"),
      (
        "line(x: 1...3, y: [[1, 2, 3], [3, 2, 1]], labels: [\"a\"])",
        "labels has 1 name but y has 2 series"
      ),
    ]
    for c in cases {
      let error = try #require(throws: WorkbookError.self) {
        _ = try runSource(c.code, session: session)
      }
      #expect(error.message == c.message)
    }
  }

  /// The figure catalogue's session (in a folder kept while the caller holds it) with two novelty
  /// results bound: `knn` and `soft`.
  static func noveltySession() throws -> (TemporaryFolder, Session) {
    let folder = try TemporaryFolder()
    let session = try FigureCatalogueTests.session(folder)
    _ = try runSource(
      "knn = novelty(net, reference: train, normal: test, novel: threes)\n"
        + "soft = novelty(net, reference: train, normal: test, novel: threes, method: .softmax)",
      session: session)
    return (folder, session)
  }

  @Test func rocAndLossPlotNameEachArgumentByItsVariable() throws {
    let (folder, session) = try Self.noveltySession()
    defer { withExtendedLifetime(folder) {} }
    let (kind, texts) = try Self.texts("roc(knn, soft)", session)
    #expect(kind == "roc")
    #expect(texts.contains { $0.hasPrefix("knn · H1 (AUROC ") })
    #expect(texts.contains { $0.hasPrefix("soft · output (AUROC ") })
    #expect(texts.contains("novelty: knn, soft"))
    // Not a variable: named by its method; the same name twice is told apart.
    let (_, unnamed) = try Self.texts(
      "roc(soft, novelty(net, reference: train, normal: test, novel: threes, method: .softmax), soft)",
      session)
    #expect(unnamed.contains { $0.hasPrefix("softmax · output (AUROC ") })
    #expect(unnamed.contains { $0.hasPrefix("soft (2) · output (AUROC ") })

    let (_, losses) = try Self.texts("loss_plot(net, flat)", session)
    #expect(["net", "flat", "training", "validation", "accuracy"].allSatisfy(losses.contains))
    let (_, batches) = try Self.texts("loss_plot(net, flat, per: .batch)", session)
    #expect(batches.contains("batch") && !batches.contains("accuracy"))
    let error = try #require(throws: WorkbookError.self) {
      _ = try runSource("loss_plot(net, mlp(2, 3, 2))", session: session)
    }
    #expect(error.message == "model 2 has not been trained here: it has no history")
    let none = try #require(throws: WorkbookError.self) {
      _ = try runSource("roc()", session: session)
    }
    #expect(none.message == "roc needs one or more novelty results")
  }

  @Test func labelsNameEachArgumentInsteadOfItsVariable() throws {
    let (folder, session) = try Self.noveltySession()
    defer { withExtendedLifetime(folder) {} }
    let (_, curves) = try Self.texts("roc(knn, soft, labels: [\"k-NN\", \"softmax\"])", session)
    #expect(curves.contains { $0.hasPrefix("k-NN · H1 (AUROC ") })
    #expect(curves.contains { $0.hasPrefix("softmax · output (AUROC ") })
    #expect(!curves.contains { $0.hasPrefix("knn · ") })
    let (_, losses) = try Self.texts(
      "loss_plot(net, flat, labels: [\"trained\", \"flat\"])", session)
    #expect(losses.contains("trained") && !losses.contains("net"))
    let error = try #require(throws: WorkbookError.self) {
      _ = try runSource("loss_plot(net, flat, labels: [\"one\"])", session: session)
    }
    #expect(error.message == "labels has 1 name for 2 models")
  }

  @Test func imagesCaptionedByPathNeedTheClusteringOfTheSameInputs() throws {
    let folder = try TemporaryFolder()
    let session = try FigureCatalogueTests.session(folder)
    guard case .clustering(let c)? = session.variables["clusters"] else {
      Issue.record("no clustering")
      return
    }
    let (_, texts) = try Self.texts(
      "images(test, count: 4, caption: .path, clusters: clusters)", session)
    let expected = (0..<4).map { i in c.pathName(c.layers.map { $0.assignments[i] }) }
    #expect(expected.allSatisfy { $0.hasPrefix("L1:c") && $0.contains(" → L2:c") })
    #expect(expected.allSatisfy(texts.contains))

    let (_, predicted) = try Self.texts(
      "images(test, count: 4, caption: .prediction, net: net)", session)
    #expect(predicted.filter { $0 == "1" || $0 == "7" }.count == 4)

    let cases: [(code: String, message: String)] = [
      (
        "images(train, caption: .path, clusters: clusters)",
        "'clusters' was computed on 200 inputs but 'train' has 800: a path needs the clustering of these same inputs"
      ),
      (
        "images(test, caption: .path)",
        "caption: .path needs the clustering of these inputs' signatures: pass clusters:"
      ),
      ("images(test, caption: .prediction)", "caption: .prediction needs the network: pass net:"),
    ]
    for c in cases {
      let error = try #require(throws: WorkbookError.self) {
        _ = try runSource(c.code, session: session)
      }
      #expect(error.message == c.message)
    }
  }

  @Test func gridCombinesFiguresAsPanels() throws {
    let folder = try TemporaryFolder()
    let session = try FigureCatalogueTests.session(folder)
    let (kind, texts) = try Self.texts(
      "grid(loss_plot(net), confusion_plot(net, test), columns: 1, title: \"both\")", session)
    #expect(kind == "grid")
    #expect(texts.contains("both") && texts.contains("predicted class") && texts.contains("epoch"))
    let none = try #require(throws: WorkbookError.self) {
      _ = try runSource("grid()", session: session)
    }
    #expect(none.message == "grid needs one or more figures")
    let zero = try #require(throws: WorkbookError.self) {
      _ = try runSource("grid(loss_plot(net), columns: 0)", session: session)
    }
    #expect(zero.message == "columns must be 1 or more, not 0")
  }

  @Test func fitKeepsTheLossOfEveryBatchAndItsTime() throws {
    let folder = try TemporaryFolder()
    let session = try FigureCatalogueTests.session(folder)
    guard case .model(let flat)? = session.variables["flat"], let history = flat.history else {
      Issue.record("no trained model")
      return
    }
    // 100 points in batches of 32: 32, 32, 32 and 4, five epochs.
    #expect(history.batchLosses.count == 5 * 4 && history.batchesPerEpoch == 4)
    for (e, record) in history.records.enumerated() {
      let b = history.batchLosses[e * 4..<(e + 1) * 4].map { $0 }
      let weighted = (32 * (b[0] + b[1] + b[2]) + 4 * b[3]) / 100
      #expect(abs(weighted - record.loss) <= 1e-9 * max(1, record.loss))
    }
    #expect(history.seconds.isFinite && history.seconds >= 0)
    let out = try runSource(
      "print(flat.history.batch_loss.count)\nprint(flat.seconds >= 0)\nprint(net.history.batch_loss.count)",
      session: session)
    #expect(out == ["20", "true", "125"])
  }
}
