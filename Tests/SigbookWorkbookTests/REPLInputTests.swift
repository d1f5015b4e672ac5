import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookWorkbook

@Suite("REPL input, line by line") struct REPLInputTests {
  static let inputs: [String] = [
    "x = 1", "[1,", "[1,\n2", "[1,\n2]", "f(a,\n[1,\n2])", "f(a,\n]", "f(\"(\",", "f(\"(\")",
    "for i in [1, 2] {", "for i in [1, 2] {\n  print(i)\n}", "x = (1 # (\n", "x = \"unterminated",
    "x = [\"\\(a[\"]", "print(\"\\(f(1,\"))", "{\n(\n}", "x = ((\n))", ")", "x = $", "[\n[\n[\n",
    String(repeating: "(", count: Lexer.maximumNesting + 1),
    String(repeating: "(\n", count: Lexer.maximumNesting + 1),
  ]

  @Test(arguments: inputs)
  func agreesWithLexingTheWholeInput(_ text: String) {
    var input = REPLInput()
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if text.hasSuffix("\n") { lines.removeLast() }
    for line in lines { input.append(line) }
    #expect(input.text == lines.joined(separator: "\n"))
    #expect(input.isIncomplete == isIncomplete(input.text), "\(text.debugDescription)")
  }

  @Test func aLongOpenInputIsDroppedButStillEndsWhereItWould() {
    var input = REPLInput()
    input.append("[")
    let line = String(repeating: "1, ", count: 1000)
    var count = 1
    while !input.isTooLong {
      input.append(line)
      count += 1
    }
    #expect(input.text.isEmpty && input.isIncomplete)
    input.append("]")
    #expect(!input.isIncomplete && input.lineCount == count + 1)
    input.clear()
    #expect(input.isEmpty && !input.isTooLong)
  }
}
