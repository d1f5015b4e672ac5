import SigbookTestSupport
import Testing

@testable import SigbookWorkbook

@Suite("Completion") struct CompletionTests {
  static let completer = Completer(
    variables: ["net", "train", "test", "digits", "network2"],
    fields: [
      "net": ["layers", "history", "parameters"], "train": ["count", "features", "classes"],
    ])

  /// Input before the cursor → the fragment and exactly these candidates.
  static let cases: [(input: String, fragment: String, candidates: [String])] = [
    ("mnist_s", "mnist_s", ["mnist_sample"]),
    ("digits = mnist_s", "mnist_s", ["mnist_sample"]),
    ("x = fi", "fi", ["filter", "filters", "fit"]),
    ("ne", "ne", ["net", "network2"]),
    ("tr", "tr", ["train"]),
    ("accuracy(n", "n", ["net", "network2", "nodes", "noise", "novelty", "npy"]),
    ("kme", "kme", ["kmeans"]),
    ("fit(net, train, ep", "ep", ["epochs:"]),
    ("fit(net, train, epochs: 5, b", "b", ["batch:", "boundary"]),
    ("fit(net, train, epochs: 5, e", "e", ["encode", "evaluate", "export"]),
    ("fit(net, train, epochs: e", "e", ["encode", "evaluate", "export"]),
    ("fit(mlp(784, 2), train, ep", "ep", ["epochs:"]),
    ("fit(net,\n    train,\n    ep", "ep", ["epochs:"]),
    ("mlp(784, 2, act", "act", ["activation:"]),
    ("mlp(784, 2, activation: .t", ".t", [".tanh"]),
    ("mlp(784, 2, activation: .", ".", [".relu", ".sigmoid", ".tanh"]),
    ("fit(net, train, optimizer: .", ".", [".adam", ".momentum", ".sgd"]),
    ("fit(net, train, optimizer: .a", ".a", [".adam"]),
    ("synthetic(.two", ".two", [".two_gaussians"]),
    ("x = .tw", ".tw", [".two_gaussians"]),
    ("net.hi", "hi", ["history"]),
    ("train.c", "c", ["classes", "count"]),
    ("nothing.c", "c", []),
    ("0...t", "t", ["table", "tanh", "test", "time", "top_inputs", "train", "tsne"]),
    (":ex", ":ex", [":export"]),
    (":", ":", REPLCommand.allCases.map(\.name).sorted()),
    ("  :ti", ":ti", [":time"]),
    (":help kme", "kme", ["kmeans"]),
    (":help mnist", "mnist", ["mnist", "mnist_sample"]),
    (":time o", "o", ["off", "on"]),
    (":run a", "a", ["all"]),
    ("784", "", []),
    ("mlp(78", "", []),
    ("# a comment about fi", "", []),
    ("print(\"ne", "ne", []),
  ]

  @Test(arguments: cases)
  func offersTheRightWords(_ c: (input: String, fragment: String, candidates: [String])) {
    let completion = Self.completer.complete(c.input)
    #expect(completion.fragment == c.fragment)
    #expect(completion.texts == c.candidates)
  }

  @Test func offersEveryFunctionAndVariableAtTheStart() {
    let completion = Self.completer.complete("")
    #expect(completion.texts.contains("mnist_sample"))
    #expect(completion.texts.contains("net"))
  }

  @Test func leavesOutLabelsAlreadyGiven() {
    let completion = Self.completer.complete("fit(net, train, epochs: 3, ")
    #expect(!completion.texts.contains("epochs:"))
    #expect(completion.texts.contains("lr:"))
    #expect(completion.texts.contains("train"))
  }

  @Test func offersNoLabelsInsideAListArgument() {
    let completion = Self.completer.complete("mnist_sample(digits: [1, ")
    #expect(!completion.texts.contains { $0.hasSuffix(":") })
  }

  @Test(arguments: [
    ("load_model(\"models/ne", "models/ne"),
    ("csv(\"", ""),
    ("save(net, \"run-\\(n)-b", "run-\\(n)-b"),
    (":load Workbooks/one", "Workbooks/one"),
    (":export out.sig", "out.sig"),
  ])
  func completesFileNamesInStringsAndCommands(_ c: (String, String)) {
    let completion = Self.completer.complete(c.0)
    #expect(completion.isFileName)
    #expect(completion.fragment == c.1)
  }

  @Test func interpolationInsideAStringCompletesNames() {
    let completion = Self.completer.complete("print(\"n = \\(ne")
    #expect(!completion.isFileName)
    #expect(completion.texts == ["net", "network2"])
  }

  @Test func aVariableNamedLikeAFunctionIsOfferedOnce() {
    let completer = Completer(variables: ["fitted", "fit"])
    let completion = completer.complete("fit")
    #expect(completion.texts == ["fit", "fitted"])
    #expect(completion.candidates.first?.kind == .variable)
  }

  @Test(arguments: [
    (Completion.Candidate("kmeans", .function), "kmeans("),
    (Completion.Candidate("epochs:", .label), "epochs: "),
    (Completion.Candidate(".tanh", .option), ".tanh"),
    (Completion.Candidate(":load", .command), ":load "),
    (Completion.Candidate(":vars", .command), ":vars"),
    (Completion.Candidate("net", .variable), "net"),
  ])
  func insertsWhatFollowsTheOnlyCandidate(_ c: (Completion.Candidate, String)) {
    #expect(c.0.insertion == c.1)
  }

  @Test func commandsParseWithTheirAliases() {
    #expect(REPLCommand(name: ":q") == .quit)
    #expect(REPLCommand(name: ":export") == .export)
    #expect(REPLCommand(name: "export") == nil)
    #expect(REPLCommand(name: ":exprot") == nil)
  }
}
