import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookWorkbook

/// The memory limit bounds what a session holds, not each operation's estimate alone; and every
/// count a user passes is checked before it sizes anything.
@Suite("Session memory") struct SessionMemoryTests {
  /// Counts beyond their parameter's maximum: refused by name, by `run` and `check` alike.
  static let counts: [(source: String, message: String)] = [
    (
      "kmeans(d, k: 2, restarts: 1e14)",
      "kmeans takes at most 1,000 for 'restarts:', not 100,000,000,000,000"
    ),
    (
      "kmeans(d, k: [2, 1e9])",
      "kmeans takes at most 16,777,216 for 'k:', not 1,000,000,000"
    ),
    (
      "fit(mlp(2, 4, 2), d, epochs: 1e9)",
      "fit takes at most 1,000,000 for 'epochs:', not 1,000,000,000"
    ),
    ("mlp(2, 1e9, 2)", "mlp takes at most 16,777,216 for its 2nd argument, not 1,000,000,000"),
    (
      "tsne(d, iterations: 1e12)",
      "tsne takes at most 1,000,000 for 'iterations:', not 1,000,000,000,000"
    ),
    ("umap(d, neighbors: 1e7)", "umap takes at most 10,000 for 'neighbors:', not 10,000,000"),
    ("pca(d, dims: 1e10)", "pca takes at most 16,777,216 for 'dims:', not 10,000,000,000"),
    ("images(d, count: 1e8)", "images takes at most 10,000 for 'count:', not 100,000,000"),
    (
      "subset(d, per_class: 1e13)",
      "subset takes at most 268,435,456 for 'per_class:', not 10,000,000,000,000"
    ),
  ]

  @Test(arguments: counts)
  func countsBeyondTheirBoundAreRefusedByName(_ c: (source: String, message: String)) throws {
    let source = "d = synthetic(.two_gaussians, n: 50, seed: 1)\n" + c.source
    let session = Session(
      file: "t.sigbook", baseDirectory: "/tmp", figuresDirectory: "/tmp/sigbook-counts.figures")
    let error = try #require(throws: WorkbookError.self) {
      _ = try runSource(source, session: session)
    }
    #expect(error.message == c.message)
    #expect(error.location.line == 2)
    let checked = Checker.check(text: "```sigbook\n" + source + "\n```\n", file: "t.sigbook")
    #expect(checked.map(\.message) == [c.message])
  }

  @Test func aRangeOfCountsIsCheckedByItsLastNumber() {
    let text = "```sigbook\nd = synthetic(.two_gaussians, n: 50)\nkmeans(d, k: 2...20000000)\n```\n"
    #expect(
      Checker.check(text: text, file: "t.sigbook").map(\.message) == [
        "kmeans takes at most 16,777,216 for 'k:', not 16,777,217"
      ])
  }

  /// A string doubled in a loop: each doubling fits the limit alone, the session's total does not.
  @Test func aStringDoubledInALoopStopsAtTheLimit() throws {
    let session = Session(
      file: "t.sigbook", baseDirectory: "/tmp", figuresDirectory: "/tmp/sigbook-text.figures")
    session.memoryLimit = MemoryLimit(bytes: 4 << 20)
    let error = try #require(throws: WorkbookError.self) {
      _ = try runSource("s = \"x\"\nfor i in 1...31 { s = s + s }", session: session)
    }
    // 2 MiB held and 4 MiB asked: refused, though 4 MiB alone is within the limit.
    #expect(
      error.message
        == "a text of 4,194,304 bytes would need about 4 MiB, more than the 2 MiB left of the memory limit of 4 MiB (the session's variables hold 2 MiB)"
    )
    guard case .text(let s)? = session.variables["s"] else {
      Issue.record("s was lost")
      return
    }
    #expect(s.utf8.count == 2 << 20)
  }

  @Test func interpolationIsCountedToo() throws {
    let session = Session(
      file: "t.sigbook", baseDirectory: "/tmp", figuresDirectory: "/tmp/sigbook-text.figures")
    session.memoryLimit = MemoryLimit(bytes: 4 << 20)
    let error = try #require(throws: WorkbookError.self) {
      _ = try runSource("s = \"x\"\nfor i in 1...31 { s = \"\\(s)\\(s)\" }", session: session)
    }
    #expect(error.message.hasPrefix("a text of 4,194,304 bytes would need about 4 MiB"))
  }

  /// Copies of a dataset piled into a list across statements: the copy that would pass the
  /// limit is refused and not kept (concat estimates nothing beforehand: its result is checked).
  @Test func aListBuiltAcrossStatementsStopsAtTheLimit() throws {
    let session = Session(
      file: "t.sigbook", baseDirectory: "/tmp", figuresDirectory: "/tmp/sigbook-list.figures")
    session.memoryLimit = MemoryLimit(bytes: 8 << 20)
    // 100,000 points: 800,000 bytes of features and 800,000 of labels each.
    _ = try runSource("d = synthetic(.two_gaussians, n: 100000)\nxs = [d]", session: session)
    var error: WorkbookError?
    for _ in 0..<100 {
      do {
        _ = try runSource("xs = xs + [concat(d, d)]", session: session)
      } catch let e as WorkbookError {
        error = e
        break
      }
    }
    let refused = try #require(error)
    #expect(refused.message.hasPrefix("the result of concat would need about "))
    #expect(refused.message.contains("of the memory limit of 8 MiB (the session's variables hold"))
    #expect(session.heldBytes <= 8 << 20)
    guard case .list(let items)? = session.variables["xs"] else {
      Issue.record("xs was lost")
      return
    }
    // d is shared with xs[0] and counted once; the copies kept all fit.
    #expect(items.count >= 3 && items.count < 100)
  }

  @Test func noiseIsCheckedBeforeItCopies() throws {
    let session = Session(
      file: "t.sigbook", baseDirectory: "/tmp", figuresDirectory: "/tmp/sigbook-noise.figures")
    session.memoryLimit = MemoryLimit(bytes: 2 << 20)
    _ = try runSource("d = synthetic(.two_gaussians, n: 100000)", session: session)
    let error = try #require(throws: WorkbookError.self) {
      _ = try runSource("e = noise(d, sigma: 0.1)", session: session)
    }
    #expect(
      error.message
        == "noise on 'd' would need about 781.3 KiB, more than the 485.5 KiB left of the memory limit of 2 MiB (the session's variables hold 1.5 MiB)"
    )
  }

  @Test func copiesThatShareStorageCountOnce() throws {
    let session = Session(
      file: "t.sigbook", baseDirectory: "/tmp", figuresDirectory: "/tmp/sigbook-share.figures")
    _ = try runSource("d = synthetic(.two_gaussians, n: 100000)", session: session)
    let one = session.heldBytes
    _ = try runSource("e = d\nxs = [d, e, d]", session: session)
    #expect(one == 1_600_000)
    #expect(session.heldBytes == one + 3 * MemoryEstimate.listItemBytes)
  }
}
