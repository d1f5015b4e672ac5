import Foundation
import SigbookTestSupport
import Testing

/// What `sigbook run` shows and writes for models that end at their logits, figures saved more
/// than once, and the notebook it writes.
@Suite(
  "Logits, saved figures and notebooks through the command line",
  .enabled(if: Binary.isBuilt, "needs the built sigbook binary (swift build)"))
struct ReportedOutputsTests {
  /// The width in pixels of a PNG, from its IHDR chunk.
  static func pngWidth(_ data: Data) -> Int? {
    let bytes = [UInt8](data)
    guard bytes.count >= 24, bytes[12..<16].elementsEqual(Array("IHDR".utf8)) else { return nil }
    return bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
  }

  @Test func aLinearOutputModelTrainsEvaluatesAndPredictsProbabilities() throws {
    let folder = try TemporaryFolder()
    try folder.write(
      "l.sigbook",
      """
      ```sigbook
      d = synthetic(.two_gaussians, n: 200, seed: 1)
      net = fit(mlp(2, 8, 2, output: .linear), d, epochs: 2)
      evaluate(net, d)
      print(accuracy(net, d))
      predict(net, d[0..<6])
      ```
      """)
    let result = try Binary.run(["run", "l.sigbook"], in: folder.url)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("cross_entropy loss"))
    let lines = result.stdout.split(separator: "\n")
    let header = try #require(
      lines.firstIndex { $0.hasPrefix("input") && $0.contains("probability") })
    let rows = lines[(header + 2)...].prefix(6)
    #expect(rows.count == 6)
    for row in rows {
      let last = row.split(separator: " ").last.map(String.init) ?? ""
      let p = try #require(Double(last), "no probability in '\(row)'")
      // The probability of the predicted one of two classes.
      #expect(p >= 0.5 && p <= 1, "probability \(p) in '\(row)'")
    }
  }

  static let savedTwice = """
    ```sigbook
    flows = line(x: [1, 2, 3], y: [3, 1, 2])
    ```

    ```sigbook
    save(flows, "flows.pdf")
    ```

    ```sigbook
    save(flows, "flows.png", dpi: 300)
    ```
    """

  @Test func savingABoundFigureInOtherFormatsAddsNoFigureOutput() throws {
    let folder = try TemporaryFolder()
    try folder.write("s.sigbook", Self.savedTwice)
    let result = try Binary.run(["run", "s.sigbook", "--report"], in: folder.url)
    #expect(result.status == 0, "\(result.stderr)")
    for name in ["flows.svg", "flows.pdf", "flows.png"] {
      #expect(folder.exists("s.figures/" + name))
      let said = result.stdout.components(separatedBy: "figure: s.figures/" + name).count - 1
      #expect(said == 1, "\(name) reported \(said) times:\n\(result.stdout)")
    }
    let report = try folder.read("s.report.md")
    #expect(report.components(separatedBy: "](s.figures/flows.svg)").count - 1 == 1, "\(report)")
    let html = try folder.read("s.report.html")
    #expect(html.components(separatedBy: "<figcaption>flows.svg").count - 1 == 1)
    let notebook = try #require(
      try JSONSerialization.jsonObject(with: Data(folder.read("s.ipynb").utf8)) as? [String: Any])
    let cells = try #require(notebook["cells"] as? [[String: Any]])
    let figures = cells.flatMap { ($0["outputs"] as? [[String: Any]]) ?? [] }.filter {
      (($0["data"] as? [String: Any])?["image/svg+xml"]) != nil
    }
    #expect(figures.count == 1)
  }

  @Test func anExplicitDPIWinsOverTheRunWideFigureFormats() throws {
    var widths: [Int] = []
    for arguments in [[], ["--figures", "svg,png"], ["--figures", "png", "--dpi", "72"]] {
      let folder = try TemporaryFolder()
      try folder.write(
        "d.sigbook",
        """
        ```sigbook
        fig = line(x: [1, 2, 3], y: [3, 1, 2])
        save(fig, "fig.png", dpi: 300)
        ```
        """)
      let result = try Binary.run(["run", "d.sigbook"] + arguments, in: folder.url)
      #expect(result.status == 0, "\(result.stderr)")
      let data = try Data(contentsOf: folder.url.appendingPathComponent("d.figures/fig.png"))
      widths.append(try #require(Self.pngWidth(data)))
    }
    #expect(widths[0] > 1000, "\(widths)")
    #expect(widths == [widths[0], widths[0], widths[0]], "\(widths)")
  }

  /// A figure shown again in a later cell is shown again (as the REPL shows `f`), but the
  /// `--figures png` copy does not overwrite the PNG `save` wrote with its own dpi.
  @Test func showingASavedFigureAgainShowsItButKeepsTheSavedPNG() throws {
    var widths: [Int] = []
    for arguments in [[], ["--figures", "svg,png"]] {
      let folder = try TemporaryFolder()
      try folder.write(
        "a.sigbook",
        """
        ```sigbook
        fig = line(x: [1, 2, 3], y: [3, 1, 2])
        save(fig, "fig.png", dpi: 300)
        ```

        ```sigbook
        fig
        ```
        """)
      let result = try Binary.run(["run", "a.sigbook", "--report"] + arguments, in: folder.url)
      #expect(result.status == 0, "\(result.stderr)")
      let report = try folder.read("a.report.md")
      #expect(report.components(separatedBy: "](a.figures/fig.svg)").count - 1 == 2, "\(report)")
      let data = try Data(contentsOf: folder.url.appendingPathComponent("a.figures/fig.png"))
      widths.append(try #require(Self.pngWidth(data)))
    }
    #expect(widths.count == 2 && widths[0] == widths[1], "\(widths)")
  }

  @Test func theNotebookNamesTheSigbookKernel() throws {
    let folder = try TemporaryFolder()
    try folder.write("n.sigbook", "```sigbook\nprint(1)\n```\n")
    let result = try Binary.run(["run", "n.sigbook", "--report"], in: folder.url)
    #expect(result.status == 0, "\(result.stderr)")
    let notebook = try #require(
      try JSONSerialization.jsonObject(with: Data(folder.read("n.ipynb").utf8)) as? [String: Any])
    let metadata = try #require(notebook["metadata"] as? [String: Any])
    let kernelspec = try #require(metadata["kernelspec"] as? [String: String])
    #expect(kernelspec == ["name": "sigbook", "display_name": "sigbook", "language": "sigbook"])
    #expect((metadata["language_info"] as? [String: Any])?["name"] as? String == "sigbook")
  }

  @Test func helpListsEachCategoryOnce() throws {
    let folder = try TemporaryFolder()
    let result = try Binary.run(["help"], in: folder.url)
    #expect(result.status == 0)
    let headings = result.stdout.split(separator: "\n").filter {
      !$0.hasPrefix(" ") && !$0.isEmpty
    }
    #expect(Set(headings).count == headings.count, "\(headings)")
    #expect(headings.contains("Models") && headings.contains("Layers"))
  }
}
