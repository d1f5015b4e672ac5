import Foundation
import SigbookTestSupport
import Testing

/// `sigbook run --figures`, `sigbook render` and the REPL's `save` writing PDF and PNG.
@Suite(
  "Figures as PDF and PNG from the command line",
  .enabled(if: Binary.isBuilt, "needs the built sigbook binary (swift build)"))
struct FigureFormatCommandTests {
  static let workbook = """
    # Formats

    ```sigbook
    pts = synthetic(.two_gaussians, n: 80, sigma: 0.3, seed: 2)
    net = fit(mlp(2, 6, 2), pts, epochs: 2, seed: 2)
    curve = loss_plot(net)
    save(line(x: [1, 2, 3], y: [3, 1, 2]), "wave.png", dpi: 300)
    ```
    """

  @Test func runWritesEveryFigureInEveryListedFormatAndTheReportLinksTheSVG() throws {
    let folder = try TemporaryFolder()
    try folder.write("f.sigbook", Self.workbook)
    let result = try Binary.run(
      ["run", "f.sigbook", "--figures", "svg,pdf,png", "--report"], in: folder.url)
    #expect(result.status == 0, "\(result.stderr)")
    for name in ["curve.svg", "curve.pdf", "curve.png", "wave.svg", "wave.pdf", "wave.png"] {
      #expect(folder.exists("f.figures/" + name), "\(name) missing")
      #expect(result.stdout.contains("figure: f.figures/" + name), "\(name) not reported")
    }
    let report = try folder.read("f.report.md")
    #expect(report.contains("](f.figures/curve.svg)") && report.contains("](f.figures/wave.svg)"))
    #expect(!report.contains(".pdf)") && !report.contains(".png)"))
    let html = try folder.read("f.report.html")
    #expect(html.contains("<figcaption>wave.svg</figcaption>"))
    #expect(!html.contains("<figcaption>wave.png") && !html.contains("<figcaption>curve.pdf"))
  }

  @Test func twoRunsOfTheSameWorkbookGiveByteIdenticalFiles() throws {
    var files: [[String: Data]] = []
    for _ in 0..<2 {
      let folder = try TemporaryFolder()
      try folder.write("f.sigbook", Self.workbook)
      let result = try Binary.run(["run", "f.sigbook", "--figures", "pdf,png"], in: folder.url)
      #expect(result.status == 0, "\(result.stderr)")
      let dir = folder.url.appendingPathComponent("f.figures")
      let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
      files.append(
        Dictionary(
          uniqueKeysWithValues: try names.map {
            ($0, try Data(contentsOf: dir.appendingPathComponent($0)))
          }))
    }
    #expect(
      files[0].keys.sorted() == [
        "curve.pdf", "curve.png", "curve.svg", "wave.pdf", "wave.png", "wave.svg",
      ])
    for (name, bytes) in files[0] { #expect(files[1][name] == bytes, "\(name) differs") }
  }

  @Test func withoutFiguresOnlySVGIsWrittenForUnsavedFigures() throws {
    let folder = try TemporaryFolder()
    try folder.write("f.sigbook", Self.workbook)
    let result = try Binary.run(["run", "f.sigbook"], in: folder.url)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(folder.exists("f.figures/curve.svg") && !folder.exists("f.figures/curve.pdf"))
    #expect(!folder.exists("f.figures/curve.png"))
    // save(…, "wave.png") asks for the PNG itself.
    #expect(folder.exists("f.figures/wave.svg") && folder.exists("f.figures/wave.png"))
  }

  @Test func unknownFormatsAndResolutionsAreRefused() throws {
    let folder = try TemporaryFolder()
    try folder.write("f.sigbook", Self.workbook)
    let formats = try Binary.run(["run", "f.sigbook", "--figures", "svg,jpg"], in: folder.url)
    #expect(formats.status != 0 && formats.stderr.contains("--figures takes svg, pdf and png"))
    let dpi = try Binary.run(
      ["run", "f.sigbook", "--figures", "png", "--dpi", "5"], in: folder.url)
    #expect(dpi.status != 0 && dpi.stderr.contains("--dpi must be between 10 and 1200"))
  }

  @Test func renderTurnsSVGFilesIntoPNGAndPDFBesideThem() throws {
    let folder = try TemporaryFolder()
    try folder.write("f.sigbook", Self.workbook)
    #expect(try Binary.run(["run", "f.sigbook"], in: folder.url).status == 0)
    let png = try Binary.run(["render", "--dpi", "96", "f.figures"], in: folder.url)
    #expect(png.status == 0, "\(png.stderr)")
    #expect(png.stdout.contains("f.figures/curve.png"))
    let pdf = try Binary.run(["render", "--format", "pdf", "f.figures/curve.svg"], in: folder.url)
    #expect(pdf.status == 0 && folder.exists("f.figures/curve.pdf"), "\(pdf.stderr)")
    let bytes = try Data(contentsOf: folder.url.appendingPathComponent("f.figures/curve.pdf"))
    #expect(bytes.starts(with: Array("%PDF-".utf8)))
  }

  @Test func theREPLSavesPDFAndPNGThroughTheSameFunction() throws {
    let folder = try TemporaryFolder()
    let result = try Binary.run(
      ["repl"], in: folder.url,
      input: "f = line(x: [1, 2], y: [2, 1])\nsave(f, \"f.pdf\")\nsave(f, \"g.png\", dpi: 72)\n")
    #expect(result.status == 0, "\(result.stderr)")
    for name in ["f.svg", "f.pdf", "g.svg", "g.png"] {
      #expect(folder.exists("sigbook.figures/" + name), "\(name) missing: \(result.stdout)")
    }
  }
}
