import SigbookTestSupport
import Testing

@testable import SigbookWorkbook

/// A short picture of a token: `id:net`, `n:0.05`, `opt:relu`, `s:text`, `⏎`, or its text.
func summary(_ token: Token) -> String {
  switch token.kind {
  case .number:
    if case .number(let value) = token.value { return "n:" + formatNumber(value) }
    return "n:?"
  case .identifier: return "id:" + token.name
  case .option: return "opt:" + token.name
  case .newline: return "⏎"
  case .invalid: return "error:" + (token.error?.message ?? "?")
  case .string:
    guard case .string(let segments) = token.value else { return "s:?" }
    return "s:"
      + segments.map { segment in
        switch segment {
        case .text(let text): text
        case .interpolation(let tokens, _):
          "\\(" + tokens.dropLast().map(summary).joined(separator: " ") + ")"
        }
      }.joined()
  default: return token.text
  }
}

/// The tokens of `source` without the final `end`.
func tokens(_ source: String, firstLine: Int = 1) -> [Token] {
  var lexer = Lexer(source, file: "t", firstLine: firstLine)
  return Array(lexer.tokenize().dropLast())
}

@Suite("Lexer") struct LexerTests {
  static let cases: [(source: String, tokens: [String])] = [
    // numbers
    ("0.05 1e-3 42 2.5E+2 007", ["n:0.05", "n:0.001", "n:42", "n:250", "n:7"]),
    ("1e3", ["n:1000"]),
    // strings and interpolation
    ("\"text\"", ["s:text"]),
    ("\"\"", ["s:"]),
    ("\"a\\\"b\\\\c\\nd\\te\"", ["s:a\"b\\c\nd\te"]),
    ("\"run-\\(n).svg\"", ["s:run-\\(id:n).svg"]),
    ("\"\\(f(\"x\", k: 1))\"", ["s:\\(id:f ( s:x , id:k : n:1 ))"]),
    ("\"a\\(\"b\\(c)\")\"", ["s:a\\(s:b\\(id:c))"]),
    ("\"a # not a comment\"", ["s:a # not a comment"]),
    // keywords and names
    ("true false for in", ["true", "false", "for", "in"]),
    (
      "net train_2 _x été forest inx",
      ["id:net", "id:train_2", "id:_x", "id:été", "id:forest", "id:inx"]
    ),
    // options against fields
    (".relu", ["opt:relu"]),
    ("net.history", ["id:net", ".", "id:history"]),
    ("net .history", ["id:net", "opt:history"]),
    (
      "f(x).y a[1].k \"s\".count",
      [
        "id:f", "(", "id:x", ")", ".", "id:y", "id:a", "[", "n:1", "]", ".", "id:k", "s:s", ".",
        "id:count",
      ]
    ),
    ("f(x, .relu)", ["id:f", "(", "id:x", ",", "opt:relu", ")"]),
    ("[.a,.b]", ["[", "opt:a", ",", "opt:b", "]"]),
    ("x=.adam", ["id:x", "=", "opt:adam"]),
    // operators and punctuation
    ("+ - * / == != < <= > >= =", ["+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "="]),
    ("2...10 0..<5 a...b", ["n:2", "...", "n:10", "n:0", "..<", "n:5", "id:a", "...", "id:b"]),
    ("1.5...2", ["n:1.5", "...", "n:2"]),
    ("( ) [ ] { } , :", ["(", ")", "[", "]", "{", "}", ",", ":"]),
    ("a==-b", ["id:a", "==", "-", "id:b"]),
    // comments
    ("x # comment (\ny", ["id:x", "⏎", "id:y"]),
    ("# only a comment", []),
    // newlines: separators, except inside ( and [
    ("a\nb\n", ["id:a", "⏎", "id:b", "⏎"]),
    ("f(a,\n  b)\nc", ["id:f", "(", "id:a", ",", "id:b", ")", "⏎", "id:c"]),
    ("[1,\n2]", ["[", "n:1", ",", "n:2", "]"]),
    (
      "for x in y {\n  f(x)\n}",
      ["for", "id:x", "in", "id:y", "{", "⏎", "id:f", "(", "id:x", ")", "⏎", "}"]
    ),
    ("f({\n})", ["id:f", "(", "{", "⏎", "}", ")"]),
    ("a\r\nb\rc", ["id:a", "⏎", "id:b", "⏎", "id:c"]),
    // errors
    ("\"abc", ["error:unterminated string"]),
    ("\"abc\nx", ["error:unterminated string", "⏎", "id:x"]),
    ("\"a\\(b\"", ["error:unterminated string"]),
    ("\"a\\q\"", ["error:unknown escape '\\q' in a string"]),
    ("a % b", ["id:a", "error:unexpected character '%'", "id:b"]),
    ("a\u{200B}b", ["id:a", "error:unexpected character U+200B", "id:b"]),
    ("1.2.3", ["error:malformed number '1.2.3'"]),
    ("3x", ["error:malformed number '3x'"]),
    ("1e", ["error:malformed number '1e'"]),
    ("1e999", ["error:number '1e999' is too large"]),
    (".5", ["error:a number cannot start with '.'"]),
    ("a..b", ["id:a", "error:unknown operator '..'", "id:b"]),
    ("f(. x)", ["id:f", "(", "error:expected an option name after '.'", "id:x", ")"]),
    ("!x", ["error:unexpected character '!'", "id:x"]),
  ]

  @Test(arguments: cases)
  func readsTokens(_ c: (source: String, tokens: [String])) {
    #expect(tokens(c.source).map(summary) == c.tokens)
  }

  @Test func locationsAreFileLinesAndCharacterColumns() {
    let read = tokens("x = 1\n  é🙂 = \"ü\" + y", firstLine: 10)
    let places = read.map { "\($0.location.line):\($0.location.column)+\($0.length)" }
    #expect(
      places == [
        "10:1+1", "10:3+1", "10:5+1", "10:6+1", "11:3+1", "11:4+1", "11:6+1", "11:8+3", "11:12+1",
        "11:14+1",
      ])
  }

  @Test func interpolatedTokensKeepTheirFileColumns() {
    let read = tokens("s = \"a\\(n + 1)\"", firstLine: 3)
    guard case .string(let segments) = read[2].value,
      case .interpolation(let inner, let start) = segments[1]
    else {
      Issue.record("not an interpolation")
      return
    }
    #expect(start == SourceLocation(file: "t", line: 3, column: 7))
    #expect(inner.map(\.location.column) == [9, 11, 13, 14])
    #expect(inner.last?.kind == .end)
  }

  @Test func errorsPointAtTheProblem() throws {
    let escape = try #require(tokens("x = \"ab\\qc\"")[2].error)
    #expect(escape.location.column == 8 && escape.length == 2)
    let unterminated = try #require(tokens("x = \"abc")[2].error)
    #expect(unterminated.location.column == 5 && unterminated.length == 4)
    let dot = try #require(tokens("x = .5")[2].error)
    #expect(dot.hint == "write '0.5'")
    let quote = try #require(tokens("x = “a”")[2].error)
    #expect(quote.message == "unexpected character '“'" && quote.location.column == 5)
  }

  @Test func theEndTokenSitsAtTheEndOfTheLastLine() {
    var lexer = Lexer("f(x,\n", file: "t", firstLine: 4)
    let end = lexer.tokenize().last
    #expect(end?.kind == .end && end?.location.line == 4 && end?.location.column == 5)
  }

  @Test func reportsUnclosedAndMismatchedBrackets() {
    var lexer = Lexer("f(a, [1,\n2] g(", file: "t")
    _ = lexer.tokenize()
    #expect(lexer.unclosedBrackets.map(\.location.column) == [2, 5])
    #expect(lexer.openBracketsAtEnd == 2 && !lexer.hasMismatchedBrackets)
    var mismatched = Lexer("[(])", file: "t")
    _ = mismatched.tokenize()
    #expect(mismatched.hasMismatchedBrackets && mismatched.unclosedBrackets.map(\.text) == ["("])
  }

  @Test func deepInterpolationsStopAtTheLimit() {
    let depth = Lexer.maximumNesting + 5
    let source =
      String(repeating: "\"\\(", count: depth) + "x" + String(repeating: ")\"", count: depth)
    let read = tokens(source)
    #expect(read.count == 1 && read[0].error?.message == "nesting too deep")
  }
}
