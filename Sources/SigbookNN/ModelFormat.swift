/// A model file format implemented outside the engine (ONNX, in the SigbookONNX target).
///
/// The engine declares what it needs and the command line hands a session the formats it links
/// (`Session.modelFormats`), so the engine depends on no protobuf library and arrows point down:
/// SigbookONNX uses the engine's layers, never the reverse.
public protocol ModelFormat: Sendable {
  /// The file extension the format is known by, without the dot (`onnx`).
  var fileExtension: String { get }

  /// The operations a file may use, sorted (ONNX's operators): what `help(load_onnx)` and
  /// `docs/functions.md` list, so that the list is the reader's own, not a copy.
  var operations: [String] { get }

  /// Reads a model.
  ///
  /// - Parameters:
  ///   - path: the file.
  ///   - inputShape: the shape of one input item, for a file whose input has dynamic sizes other
  ///     than the batch; nil to take the file's.
  ///   - classNames: the names of the classes the outputs stand for, or nil.
  /// - Throws: an error whose description names the file and, for an unsupported part, what is
  ///   supported.
  func load(from path: String, inputShape: [Int]?, classNames: [String]?) throws -> Model

  /// The bytes of a file holding `model`.
  ///
  /// - Throws: an error naming what the format cannot hold.
  func encode(_ model: Model) throws -> [UInt8]
}
