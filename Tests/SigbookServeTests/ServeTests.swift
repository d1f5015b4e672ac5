import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookServe

/// A small workbook: data, a parameter the model depends on, a cell that reads the data only,
/// and a cell that reads the model.
let reactiveWorkbook = """
  # Reactive

  Compute 2 * 3 * 4 and see no emphasis.

  ```sigbook
  data = synthetic(.two_gaussians, n: 60, seed: 1)
  ```

  ```sigbook
  # param: lr in 0.001...0.5
  lr = 0.1
  net = fit(mlp(2, 4, 2, seed: 1), data, epochs: 2, lr: lr, seed: 1)
  curve = loss_plot(net)
  ```

  ```sigbook
  print("inputs:", data.count)
  ```

  ```sigbook
  print("accuracy:", accuracy(net, data))
  ```

  """

@Suite("Serve: security", .serialized)
struct ServeSecurityTests {
  @Test func refusesRequestsWithoutTheRightToken() async throws {
    let served = try await Served(reactiveWorkbook)
    for path in ["/", "/events", "/api/state", "/figures/curve.svg", "/app.js", "/nowhere"] {
      #expect(try await served.request("GET", path, token: .some(nil)).status == 401, "\(path)")
      #expect(try await served.request("GET", path, token: "wrong").status == 401, "\(path)")
      #expect(
        try await served.request(
          "GET", path + "?token=" + String(repeating: "0", count: 48), token: .some(nil)
        ).status == 401)
    }
    #expect(try await served.request("POST", "/api/stop", token: .some(nil)).status == 401)
  }

  @Test func theTokenInTheAddressSetsACookieThatLaterRequestsCarry() async throws {
    let served = try await Served(reactiveWorkbook)
    let first = try await served.request("GET", "/?token=\(served.token)", token: .some(nil))
    #expect(first.status == 200)
    let cookie = try #require(first.headers["set-cookie"])
    #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
    let pair = String(cookie.split(separator: ";")[0])
    let second = try await served.request(
      "GET", "/api/state", token: .some(nil), headers: ["Cookie": pair])
    #expect(second.status == 200)
  }

  @Test func servesOnlyTheFiguresFolder() async throws {
    let served = try await Served(reactiveWorkbook)
    _ = try await served.waitUntilIdle()
    let figures = served.folder.appendingPathComponent("w.figures")
    // A link in the folder to a file outside it, and one to the folder above.
    try FileManager.default.createSymbolicLink(
      atPath: figures.appendingPathComponent("out.svg").path,
      withDestinationPath: served.workbook.path)
    try FileManager.default.createSymbolicLink(
      atPath: figures.appendingPathComponent("up").path, withDestinationPath: served.folder.path)
    let good = try await served.request("GET", "/figures/curve.svg")
    #expect(good.status == 200 && good.headers["content-type"] == "image/svg+xml")
    #expect(good.body.contains("<svg"))
    let refused = [
      "/figures/../w.sigbook", "/figures/%2e%2e/w.sigbook", "/figures/%2E%2E/w.sigbook",
      "/figures/..%2fw.sigbook", "/figures/%2e%2e%2fw.sigbook", "/figures/./curve.svg",
      "/figures/curve.svg/../../w.sigbook", "/figures//etc/passwd", "/figures/%2fetc%2fpasswd",
      "/figures/out.svg", "/figures/up/w.sigbook", "/figures/", "/figures/missing.svg",
      "/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/figures/%00curve.svg",
      "/figures/..%5cw.sigbook",
    ]
    for path in refused {
      let reply = try await served.request("GET", path)
      #expect(reply.status == 404, "\(path) gave \(reply.status)")
      #expect(!reply.body.contains("sigbook"), "\(path) leaked the workbook")
    }
  }

  @Test func checksHostAndOrigin() async throws {
    let served = try await Served(reactiveWorkbook)
    let port = served.port
    #expect(try await served.request("GET", "/api/state", host: "localhost:\(port)").status == 200)
    #expect(
      try await served.request("GET", "/api/state", host: "evil.example:\(port)").status == 403)
    #expect(try await served.request("GET", "/api/state", host: "127.0.0.1:1").status == 403)
    // A foreign page's script opening the event stream or posting a change is refused.
    let foreign = ["Origin": "http://evil.example"]
    #expect(try await served.request("GET", "/events", headers: foreign).status == 403)
    #expect(try await served.request("GET", "/events", headers: ["Origin": "null"]).status == 403)
    #expect(
      try await served.request(
        "POST", "/api/set", headers: foreign, body: "{\"name\":\"lr\",\"value\":0.2}"
      )
      .status == 403)
    #expect(served.live.view.parameters.first { $0.name == "lr" }?.value == .number(0.1))
    // The page's own origin is accepted.
    let raw =
      "GET /events HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nOrigin: http://127.0.0.1:\(port)\r\n"
      + "Authorization: token \(served.token)\r\n\r\n"
    let stream = try await HTTPReply.fetch(raw, port: port, until: "\"type\":\"sync\"")
    #expect(stream.status == 200 && stream.headers["content-type"] == "text/event-stream")
  }

  @Test func thePageLoadsNothingFromElsewhere() async throws {
    let served = try await Served(reactiveWorkbook)
    _ = try await served.waitUntilIdle()
    let page = try await served.request("GET", "/")
    #expect(page.status == 200)
    let csp = try #require(page.headers["content-security-policy"])
    #expect(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"))
    // Every resource the page loads is one of its own, by a relative address.
    let pattern = try NSRegularExpression(
      pattern: #"<(?:script|link|img)[^>]*(?:src|href)="([^"]*)""#)
    let body = page.body as NSString
    let addresses = pattern.matches(in: page.body, range: NSRange(location: 0, length: body.length))
      .map { body.substring(with: $0.range(at: 1)) }
    #expect(addresses.count >= 3)
    for address in addresses {
      #expect(!address.contains("//") && !address.hasPrefix("/"), "\(address)")
    }
    for path in ["/app.js", "/app.css"] {
      let reply = try await served.request("GET", path)
      #expect(reply.status == 200)
      #expect(!reply.body.contains("http://") && !reply.body.contains("https://"), "\(path)")
    }
    // Prose through Ink: `2 * 3 * 4` is arithmetic, not emphasis.
    #expect(page.body.contains("2 * 3 * 4") && !page.body.contains("<em>"))
  }
}

@Suite("Serve: reactive runs", .serialized)
struct ServeReactiveTests {
  @Test func aParameterChangeReRunsOnlyTheCellsThatDependOnIt() async throws {
    let served = try await Served(reactiveWorkbook)
    var state = try await served.waitUntilIdle()
    #expect(served.runs() == [1, 1, 1, 1])
    let before = served.live.cellStates
    #expect(try await served.set("lr", "0.3").status == 200)
    state = try await served.waitUntilIdle()
    // Cell 1 (data) and cell 3 (reads the data only) did not run again.
    #expect(served.runs() == [1, 2, 1, 2])
    let cells = try #require(state["cells"] as? [[String: Any]])
    #expect(cells.map { $0["runs"] as? Int } == [1, 2, 1, 2])
    #expect(cells.allSatisfy { $0["status"] as? String == "fresh" })
    let after = served.live.cellStates
    #expect(after[0].generation == before[0].generation)
    #expect(after[2].outputs == before[2].outputs)
    #expect(after[1].generation > before[1].generation)
    // A value outside the declared bounds, of the wrong kind, or for no parameter is refused.
    #expect(try await served.set("lr", "5").status == 400)
    #expect(try await served.set("lr", "\"fast\"").status == 400)
    #expect(try await served.set("nothing", "1").status == 400)
    #expect(served.runs() == [1, 2, 1, 2])
  }

  @Test func outputsStreamAsEvents() async throws {
    let served = try await Served(reactiveWorkbook)
    _ = try await served.waitUntilIdle()
    let raw =
      "GET /events HTTP/1.1\r\nHost: 127.0.0.1:\(served.port)\r\nAuthorization: token \(served.token)\r\n\r\n"
    let port = served.port
    let reader = Task { try await HTTPReply.fetch(raw, port: port, until: "{\"cell\":4,\"html\"") }
    // Let the stream open, then change the parameter: its re-runs arrive as events.
    #expect(
      try await poll { served.live.hub.count > 0 }, "the event stream never opened")
    #expect(try await served.set("lr", "0.2").status == 200)
    let stream = try await reader.value
    #expect(stream.body.contains("\"type\":\"sync\""))
    #expect(stream.body.contains("\"type\":\"start\"") && stream.body.contains("\"cell\":2"))
    #expect(stream.body.contains("\"status\":\"stale\""))
    #expect(stream.body.contains("figures/curve.svg?v="))
    _ = try await served.waitUntilIdle()
  }

  @Test func stopInterruptsTheRunningCellAndLeavesTheSessionIntact() async throws {
    let served = try await Served(
      """
      ```sigbook
      data = synthetic(.two_gaussians, n: 200, seed: 1)
      ```

      ```sigbook
      slow = false
      if slow {
        long = fit(mlp(2, 256, 256, 2, seed: 1), data, epochs: 100000, batch: 1, seed: 1)
      }
      ```

      ```sigbook
      print("count:", data.count)
      ```
      """)
    _ = try await served.waitUntilIdle()
    #expect(served.runs() == [1, 1, 1])
    #expect(try await served.set("slow", "true").status == 200)
    try await served.waitUntilRunning(2)
    #expect(try await served.request("POST", "/api/stop").status == 200)
    let state = try await served.waitUntilIdle()
    let cells = try #require(state["cells"] as? [[String: Any]])
    #expect(cells.map { $0["status"] as? String } == ["fresh", "stopped", "fresh"])
    #expect(state["paused"] as? Bool == true && state["running"] as? Bool == false)
    // The session is intact: turning the slow part off runs cell 2 again from cell 1's values.
    #expect(try await served.set("slow", "false").status == 200)
    _ = try await served.waitUntilIdle()
    #expect(served.live.cellStates.map(\.status) == [.fresh, .fresh, .fresh])
    #expect(served.runs()[0] == 1)
  }

  @Test func declaredBoundsAndChoicesBecomeControls() async throws {
    let served = try await Served(
      """
      ```sigbook
      # param: lr in 0.001...0.5
      lr = 0.05
      # param: digits in 0...9
      digits = [1, 7]
      # param: activation in [.relu, .tanh, .sigmoid]
      activation = .relu
      title = "run"
      quick = true
      epochs = 3
      ```
      """)
    _ = try await served.waitUntilIdle()
    let page = try await served.request("GET", "/").body
    #expect(page.contains(#"data-control="slider""#) && page.contains(#"min="0.001" max="0.5""#))
    #expect(page.contains(#"data-control="classes""#))
    #expect(page.components(separatedBy: #"class="class""#).count - 1 == 10)
    #expect(page.contains(#"<option value="tanh">.tanh</option>"#))
    #expect(page.contains(#"data-control="checkbox""#) && page.contains(#"data-control="text""#))
    #expect(page.contains(#"data-control="number""#))
    #expect(try await served.set("digits", "[3, 4, 7]").status == 200)
    #expect(try await served.set("digits", "[12]").status == 400)
    #expect(try await served.set("activation", "\"tanh\"").status == 200)
    #expect(try await served.set("activation", "\"softplus\"").status == 400)
    _ = try await served.waitUntilIdle()
    let values = try #require(served.live.view.parameters.first { $0.name == "digits" })
    #expect(values.value.source == "[3, 4, 7]")
  }

  @Test func watchReRunsChangedCellsAndTheirDependents() async throws {
    let served = try await Served(reactiveWorkbook, watch: true)
    _ = try await served.waitUntilIdle()
    #expect(served.runs() == [1, 1, 1, 1])
    let edited = reactiveWorkbook.replacingOccurrences(
      of: "print(\"inputs:\", data.count)", with: "print(\"inputs now:\", data.count)")
    try edited.write(to: served.workbook, atomically: true, encoding: .utf8)
    #expect(try await poll { served.runs()[2] > 1 }, "the edit was never seen")
    _ = try await served.waitUntilIdle()
    #expect(served.runs() == [1, 1, 2, 1])
    // Changing the data re-runs everything that reads it.
    let data = edited.replacingOccurrences(of: "n: 60", with: "n: 80")
    try data.write(to: served.workbook, atomically: true, encoding: .utf8)
    #expect(try await poll { served.runs()[0] > 1 }, "the edit was never seen")
    _ = try await served.waitUntilIdle()
    #expect(served.runs() == [2, 2, 3, 2])
  }
}
