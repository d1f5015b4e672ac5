import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookPlot
@testable import SigbookWorkbook

/// `save` and the session's figure formats: the workbook side of PDF and PNG.
@Suite("Figures as PDF and PNG in a session") struct FigureFormatSessionTests {
  static let source = """
    pts = synthetic(.two_gaussians, n: 120, sigma: 0.3, seed: 3)
    net = fit(mlp(2, 6, 4, 2), pts, epochs: 3, seed: 3)
    clusters = kmeans(signatures(net, pts), k: 2...3, restarts: 2, seed: 3)
    flows = sankey(clusters)
    curve = loss_plot(net)
    save(scatter(pca(clusters[1])), "points.png", dpi: 300)
    save(flows, "flows-copy.pdf")
    """

  /// Runs `source` in a fresh session in a fresh folder; returns the folder and the names emitted.
  static func run(
    _ source: String, formats: [FigureFormat] = [.svg]
  ) throws -> (folder: TemporaryFolder, emitted: [String]) {
    let folder = try TemporaryFolder()
    let session = Session(
      file: "t.sigbook", baseDirectory: folder.url.path, figuresDirectory: folder.path("t.figures"))
    session.figureFormats = formats
    var emitted: [String] = []
    session.emit = { if case .figure(let name, _) = $0 { emitted.append(name) } }
    try session.run(try parseCell(source, file: "t.sigbook").statements, cellNumber: 1)
    return (folder, emitted)
  }

  @Test func saveWritesTheSVGAndTheFormatItsNameAsksFor() throws {
    let (_, emitted) = try Self.run(Self.source)
    #expect(
      emitted == [
        "points.svg", "points.png", "flows-copy.svg", "flows-copy.pdf", "flows.svg", "curve.svg",
      ])
  }

  @Test func everyFigureIsWrittenInEveryListedFormat() throws {
    let (folder, emitted) = try Self.run(Self.source, formats: [.svg, .pdf, .png])
    #expect(
      emitted == [
        "points.svg", "points.pdf", "points.png", "flows-copy.svg", "flows-copy.pdf",
        "flows-copy.png", "flows.svg", "flows.pdf", "flows.png", "curve.svg", "curve.pdf",
        "curve.png",
      ])
    // save's dpi: 300 holds for its PNG; the others use the session's 150.
    let svg = try String(contentsOfFile: folder.path("t.figures/points.svg"), encoding: .utf8)
    let size = try SVGRenderer.size(of: svg)
    let points = try RGBImage(
      png: Array(try Data(contentsOf: folder.url.appendingPathComponent("t.figures/points.png"))))
    #expect(points.width == Int((size.width * 300 / 96).rounded()))
    let curveSVG = try String(contentsOfFile: folder.path("t.figures/curve.svg"), encoding: .utf8)
    let curve = try RGBImage(
      png: Array(try Data(contentsOf: folder.url.appendingPathComponent("t.figures/curve.png"))))
    #expect(curve.width == Int((try SVGRenderer.size(of: curveSVG).width * 150 / 96).rounded()))
  }

  @Test func theSameWorkbookRunTwiceGivesByteIdenticalPDFAndPNGFiles() throws {
    let first = try Self.run(Self.source, formats: [.svg, .pdf, .png])
    let second = try Self.run(Self.source, formats: [.svg, .pdf, .png])
    #expect(first.emitted == second.emitted)
    for name in first.emitted {
      let a = try Data(contentsOf: first.folder.url.appendingPathComponent("t.figures/" + name))
      let b = try Data(contentsOf: second.folder.url.appendingPathComponent("t.figures/" + name))
      #expect(a == b, "\(name) differs between two runs")
    }
  }

  @Test func pdfAndPNGNamesFollowTheSVGRules() throws {
    for name in ["../x.pdf", "/tmp/x.png", "sub/x.pdf", ".pdf"] {
      let error = try #require(throws: WorkbookError.self) {
        _ = try Self.run("save(line(x: [1, 2], y: [2, 1]), \"\(name)\")")
      }
      #expect(
        error.message
          == "a figure name must be a plain file name inside the figures folder, not '\(name)'")
    }
    #expect((try? Session.figureFileName("x.pdf")) == "x.svg")
    #expect((try? Session.figureFileName("x.png")) == "x.svg")
  }

  @Test func saveRefusesAResolutionOutOfRangeAndBlamesIt() throws {
    let error = try #require(throws: WorkbookError.self) {
      _ = try Self.run("save(line(x: [1, 2], y: [2, 1]), \"x.png\", dpi: 5000)")
    }
    #expect(error.message == "dpi must be between 10 and 1200, not 5000")
    #expect(error.location.column == 48)
  }
}
