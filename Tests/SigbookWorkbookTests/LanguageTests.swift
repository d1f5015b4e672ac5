import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookWorkbook

/// The first line of an error as `run` and `check` print it: `file:line:col: error: message`.
func headline(_ error: WorkbookError) -> String {
  "\(error.location.file):\(error.location.line):\(error.location.column): error: \(error.message)"
}

/// A session that keeps what it shows, in a figures folder of its own.
func recordingSession(_ outputs: Box<[String]>, file: String = "t.sigbook") -> Session {
  let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
    "sigbook-language-\(UUID().uuidString)"
  ).path
  let session = Session(file: file, baseDirectory: folder, figuresDirectory: folder + "/t.figures")
  session.emit = { output in
    switch output {
    case .value(let t), .printed(let t): outputs.value.append(t)
    case .figure(let name, _): outputs.value.append("figure " + name)
    case .timing(let label, _): outputs.value.append("timing " + label)
    }
  }
  return session
}

@Suite("Language forms") struct LanguageTests {
  static let cases: [(source: String, output: [String])] = [
    // if, else if, else
    ("if 1 < 2 { print(\"yes\") }", ["yes"]),
    ("x = 5\nif x > 9 { print(1) } else if x > 3 { print(2) } else { print(3) }", ["2"]),
    ("if false { print(1) }\nelse { print(2) }", ["2"]),
    ("if false { print(1) } else if false { print(2) }", []),
    // and, or, not, short-circuit (the right side would fail)
    ("print(true and false, true or false, not true, not (1 == 2))", ["false true false true"]),
    ("n = 0\nprint(n > 0 and 1 / n > 1)", ["false"]),
    ("print(true or [1][5] == 1)", ["true"]),
    ("print(not 1 < 2 and true)", ["false"]),
    // equality on texts, options, bools, lists
    (
      "print(\"a\" == \"a\", .relu == .relu, .relu != .tanh, true == false, [1, 2] == [1, 2])",
      ["true true true false true"]
    ),
    ("print(\"abc\" < \"abd\", \"b\" >= \"a\")", ["true true"]),
    // lists that grow and combine
    ("xs = []\nfor i in 0..<3 { xs = xs + [i * 2] }\nxs", ["[0, 2, 4]"]),
    ("[1, 2] + (3...4)", ["[1, 2, 3, 4]"]),
    ("xs = [5, 6, 7, 8]\nprint(xs[1], xs[1..<3], xs.count, xs.first, xs.last)", ["6 [6, 7] 4 5 8"]),
    (
      "print(sum([1, 2, 3]), mean([1, 2, 3, 4]), min([4, 2, 8]), max(4, 2, 8), sum([]))",
      ["6 2.5 2 8 0"]
    ),
    ("print(sum(1...100), mean(0..<5))", ["5050 2"]),
    ("sort([3, 1, 2])", ["[1, 2, 3]"]),
    ("sort([\"b\", \"c\", \"a\"], descending: true)", ["[\"c\", \"b\", \"a\"]"]),
    // a range wherever a list of numbers is expected
    ("line(x: 1...3, y: [1, 4, 9]).kind", ["line"]),
    // functions: positional, labelled defaults, locals, return, recursion through calls
    ("func f(a, b: 10) { return a + b }\nprint(f(1), f(1, b: 2))", ["11 3"]),
    ("func f(a) { local = a * 2\nreturn local }\nf(4)", ["8"]),
    (
      "func early(xs) {\n for x in xs { if x > 2 { return x } }\n return -1\n}\nprint(early([1, 5, 9]), early([0]))",
      ["5 -1"]
    ),
    ("func fact(n) { if n <= 1 { return 1 }\nreturn n * fact(n - 1) }\nfact(5)", ["120"]),
    ("base = 100\nfunc g(x) { return base + x }\ng(1)", ["101"]),
    ("func nothing_back(x) { print(x) }\nnothing_back(3)", ["3"]),
    // a loop that returns early never walks the rest of a huge range
    (
      "func first_big(n) { for i in 0...1000000000000 { if i * i > n { return i } } }\nfirst_big(50)",
      ["8"]
    ),
    // tables: built from columns, cells, rows, columns, slices, sort, filter, loops, rows
    (
      "t = table(k: [2, 3, 4], nmi: [0.5, 0.9, 0.7])\nprint(t[1].nmi, t.nmi, t.count, t[0..<2].count, t.columns)",
      ["0.9 [0.5, 0.9, 0.7] 3 2 [\"k\", \"nmi\"]"]
    ),
    ("t = table(k: [2, 3, 4], nmi: [0.5, 0.9, 0.7])\nsort(t, by: \"nmi\").k", ["[2, 4, 3]"]),
    (
      "t = table(k: [2, 3, 4], nmi: [0.5, 0.9, 0.7])\nsort(t, by: \"nmi\", descending: true)[0].k",
      ["3"]
    ),
    (
      "t = table(k: [2, 3, 4], name: [\"a\", \"b\", \"a\"])\nprint(filter(t, \"name\", equals: \"a\").k, filter(t, \"k\", above: 2, below: 4).k)",
      ["[2, 4] [3]"]
    ),
    ("t = table(k: [2, 3, 4])\nks = []\nfor r in t { ks = ks + [r.k * 10] }\nks", ["[20, 30, 40]"]),
    ("t = table(k: [2, 3, 4])\ntable([t[2], t[0]]).k", ["[4, 2]"]),
    ("table(k: 1...3).k", ["[1, 2, 3]"]),
    // time gives the value and reports how long it took, outside the printed outputs
    ("x = time(sum(1...10))\nx", ["timing sum(1...10)", "55"]),
    // help names keywords and workbook functions
    (
      "func study(net, k: 2...10) { return k }\nhelp(study)",
      [
        "study(net, k: 2...10) → any value\n\nA function defined in t.sigbook at line 1.\n\n  net\n  k:   default 2...10\n\nexample:\n  func study(net, k: 2...10) { … }"
      ]
    ),
  ]

  @Test(arguments: cases)
  func runs(_ c: (source: String, output: [String])) throws {
    let outputs = Box<[String]>([])
    let session = recordingSession(outputs)
    try session.run(try parseCell(c.source, file: "t.sigbook"))
    #expect(outputs.value == c.output)
  }

  @Test func keywordsHaveHelp() throws {
    for keyword in ["if", "for", "func", "return", "and", "or", "not", "else", "in"] {
      #expect(Catalogue.help(for: keyword) != nil, "no help for '\(keyword)'")
    }
    #expect(Catalogue.help(for: "for")?.contains("for NAME in SEQUENCE") == true)
  }

  @Test func functionsKeepTheirAssignmentsInside() throws {
    let outputs = Box<[String]>([])
    let session = recordingSession(outputs)
    try session.run(try parseCell("func f(a) { inner = a\nreturn inner }\ny = f(2)", file: "t"))
    #expect(session.variables["inner"] == nil)
    #expect(session.variables["a"] == nil)
    #expect(session.variables["y"].map { $0.isEqual(to: .number(2)) } == true)
  }

  @Test func runawayRecursionIsAnErrorNotACrash() throws {
    let session = recordingSession(Box([]))
    let error = try #require(throws: WorkbookError.self) {
      try session.run(try parseCell("func f(n) { return f(n + 1) }\nf(0)", file: "t"))
    }
    #expect(error.message == "'f' is called 64 deep")
  }

  @Test func aFigureShownThroughItsVariableIsWrittenOnce() throws {
    let outputs = Box<[String]>([])
    let session = recordingSession(outputs)
    try session.run(try parseCell("fig = line(x: [1, 2], y: [3, 4])", file: "t"))
    try session.run(try parseCell("fig", file: "t"))
    #expect(outputs.value == ["figure fig.svg", "figure fig.svg"])
    let files = try FileManager.default.contentsOfDirectory(atPath: session.figuresDirectory)
    #expect(files == ["fig.svg"])
  }

  @Test func hugeIndexesAreErrorsNotCrashes() throws {
    for source in ["[1][1e19]", "[1][-1e300]", "table(k: [1])[1e19]"] {
      let session = recordingSession(Box([]))
      let error = try #require(throws: WorkbookError.self) {
        try session.run(try parseCell(source, file: "t"))
      }
      #expect(error.message.contains("out of range"), "\(source): \(error.message)")
    }
  }

  @Test func tablesExportAsCSV() throws {
    let session = recordingSession(Box([]))
    try session.run(
      try parseCell("export(table(k: [2, 3], name: [\"a\", \"b,c\"]), \"t.csv\")", file: "t"))
    let text = try String(contentsOfFile: session.figuresDirectory + "/t.csv", encoding: .utf8)
    #expect(text == "k,name\n2,a\n3,\"b,c\"\n")
  }

  @Test func tableColumnsMustHaveTheSameLength() throws {
    let session = recordingSession(Box([]))
    let error = try #require(throws: WorkbookError.self) {
      try session.run(try parseCell("table(a: [1, 2], b: [1])", file: "t"))
    }
    #expect(error.message == "the column 'b' has 1 values but 'a' has 2")
    #expect(error.location.column == 21)
  }
}

/// Wrong workbooks: `check` must report each mistake where `run` does, with the same words.
@Suite("Check agrees with run") struct CheckRunParityTests {
  static let prelude = """
    d = synthetic(.two_gaussians, n: 40, seed: 1)
    net = fit(mlp(2, 4, 2, seed: 1), d, epochs: 1)
    sig = signatures(net, d)
    c = kmeans(sig, k: 2...3, restarts: 1)
    t = table(k: [1, 2], nmi: [0.5, 0.7])
    xs = [1, 2, 3]
    func study(m, data, k: 2...3) { return kmeans(signatures(m, data), k: k, restarts: 1) }

    """

  /// One mistake each, on the last line.
  static let mistakes: [String] = [
    "u = umap(sig)",  // signatures where a layer is expected
    "scatter(sig[1])",  // a layer where a projection is expected
    "fit(d, d)",  // a dataset where a model is expected
    "accuracy(net, sig)",  // signatures where a dataset is expected
    "kmeans(sig, k: 2.5)",  // not a whole number
    "mlp(2, 4, 2, activation: .relux)",  // an unknown option
    "fit(net, d, epoch: 3)",  // an unknown label
    "fit(net, d, 3)",  // too many positional arguments
    "fit(net)",  // a missing argument
    "kmeans(x: sig)",  // a positional argument passed with a label
    "d + [1]",  // '+' on a dataset
    "xs - 1",  // arithmetic on a list
    "t.count + \"a\"",  // a number and a text
    "xs[\"a\"]",  // a list indexed by a text
    "net[1]",  // a model cannot be indexed
    "d.nope",  // an unknown field
    "net.history.los",  // a misspelt field
    "if xs.count { print(1) }",  // a condition that is a number
    "print(1 and true)",  // and on a number
    "for i in 3 { print(i) }",  // a loop over a number
    "x = print(1)",  // nothing to assign
    "a, b = d",  // taking apart a dataset
    "study(net, d, kk: 3)",  // a workbook function's unknown label
    "study(net)",  // a workbook function's missing argument
    "func fit(x) { return x }",  // a function named like the catalogue's
    "line(x: 1...3, y: \"a\")",  // a text where numbers are expected
    "sankey(c, output: 1)",  // a number where a bool is expected
    "accuray(net, d)",  // an unknown function
    "accuracy(nett, d)",  // an unknown name
    "roc(d)",  // a dataset where a novelty result is expected
    "-xs",  // negating a list
    "sort(t, by: 3)",  // a number where a text is expected
  ]

  @Test(arguments: mistakes)
  func sameMessageSamePlace(_ mistake: String) throws {
    let source = Self.prelude + mistake
    let text = "```sigbook\n" + source + "\n```\n"
    let checked = Checker.check(text: text, file: "w.sigbook")
    let session = recordingSession(Box([]), file: "w.sigbook")
    let document = parseWorkbook(text: text, file: "w.sigbook")
    var ran: WorkbookError?
    do {
      for cell in document.cells { try session.run(cell) }
    } catch {
      ran = error
    }
    let runError = try #require(ran, "run accepted: \(mistake)")
    let checkError = try #require(checked.first, "check said ok for: \(mistake)")
    #expect(headline(checkError) == headline(runError))
    #expect(checkError.location.line == Self.prelude.split(separator: "\n").count + 2)
  }

  @Test func theCorpusIsLargeEnough() {
    #expect(Self.mistakes.count >= 20)
  }

  @Test func kindsFlowThroughLoopsIfAndFunctions() {
    let text = """
      ```sigbook
      d = synthetic(.two_gaussians, n: 40)
      for i in [1, 2] { m = mlp(2, 4, 2) }
      if true { s = d } else { s = d }
      func make(x) { return d }
      e = make(1)
      fit(s, e)
      fit(m, 3)
      ```
      """
    let errors = Checker.check(text: text, file: "w.sigbook")
    #expect(
      errors.map(\.message) == [
        "fit expects a model for its 1st argument, not a dataset",
        "fit expects a dataset for its 2nd argument, not a number",
      ])
  }
}

/// Every example of docs/language.md runs, in order, and prints what the page says.
@Suite("docs/language.md") struct LanguageDocTests {
  struct Block {
    var info: String
    var text: String
  }

  static func blocks(_ markdown: String) -> [Block] {
    var blocks: [Block] = []
    var current: Block?
    for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("```") {
        if let block = current {
          blocks.append(block)
          current = nil
        } else {
          current = Block(
            info: String(line.dropFirst(3)).trimmingCharacters(in: .whitespaces), text: "")
        }
      } else if current != nil {
        current?.text += line + "\n"
      }
    }
    return blocks
  }

  static var page: String {
    get throws {
      let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/language.md")
      return try String(contentsOf: url, encoding: .utf8)
    }
  }

  @Test func everyExampleRunsAsDocumented() throws {
    let blocks = Self.blocks(try Self.page)
    let outputs = Box<[String]>([])
    let session = recordingSession(outputs, file: "language.md")
    var examples = 0
    for (i, block) in blocks.enumerated() where block.info.hasPrefix("sigbook") {
      examples += 1
      let expected = i + 1 < blocks.count && blocks[i + 1].info == "text" ? blocks[i + 1].text : nil
      outputs.value = []
      let cell = try parseCell(block.text, file: "language.md")
      if block.info == "sigbook error" {
        var checker = Checker()
        for name in session.variableOrder {
          if let value = session.variables[name] { checker.define(name, as: value) }
        }
        for entry in session.functions.values { checker.define(function: entry) }
        checker.check(cell.statements)
        let error = try #require(throws: WorkbookError.self) { try session.run(cell) }
        let first = try #require(expected).split(separator: "\n").first.map(String.init)
        #expect(headline(error) == first, "example \(examples)")
        #expect(checker.errors.first.map(headline) == first, "check, example \(examples)")
      } else {
        try session.run(cell)
        if let expected {
          let shown = outputs.value.filter { !$0.hasPrefix("timing ") && !$0.hasPrefix("figure ") }
          #expect(
            shown.joined(separator: "\n") + "\n" == expected, "example \(examples):\n\(block.text)")
        }
      }
    }
    #expect(examples >= 20)
  }
}
