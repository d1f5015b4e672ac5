import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookWorkbook

/// Runs workbook source in a fresh session and returns what it showed.
func runSource(_ source: String, session: Session? = nil) throws -> [String] {
  var outputs: [String] = []
  let session =
    session
    ?? Session(
      file: "t.sigbook", baseDirectory: "/tmp", figuresDirectory: "/tmp/sigbook-tests.figures")
  session.emit = { output in
    switch output {
    case .value(let t), .printed(let t): outputs.append(t)
    case .figure(let name, _): outputs.append("figure " + name)
    case .timing: break
    }
  }
  let cell = try parseCell(source, file: "t.sigbook")
  try session.run(cell)
  return outputs
}

/// The error running `source` throws.
func errorOf(_ source: String) throws -> WorkbookError {
  try #require(throws: WorkbookError.self) { _ = try runSource(source) }
}

/// Every row of DESIGN.md §2's language table, evaluated.
@Suite("Evaluator") struct EvaluatorTests {
  static let cases: [(source: String, output: [String])] = [
    // comment
    ("x = 1 # the rest is ignored\nx", ["1"]),
    // number, string, bool
    ("0.05", ["0.05"]), ("1e-3", ["0.001"]), ("42", ["42"]), ("\"text\"", ["text"]),
    ("true", ["true"]),
    ("2 / 3", ["0.6667"]), ("123.456", ["123.5"]), ("-7", ["-7"]),
    // interpolation
    ("n = 3\n\"run-\\(n).svg\"", ["run-3.svg"]), ("\"\\(1 + 1) and \\([1, 2])\"", ["2 and [1, 2]"]),
    // list, range
    ("[1, 7]", ["[1, 7]"]), ("2...10", ["2...10"]), ("0..<5", ["0..<5"]), ("(2...4).count", ["3"]),
    ("[\"a\", true]", ["[\"a\", true]"]),
    // option
    (".relu", [".relu"]),
    // variable
    ("net_2 = 5\nnet_2", ["5"]),
    // call: positional then labelled
    ("d = synthetic(.two_gaussians, n: 10, seed: 1)\nd.count", ["10"]),
    // field
    ("[4, 5, 6].count", ["3"]),
    ("d = mnist_sample(digits: [1, 7], per_class: 3)\nd.features", ["[1, 28, 28]"]),
    ("d = mnist_sample(digits: [1, 7], per_class: 3)\nd.classes", ["[\"1\", \"7\"]"]),
    // index
    ("[4, 5, 6][1]", ["5"]), ("[4, 5, 6][0..<2]", ["[4, 5]"]),
    ("d = mnist_sample(per_class: 2)\nd[0..<10].count", ["10"]),
    // arithmetic and comparison
    ("1 + 2 * 3", ["7"]), ("(1 + 2) * 3", ["9"]), ("10 - 4 - 3", ["3"]), ("8 / 4 / 2", ["1"]),
    ("2 < 3", ["true"]), ("2 >= 3", ["false"]), ("1 + 1 == 2", ["true"]),
    ("\"a\" != \"b\"", ["true"]),
    ("\"a\" + \"b\"", ["ab"]),
    // assignment, destructuring
    ("a, b = [1, 2]\nb", ["2"]),
    // a variable may share a function's name; a call still names the function
    ("print = 3\nprint(print + 1)", ["4"]),
    (
      "d = mnist_sample(digits: [1, 7], per_class: 10)\ntrain, test = split(d, test: 0.2)\nprint(train.count, test.count)",
      ["16 4"]
    ),
    // loop, block spanning lines
    ("total = 0\nfor n in [2, 10, 100] {\n  total = total + n\n}\ntotal", ["112"]),
    ("for i in 0..<3 { print(i) }", ["0", "1", "2"]),
    // a statement continuing while a bracket is open
    ("x = [1,\n  2,\n  3]\nx.count", ["3"]),
    ("print(\n  \"a\",\n  1\n)", ["a 1"]),
  ]

  @Test(arguments: cases)
  func evaluates(_ c: (source: String, output: [String])) throws {
    #expect(try runSource(c.source) == c.output)
  }

  @Test func valuesAreImmutableAndCellsRepeatable() throws {
    let source =
      "d = mnist_sample(digits: [1, 7], per_class: 20)\nnet = mlp(784, 8, 2)\ntrained = fit(net, d, epochs: 1)\nprint(net.trained, trained.trained)"
    #expect(try runSource(source) == ["false true"])
    #expect(try runSource(source) == runSource(source))
  }

  @Test func defaultsTakeTheFormOfGivenArguments() throws {
    // kmeans's default k is the range 2...10, read as a list like a given range.
    let output = try runSource(
      "d = synthetic(.two_gaussians, n: 40, sigma: 0.05)\nkmeans(d, restarts: 2).k")
    #expect(output == ["2"])
  }

  @Test func helpAcceptsABareFunctionName() throws {
    let text = try runSource("help(fit)")
    #expect(text.first?.hasPrefix("fit(model, data, epochs: 10") == true)
  }

  static let errors: [(source: String, message: String, line: Int, column: Int, hint: String?)] = [
    ("x = tarin", "unknown name 'tarin'", 1, 5, nil),
    ("train = 1\nx = tarin", "unknown name 'tarin'", 2, 5, "did you mean 'train'?"),
    ("mnist_sampel()", "unknown function 'mnist_sampel'", 1, 1, "did you mean 'mnist_sample'?"),
    (
      "mnist_sample(digit: [1])", "mnist_sample has no label 'digit:'", 1, 14,
      "did you mean 'digits:'?"
    ),
    (
      "mlp(784, 2, activation: .relux)",
      "mlp takes .relu, .tanh or .sigmoid for 'activation:', not .relux", 1, 25,
      "did you mean '.relu'?"
    ),
    (
      "mnist_sample(digits: \"one\")",
      "mnist_sample expects a list of whole numbers for 'digits:', not a text", 1, 22, nil
    ),
    ("split(test: 0.2)", "split needs a dataset as its 1st argument", 1, 1, nil),
    ("accuracy(1, 2, 3)", "accuracy takes 2 positional arguments but got 3", 1, 16, nil),
    ("mnist_sample(seed: 1, seed: 2)", "the label 'seed:' is given twice", 1, 23, nil),
    ("x = 1 / 0", "division by zero", 1, 5, nil),
    ("[1, 2][5]", "index 5 is out of range: the list has 2 (from 0 to 1)", 1, 8, nil),
    ("a, b = [1, 2, 3]", "2 names need as many values, but this gives 3 values", 1, 1, nil),
    ("[1].size", "a list has no field 'size'", 1, 5, nil),
    ("for x in 3 { print(x) }", "'for' needs a list, a range or a table, not a number", 1, 10, nil),
    (
      "1 + \"a\"", "'+' needs two numbers, two texts or two lists, not a number and a text", 1, 1,
      nil
    ),
    (
      "net = mlp(784, 32, 2)\nd = synthetic(.two_gaussians, n: 10)\nfit(net, d)",
      "mlp expects 784 inputs but 'd' has 2 features", 3, 10, nil
    ),
    (
      "mlp(784, 32, 2, dropout: 1)", "a dropout rate must be in [0, 1), not 1", 1, 26,
      "0.1 to 0.5 is usual; 0 drops nothing"
    ),
    ("vit(dropout: -0.1)", "a dropout rate must be in [0, 1), not -0.1", 1, 14, nil),
    (
      "sequential(dense(4, 3), relu(), dropout(1.5), dense(3, 2))",
      "a dropout rate must be in [0, 1), not 1.5", 1, 41, nil
    ),
    (
      "d = mnist_sample(digits: [1, 7], per_class: 5)\nfit(mlp(784, 32, 2, output: .linear), d, lr: 1e6, loss: .mse, epochs: 3, batch: 10)",
      "", 2, 0, nil
    ),
  ]

  @Test(arguments: errors)
  func reportsWhatWentWrongAndWhere(
    _ c: (source: String, message: String, line: Int, column: Int, hint: String?)
  ) throws {
    let error = try errorOf(c.source)
    if c.message.isEmpty {
      // A loss that explodes (grows 1,000-fold, or becomes NaN): the message names the epoch
      // and suggests a smaller lr.
      #expect(
        (error.message.hasPrefix("the loss became") || error.message.hasPrefix("the loss grew"))
          && error.message.contains("try a smaller lr"))
      #expect(error.kind == .runtime)
      return
    }
    #expect(error.message == c.message)
    #expect(error.location.line == c.line && error.location.column == c.column, "\(error.location)")
    if let hint = c.hint { #expect(error.hint == hint) }
  }

  @Test func errorsRenderWithTheSourceLineAndACaret() throws {
    let error = try errorOf(
      "net = mlp(784, 32, 2)\nd = synthetic(.two_gaussians, n: 10)\nx = fit(net, d)")
    #expect(
      error.rendered(sourceLine: "x = fit(net, d)") == """
        t.sigbook:3:14: error: mlp expects 784 inputs but 'd' has 2 features
          x = fit(net, d)
                       ^
        """)
  }

  @Test func interruptionStopsTrainingWithAnInterruptedError() throws {
    let session = Session(file: "t", baseDirectory: "/tmp", figuresDirectory: "/tmp/x.figures")
    var calls = 0
    session.isCancelled = {
      calls += 1
      return calls > 3
    }
    let error = try #require(throws: WorkbookError.self) {
      _ = try runSource(
        "d = mnist_sample(digits: [1, 7], per_class: 50)\nnet = fit(mlp(784, 8, 2), d, epochs: 50)",
        session: session)
    }
    #expect(error.kind == .interrupted)
    #expect(session.variables["d"] != nil && session.variables["net"] == nil)
  }

  @Test func interruptionStopsAKMeansSweep() throws {
    let session = Session(file: "t", baseDirectory: "/tmp", figuresDirectory: "/tmp/x.figures")
    _ = try runSource("d = synthetic(.two_gaussians, n: 60)", session: session)
    var calls = 0
    session.isCancelled = {
      calls += 1
      return calls > 1  // the statement starts; the sweep is stopped before its first layer
    }
    let error = try #require(throws: WorkbookError.self) {
      _ = try runSource("c = kmeans(d)", session: session)
    }
    #expect(error.kind == .interrupted && session.variables["c"] == nil)
  }

  @Test func tablesShowAligned() throws {
    let output = try runSource("mnist_sample(digits: [1, 7], per_class: 3)")
    #expect(
      output == [
        """
        dataset 'mnist_sample' · 6 inputs · features [1, 28, 28]
        class  count
        ─────  ─────
        1          3
        7          3
        """
      ])
  }

  @Test func numbersDisplayWholeOrWithFourSignificantDigits() {
    #expect(NumberFormat.display(14) == "14")
    #expect(NumberFormat.display(0.98765) == "0.9877")
    #expect(NumberFormat.display(1.5e-5) == "1.5e-05")
    #expect(NumberFormat.display(-0.25) == "-0.25")
    #expect(NumberFormat.display(.nan) == "nan")
  }
}

@Suite("Runner and checker") struct RunnerTests {
  static func workbook(_ text: String) throws -> (path: String, folder: TemporaryFolder) {
    let folder = try TemporaryFolder()
    return (try folder.write("w.sigbook", text: text), folder)
  }

  static let threeMistakes = """
    # Three mistakes

    ```sigbook
    digits = mnist_sampel(digits: [1, 7])
    ```

    Prose between cells.

    ```sigbook
    net = mlp(784, 32, 2, activation: .rleu)
    trained = fit(net, digits, epoch: 3)
    ```
    """

  @Test func checkReportsEveryMistakeWithItsLocation() {
    let errors = Checker.check(text: Self.threeMistakes, file: "w.sigbook")
    #expect(
      errors.map(\.message) == [
        "unknown function 'mnist_sampel'",
        "mlp takes .relu, .tanh or .sigmoid for 'activation:', not .rleu",
        "fit has no label 'epoch:'",
      ])
    #expect(
      errors.map { [$0.location.line, $0.location.column] } == [[4, 10], [10, 35], [11, 28]])
    #expect(
      errors.map(\.hint) == [
        "did you mean 'mnist_sample'?", "did you mean '.relu'?", "did you mean 'epochs:'?",
      ])
  }

  @Test func checkFindsUndefinedNamesAcrossCells() {
    let text = "```sigbook\nx = 1\n```\n\n```sigbook\nprint(x, y)\n```\n"
    let errors = Checker.check(text: text, file: "w.sigbook")
    #expect(errors.map(\.message) == ["unknown name 'y'"])
    #expect(errors.first?.location.line == 6)
  }

  @Test func runnerRunsCellsInOrderAndOverridesAssignments() throws {
    let (path, folder) = try Self.workbook(
      "# T\n\n```sigbook\nlr = 0.05\nn = 2\n```\n\n```sigbook\nprint(lr * n)\n```\n")
    _ = folder
    let runner = try WorkbookRunner(path: path)
    try runner.override("lr", with: "0.5")
    var printed: [String] = []
    runner.session.emit = { if case .printed(let t) = $0 { printed.append(t) } }
    #expect(runner.run())
    #expect(printed == ["1"])
    #expect(runner.records.count == 2 && runner.records.allSatisfy { $0.error == nil })
    let report = ReportWriter(runner: runner).markdown
    #expect(report.hasPrefix("> Run with `lr = 0.5`"))
    #expect(report.contains("```text\n1\n```"))
    #expect(throws: WorkbookError.self) { try runner.override("learning_rate", with: "1") }
  }

  @Test func runnerStopsAtTheFirstFailingCellUnlessKeepGoing() throws {
    let (path, folder) = try Self.workbook(
      "```sigbook\nx = 1 / 0\n```\n\n```sigbook\nprint(2)\n```\n")
    _ = folder
    let stops = try WorkbookRunner(path: path)
    #expect(!stops.run())
    #expect(stops.records.count == 1 && stops.records[0].error?.location.line == 2)
    let goes = try WorkbookRunner(path: path)
    #expect(!goes.run(options: .init(keepGoing: true)))
    #expect(goes.records.count == 2)
  }

  @Test func syntaxErrorsOfEveryCellAreReportedBeforeRunning() throws {
    let (path, folder) = try Self.workbook("```sigbook\nx = (1\n```\n\n```sigbook\ny = ]\n```\n")
    _ = folder
    let errors = try #require(throws: WorkbookErrors.self) { _ = try WorkbookRunner(path: path) }
    #expect(errors.errors.count == 2)
  }

  @Test func exportWritesNumPyAndCSV() throws {
    let folder = try TemporaryFolder()
    let session = Session(
      file: "t", baseDirectory: folder.url.path, figuresDirectory: folder.path("t.figures"))
    _ = try runSource(
      "d = synthetic(.two_gaussians, n: 6)\nexport(d, \"d.npy\")\nexport(d, \"d.csv\")",
      session: session)
    let npy = try Data(contentsOf: URL(fileURLWithPath: folder.path("t.figures/d.npy")))
    #expect(npy.prefix(6) == Data([0x93] + Array("NUMPY".utf8)))
    #expect(npy.count % 16 == 0 || (npy.count - 6 * 2 * 4) % 64 == 0)
    let csv = try String(contentsOfFile: folder.path("t.figures/d.csv"), encoding: .utf8)
    #expect(csv.hasPrefix("f0,f1,label\n"))
    #expect(csv.split(separator: "\n").count == 7)
  }

  @Test func figureNamesThatLeaveTheFiguresFolderAreRefused() {
    for name in ["../x.svg", "/tmp/x.svg", "a/b.svg", "~/x.svg"] {
      #expect(throws: CallFailure.self) { _ = try Session.figureFileName(name) }
    }
    #expect((try? Session.figureFileName("paths")) == "paths.svg")
  }
}
