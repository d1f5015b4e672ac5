#if canImport(Glibc)
  import Glibc
#endif
import Foundation
import SigbookTestSupport
import Testing

/// Event streams whose clients never read must not hold the server's memory: each client's
/// queue is bounded, and what it held is released when it leaves.
@Suite(
  "Serve memory", .serialized,
  .enabled(if: ServeProcess.binaryPath != nil, "needs the built sigbook binary (swift build)"))
struct ServeMemoryTests {
  static let clients = 1000
  static let changes = 100
  static let size = 200_000

  /// Polls `/api/state` (the server's own report) until `test` holds; false after a minute.
  static func waitForState(_ served: ServeProcess, _ test: ([String: Any]) -> Bool) throws -> Bool {
    try SigbookTestSupport.poll(every: 0.1, upTo: 60) { test(try served.state()) }
  }

  @Test func idleStreamsAndLargeChangesStayBoundedAndAreReleased() throws {
    let folder = try TemporaryFolder()
    try folder.write("w.sigbook", "```sigbook\ntitle = \"x\"\nprint(title)\n```\n")
    let served = try ServeProcess("w.sigbook", in: folder.url)
    let reader = try served.openEvents()
    #expect(reader.readEvents { ($0["cells"] as? [[String: Any]])?.first?["runs"] as? Int == 1 })
    // One change first, read by the one client: the start is a server that has served a change
    // (its code for that is in memory), so what follows measures the streams and the changes.
    let warmUp = "{\"name\": \"title\", \"value\": \"y\"}"
    #expect(try served.request("POST", "/api/set", body: warmUp).status == 200)
    #expect(
      reader.readEvents { event in
        let cell = (event["cells"] as? [[String: Any]])?.first
        return cell?["runs"] as? Int == 2 && cell?["status"] as? String == "fresh"
      })
    let start = try #require(served.residentBytes)

    // Clients that open the stream and never read, with small receive buffers.
    var idle: [Connection] = []
    for _ in 0..<Self.clients {
      let connection = try Connection(port: served.port, receiveBuffer: 4096)
      try connection.send(served.head("GET", "/events"))
      idle.append(connection)
    }
    #expect(try Self.waitForState(served) { $0["streams"] as? Int == Self.clients + 1 })

    var peak = start
    for change in 0..<Self.changes {
      let letter = Character(UnicodeScalar(UInt8(97 + change % 26)))
      let text = String(repeating: letter, count: Self.size)
      let reply = try served.request(
        "POST", "/api/set", body: "{\"name\": \"title\", \"value\": \"\(text)\"}")
      #expect(reply.status == 200)
      // The reading client sees the change run to its end.
      // (Through a status or a whole-state event: should its queue be dropped, it gets the
      // state instead of the events in between.)
      #expect(
        reader.readEvents { event in
          let cell = (event["cells"] as? [[String: Any]])?.first
          return cell?["runs"] as? Int == change + 3 && cell?["status"] as? String == "fresh"
        })
      peak = max(peak, served.residentBytes ?? 0)
    }

    idle.removeAll()
    #expect(try Self.waitForState(served) { $0["streams"] as? Int == 1 })
    // What the streams and the changes used is given back at once in part, the rest at the next
    // keep-alive (every 15 s): wait for two.
    var end = try #require(served.residentBytes)
    let waited = ContinuousClock.now
    _ = SigbookTestSupport.poll(every: 0.25, upTo: 35) {
      end = served.residentBytes ?? end
      return Double(end) <= Double(start) * 1.2
    }
    let megabytes = { (bytes: Int) in String(format: "%.1f MB", Double(bytes) / 1_048_576) }
    print(
      "serve RSS: \(megabytes(start)) at the start, \(megabytes(peak)) at the peak with "
        + "\(Self.clients) idle streams and \(Self.changes) changes of \(Self.size) bytes, "
        + "\(megabytes(end)) after they left (\(ContinuousClock.now - waited) later)")
    #expect(peak < 200 << 20)
    #expect(Double(end) <= Double(start) * 1.2)
    served.send(SIGTERM)
    #expect(served.waitForExit())
  }
}
