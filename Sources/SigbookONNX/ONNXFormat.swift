import Foundation
import SigbookNN
import SigbookWorkbook

/// Why an ONNX file could not be read or a model written as ONNX: a complete, lower-case message
/// naming the file and, where there is one, the node and its operator.
public struct ONNXError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The file, as given.
  public var path: String
  public var message: String

  public init(path: String, _ message: String) {
    self.path = path
    self.message = message
  }

  public var description: String { "'\(path)': \(message)" }
}

/// ONNX import and export for sigbook's sessions: `load_onnx` and `save(net, "net.onnx")`.
///
/// The command line registers one in every session (`session.modelFormats["onnx"]`); the engine
/// knows only the `ModelFormat` protocol, so the engine does not depend on swift-protobuf.
public struct ONNXFormat: ModelFormat {
  public init() {}

  public var fileExtension: String { "onnx" }

  /// The operators `ONNXImporter` reads.
  public var operations: [String] { ONNXImporter.operators.keys.sorted() }

  /// Reads an ONNX model as a sigbook model; see `ONNXImporter`.
  public func load(from path: String, inputShape: [Int]?, classNames: [String]?) throws -> Model {
    try ONNXImporter.load(path: path, inputShape: inputShape, classNames: classNames)
  }

  /// The bytes of an ONNX model (opset 13) computing the same function as `model`.
  public func encode(_ model: Model) throws -> [UInt8] {
    try ONNXExporter.encode(model)
  }

  /// Registers this format in a session.
  public static func register(in session: Session) {
    let format = ONNXFormat()
    session.modelFormats[format.fileExtension] = format
  }
}
