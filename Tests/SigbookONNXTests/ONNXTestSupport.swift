import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData
@testable import SigbookONNX
@testable import SigbookWorkbook

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

/// A workbook session that reads its files from `folder` and loads ONNX models, with the values
/// its statements print gathered in order.
final class ONNXWorkbook {
  let session: Session
  private(set) var values: [String] = []

  init(folder: String, figures: String) {
    session = Session(file: "t.sigbook", baseDirectory: folder, figuresDirectory: figures)
    ONNXFormat.register(in: session)
    session.emit = { [unowned self] in if case .value(let t) = $0 { self.values.append(t) } }
  }

  /// Runs `source` as one cell of `t.sigbook`.
  func run(_ source: String) throws { try session.run(try parseCell(source, file: "t.sigbook")) }
}
