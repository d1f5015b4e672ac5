import SigbookTestSupport
import Testing

@testable import SigbookAnalysis
@testable import SigbookWorkbook

@Suite("Workbook errors") struct WorkbookErrorTests {
  @Test func rendersTheLineWithACaretUnderTheColumn() {
    let error = WorkbookError(
      kind: .value, message: "mlp expects 784 inputs but 'train' has 64 features",
      location: SourceLocation(file: "one-vs-seven.sigbook", line: 14, column: 22), length: 5,
      hint: "did you mean 'kmeans'?")
    let expected = """
      one-vs-seven.sigbook:14:22: error: mlp expects 784 inputs but 'train' has 64 features
        net = fit(mlp(784, 32, 2), train)
                             ^~~~~
        hint: did you mean 'kmeans'?
      """
    #expect(error.rendered(sourceLine: "net = fit(mlp(784, 32, 2), train)") == expected)
  }

  @Test func picksTheLineFromTheWholeFile() {
    let text = "# title\n\n```sigbook\nx = 1\nnet = fit(net train)\n```\n"
    let error = WorkbookError(
      kind: .syntax, message: "expected ',' or ')'",
      location: SourceLocation(file: "w.sigbook", line: 5, column: 15), length: 5)
    #expect(
      error.rendered(in: text) == """
        w.sigbook:5:15: error: expected ',' or ')'
          net = fit(net train)
                        ^~~~~
        """)
  }

  @Test func parseErrorsRenderAgainstTheirCell() throws {
    let text = "Prose.\n\n```sigbook\nx = 1\ny = kmeans(sig, k: )\n```\n"
    let (_, _, errors) = parseWorkbook(text: text, file: "w.sigbook")
    let error = try #require(errors.first)
    #expect(
      error.rendered(in: text) == """
        w.sigbook:5:20: error: expected a value
          y = kmeans(sig, k: )
                             ^
        """)
  }

  @Test func keepsTabsSoTheCaretStaysAligned() {
    let error = WorkbookError(
      kind: .syntax, message: "m", location: SourceLocation(file: "f", line: 1, column: 3))
    #expect(error.rendered(sourceLine: "\t\tx") == "f:1:3: error: m\n  \t\tx\n  \t\t^")
  }

  @Test func neverUnderlinesPastTheEndOfTheLine() {
    let long = WorkbookError(
      kind: .syntax, message: "m", location: SourceLocation(file: "f", line: 1, column: 3),
      length: Int.max)
    #expect(long.rendered(sourceLine: "f(a,") == "f:1:3: error: m\n  f(a,\n    ^~")
    let after = WorkbookError(
      kind: .syntax, message: "m", location: SourceLocation(file: "f", line: 1, column: 6),
      length: 3)
    #expect(after.rendered(sourceLine: "x = ") == "f:1:6: error: m\n  x = \n       ^")
  }

  @Test func leavesOutWhatIsUnknown() {
    let noLine = WorkbookError(
      kind: .io, message: "cannot read 'w.sigbook'",
      location: SourceLocation(file: "w.sigbook", line: 0, column: 0))
    #expect(noLine.description == "w.sigbook: error: cannot read 'w.sigbook'")
    #expect(noLine.rendered(in: "x") == "w.sigbook: error: cannot read 'w.sigbook'")
    let hinted = WorkbookError(
      kind: .name, message: "unknown function 'kmean'",
      location: SourceLocation(file: "w", line: 2, column: 1), length: 5,
      hint: "did you mean 'kmeans'?")
    #expect(
      hinted.description == "w:2:1: error: unknown function 'kmean'\n  hint: did you mean 'kmeans'?"
    )
    #expect(hinted.rendered(in: "only one line") == hinted.description)
  }

  static let names = [
    "kmeans", "pca", "tsne", "umap", "fit", "mlp", "mnist", "mnist_sample", "epochs", "batch",
    "signatures", "silhouette", "silhouette_plot", "sankey", "scatter", "seed",
  ]

  static let nearest: [(name: String, suggestion: String?)] = [
    ("kmean", "kmeans"),
    ("KMeans", "kmeans"),
    ("fti", "fit"),
    ("mnist_smaple", "mnist_sample"),
    ("epoch", "epochs"),
    ("signature", "signatures"),
    ("silhouete_plot", "silhouette_plot"),
    ("x", nil),
    ("zzzzzz", nil),
    ("umpa", "umap"),
    ("kmeans", nil),
    ("", nil),
  ]

  @Test(arguments: nearest)
  func suggestsTheNearestKnownName(_ c: (name: String, suggestion: String?)) {
    #expect(nearestName(to: c.name, among: Self.names) == c.suggestion)
  }

  @Test func breaksTiesAlphabetically() {
    #expect(nearestName(to: "cat", among: ["hat", "bat"]) == "bat")
    #expect(nearestName(to: "cat", among: ["bat", "hat"]) == "bat")
  }
}
