import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData
@testable import SigbookONNX

/// The path of a committed fixture (`scripts/make-pytorch-fixtures.py`,
/// `scripts/make-keras-fixture.py`).
func fixture(_ name: String) throws -> String {
  try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)).path
}

/// A fixture array as a tensor of its own shape.
func fixtureTensor(_ name: String) throws -> Tensor {
  let array = try NPY.read(fixture(name))
  return Tensor(shape: array.shape, scalars: array.floats)
}

extension TemporaryFolder {
  /// Writes a model proto and returns its path.
  func write(_ name: String, _ model: Onnx_ModelProto) throws -> String {
    let data: Data = try model.serializedBytes()
    return try write(name, [UInt8](data))
  }
}

/// A fixture model's proto, to change in a test.
func fixtureProto(_ name: String) throws -> Onnx_ModelProto {
  try ONNXImporter.read(path: fixture(name))
}
