import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookAnalysis
@testable import SigbookWorkbook

/// The science of sigbook on the embedded sample: a 1-vs-7 network's signatures, clustered,
/// followed through the layers, and used to detect an unseen digit.
@Suite("Signature analysis") struct SignatureAnalysisTests {
  static let source = """
    digits = mnist_sample(digits: [1, 7])
    train, test = split(digits, test: 0.2, seed: 7)
    net = fit(mlp(784, 32, 64, 2), train, epochs: 5, batch: 32, lr: 0.05, seed: 7)
    sig = signatures(net, test)
    clusters = kmeans(sig, k: 2...6, restarts: 3, seed: 7)
    threes = mnist_sample(digits: [3], per_class: 100)
    """

  static func session() throws -> Session {
    let session = Session(
      file: "t", baseDirectory: "/tmp", figuresDirectory: "/tmp/sigbook-analysis.figures")
    _ = try runSource(source, session: session)
    return session
  }

  @Test func signaturesHaveOneLayerPerHiddenActivation() throws {
    let session = try Self.session()
    guard case .signatures(let sig)? = session.variables["sig"] else {
      Issue.record("no signatures"); return
    }
    #expect(sig.layers.map(\.shape) == [[200, 32], [200, 64]])
    #expect(sig.predictions?.count == 200 && sig.classNames == ["1", "7"])
    #expect(try runSource("sig[2].width", session: session) == ["64"])
    let error = try #require(throws: WorkbookError.self) {
      _ = try runSource("sig[3]", session: session)
    }
    #expect(error.message.hasPrefix("layer 3 is out of range: the signatures have layers 1 to 2"))
  }

  @Test func layerReportAndPathsRun() throws {
    let session = try Self.session()
    let report = try runSource("layer_report(clusters)", session: session)[0]
    #expect(report.contains("H1") && report.contains("H2") && report.contains("nmi"))
    guard case .clustering(let c)? = session.variables["clusters"] else {
      Issue.record("no clustering"); return
    }
    // The 1-vs-7 network separates the classes: the last layer's clusters follow the labels.
    let last = try #require(c.layers.last)
    #expect(Metrics.adjustedRandIndex(last.assignments, last.points.labels) > 0.8)
    let paths = c.pathTable
    #expect(
      paths.rows.reduce(0) { total, row in
        if case .number(let n) = row[1] { total + Int(n) } else { total }
      } == 200)
  }

  @Test func noveltyOfThreesBeatsTheSoftmaxBaselineWithKNN() throws {
    let session = try Self.session()
    _ = try runSource(
      """
      knn = novelty(net, reference: train, normal: test, novel: threes, method: .knn)
      soft = novelty(net, reference: train, normal: test, novel: threes, method: .softmax)
      maha = novelty(net, reference: train, normal: test, novel: threes, method: .mahalanobis)
      cent = novelty(net, reference: train, normal: test, novel: threes, method: .centroid)
      """, session: session)
    func best(_ name: String) -> Double? {
      guard case .novelty(let n)? = session.variables[name] else { return nil }
      return n.best?.auroc
    }
    let knn = try #require(best("knn")), soft = try #require(best("soft"))
    #expect(knn > soft, "knn \(knn) vs softmax \(soft)")
    #expect(knn > 0.9)
    #expect(try #require(best("maha")) > 0.5 && (try #require(best("cent"))) > 0.5)
  }

  @Test func assignKeepsTheClustersAndPcaReportsTrustworthiness() throws {
    let session = try Self.session()
    _ = try runSource(
      "a = assign(clusters, signatures(net, threes))\np = pca(clusters[2])", session: session)
    guard case .clustering(let a)? = session.variables["a"],
      case .clustering(let c)? = session.variables["clusters"],
      case .projection(let p)? = session.variables["p"]
    else { Issue.record("missing values"); return }
    #expect(a.layers.map(\.k) == c.layers.map(\.k) && a.count == 100)
    #expect(a.layers[0].result.centres == c.layers[0].result.centres)
    #expect(p.points.shape == [200, 2] && p.clusters == c.layers[1].assignments)
    #expect(try #require(p.trustworthiness) > 0.8)
  }

  @Test func clusteringAnotherWidthIsExplained() throws {
    let session = try Self.session()
    let error = try #require(throws: WorkbookError.self) {
      _ = try runSource("assign(clusters, mnist_sample(per_class: 1))", session: session)
    }
    #expect(error.message == "the clustering has 2 layers but these points have 1")
  }

  @Test(.enabled(if: Python.hasNumPy, "needs python3 with numpy; skipped"))
  func exportedFilesLoadInNumPy() throws {
    let folder = try TemporaryFolder()
    let session = try Self.session()
    session.figuresDirectory = folder.path("t.figures")
    _ = try runSource(
      "export(sig[2], \"h2.npy\")\nexport(clusters[1], \"c1.npy\")\nexport(pca(sig[1]), \"p.npy\")\nexport(test, \"test.npy\")",
      session: session)
    let output = try Python.run(
      """
      import sys, numpy as np
      for name in sys.argv[1:]:
          a = np.load(name)
          print(a.dtype, a.shape)
      """, ["h2.npy", "c1.npy", "p.npy", "test.npy"].map { folder.path("t.figures/" + $0) })
    #expect(
      output == "float32 (200, 64)\nint64 (200,)\nfloat32 (200, 2)\nfloat32 (200, 1, 28, 28)\n")
  }
}
