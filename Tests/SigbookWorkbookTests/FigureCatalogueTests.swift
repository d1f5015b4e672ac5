import Foundation
#if canImport(FoundationXML)
  import FoundationXML
#endif
import SigbookTestSupport
import Testing

@testable import SigbookPlot
@testable import SigbookWorkbook

/// Every figure function of the catalogue, from workbook code to SVG files.
@Suite("Figure functions") struct FigureCatalogueTests {
  static let setup = """
    digits = mnist_sample(digits: [1, 7])
    train, test = split(digits, test: 0.2, seed: 7)
    net = fit(mlp(784, 32, 64, 2), train, epochs: 5, batch: 32, lr: 0.05, seed: 7, validation: test)
    sig = signatures(net, test)
    clusters = kmeans(sig, k: 2...6, restarts: 3, seed: 7)
    threes = mnist_sample(digits: [3], per_class: 50)
    pts = synthetic(.two_gaussians, n: 100, sigma: 0.3)
    flat = fit(mlp(2, 8, 2), pts, epochs: 5)
    ae = fit(autoencoder(784, 16, 4), digits, epochs: 1, optimizer: .adam, lr: 0.005)
    """

  static let kinds: [(code: String, kind: String)] = [
    ("scatter(pca(clusters[2]), color: .cluster)", "scatter"),
    ("sankey(clusters)", "sankey"),
    ("silhouette_plot(clusters)", "silhouette_plot"),
    ("loss_plot(net)", "loss_plot"),
    ("images(test, count: 8)", "images"),
    ("reconstructions(ae, test, count: 4)", "reconstructions"),
    ("heatmap(sig, layer: 2)", "heatmap"),
    ("boundary(flat, pts, resolution: 20)", "boundary"),
    ("confusion_plot(net, test)", "confusion_plot"),
    ("roc(novelty(net, reference: train, normal: test, novel: threes))", "roc"),
    ("line(x: [1, 2, 3], y: [3, 1, 2], title: \"a<b & c\")", "line"),
  ]

  static func session(_ folder: TemporaryFolder) throws -> Session {
    let session = Session(
      file: "t", baseDirectory: folder.url.path, figuresDirectory: folder.path("t.figures"))
    _ = try runSource(setup, session: session)
    return session
  }

  @Test func everyKindIsWrittenAsValidSVGNamedAfterItsCell() throws {
    let folder = try TemporaryFolder()
    let session = try Self.session(folder)
    for (i, c) in Self.kinds.enumerated() {
      var written: [String] = []
      session.emit = { if case .figure(let name, _) = $0 { written.append(name) } }
      try session.run(try parseCell(c.code, file: "t").statements, cellNumber: i + 2)
      #expect(written == ["cell\(i + 2)-\(c.kind).svg"], "\(c.code)")
      let svg = try String(
        contentsOfFile: folder.path("t.figures/cell\(i + 2)-\(c.kind).svg"), encoding: .utf8)
      let parser = XMLParser(data: Data(svg.utf8))
      #expect(parser.parse(), "\(c.kind) is not well-formed XML")
      #expect(svg.contains("viewBox=") && svg.contains("<title>"), "\(c.kind)")
    }
  }

  @Test func figuresAreNamedByVariableThenByCellAndKind() throws {
    let folder = try TemporaryFolder()
    let session = try Self.session(folder)
    var written: [String] = []
    session.emit = { if case .figure(let name, _) = $0 { written.append(name) } }
    try session.run(
      try parseCell(
        "paths = sankey(clusters)\nscatter(pca(sig[1]))\nscatter(pca(sig[2]))\nsave(paths, \"flows\")",
        file: "t"
      ).statements,
      cellNumber: 4)
    #expect(written == ["flows.svg", "paths.svg", "cell4-scatter.svg", "cell4-scatter-2.svg"])
  }

  @Test func namesLeavingTheFiguresFolderAreRefused() throws {
    let folder = try TemporaryFolder()
    let session = try Self.session(folder)
    for name in ["../x.svg", "/tmp/x.svg", "sub/x.svg"] {
      let error = try #require(throws: WorkbookError.self) {
        _ = try runSource("save(sankey(clusters), \"\(name)\")", session: session)
      }
      #expect(
        error.message
          == "a figure name must be a plain file name inside the figures folder, not '\(name)'")
      #expect(error.location.column == 24)
    }
  }

  @Test func sankeyOfTheOneVersusSevenNetworkKeepsEveryInputAtEveryBoundary() throws {
    let folder = try TemporaryFolder()
    let session = try Self.session(folder)
    guard case .clustering(let c)? = session.variables["clusters"] else {
      Issue.record("no clustering"); return
    }
    let input = Plot.SankeyInput(
      assignments: c.layers.map(\.assignments), labels: c.layers[0].points.labels,
      labelNames: ["1", "7"])
    let layout = Plot.sankeyLayout(input)
    #expect(Set(layout.nodes.map(\.layer)) == [0, 1])
    let total = Double(c.count) * layout.pixelsPerInput
    let widths = layout.bands.filter { $0.flow.layer == 0 }.reduce(0) { $0 + $1.thickness }
    #expect(abs(widths - total) < 1e-6)
  }

  @Test func colouringByClustersNeedsAClustering() throws {
    let folder = try TemporaryFolder()
    let session = try Self.session(folder)
    let error = try #require(throws: WorkbookError.self) {
      _ = try runSource("scatter(pca(sig[1]), color: .cluster)", session: session)
    }
    #expect(error.message.hasPrefix("this projection has no clusters"))
  }
}
