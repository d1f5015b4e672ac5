import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookWorkbook

@Suite("Serve: dependency graph and notebook")
struct DependencyGraphTests {
  static func cells(_ text: String) -> [Cell] { parseWorkbook(text: text, file: "t").cells }

  static let workbook = """
    ```sigbook
    data = synthetic(.two_gaussians, n: 20)
    lr = 0.1
    ```

    ```sigbook
    func train(d, rate: 0.1) {
      return fit(mlp(2, 2), d, lr: rate * scale)
    }
    scale = 1
    ```

    ```sigbook
    net = train(data, rate: lr)
    ```

    ```sigbook
    total = 0
    for x in [1, 2] { total = total + x }
    print(total, data.count)
    ```
    """

  @Test func readsAndWritesFromTheSyntaxTree() {
    let graph = DependencyGraph(cells: Self.cells(Self.workbook))
    #expect(graph.cells[0].writes == ["data", "lr"])
    #expect(graph.cells[0].reads == ["synthetic"])
    // A function's body reads `scale` when called: the defining cell reads it.
    #expect(graph.cells[1].writes == ["train", "scale"])
    #expect(graph.cells[1].reads.contains("scale") && !graph.cells[1].reads.contains("d"))
    #expect(graph.cells[2].reads == ["train", "data", "lr"])
    // `total` is assigned before the loop reads it: not an input.
    #expect(graph.cells[3].reads == ["data", "print"])
    #expect(graph.cells[3].writes == ["total", "x"])
  }

  @Test func staleCellsFollowTheNames() {
    let graph = DependencyGraph(cells: Self.cells(Self.workbook))
    #expect(graph.staleCells(changed: [1]) == [1, 3, 4])
    #expect(graph.staleCells(changed: [2]) == [2, 3])
    #expect(graph.staleCells(changed: [4]) == [4])
    let edited = Self.workbook.replacingOccurrences(of: "print(total", with: "print(total + 1")
    #expect(
      DependencyGraph.changedCells(from: Self.cells(Self.workbook), to: Self.cells(edited)) == [4])
  }

  @Test func proseIsCommonMark() {
    #expect(
      MarkdownHTML.render("Compute 2 * 3 * 4, *once*.")
        == "<p>Compute 2 * 3 * 4, <em>once</em>.</p>\n")
    #expect(MarkdownHTML.render("`a*b` and a_b_c") == "<p><code>a*b</code> and a_b_c</p>\n")
  }

  /// Whether python3 has the `nbformat` package.
  static let hasNbformat = Python.imports("nbformat")

  @Test(
    .enabled(
      if: hasNbformat,
      "needs Python's nbformat package to validate the notebook: pip install nbformat"))
  func writesAValidNotebook() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "sigbook-ipynb-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("nb.sigbook").path
    try """
    # Notebook

    Prose with 2 * 3 * 4.

    ```sigbook
    data = synthetic(.two_gaussians, n: 20, seed: 1)
    print("count", data.count)
    data.count
    curve = loss_plot(fit(mlp(2, 4, 2, seed: 1), data, epochs: 2, seed: 1))
    ```

    ```sigbook
    nothing_here(1)
    ```
    """.write(toFile: path, atomically: true, encoding: .utf8)
    let runner = try WorkbookRunner(path: path)
    runner.run(options: WorkbookRunner.Options(keepGoing: true))
    let written = try NotebookWriter(runner: runner).write()
    let text = try Python.run(
      """
      import nbformat, sys
      nb = nbformat.read(sys.argv[1], as_version=4)
      nbformat.validate(nb)
      kinds = [o.output_type for c in nb.cells if c.cell_type == 'code' for o in c.outputs]
      svg = [o for c in nb.cells if c.cell_type == 'code' for o in c.outputs if 'image/svg+xml' in o.get('data', {})]
      print(nb.nbformat, len(nb.cells), ','.join(kinds), len(svg))
      """,
      [written])
    #expect(text == "4 3 stream,execute_result,display_data,error 1\n")
  }
}
