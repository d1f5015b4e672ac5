#if canImport(Glibc)
  import Glibc
#endif
import Foundation
import SigbookTestSupport
import Testing

/// `sigbook serve` as a user starts it: the real binary, its sessions built like `run`'s and
/// the REPL's, and its ending on SIGTERM and Ctrl-C.
@Suite(
  "Serve command", .serialized,
  .enabled(if: Binary.isBuilt, "needs the built sigbook binary (swift build)"))
struct ServeCommandTests {
  /// The ONNX fixture of SigbookONNXTests: an MLP exported by PyTorch.
  static let onnxFixture = Binary.packageRoot.appendingPathComponent(
    "Tests/SigbookONNXTests/Fixtures/mlp.onnx")

  static let onnxWorkbook = """
    # An ONNX model

    ```sigbook
    net = load_onnx("mlp.onnx")
    print(net)
    ```

    ```sigbook
    print("layers:", net.layers.count)
    x = synthetic(.two_gaussians, n: 20, seed: 3)
    print("inputs:", x.count)
    ```

    """

  /// A folder holding `w.sigbook` and a copy of the ONNX fixture.
  static func onnxFolder() throws -> TemporaryFolder {
    let folder = try TemporaryFolder()
    try FileManager.default.copyItem(
      at: onnxFixture, to: folder.url.appendingPathComponent("mlp.onnx"))
    try folder.write("w.sigbook", onnxWorkbook)
    return folder
  }

  /// Waits, on the page's event stream, until no cell is stale or running, and returns the
  /// state then.
  static func settledState(_ served: ServeProcess) throws -> [String: Any] {
    let stream = try served.openEvents()
    let settled = stream.readEvents { event in
      let cells = event["cells"] as? [[String: Any]] ?? []
      return (event["running"] as? Bool) == false && !cells.isEmpty
        && cells.allSatisfy { ["fresh", "failed", "stopped"].contains($0["status"] as? String) }
    }
    #expect(settled, "the served workbook never settled")
    return try served.state()
  }

  @Test func runReplAndServeLoadTheSameONNXWorkbookAndGiveTheSameOutputs() throws {
    let folder = try Self.onnxFolder()
    let run = try Binary.run(["run", "w.sigbook"], in: folder.url)
    #expect(run.status == 0, "\(run.stderr)")
    let printedByRun = run.stdout.split(separator: "\n").filter { !$0.hasPrefix("── cell") }
      .joined(separator: "\n")
    #expect(printedByRun.contains("Gemm /fc1/Gemm"))

    let repl = try Binary.run(
      ["repl"], input: ":load w.sigbook\n:run all\n", in: folder.url)
    #expect(repl.status == 0, "\(repl.stderr)")

    let served = try ServeProcess("w.sigbook", in: folder.url)
    let state = try Self.settledState(served)
    let errors = try #require(state["errors"] as? [String])
    #expect(errors == ["", ""], "\(served.errors)")
    let outputs = try #require(state["outputs"] as? [[String]])
    let shownByServe = outputs.flatMap { $0 }.joined(separator: "\n")
    #expect(shownByServe == printedByRun)
    let printedByREPL = repl.stdout.split(separator: "\n")
      .filter { !$0.hasPrefix("── cell") && !$0.hasPrefix("loaded w.sigbook") }
      .joined(separator: "\n")
    #expect(printedByREPL == shownByServe)
    served.send(SIGTERM)
    #expect(served.waitForExit())
  }

  @Test func aFailingCellIsPrintedInTheTerminalToo() throws {
    let folder = try TemporaryFolder()
    try folder.write(
      "w.sigbook", "```sigbook\nx = 1\n```\n\n```sigbook\nnet = load_onnx(\"missing.onnx\")\n```\n")
    let served = try ServeProcess("w.sigbook", in: folder.url)
    let printed = served.waitFor(in: .stderr) { $0.contains("missing.onnx") }
    #expect(printed.contains("w.sigbook:6:"), "\(printed)")
    #expect(printed.contains("load_onnx(\"missing.onnx\")"))
    served.send(SIGTERM)
    #expect(served.waitForExit())
  }

  /// Opens an event stream, reads the whole state it starts with, sends `signals`, and checks
  /// that the server ends and closes the stream; prints the time it took.
  func endsWithAnOpenStream(after signals: [Int32], label: String) throws {
    let folder = try TemporaryFolder()
    try folder.write("w.sigbook", "```sigbook\nlr = 0.1\nprint(lr)\n```\n")
    let served = try ServeProcess("w.sigbook", in: folder.url)
    let stream = try served.openEvents()
    #expect(stream.read(until: "\"type\":\"sync\"").contains("\"type\":\"sync\""))
    let clock = ContinuousClock()
    let start = clock.now
    for signal in signals { served.send(signal) }
    let exited = served.waitForExit()
    let elapsed = clock.now - start
    #expect(exited, "serve still runs after \(label)")
    #expect(stream.readsEndOfStream(), "the event stream was not closed")
    print("serve \(exited ? "ended" : "still ran") \(elapsed) after \(label), an event stream open")
  }

  @Test func sigtermEndsTheServerAndItsEventStreams() throws {
    try endsWithAnOpenStream(after: [SIGTERM], label: "SIGTERM")
  }

  @Test func twoCtrlCsEndTheServerAndItsEventStreams() throws {
    try endsWithAnOpenStream(after: [SIGINT, SIGINT], label: "two SIGINTs")
  }

  @Test func oneCtrlCEndsTheServerToo() throws {
    try endsWithAnOpenStream(after: [SIGINT], label: "one SIGINT")
  }
}
