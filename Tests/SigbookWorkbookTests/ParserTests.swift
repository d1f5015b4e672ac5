import SigbookTestSupport
import Testing

@testable import SigbookWorkbook

/// A compact, location-free picture of a tree, to write expected parses in tables.
extension Expression {
  var tree: String {
    switch self {
    case .number(let value, _): return formatNumber(value)
    case .string(let parts, _):
      if case .text(let text)? = parts.first, parts.count == 1 { return "\"\(text)\"" }
      return "(str "
        + parts.map { part in
          switch part {
          case .text(let text): "\"\(text)\""
          case .interpolation(let expression): expression.tree
          }
        }.joined(separator: " ") + ")"
    case .bool(let value, _): return "\(value)"
    case .list(let elements, _): return "(list" + elements.map { " " + $0.tree }.joined() + ")"
    case .range(let lower, let upper, let isClosed, _):
      return "(\(isClosed ? "..." : "..<") \(lower.tree) \(upper.tree))"
    case .option(let name, _): return "." + name
    case .variable(let identifier): return identifier.name
    case .call(let function, let arguments, let labelled, _):
      return "(" + function.name + arguments.map { " " + $0.tree }.joined()
        + labelled.map { " \($0.label.name):\($0.value.tree)" }.joined() + ")"
    case .field(let base, let name, _): return "(. \(base.tree) \(name.name))"
    case .index(let base, let index, _): return "(index \(base.tree) \(index.tree))"
    case .negate(let operand, _): return "(neg \(operand.tree))"
    case .binary(let op, let left, let right, _): return "(\(op.symbol) \(left.tree) \(right.tree))"
    case .parenthesized(let inner, _): return "(paren \(inner.tree))"
    case .logical(let op, let left, let right, _):
      return "(\(op.symbol) \(left.tree) \(right.tree))"
    case .not(let operand, _): return "(not \(operand.tree))"
    }
  }
}

extension Statement {
  var tree: String {
    switch self {
    case .expression(let expression): return expression.tree
    case .assignment(let target, let value, _): return "(= \(target.name) \(value.tree))"
    case .destructuring(let targets, let value, _):
      return "(= [\(targets.map(\.name).joined(separator: " "))] \(value.tree))"
    case .forLoop(let variable, let sequence, let body, _):
      return "(for \(variable.name) \(sequence.tree) {"
        + body.map(\.tree).joined(separator: "; ") + "})"
    case .ifStatement(let branches, let otherwise, _):
      return "(if"
        + branches.map {
          " \($0.condition.tree) {" + $0.body.map(\.tree).joined(separator: "; ") + "}"
        }.joined()
        + (otherwise.map { " else {" + $0.map(\.tree).joined(separator: "; ") + "}" } ?? "") + ")"
    case .function(let d):
      return "(func \(d.name.name) ["
        + d.parameters.map { p in p.defaultValue.map { "\(p.name.name):\($0.tree)" } ?? p.name.name
        }.joined(separator: " ")
        + "] {" + d.body.map(\.tree).joined(separator: "; ") + "})"
    case .returnStatement(let value, _):
      return "(return" + (value.map { " " + $0.tree } ?? "") + ")"
    }
  }
}

/// The statements of `source`, as trees joined by `; `.
func trees(_ source: String) throws -> String {
  try parseCell(source, file: "t").statements.map(\.tree).joined(separator: "; ")
}

@Suite("Parser") struct ParserTests {
  /// One or more cases for every row of the language table of DESIGN.md §2.
  static let cases: [(source: String, tree: String)] = [
    // comment
    ("# to the end of the line", ""),
    ("x = 1  # set x", "(= x 1)"),
    ("# one\n\n# two\nx\n", "x"),
    // number, string, bool
    ("0.05", "0.05"),
    ("1e-3", "0.001"),
    ("42", "42"),
    ("2.5E+2", "250"),
    ("\"text\"", "\"text\""),
    ("\"\"", "\"\""),
    ("\"run-\\(n).svg\"", "(str \"run-\" n \".svg\")"),
    ("\"\\(a)\\(b + 1)\"", "(str a (+ b 1))"),
    ("\"k=\\(f(\"x\", k: [1]))\"", "(str \"k=\" (f \"x\" k:(list 1)))"),
    ("\"a\\tb\\\"c\\\\\"", "\"a\tb\"c\\\""),
    ("true", "true"),
    ("false", "false"),
    // list, range
    ("[1, 7]", "(list 1 7)"),
    ("[]", "(list)"),
    ("[[1], [2, 3],]", "(list (list 1) (list 2 3))"),
    ("2...10", "(... 2 10)"),
    ("0..<5", "(..< 0 5)"),
    ("0..<n + 1", "(..< 0 (+ n 1))"),
    ("a...b == c", "(== (... a b) c)"),
    // option
    (".relu", ".relu"),
    ("mlp(2, activation: .tanh)", "(mlp 2 activation:.tanh)"),
    ("[.knn, .centroid]", "(list .knn .centroid)"),
    // variable
    ("net", "net"),
    ("train_2", "train_2"),
    ("_x1", "_x1"),
    ("été", "été"),
    // call
    ("fit(net, train, epochs: 10, lr: 0.05)", "(fit net train epochs:10 lr:0.05)"),
    ("f()", "(f)"),
    ("f(x,)", "(f x)"),
    ("print (x)", "(print x)"),
    ("split(data, test: 0.2)", "(split data test:0.2)"),
    // field
    ("test.count", "(. test count)"),
    ("net.history.count", "(. (. net history) count)"),
    ("f(x).y", "(. (f x) y)"),
    ("[1, 2].count", "(. (list 1 2) count)"),
    ("\"abc\".count", "(. \"abc\" count)"),
    // index
    ("sig[2]", "(index sig 2)"),
    ("data[0..<10]", "(index data (..< 0 10))"),
    ("clusters[1].k", "(. (index clusters 1) k)"),
    ("m[1][2]", "(index (index m 1) 2)"),
    // arithmetic, comparison
    ("1 + 2 * 3", "(+ 1 (* 2 3))"),
    ("(1 + 2) * 3", "(* (paren (+ 1 2)) 3)"),
    ("a - b - c", "(- (- a b) c)"),
    ("8 / 2 / 2", "(/ (/ 8 2) 2)"),
    ("a * b + c / d", "(+ (* a b) (/ c d))"),
    ("-x.count", "(neg (. x count))"),
    ("- -3", "(neg (neg 3))"),
    ("2 * -x", "(* 2 (neg x))"),
    ("1-2", "(- 1 2)"),
    ("accuracy(net, test) >= 0.9", "(>= (accuracy net test) 0.9)"),
    ("a + 1 == b * 2", "(== (+ a 1) (* b 2))"),
    ("a != b", "(!= a b)"),
    ("a < b", "(< a b)"),
    ("a <= b", "(<= a b)"),
    ("a > b", "(> a b)"),
    ("(a < b) == true", "(== (paren (< a b)) true)"),
    // assignment
    ("net = mlp(784, 32, 2)", "(= net (mlp 784 32 2))"),
    ("train, test = split(data, test: 0.2)", "(= [train test] (split data test:0.2))"),
    ("a, b, c = f()", "(= [a b c] (f))"),
    // loop
    (
      "for n in [2, 10, 100] {\n  k = kmeans(sig, k: n)\n  print(k)\n}",
      "(for n (list 2 10 100) {(= k (kmeans sig k:n)); (print k)})"
    ),
    ("for n in 1...3 { print(n) }", "(for n (... 1 3) {(print n)})"),
    ("for n in xs\n{\n}", "(for n xs {})"),
    ("for a in x { for b in y {\nf(a, b) } }", "(for a x {(for b y {(f a b)})})"),
    ("for i in 0..<3 {\n\n  # comment\n  x = i\n\n}\ny", "(for i (..< 0 3) {(= x i)}); y"),
    // continuation while a bracket is open
    (
      "net = fit(mlp(784, 32, 2),\n  train,\n  epochs: 10)\nnet",
      "(= net (fit (mlp 784 32 2) train epochs:10)); net"
    ),
    ("xs = [\n  1,\n  2,\n]\n", "(= xs (list 1 2))"),
    ("y = (1 +\n 2)", "(= y (paren (+ 1 2)))"),
    // several statements
    ("a = 1\n\n\nb = a\nprint(a, b)", "(= a 1); (= b a); (print a b)"),
    ("a = 1\r\nb = 2\r\n", "(= a 1); (= b 2)"),
  ]

  @Test(arguments: cases)
  func parsesEveryFormOfTheLanguage(_ c: (source: String, tree: String)) throws {
    #expect(try trees(c.source) == c.tree)
  }

  @Test(arguments: cases)
  func printingAndParsingAgainGivesTheSameTree(_ c: (source: String, tree: String)) throws {
    let cell = try parseCell(c.source, file: "t")
    let printed = cell.source
    let again = try parseCell(printed, file: "t")
    #expect(again.statements.map(\.tree) == cell.statements.map(\.tree), "printed: \(printed)")
    #expect(again.isEquivalent(to: cell))
  }

  static let printed: [(source: String, printed: String)] = [
    (
      "net=fit( mlp(784,32 ,2) ,train,epochs:10)", "net = fit(mlp(784, 32, 2), train, epochs: 10)\n"
    ),
    ("x = 0..<n+1", "x = 0..<n + 1\n"),
    (
      "for n in xs {\nfor m in ys { print(n*m) }\n}",
      "for n in xs {\n  for m in ys {\n    print(n * m)\n  }\n}\n"
    ),
    ("s = \"a\\(n)\\n\"", "s = \"a\\(n)\\n\"\n"),
    ("x = 1e-20 + 2e20 + 0.5", "x = 1e-20 + 2e+20 + 0.5\n"),
    ("y = - -x", "y = - -x\n"),
  ]

  @Test(arguments: printed)
  func printsCanonicalSource(_ c: (source: String, printed: String)) throws {
    #expect(try parseCell(c.source, file: "t").source == c.printed)
  }

  @Test func printerAddsParenthesesABuiltTreeNeeds() {
    let span = SourceSpan(start: SourceLocation(file: "t", line: 1, column: 1), length: 1)
    func v(_ name: String) -> Expression { .variable(Identifier(name, span: span)) }
    let sum = Expression.binary(.add, left: v("a"), right: v("b"), span: span)
    let difference = Expression.binary(.subtract, left: v("a"), right: sum, span: span)
    #expect(difference.source == "a - (a + b)")
    #expect(
      Expression.binary(.multiply, left: sum, right: v("c"), span: span).source == "(a + b) * c")
    #expect(Expression.negate(sum, span: span).source == "-(a + b)")
    #expect(
      Expression.field(base: sum, name: Identifier("k", span: span), span: span).source
        == "(a + b).k")
    let less = Expression.binary(.less, left: v("a"), right: v("b"), span: span)
    #expect(
      Expression.binary(.equal, left: less, right: v("c"), span: span).source == "(a < b) == c")
    let range = Expression.range(lower: v("a"), upper: sum, isClosed: true, span: span)
    #expect(
      Expression.range(lower: range, upper: v("c"), isClosed: false, span: span).source
        == "(a...a + b)..<c")
  }

  @Test func nodesKeepTheirSpansInTheFile() throws {
    let cell = try parseCell(
      "x = 1\nnet = fit(mlp(784, 2), train, epochs: 10)\n", file: "w.sigbook", firstLine: 10)
    guard case .assignment(let target, let value, let span) = cell.statements[1],
      case .call(let function, let arguments, let labelled, let callSpan) = value
    else {
      Issue.record("not a call: \(cell.statements[1])")
      return
    }
    #expect(target.span.start == SourceLocation(file: "w.sigbook", line: 11, column: 1))
    #expect(span.start.column == 1 && span.end.column == 42)
    #expect(function.span.start.column == 7 && function.span.length == 3)
    #expect(callSpan.start.column == 7 && callSpan.end.column == 42)
    #expect(arguments[0].span.start.column == 11 && arguments[0].span.length == 11)
    #expect(arguments[1].span.start.column == 24 && arguments[1].span.length == 5)
    #expect(labelled[0].label.span.start.column == 31 && labelled[0].label.span.length == 6)
    #expect(labelled[0].value.span.start.column == 39 && labelled[0].value.span.length == 2)
  }

  @Test func interpolationsKeepFileLocations() throws {
    let cell = try parseCell("  s = \"run-\\(n + 1).svg\"", file: "t", firstLine: 5)
    guard case .assignment(_, .string(let parts, _), _) = cell.statements[0],
      case .interpolation(let inner) = parts[1]
    else {
      Issue.record("not a string: \(cell.statements[0])")
      return
    }
    #expect(inner.span.start == SourceLocation(file: "t", line: 5, column: 14))
    #expect(inner.span.length == 5)
  }

  @Test func multiLineNodesUnderlineToTheEndOfTheirFirstLine() throws {
    let cell = try parseCell("f(a,\n  b)", file: "t")
    #expect(cell.statements[0].span.start.line == 1 && cell.statements[0].span.end.line == 2)
    #expect(cell.statements[0].span.length == Int.max)
  }

  static let incomplete: [(input: String, isIncomplete: Bool)] = [
    ("fit(net,", true),
    ("xs = [1, 2,\n  3", true),
    ("for n in xs {", true),
    ("for n in xs {\n  print(n)", true),
    ("f(\"a)\"", true),
    ("fit(net, train)", false),
    ("for n in xs { print(n) }", false),
    ("x = \"abc", false),
    ("print(\"abc", false),
    ("f(a]", false),
    ("[(]", false),
    ("f(a % b", false),
    ("f(a) # (", false),
    ("", false),
  ]

  @Test(arguments: incomplete)
  func tellsWhetherTheREPLShouldReadMore(_ c: (input: String, isIncomplete: Bool)) {
    #expect(SigbookWorkbook.isIncomplete(c.input) == c.isIncomplete)
  }
}
