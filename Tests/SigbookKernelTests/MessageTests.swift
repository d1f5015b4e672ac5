import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookKernel

@Suite("Kernel messages and connection files") struct MessageTests {
  static let body = [#"{"msg_type":"x"}"#, "{}", "{}", #"{"code":"1"}"#].map { Data($0.utf8) }

  /// The signature Python's `hmac.new(b"secret-key", digestmod=hashlib.sha256)` gives for the
  /// four frames (as jupyter_client signs them).
  @Test func signsAsJupyterClientDoes() {
    let signer = Signer(key: "secret-key")
    let expected = "19dbf66f103deffd4a4c64a438952da079fcb3d6d1ce0090086ae0a60ab3ff3c"
    #expect(signer.signature(of: Self.body) == expected)
    #expect(signer.verifies(Data(expected.uppercased().utf8), of: Self.body))
    #expect(
      !signer.verifies(Data(String(expected.dropLast()).utf8) + Data("d".utf8), of: Self.body))
    #expect(!signer.verifies(Data("not hex".utf8), of: Self.body))
    #expect(Signer(key: "").signature(of: Self.body) == "")
  }

  static let refusals: [(frames: [String], refusal: Message.Refusal)] = [
    (["id", "{}", "{}"], .noDelimiter),
    (["<IDS|MSG>", "sig", "{}", "{}", "{}"], .tooFewFrames),
    (["<IDS|MSG>", String(repeating: "0", count: 64), "{}", "{}", "{}", "{}"], .badSignature),
  ]

  @Test(arguments: refusals)
  func refusesMalformedOrForgedMessages(_ c: (frames: [String], refusal: Message.Refusal)) {
    let frames = c.frames.map { Data($0.utf8) }
    #expect(throws: c.refusal) { try Message.parse(frames, signer: Signer(key: "k")) }
  }

  /// A message is refused the second time the same signature comes.
  @Test func refusesAReplay() throws {
    let signer = Signer(key: "k")
    let frames = Message.make("execute_request", session: "s", parent: nil, content: [:])
      .frames(signedBy: signer)
    let seen = SeenSignatures()
    _ = try Message.parse(frames, signer: signer, seen: seen)
    #expect(throws: Message.Refusal.replayed) {
      try Message.parse(frames, signer: signer, seen: seen)
    }
  }

  static let connectionFiles: [(json: String, message: String)] = [
    (#"{"shell_port": 1}"#, "it has no 'control_port'"),
    (
      #"{"shell_port": "x", "control_port": 2, "iopub_port": 3, "stdin_port": 4, "hb_port": 5}"#,
      "'shell_port' has the wrong type"
    ),
    ("[1, 2]", "it is not a JSON object"),
    (
      #"{"transport": "udp", "shell_port": 1, "control_port": 2, "iopub_port": 3, "#
        + #""stdin_port": 4, "hb_port": 5}"#, "asks for transport 'udp'"
    ),
    (
      #"{"shell_port": 1, "control_port": 2, "iopub_port": 3, "stdin_port": 4, "hb_port": 5, "#
        + #""key": "k", "signature_scheme": "hmac-md5"}"#, "signature scheme 'hmac-md5'"
    ),
  ]

  @Test(arguments: connectionFiles)
  func refusesWhatIsNoConnectionFile(_ c: (json: String, message: String)) throws {
    let folder = try TemporaryFolder()
    let path = try folder.write("c.json", c.json)
    let error = try #require(throws: KernelError.self) { try ConnectionFile.read(path) }
    #expect(error.description.contains(c.message), "\(error.description)")
  }

  @Test func readsAConnectionFileAndItsAddresses() throws {
    let folder = try TemporaryFolder()
    let path = try folder.write(
      "c.json",
      #"""
      {"shell_port": 50001, "iopub_port": 50002, "stdin_port": 50003, "control_port": 50004,
       "hb_port": 50005, "ip": "127.0.0.1", "key": "a-key", "transport": "tcp",
       "signature_scheme": "hmac-sha256", "kernel_name": "sigbook"}
      """#)
    let file = try ConnectionFile.read(path)
    #expect(file.address(file.shellPort) == "tcp://127.0.0.1:50001")
    #expect(file.address(file.hbPort) == "tcp://127.0.0.1:50005")
    #expect(file.key == "a-key")
    var ipc = file
    ipc.transport = "ipc"
    ipc.ip = "/tmp/k"
    #expect(ipc.address(ipc.controlPort) == "ipc:///tmp/k-50004")
  }
}
