import SigbookTestSupport
import Testing

@testable import SigbookWorkbook

@Suite("Parser errors") struct ParserErrorTests {
  static let cases: [(source: String, message: String, line: Int, column: Int)] = [
    ("fit(net train)", "expected ',' or ')'", 1, 9),
    ("kmeans(sig, k: )", "expected a value", 1, 16),
    ("net train", "expected '=' or a newline", 1, 5),
    ("f(x) y", "expected a newline", 1, 6),
    ("x = 1)", "unexpected ')'", 1, 6),
    (")", "unexpected ')'", 1, 1),
    ("}", "unexpected '}'", 1, 1),
    ("f(a: 1, b)", "a positional argument cannot follow a labelled one", 1, 9),
    ("f(k: 1, k: 2)", "the label 'k:' is given twice", 1, 9),
    ("f(a,, b)", "expected a value", 1, 5),
    ("for n [1, 2] { }", "'for' expects 'in'", 1, 7),
    ("for 3 in x { }", "expected a name after 'for'", 1, 5),
    ("for n in x print(n)", "expected '{'", 1, 12),
    ("for n in x\nprint(n)", "expected '{'", 1, 11),
    ("for n in x { y = }", "expected a value", 1, 18),
    ("for n in x { y } z", "expected a newline", 1, 18),
    ("x = f(a, b\ny = 2", "unclosed '('", 1, 6),
    ("xs = [1, 2", "unclosed '['", 1, 6),
    ("x = (1 + 2", "unclosed '('", 1, 5),
    ("sig[1", "unclosed '['", 1, 4),
    ("for n in x {\n  print(n)\n", "unclosed '{'", 1, 12),
    ("f(g(a,\n  b)\nc = 1", "unclosed '('", 1, 2),
    ("print(a,\n      b\n      c)", "expected ',' or ')'", 3, 7),
    ("x = [1, 2\ny = 3]", "expected ',' or ']'", 2, 1),
    ("x = ", "expected a value", 1, 5),
    ("x = -", "expected a value", 1, 6),
    ("x = in", "'in' is a keyword, not a value", 1, 5),
    ("x = (1 + 2 3)", "expected ')'", 1, 12),
    ("sig[1 2]", "expected ']'", 1, 7),
    ("[1 2]", "expected ',' or ']'", 1, 4),
    ("a < b < c", "comparisons cannot be chained", 1, 7),
    ("1...2...3", "ranges cannot be chained", 1, 6),
    ("net. history", "expected a field name after '.'", 1, 6),
    ("f(x)(y)", "only a function name can be followed by '('", 1, 5),
    ("a.b = 1", "only a name can be assigned to", 1, 1),
    ("a, 2 = f()", "expected a name", 1, 4),
    ("a, b", "expected ',' or '='", 1, 5),
    ("x = 5 % 2", "unexpected character '%'", 1, 7),
    ("a = 1; b = 2", "unexpected character ';'", 1, 6),
    ("s = \"abc", "unterminated string", 1, 5),
    ("x = 1.2.3", "malformed number '1.2.3'", 1, 5),
    ("s = \"a\\(b c)\"", "expected ')'", 1, 11),
    ("s = \"\\()\"", "expected a value", 1, 8),
    ("s = \"\\(x % 2)\"", "unexpected character '%'", 1, 10),
    ("print(\"\\([1)\")", "unclosed '['", 1, 10),
  ]

  @Test(arguments: cases)
  func reportsWhatWasExpectedAndWhere(
    _ c: (source: String, message: String, line: Int, column: Int)
  ) throws {
    let error = try #require(throws: WorkbookError.self) { try parseCell(c.source, file: "t") }
    #expect(error.message == c.message)
    #expect(error.location.line == c.line && error.location.column == c.column)
    #expect(error.location.file == "t")
  }

  static let tooDeep: [String] = [
    String(repeating: "(", count: 250) + "x" + String(repeating: ")", count: 250),
    String(repeating: "[", count: 250) + String(repeating: "]", count: 250),
    String(repeating: "f(", count: 250) + String(repeating: ")", count: 250),
    "x = " + String(repeating: "-", count: 300) + "1",
    "x = 1" + String(repeating: " + 1", count: 300),
    "x = a" + String(repeating: ".b", count: 300),
    "x = a" + String(repeating: "[0]", count: 300),
    String(repeating: "for i in x {\n", count: 250) + String(repeating: "}\n", count: 250),
    String(repeating: "(", count: 100_000),
    String(repeating: "\"\\(", count: 300),
  ]

  @Test(arguments: tooDeep)
  func refusesNestingBeyondTheLimit(_ source: String) throws {
    let error = try #require(throws: WorkbookError.self) { try parseCell(source, file: "t") }
    #expect(error.message == "nesting too deep")
  }

  @Test func acceptsNestingUpToTheLimit() throws {
    let depth = Parser.maximumNesting
    let source = String(repeating: "(", count: depth) + "x" + String(repeating: ")", count: depth)
    let cell = try parseCell(source, file: "t")
    #expect(cell.statements.count == 1)
  }

  @Test func reportsEveryBrokenLineOfACell() {
    var parser = Parser(
      "a = 1 +\nb = f(x y)\nc = 3\nd = %\ne = [1,\n2]\n", file: "t", firstLine: 20)
    let statements = parser.parseStatements()
    #expect(statements.map(\.tree) == ["(= c 3)", "(= e (list 1 2))"])
    #expect(
      parser.errors.map(\.message) == [
        "expected a value", "expected ',' or ')'", "unexpected character '%'",
      ])
    #expect(parser.errors.map(\.location.line) == [20, 21, 23])
    #expect(parser.errors.map(\.location.column) == [8, 9, 5])
  }

  @Test func recoversInsideABlockAndAfterABrokenLoop() {
    var parser = Parser(
      "for n in xs {\n  a =\n  b = 1\n}\nfor n [1] {\n  print(n)\n}\nc = 2", file: "t")
    let statements = parser.parseStatements()
    #expect(statements.map(\.tree) == ["(for n xs {(= b 1)})", "(= c 2)"])
    #expect(parser.errors.map(\.message) == ["expected a value", "'for' expects 'in'"])
    #expect(parser.errors.map(\.location.line) == [2, 5])
  }
}
