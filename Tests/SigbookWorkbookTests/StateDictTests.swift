import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData
@testable import SigbookNN
@testable import SigbookWorkbook

/// PyTorch `state_dict`s saved with `safetensors.torch.save_file`, loaded onto sigbook's
/// architectures (fixtures: `scripts/make-pytorch-fixtures.py`).
@Suite("PyTorch state_dict") struct StateDictTests {
  static func fixture(_ name: String) throws -> String {
    try #require(Bundle.module.url(forResource: "Fixtures/pytorch/\(name)", withExtension: nil))
      .path
  }

  static func array(_ name: String) throws -> [Float] { try NPY.read(fixture(name)).floats }

  @Test(arguments: [
    ("mlp", try Model.mlp([784, 16, 8, 10])), ("ae", try Model.autoencoder([784, 16, 4])),
  ])
  func hiddenOutputsEqualPyTorchs(_ c: (name: String, architecture: Model)) throws {
    let net = try c.architecture.loadingStateDict(from: Self.fixture("\(c.name)_state.safetensors"))
    let x = try NPY.read(Self.fixture("x.npy"))
    let inputs = Tensor(shape: x.shape, scalars: x.floats)
    let hidden = net.hiddenOutputs(inputs)
    #expect(hidden.count == (c.name == "mlp" ? 2 : 3))
    for (i, h) in hidden.enumerated() {
      let error = largestRelativeError(h.scalars, try Self.array("\(c.name)_h\(i + 1).npy"))
      #expect(error <= 1e-5, "\(c.name) H\(i + 1): \(error)")
    }
    let out = largestRelativeError(net.predict(inputs).scalars, try Self.array("\(c.name)_out.npy"))
    #expect(out <= 1e-5, "\(c.name) output: \(out)")
  }

  @Test func architecturesThatDoNotFitAreExplained() throws {
    let path = try Self.fixture("mlp_state.safetensors")
    let narrower = try #require(throws: ModelFileError.self) {
      try Model.mlp([784, 16, 9, 10]).loadingStateDict(from: path)
    }
    #expect(
      narrower.description.contains(
        "layer 3 of mlp(784, 16, 9, 10), dense(16, 9), needs a weight [9, 16] and a bias [9]"),
      "\(narrower)")
    #expect(narrower.description.contains("'fc2.weight' [8, 16]"))
    let shorter = try #require(throws: ModelFileError.self) {
      try Model.mlp([784, 16, 8]).loadingStateDict(from: path)
    }
    #expect(shorter.description.contains("has no layer for 'fc3.weight' [10, 8]"), "\(shorter)")
  }

  @Test func workbooksLoadStateDictsThroughArchitecture() throws {
    let folder = try #require(
      Bundle.module.url(forResource: "Fixtures/pytorch", withExtension: nil))
    let session = Session(
      file: "t.sigbook", baseDirectory: folder.path, figuresDirectory: "/tmp/sigbook-tests.figures")
    let out = try runSource(
      "net = load_model(\"mlp_state.safetensors\", architecture: mlp(784, 16, 8, 10))\n"
        + "sig = signatures(net, npy(\"x.npy\"))\nsig.layers",
      session: session)
    #expect(out == ["2"])
    #expect(
      "a".naturallyPrecedes("b") && "layers.2".naturallyPrecedes("layers.10")
        && !"fc10".naturallyPrecedes("fc9"))
  }
}
