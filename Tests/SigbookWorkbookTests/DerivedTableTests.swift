import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor

/// Tables taken from tables (filtered, sliced, indexed) say which rows they hold, and indexing
/// an empty table or list says it is empty.
@Suite("Derived tables") struct DerivedTableTests {
  static let cases: [(source: String, message: String)] = [
    (
      "t = table(a: [1, 2, 3])\nfilter(t, \"a\", above: 5)[0]",
      "index 0 is out of range: the table is empty"
    ),
    ("xs = [1][1..<1]\nxs[0]", "index 0 is out of range: the list is empty"),
    ("[1, 2][5]", "index 5 is out of range: the list has 2 (from 0 to 1)"),
  ]

  @Test(arguments: cases)
  func indexingSaysWhatIsThere(_ c: (source: String, message: String)) throws {
    #expect(try errorOf(c.source).message == c.message)
  }

  @Test func aFilteredOrSlicedPathsTableSaysWhichPathsItHolds() throws {
    let outputs = try runSource(
      """
      d = synthetic(.two_gaussians, n: 60, seed: 1)
      net = fit(mlp(2, 4, 4, 2), d, epochs: 1, seed: 1)
      c = kmeans(signatures(net, d), k: 3, seed: 1)
      p = paths(c)
      print(p.count)
      filter(p, "count", above: 1000)
      p[0..<2]
      p[0]
      """)
    let total = try #require(outputs.first)
    let whole = "\(total) distinct paths of 60 inputs"
    #expect(
      outputs[1].hasPrefix("rows where count > 1000 (0 of \(total)) of “\(whole)”"), "\(outputs[1])"
    )
    #expect(outputs[2].hasPrefix("rows 0..<2 (2 of \(total)) of “\(whole)”"), "\(outputs[2])")
    #expect(outputs[3].hasPrefix("row 0 (1 of \(total)) of “\(whole)”"), "\(outputs[3])")
  }
}
