import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookServe

/// Values sent by the page's controls: applied exactly, or refused with a 400 and the reason,
/// never answered `ok` and dropped; the page shows the values in effect.
@Suite("Serve: parameter values", .serialized)
struct ParameterValueTests {
  static let workbook = """
    ```sigbook
    title = "run"
    act = .relu
    span = 0...9
    # param: lr in 0.001...0.5
    lr = 0.05
    count = 3
    names = ["trouser", "dress"]
    ```

    ```sigbook
    print(title)
    print(act)
    print(span)
    print(lr, count)
    ```

    """

  /// The parameters' values in effect, as the status reports them.
  static func values(_ served: Served) async throws -> [String: Any] {
    let state = try await served.waitUntilIdle()
    return try #require(state["parameters"] as? [String: Any])
  }

  @Test(arguments: [
    ("act", #""x²""#, "option name"), ("act", #""1abc""#, "option name"),
    ("span", #""1...1e300""#, "within"), ("span", #""[1, 2]""#, "takes a range"),
    ("count", "true", "takes a number"), ("lr", "true", "takes a number"),
    ("lr", "0.9", "must lie in 0.001...0.5"), ("title", "\"a\\u0001b\"", "control characters"),
    ("title", "3", "takes a text"), ("names", #""[\"a\"]""#, "no parameter"),
  ])
  func aRefusedValueGetsA400WithTheReasonAndChangesNothing(
    _ c: (name: String, json: String, reason: String)
  ) async throws {
    let served = try await Served(Self.workbook)
    _ = try await served.waitUntilIdle()
    let before = served.runs()
    let reply = try await served.set(c.name, c.json)
    #expect(reply.status == 400, "\(c) answered \(reply.status) \(reply.body)")
    #expect(reply.body.contains(c.reason), "\(reply.body)")
    let values = try await Self.values(served)
    #expect(values["act"] as? String == "relu" && values["span"] as? String == "0...9")
    #expect(values["lr"] as? Double == 0.05 && values["title"] as? String == "run")
    #expect(served.runs() == before)
  }

  @Test func anAcceptedValueIsAppliedAndTheCodeShowsIt() async throws {
    let served = try await Served(Self.workbook)
    _ = try await served.waitUntilIdle()
    for (name, json) in [
      ("title", #""a\rb""#), ("act", #"".tanh""#), ("span", #""2..<5""#), ("lr", "0.3"),
    ] {
      #expect(try await served.set(name, json).status == 200, "\(name)")
    }
    _ = try await served.waitUntilIdle()
    #expect(
      served.live.cellStates[1].outputs == [
        .printed("a\rb"), .printed(".tanh"), .printed("2..<5"), .printed("0.3 3"),
      ])
    let page = try await served.request("GET", "/").body
    #expect(page.contains("title = &quot;a\\rb&quot;") || page.contains(#"title = "a\rb""#))
    #expect(page.contains("act = .tanh") && page.contains("span = 2..&lt;5"))
    #expect(page.contains("lr = 0.3") && !page.contains("lr = 0.05"))
    // The declaration line stays as written.
    #expect(page.contains("# param: lr in 0.001...0.5"))
    // A list of class names is data, not a control.
    #expect(!page.contains(#"data-param="names""#))
    #expect(page.contains(#"data-reason="lr""#))
    let state = try await served.request("GET", "/api/state").json ?? [:]
    let controls = try #require(state["controls"] as? [String: Any])
    #expect(controls["act"] as? String == ".tanh" && controls["lr"] as? Double == 0.3)
  }

  @Test func aBodyOverTheLimitGets413() async throws {
    let served = try await Served(Self.workbook)
    let big = "{\"name\": \"title\", \"value\": \"" + String(repeating: "x", count: 3 << 20) + "\"}"
    let reply = try await served.request("POST", "/api/set", body: big)
    #expect(reply.status == 413)
  }

  @Test(arguments: [
    "127.0.0.1:PORT@evil.com", "127.0.0.1:PORTx", "127.0.0.1:", "127.0.0.1:+PORT",
    "evil.com@127.0.0.1:PORT", "127.0.0.1 :PORT", "[::1]x:PORT", "127.0.0.1:99999999",
  ])
  func anUnreadableHostIsRefused(_ host: String) async throws {
    let served = try await Served(Self.workbook)
    let name = host.replacingOccurrences(of: "PORT", with: String(served.port))
    #expect(try await served.request("GET", "/api/state", host: name).status == 403, "\(name)")
    #expect(
      try await served.request("GET", "/api/state", host: "127.0.0.1:\(served.port)").status == 200)
  }
}
