import Foundation
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

/// The largest `|a − b| / max(1, |b|)` (∞ when the counts differ).
func largestRelativeError(_ a: [Float], _ b: [Float]) -> Double {
  guard a.count == b.count else { return .infinity }
  return zip(a, b).reduce(0) { max($0, Double(abs($1.0 - $1.1)) / max(1, Double(abs($1.1)))) }
}

/// A fresh folder under the temporary directory, removed with the value.
final class TemporaryFolder {
  let url: URL
  init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "sigbook-onnx-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }
  deinit { try? FileManager.default.removeItem(at: url) }
  func path(_ name: String) -> String { url.appendingPathComponent(name).path }

  @discardableResult
  func write(_ name: String, _ bytes: [UInt8]) throws -> String {
    try Data(bytes).write(to: url.appendingPathComponent(name))
    return path(name)
  }

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
