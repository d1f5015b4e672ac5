import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookWorkbook

/// `run` looks up the names a workbook function's body uses when the function is called, so
/// `check` must accept exactly what `run` accepts: a function may call one defined after it, and
/// read a variable assigned after it, as long as both exist when the call runs.
@Suite("Check resolves function bodies when they are called") struct CheckerDeferredNameTests {
  /// A workbook, and the first error of both `check` and `run` (nil when both accept it).
  static let cases: [(source: String, error: String?)] = [
    // The reproducer of issue 20: `b` is defined after `a` and before the call.
    ("func a() { return b() }\nfunc b() { return 1 }\nprint(a())", nil),
    // A global assigned after the function, before the call.
    ("func f() { return x + 1 }\nx = 1\nprint(f())", nil),
    // Through a chain of functions, each defined after the one that calls it.
    ("func a() { return b() }\nfunc b() { return c() }\nfunc c() { return 2 }\nprint(a())", nil),
    // A function never called is never resolved, as `run` never resolves it.
    ("func a() { return nope() }\nprint(1)", nil),
    // Recursion.
    ("func down(n) { if n > 0 { return down(n - 1) }\nreturn 0 }\nprint(down(3))", nil),
    // Called before `b` exists: `run` fails on `b`, inside the body.
    (
      "func a() { return b() }\nprint(a())\nfunc b() { return 1 }",
      "w.sigbook:2:19: error: unknown function 'b'"
    ),
    // Never defined at all.
    ("func a() { return bb() }\nprint(a())", "w.sigbook:2:19: error: unknown function 'bb'"),
    // Two levels down.
    (
      "func a() { return b() }\nfunc b() { return c() }\nprint(a())",
      "w.sigbook:3:19: error: unknown function 'c'"
    ),
    // A variable read before it is assigned.
    ("func f() { return y }\nprint(f())\ny = 2", "w.sigbook:2:19: error: unknown name 'y'"),
    // A later function called with a label it does not take.
    (
      "func a() { return b(z: 1) }\nfunc b(x: 1) { return x }\nprint(a())",
      "w.sigbook:2:21: error: b has no label 'z:'"
    ),
  ]

  @Test(arguments: cases)
  func checkAcceptsWhatRunAccepts(_ c: (source: String, error: String?)) throws {
    let text = "```sigbook\n" + c.source + "\n```\n"
    let checked = Checker.check(text: text, file: "w.sigbook")
    let session = recordingSession(Box([]), file: "w.sigbook")
    var ran: WorkbookError?
    do {
      for cell in parseWorkbook(text: text, file: "w.sigbook").cells { try session.run(cell) }
    } catch {
      ran = error
    }
    #expect(ran.map(headline) == c.error, "run: \(c.source)")
    #expect(checked.first.map(headline) == c.error, "check: \(c.source)")
    #expect(checked.count == (c.error == nil ? 0 : 1), "check: \(checked.map(headline))")
  }

  @Test func aFunctionCalledTwiceReportsItsUnknownNameOnce() {
    let text = "```sigbook\nfunc a() { return b() }\nprint(a())\nprint(a())\n```\n"
    let errors = Checker.check(text: text, file: "w.sigbook")
    #expect(errors.map(\.message) == ["unknown function 'b'"])
  }
}
