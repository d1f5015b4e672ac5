import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookWorkbook

/// Random and mutated workbooks fed to the document reader, the lexer and the parser, and random
/// programs of cheap statements to the evaluator: nothing may crash or loop, the work done stays
/// proportional to the input (at most one error per scalar), and what parses must print back to
/// the same tree. Speed is `sigbook bench`'s (X2), never a timed assertion here.
///
/// The suite runs 100,000 seeded inputs. `SIGBOOK_FUZZ_COUNT=1000000` runs that many instead
/// (`scripts/fuzz` does, in a release build), and `SIGBOOK_FUZZ_SAVE=DIR` writes the slowest
/// inputs of each shard there, to be kept in `Fixtures/fuzz-corpus/` when they are worth it.
@Suite("Fuzz") struct FuzzTests {
  /// 4 shards of a quarter of the inputs each, run in parallel.
  static let shards = 4
  static let inputsPerShard =
    (ProcessInfo.processInfo.environment["SIGBOOK_FUZZ_COUNT"].flatMap { Int($0) } ?? 100_000)
    / shards

  @Test(arguments: 0..<shards)
  func survivesRandomAndMutatedText(_ shard: Int) throws {
    let fixtures = try fixtureNames.map { Array(try fixture($0)) }
    var generator = SeededGenerator(seed: UInt64(1000 + shard))
    var fuzzer = Fuzzer(fixtures: fixtures)
    var characters = 0
    var failures = 0
    var validCells = 0
    var evaluated = 0
    // The slowest inputs, for the corpus: measured, reported and saved, never asserted on.
    var slowest: [(seconds: Double, input: String)] = []
    let clock = ContinuousClock()
    for _ in 0..<Self.inputsPerShard {
      let input = fuzzer.input(&generator)
      characters += input.unicodeScalars.count
      let start = clock.now
      let problems = FuzzCheck.exercise(
        input, evaluate: fuzzer.lastWasProgram, validCells: &validCells, evaluated: &evaluated)
      let elapsed = (clock.now - start) / .seconds(1)
      if slowest.count < 5 || elapsed > slowest[slowest.count - 1].seconds {
        slowest.append((elapsed, input))
        slowest.sort { $0.seconds > $1.seconds }
        if slowest.count > 5 { slowest.removeLast() }
      }
      for problem in problems where failures < 10 {
        failures += 1
        Issue.record("\(problem) for input \(String(reflecting: input))")
      }
    }
    print(
      "fuzz shard \(shard): \(Self.inputsPerShard) inputs,",
      "\(characters / max(1, Self.inputsPerShard)) scalars an input on average,",
      "\(validCells) valid cells printed back, \(evaluated) programs evaluated;",
      "slowest \(slowest.map { String(format: "%.4f s", $0.seconds) }.joined(separator: ", "))")
    if let folder = ProcessInfo.processInfo.environment["SIGBOOK_FUZZ_SAVE"] {
      for (rank, entry) in slowest.enumerated() {
        let name = String(
          format: "slow-shard%d-%d-%.0fms.sigbook", shard, rank, entry.seconds * 1000)
        try Data(entry.input.utf8).write(to: URL(fileURLWithPath: folder + "/" + name))
      }
    }
    #expect(validCells > Self.inputsPerShard / 10, "too few valid cells to test printing")
  }
}

/// The checks each fuzz input goes through, shared by the seeded run and the corpus replay.
enum FuzzCheck {
  /// The file names in `Fixtures/fuzz-corpus/`, sorted.
  static func corpusNames() throws -> [String] {
    let url = try #require(
      Bundle.module.url(forResource: "Fixtures/fuzz-corpus", withExtension: nil))
    return try FileManager.default.contentsOfDirectory(atPath: url.path)
      .filter { !$0.hasPrefix(".") }.sorted()
  }

  /// The text of one corpus input.
  static func corpusInput(_ name: String) throws -> String {
    let url = try #require(
      Bundle.module.url(forResource: "Fixtures/fuzz-corpus/\(name)", withExtension: nil))
    return String(decoding: try Data(contentsOf: url), as: UTF8.self)
  }

  /// Runs the valid cells of `input` in a fresh session with a budget of steps (the
  /// cancellation hook says "stop" after 20,000 checks) and a memory limit of 64 MiB, so that an
  /// endless loop or a huge list is stopped or refused; any error is fine, a crash is not.
  static func evaluate(_ cells: [Cell]) -> [String] {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sigbook-fuzz").path
    let session = Session(
      file: "f", baseDirectory: folder, figuresDirectory: folder + "/f.figures")
    session.memoryLimit = MemoryLimit(bytes: 64 << 20)
    let budget = StepBudget(steps: 20_000)
    session.isCancelled = { budget.take() }
    var problems: [String] = []
    for cell in cells {
      do {
        try session.run(cell)
      } catch {
        if error.location.line < 1 || error.location.column < 1 {
          problems.append("evaluation error \(error) has no location")
        }
        if error.kind == .interrupted { break }
      }
    }
    return problems
  }

  /// Runs the front end on `input` and returns the invariants it broke: `parseWorkbook` (which
  /// reads the document, lexes and parses every cell), the checker on every cell, the lexer and
  /// parser on the whole text as if it were one cell, `isIncomplete`, error rendering, printing
  /// every valid cell back, and — when `evaluate` — running the valid cells.
  static func exercise(
    _ input: String, evaluate: Bool, validCells: inout Int, evaluated: inout Int
  ) -> [String] {
    var problems: [String] = []
    let (document, cells, errors) = parseWorkbook(text: input, file: "f")
    if document.text != input { problems.append("the document does not give its text back") }
    // Size, not time: a front end that loops or backtracks without bound shows as more errors
    // than the input has scalars.
    if errors.count > input.unicodeScalars.count + 1 {
      problems.append("\(errors.count) errors for \(input.unicodeScalars.count) scalars")
    }
    // `sigbook check`: names, labels and options resolved against the catalogue.
    var checker = Checker()
    for cell in cells { checker.check(cell.statements) }
    for error in checker.errors.prefix(4) where error.location.line < 1 || error.location.column < 1
    {
      problems.append("check error \(error) has no location")
    }
    // The whole text as one cell: always when it has no fences (else `parseWorkbook` did not
    // parse it at all), one time in four when it has. The completeness check lexes it all again:
    // one time in eight. This keeps the test quick in a debug build.
    var whole = Parser(input, file: "f")
    let size = input.utf8.count
    if size % 4 == 0 || !input.contains("```") { _ = whole.parseStatements() }
    if size % 8 == 1 { _ = isIncomplete(input) }
    var lineCount = 1
    var previous: UInt8 = 0
    for byte in input.utf8 {
      if byte == 13 || (byte == 10 && previous != 13) { lineCount += 1 }
      previous = byte
    }
    for error in (errors + whole.errors).prefix(4) {
      let location = error.location
      if location.line < 1 || location.line > lineCount || location.column < 1 {
        problems.append("error \(error) is outside the text")
      }
      if !error.rendered(in: input).hasPrefix("f:\(error.location.line):") {
        problems.append("error \(error) renders badly")
      }
    }
    for cell in cells where !cell.hasErrors {
      let printed = cell.source
      do {
        let again = try parseCell(printed, file: "f")
        if !again.isEquivalent(to: cell) {
          problems.append("printing changes the tree: \(String(reflecting: printed))")
        }
        if !cell.statements.isEmpty { validCells += 1 }
      } catch {
        problems.append("printed cell does not parse: \(error) in \(String(reflecting: printed))")
      }
    }
    if evaluate {
      let valid = cells.filter { !$0.hasErrors }
      if !valid.isEmpty {
        evaluated += 1
        problems += Self.evaluate(valid)
      }
    }
    return problems
  }
}

/// A cancellation hook that says "stop" once it has been asked `steps` times.
final class StepBudget: @unchecked Sendable {
  private var left: Int
  init(steps: Int) { left = steps }
  func take() -> Bool {
    left -= 1
    return left < 0
  }
}

/// Makes fuzz inputs: mutated fixtures, token soup, bracket soup, random Unicode and random
/// well-formed programs.
struct Fuzzer {
  let fixtures: [[Character]]
  /// Whether the last input was a random well-formed program (cheap to evaluate).
  private(set) var lastWasProgram = false

  static let vocabulary: [String] = [
    "net", "fit", "x", "train", "for", "in", "true", "false", "0.05", "1e-3", "42", "7",
    "\"text\"", "\"run-\\(n).svg\"", "\"", "\\(", "\\", ".relu", ".", "..", "...", "..<", "+",
    "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "=", "(", ")", "[", "]", "{", "}", ",", ":",
    "#", "\n", "\n", "\n", " ", " ", "  ", "\t", "epochs:", "1.2.3", ".5", "%", "é", "🙂",
    "```sigbook\n", "```\n", "~~~\n",
  ]

  static let unicode: [Character] = [
    "\u{0301}", "\u{200D}", "\u{FEFF}", "\u{202E}", "🙂", "👩‍👩‍👧", "中", "é", "\u{0000}",
    "\u{0085}", "\u{2028}", "\r", "\r\n", "\t", "\u{000B}", "\u{0600}", "🇫🇷", "ﬁ", "“", "”",
    "\u{00A0}", "\u{200B}", "\u{10FFFF}", "ß", "ǅ", "\u{1F3FB}",
  ]

  static let syntax: [Character] = Array("()[]{}\"\\.,:=+-*/<>!#\n _aZ09`~e")

  /// One input, from a few characters to a few thousand (a few hundred on average).
  mutating func input(_ g: inout SeededGenerator) -> String {
    let choice = g.nextInt(below: 20)
    lastWasProgram = choice >= 15
    switch choice {
    case 0..<9: return String(mutatedFixture(&g))
    case 9..<12: return fenced(tokenSoup(&g), &g)
    case 12..<14: return fenced(bracketSoup(&g), &g)
    case 14..<15: return fenced(randomUnicode(&g), &g)
    default: return fenced(program(&g), &g)
    }
  }

  private func fenced(_ code: String, _ g: inout SeededGenerator) -> String {
    g.nextInt(below: 4) == 0 ? code : "Some prose.\n\n```sigbook\n" + code + "\n```\nMore.\n"
  }

  private func mutatedFixture(_ g: inout SeededGenerator) -> [Character] {
    var text = fixtures[g.nextInt(below: fixtures.count)]
    if g.nextInt(below: 4) != 0 {
      // A window of the fixture, so mutations land anywhere in a shorter text.
      let start = g.nextInt(below: text.count)
      let end = min(text.count, start + 30 + g.nextInt(below: 300))
      text = Array(text[start..<end])
    }
    for _ in 0..<(1 + g.nextInt(below: 8)) { mutate(&text, &g) }
    return text
  }

  private func mutate(_ text: inout [Character], _ g: inout SeededGenerator) {
    let at = g.nextInt(below: text.count + 1)
    switch g.nextInt(below: 10) {
    case 0: text.insert(Self.syntax[g.nextInt(below: Self.syntax.count)], at: at)
    case 1: text.insert(Self.unicode[g.nextInt(below: Self.unicode.count)], at: at)
    case 2:
      let end = min(text.count, at + 1 + g.nextInt(below: 5))
      text.removeSubrange(at..<end)
    case 3:
      if at < text.count { text[at] = Self.syntax[g.nextInt(below: Self.syntax.count)] }
    case 4, 5, 6:
      var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(Array.init)
      let i = g.nextInt(below: lines.count)
      let j = g.nextInt(below: lines.count)
      switch g.nextInt(below: 3) {
      case 0: lines.insert(lines[i], at: j)
      case 1: if lines.count > 1 { lines.remove(at: i) }
      default: lines.swapAt(i, j)
      }
      text = Array(lines.joined(separator: "\n"))
    case 7: text.insert(contentsOf: bracketSoup(&g).prefix(40), at: at)
    case 8:
      text.insert(contentsOf: Self.vocabulary[g.nextInt(below: Self.vocabulary.count)], at: at)
    default: text.insert(contentsOf: "\"\\(", at: at)
    }
  }

  private func tokenSoup(_ g: inout SeededGenerator) -> String {
    var text = ""
    for _ in 0..<(5 + g.nextInt(below: 80)) {
      text += Self.vocabulary[g.nextInt(below: Self.vocabulary.count)]
      if g.nextInt(below: 2) == 0 { text += " " }
    }
    return text
  }

  private func bracketSoup(_ g: inout SeededGenerator) -> String {
    let pieces = [
      "(", ")", "[", "]", "{", "}", "\"", "\\(", "\n", ",", "x", "-", "+", ".a", "for i in x {",
    ]
    var text = ""
    if g.nextInt(below: 8) == 0 {
      // A deep run: beyond the nesting limit, or just below it.
      let piece = pieces[g.nextInt(below: 8)]
      text += String(repeating: piece, count: 150 + g.nextInt(below: 900))
    }
    for _ in 0..<g.nextInt(below: 250) { text += pieces[g.nextInt(below: pieces.count)] }
    return text
  }

  private func randomUnicode(_ g: inout SeededGenerator) -> String {
    var text = ""
    for _ in 0..<g.nextInt(below: 200) {
      switch g.nextInt(below: 3) {
      case 0: text.append(Self.unicode[g.nextInt(below: Self.unicode.count)])
      case 1: text.append(Self.syntax[g.nextInt(below: Self.syntax.count)])
      default:
        let scalar = Unicode.Scalar(UInt32(g.nextInt(below: 0x3_0000))) ?? "?"
        text.unicodeScalars.append(scalar)
      }
    }
    return text
  }

  /// A random well-formed cell: statements built from the grammar.
  private func program(_ g: inout SeededGenerator) -> String {
    (0..<(1 + g.nextInt(below: 6))).map { _ in statement(&g, depth: 0) }.joined(separator: "\n")
  }

  private func statement(_ g: inout SeededGenerator, depth: Int) -> String {
    switch g.nextInt(below: 6) {
    case 0: return name(&g) + " = " + expression(&g, depth: 0)
    case 1: return name(&g) + ", " + name(&g) + " = " + expression(&g, depth: 0)
    case 2 where depth < 3:
      let body = (0..<g.nextInt(below: 3)).map { _ in statement(&g, depth: depth + 1) }
      return "for \(name(&g)) in \(expression(&g, depth: 0)) {\n" + body.joined(separator: "\n")
        + "\n}"
    default: return expression(&g, depth: 0)
    }
  }

  private func name(_ g: inout SeededGenerator) -> String {
    ["net", "train", "x", "sig", "k_2", "été", "_"][g.nextInt(below: 7)]
  }

  private func expression(_ g: inout SeededGenerator, depth: Int) -> String {
    let leaf = depth > 4 || g.nextInt(below: 3) == 0
    if leaf {
      switch g.nextInt(below: 8) {
      case 0: return ["0", "42", "0.05", "1e-3", "2.5e10", "1e300", "0.1"][g.nextInt(below: 7)]
      case 1:
        return ["\"\"", "\"a\\tb\"", "\"q\\\"\\\\\"", "\"é🙂\"", "\"x\\r\\n\""][g.nextInt(below: 5)]
      case 2: return g.nextInt(below: 2) == 0 ? "true" : "false"
      case 3: return ".relu"
      default: return name(&g)
      }
    }
    let a = expression(&g, depth: depth + 1)
    let b = expression(&g, depth: depth + 1)
    switch g.nextInt(below: 15) {
    case 12: return ["sum", "sort", "print", "mean"][g.nextInt(below: 4)] + "(\(a))"
    case 13: return "\(a) + [\(b)]"
    case 14: return "(\(a))...(\(b))"
    case 0: return "[\(a), \(b)]"
    case 1: return "\(a)\(["...", "..<"][g.nextInt(below: 2)])\(b)"
    case 2: return "f(\(a), \(b), k: \(a))"
    case 3: return "(\(a)).count"
    case 4: return "(\(a))[\(b)]"
    case 5: return "-\(a)"
    case 6: return "\"run-\\(\(a)).svg\""
    case 7: return "(\(a))"
    default:
      return
        "\(a) \(["+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">="][g.nextInt(below: 10)]) \(b)"
    }
  }
}
