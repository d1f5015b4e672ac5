import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookWorkbook

/// The text of a fixture workbook.
func fixture(_ name: String) throws -> String {
  let url = try #require(
    Bundle.module.url(forResource: "Fixtures/workbooks/\(name)", withExtension: nil))
  return try String(contentsOf: url, encoding: .utf8)
}

/// The names of the fixture workbooks.
let fixtureNames = ["one-vs-seven.sigbook", "novelty.sigbook", "toy.sigbook"]

@Suite("Workbook document") struct WorkbookDocumentTests {
  static let mixed = """
    # Title

    ```sigbook
    x = 1
    y = f(x)
    ```
    Text ```sigbook
    ~~~python
    ```sigbook
    ~~~
        ```sigbook
    ~~~~ sigbook title="t"
    z = 2
    ~~~~
    ```sigbook
    ```
    ```sigbooks
    ```
    ``` sigbook
    w = 3
    ```
    """

  @Test func findsOnlySigbookFencesWithTheirFileLines() {
    let document = WorkbookDocument(text: Self.mixed, file: "m.sigbook")
    #expect(document.errors.isEmpty)
    #expect(document.cells.map(\.index) == [1, 2, 3, 4])
    #expect(document.cells.map(\.firstLine) == [4, 13, 16, 20])
    #expect(document.cells.map(\.source) == ["x = 1\ny = f(x)\n", "z = 2\n", "", "w = 3\n"])
    #expect(
      document.cells.map(\.openingFence) == [
        "```sigbook\n", "~~~~ sigbook title=\"t\"\n", "```sigbook\n", "``` sigbook\n",
      ])
    #expect(document.text == Self.mixed)
    guard case .prose(let between) = document.blocks[2] else {
      Issue.record("expected prose between the cells")
      return
    }
    #expect(between.firstLine == 7)
    #expect(between.text == "Text ```sigbook\n~~~python\n```sigbook\n~~~\n    ```sigbook\n")
  }

  @Test func reportsAnUnclosedCellAtItsFence() throws {
    let text = "intro\n\n  ```sigbook\nx = 1\n"
    let document = WorkbookDocument(text: text, file: "u.sigbook")
    let error = try #require(document.errors.first)
    #expect(error.message == "unclosed sigbook cell")
    #expect(error.location == SourceLocation(file: "u.sigbook", line: 3, column: 3))
    #expect(error.hint == "end the cell with a line of 3 '`'")
    #expect(document.cells.map(\.source) == ["x = 1\n"])
    #expect(document.cells.first?.isClosed == false)
    #expect(document.text == text)
    let (_, cells, errors) = parseWorkbook(text: text, file: "u.sigbook")
    #expect(errors == [error])
    #expect(cells.first?.hasErrors == true)
  }

  static let structure: [(text: String, sources: [String])] = [
    ("```python\n```sigbook\nx\n", []),  // an unclosed fence of another language: all prose
    ("````sigbook\n```\nx = 1\n````\n", ["```\nx = 1\n"]),  // closed only by a long enough run
    ("~~~sigbook\nx\n```\n~~~", ["x\n```\n"]),  // closed only by the same character
    ("```sigbook`\nx\n```\n", []),  // a backtick in the info string: not a fence
    ("```Sigbook\nx\n```\n", []),
    ("```sigbook\r\nx = 1\r\n```\r\nafter\r\n", ["x = 1\r\n"]),
    ("```sigbook\nx\n```   \n", ["x\n"]),
    ("```sigbook\nx\n``` y\n```\n", ["x\n``` y\n"]),
    ("```sigbook\nx\n```", ["x\n"]),
    ("", []),
  ]

  @Test(arguments: structure)
  func followsCommonMarkFences(_ c: (text: String, sources: [String])) {
    let document = WorkbookDocument(text: c.text, file: "s")
    #expect(document.cells.map(\.source) == c.sources)
    #expect(document.text == c.text)
  }

  @Test func errorsInACellReportFileLines() throws {
    let prose = (1...8).map { "prose line \($0)\n" }.joined()
    let text = prose + "```sigbook\nx = 1\ny = fit(net train)\n```\n"
    let (document, cells, errors) = parseWorkbook(text: text, file: "w.sigbook")
    #expect(document.cells.first?.firstLine == 10)
    #expect(cells.first?.firstLine == 10)
    let error = try #require(errors.first)
    #expect(error.location == SourceLocation(file: "w.sigbook", line: 11, column: 13))
    #expect(error.rendered(in: text).contains("\n  y = fit(net train)\n"))
  }

  @Test func collectsTheErrorsOfEveryCell() {
    let text = """
      ```sigbook
      a = (1
      ```
      ```sigbook
      good = 1
      ```
      ```sigbook
      b = %
      c = [1 2]
      ```
      """
    let (_, cells, errors) = parseWorkbook(text: text, file: "w")
    #expect(
      errors.map(\.message) == ["unclosed '('", "unexpected character '%'", "expected ',' or ']'"])
    #expect(errors.map(\.location.line) == [2, 8, 9])
    #expect(cells.map(\.hasErrors) == [true, false, true])
    #expect(cells[1].statements.map(\.tree) == ["(= good 1)"])
  }

  @Test(arguments: fixtureNames)
  func readsTheFixtureWorkbooks(_ name: String) throws {
    let text = try fixture(name)
    let (document, cells, errors) = parseWorkbook(text: text, file: name)
    #expect(errors.isEmpty, "\(errors.map { $0.rendered(in: text) })")
    #expect(document.text == text)
    #expect(!cells.isEmpty && cells.count == document.cells.count)
    for (cell, source) in zip(cells, document.cells) {
      #expect(source.firstLine >= 2)
      let reparsed = try parseCell(cell.source, file: name)
      #expect(reparsed.isEquivalent(to: cell))
    }
  }

  @Test func fixtureCellsStartWhereTheFileSays() throws {
    let text = try fixture("one-vs-seven.sigbook")
    let document = WorkbookDocument(text: text, file: "one-vs-seven.sigbook")
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(document.cells.count == 4)
    for cell in document.cells {
      #expect(lines[cell.firstLine - 2] == "```sigbook")
      #expect(cell.source.hasPrefix(String(lines[cell.firstLine - 1])))
    }
    let novelty = WorkbookDocument(text: try fixture("novelty.sigbook"), file: "n")
    #expect(novelty.cells.count == 3)
    #expect(novelty.cells.allSatisfy { !$0.source.contains("this is not") })
  }

  @Test func buildsANewWorkbookFromBlocks() throws {
    let cell = try parseCell("net=fit(mlp(2,2),data)\nnet.history", file: "repl")
    let document = WorkbookDocument(
      file: "out.sigbook",
      blocks: [
        .prose(.init(text: "# Session\n\n", firstLine: 1)),
        .cell(.init(index: 1, source: cell.source, firstLine: 4)),
      ])
    #expect(
      document.text == "# Session\n\n```sigbook\nnet = fit(mlp(2, 2), data)\nnet.history\n```\n")
    let (_, cells, errors) = parseWorkbook(text: document.text, file: "out.sigbook")
    #expect(errors.isEmpty && cells.count == 1 && cells[0].isEquivalent(to: cell))
  }

  @Test func readsAFileOrSaysWhyNot() throws {
    let missing = URL(fileURLWithPath: "/nonexistent/w.sigbook")
    let error = try #require(throws: WorkbookError.self) {
      try WorkbookDocument(contentsOf: missing, file: "w.sigbook")
    }
    #expect(error.kind == .io && error.description == "w.sigbook: error: no such file 'w.sigbook'")
  }
}
