import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookKernel

@Suite(
  "sigbook kernel: the Jupyter protocol", .serialized,
  .enabled(if: Binary.isBuilt, "needs the built binary (swift build)"))
struct KernelTests {
  /// A message signed with the wrong key is dropped (and logged); the kernel answers the next.
  @Test func rejectsABadSignatureAndGoesOn() throws {
    let client = try KernelClient()
    try client.start()
    defer { client.shutDown() }
    #expect(client.run("x = 1").reply?.content.string("status") == "ok")
    let forged = client.send(
      "execute_request", ["code": "x = 2", "silent": false], on: client.shell,
      signature: String(repeating: "0", count: 64))
    let (reply, outputs) = client.run("print(x)")
    #expect(reply?.content.string("status") == "ok")
    #expect(outputs.stream("stdout") == "1\n", "the forged x = 2 must not have run")
    #expect(client.messages(answering: forged, until: { _ in false }, upTo: 0.5).isEmpty)
    let process = try #require(client.process)
    #expect(
      process.waitFor("rejected a message on the shell channel", in: .stderr, upTo: 10),
      "\(process.stderr)")
  }

  /// A signed request captured and sent again runs once; the copy is logged.
  @Test func refusesAReplayedRequest() throws {
    let client = try KernelClient()
    try client.start()
    defer { client.shutDown() }
    #expect(client.run("n = 0").reply?.content.string("status") == "ok")
    let request = Message.make(
      "execute_request", session: client.session, parent: nil,
      content: ["code": "n = n + 1", "silent": false])
    let frames = request.frames(signedBy: client.signer)
    try client.shell.send(frames)
    try client.shell.send(frames)
    let (_, outputs) = client.run("print(n)")
    #expect(outputs.stream("stdout") == "1\n")
    let process = try #require(client.process)
    #expect(
      process.waitFor("repeats a message already received", in: .stderr, upTo: 10),
      "\(process.stderr)")
  }

  /// A long `fit`, stopped by `interrupt` (an `interrupt_request` on control, or SIGINT): the
  /// kernel is idle again within a second, with an `error` saying it was interrupted, and the
  /// next cell sees the variables made before.
  func interruptsAFit(by interrupt: (KernelClient) -> Void) throws {
    let client = try KernelClient()
    try client.start()
    defer { client.shutDown() }
    #expect(client.run("kept = 42").reply?.content.string("status") == "ok")
    let header = client.execute(
      "net = fit(mlp(784, 256, 128, 10), mnist_sample(), epochs: 200)")
    // Training has started once its progress streams.
    let started = client.messages(
      answering: header, until: { $0.streamText("stderr")?.contains("fit ") == true })
    try #require(
      started.last?.streamText("stderr") != nil, "no progress: \(client.process?.stderr ?? "")")
    let clock = ContinuousClock()
    let sent = clock.now
    interrupt(client)
    let rest = client.messages(answering: header, until: { $0.isIdle }, upTo: 30)
    let elapsed = clock.now - sent
    #expect(rest.last?.isIdle == true, "not idle again")
    #expect(elapsed < .seconds(1), "idle \(elapsed) after the interrupt")
    let error = try #require(rest.first { $0.type == "error" })
    #expect(error.content.string("ename") == "Interrupted")
    #expect(
      error.content.string("evalue")?.hasPrefix("interrupted") == true, "\(error.content)")
    let reply = client.reply(to: header, on: client.shell, upTo: 5)
    #expect(reply?.content.string("status") == "error")
    let (next, outputs) = client.run("print(kept)\nprint(net)")
    #expect(outputs.stream("stdout") == "42\n", "the session survives")
    #expect(
      next?.content.string("evalue")?.contains("net") == true,
      "the interrupted assignment did not happen: \(next?.content ?? [:])")
  }

  @Test func interruptRequestStopsAFit() throws {
    try interruptsAFit { client in
      let header = client.send("interrupt_request", [:], on: client.control)
      #expect(client.reply(to: header, on: client.control, upTo: 5) != nil)
    }
  }

  @Test func sigintStopsAFit() throws {
    try interruptsAFit { client in client.process?.send(SIGINT) }
  }

  /// A kernel whose front-end dies (killed, so it cannot ask for a shutdown) ends by itself.
  @Test func endsWhenItsFrontEndDies() throws {
    let client = try KernelClient()
    let binary = try #require(Binary.path)
    // The shell stands for the front-end: it starts the kernel and waits.
    let frontEnd = try RunningProcess(
      "/bin/sh",
      [
        "-c", "\"$0\" kernel --connection-file \"$1\" & echo $!; wait", binary,
        client.connectionFile,
      ], in: client.folder.url)
    #expect(frontEnd.waitFor(.stdout, upTo: 30) { $0.hasSuffix("\n") })
    let pid = try #require(Int32(frontEnd.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    // Started, and watching its parent, once it answers.
    #expect(client.waitUntilReady())
    // (Not waited for: `Process` sees its child end only when the kernel, which inherited its
    // pipes, closes them too.)
    frontEnd.send(SIGKILL)
    let ended = poll(upTo: 30) {
      // Gone, or a zombie waiting for init to reap it.
      guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else {
        return true
      }
      return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }
    #expect(ended, "the kernel (process \(pid)) outlived its front-end")
    if !ended { kill(pid, SIGKILL) }
  }

  /// Outputs stream as a cell runs: print on stdout, values as execute_result (tables with
  /// HTML), figures as display_data, errors with the location and caret.
  @Test func showsOutputsFiguresAndErrors() throws {
    let client = try KernelClient()
    try client.start(environment: ["JPY_SESSION_NAME": "study.ipynb"])
    defer { client.shutDown() }
    let (reply, outputs) = client.run(
      "print(\"hello\")\n1 + 2\ntable(n: [1, 2])\ncurve = line(x: [1, 2, 3], y: [1, 4, 9])")
    #expect(reply?.content.int("execution_count") == 1)
    #expect(outputs.stream("stdout") == "hello\n")
    let results = outputs.filter { $0.type == "execute_result" }
    #expect(results.count == 2)
    #expect((results.first?.content["data"] as? JSONObject)?.string("text/plain") == "3")
    let html = (results.last?.content["data"] as? JSONObject)?.string("text/html")
    #expect(html?.contains("<th>n</th>") == true, "\(html ?? "")")
    let figure = try #require(outputs.first { $0.type == "display_data" })
    let data = try #require(figure.content["data"] as? JSONObject)
    #expect(data.string("image/svg+xml")?.contains("<svg") == true)
    #expect(data.string("image/png")?.isEmpty == false)
    #expect(data.string("text/plain") == "curve.svg")
    #expect(client.folder.exists("study.figures/curve.svg"), "written beside the notebook")

    let (failed, errorOutputs) = client.run("x = 1\nmlp(784, 2, activation: .relux)")
    #expect(failed?.content.string("status") == "error")
    let error = try #require(errorOutputs.first { $0.type == "error" })
    let traceback = error.content["traceback"] as? [String] ?? []
    #expect(traceback.first?.hasPrefix("In[2]:2:") == true, "\(traceback)")
    #expect(traceback.contains { $0.contains("^") }, "\(traceback)")
  }

  /// The REPL's :vars, :help and :reset work in a cell; its file commands are refused.
  @Test func runsTheREPLCommandsThatFitANotebook() throws {
    let client = try KernelClient()
    try client.start()
    defer { client.shutDown() }
    _ = client.run("kept = 42")
    let (_, vars) = client.run(":vars")
    let table = try #require(vars.first { $0.type == "execute_result" })
    let data = table.content["data"] as? JSONObject
    #expect(data?.string("text/plain")?.contains("kept") == true, "\(vars)")
    #expect(data?.string("text/html")?.contains(">kept</td>") == true, "\(vars)")
    let (_, help) = client.run(":help kmeans")
    #expect(help.stream("stdout").contains("kmeans("), "\(help)")
    let (refused, errors) = client.run(":run all")
    #expect(refused?.content.string("status") == "error")
    #expect(
      errors.first { $0.type == "error" }?.content.string("evalue")
        == ":run is a command of the REPL, not of the kernel")
    _ = client.run(":reset")
    let (_, after) = client.run("print(kept)")
    #expect(after.contains { $0.type == "error" }, "kept is forgotten")
  }

  @Test func completesInspectsAndSaysWhatIsComplete() throws {
    let client = try KernelClient()
    try client.start()
    defer { client.shutDown() }
    _ = client.run("network = mlp(2, 4, 2)")
    func ask(_ type: String, _ content: JSONObject) -> JSONObject {
      let header = client.send(type, content, on: client.shell)
      return client.reply(to: header, on: client.shell)?.content ?? [:]
    }
    let completion = ask("complete_request", ["code": "x = netw", "cursor_pos": 8])
    #expect(completion["matches"] as? [String] == ["network"])
    #expect(completion.int("cursor_start") == 4 && completion.int("cursor_end") == 8)
    let inspection = ask("inspect_request", ["code": "kmeans(s, k: 2)", "cursor_pos": 10])
    #expect(inspection.bool("found") == true)
    let help = (inspection["data"] as? JSONObject)?.string("text/plain") ?? ""
    #expect(help.contains("kmeans"), "\(help)")
    #expect(ask("is_complete_request", ["code": "x = [1,"]).string("status") == "incomplete")
    #expect(ask("is_complete_request", ["code": "x = [1]"]).string("status") == "complete")
    #expect(ask("is_complete_request", ["code": "x = )"]).string("status") == "invalid")
    #expect(ask("is_complete_request", ["code": ":vars"]).string("status") == "complete")
  }
}
