import Foundation
import SigbookTensor

/// The architecture of a model as saved in a safetensors file's metadata.
struct ModelArchitecture: Codable, Equatable {
  var format: Int = 1
  var summary: String
  var task: String
  var inputShape: [Int]
  var layers: [LayerSpec]
  var classNames: [String]?
  var encoderLayerCount: Int?
  /// A graph's wiring (`Model.wiring`); absent for a chain.
  var wiring: [[Int]]?
  /// The builder's names of the layers (`Model.names`), if it gave them.
  var names: [String]?
  /// The layers whose outputs make up a signature (`Model.signatureLayers`), if chosen.
  var signatureLayers: [Int]?
}

/// Why a saved model could not be read.
struct ModelFileError: Error, Sendable, Equatable, CustomStringConvertible {
  var path: String
  var message: String
  var description: String { "'\(path)': \(message)" }
}

extension Model {
  /// The metadata key that holds the architecture (JSON) in a saved model.
  static let architectureKey = "sigbook.architecture"

  /// The parameters and buffers under the names PyTorch's `nn.Sequential.state_dict()` gives
  /// them: `"0.weight"`, `"0.bias"`, `"1.running_mean"`… (the index of the layer, then the
  /// tensor).
  var namedParameters: [(name: String, tensor: Tensor)] {
    layers.enumerated().flatMap { i, layer in
      zip(layer.parameterNames + layer.bufferNames, layer.parameters + layer.buffers).map {
        ("\(i).\($0)", $1)
      }
    }
  }

  /// The metadata of a saved model: the architecture as JSON under `sigbook.architecture`, and
  /// `format: pt` so that PyTorch tools accept the file.
  var savedMetadata: [String: String] {
    let architecture = ModelArchitecture(
      summary: summary, task: task.rawValue, inputShape: inputShape, layers: specs,
      classNames: classNames, encoderLayerCount: encoderLayerCount, wiring: wiring, names: names,
      signatureLayers: signatureLayers)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let json = (try? encoder.encode(architecture)).flatMap { String(data: $0, encoding: .utf8) }
    return [Self.architectureKey: json ?? "{}", "format": "pt"]
  }

  /// The safetensors bytes of this model: F32 weights named as in `namedParameters` and the
  /// architecture in the metadata.
  public func safetensorsBytes() -> [UInt8] {
    Safetensors.encode(namedParameters, metadata: savedMetadata)
  }

  /// Writes the model to a safetensors file, atomically (temporary file, then rename).
  ///
  /// - Throws: `SafetensorsError` when the file cannot be written.
  func save(to path: String) throws {
    try Safetensors.write(namedParameters, metadata: savedMetadata, to: path)
  }

  /// Reads a model written by `save(to:)`.
  ///
  /// - Throws: `SafetensorsError` for a file that is not safetensors (or not a regular file, or
  ///   larger than `Safetensors.maxFileBytes`), `ModelFileError` for one without sigbook's
  ///   architecture, with an architecture that `checkArchitecture` refuses (sizes ≤ 0 or huge, too
  ///   many parameters), whose tensors do not match it, or whose class names do not match its
  ///   outputs.
  public static func load(from path: String) throws -> Model {
    try model(from: Safetensors.readWeights(from: path), path: path)
  }

  /// A model from decoded safetensors contents.
  static func model(from contents: Safetensors.Contents, path: String) throws -> Model {
    guard let json = contents.metadata[architectureKey] else {
      throw ModelFileError(
        path: path,
        message: "no sigbook architecture in its metadata (was it saved by sigbook's save?)")
    }
    let architecture: ModelArchitecture
    do {
      architecture = try JSONDecoder().decode(ModelArchitecture.self, from: Data(json.utf8))
    } catch {
      throw ModelFileError(path: path, message: "the architecture in its metadata is not readable")
    }
    guard let task = Task(rawValue: architecture.task) else {
      throw ModelFileError(path: path, message: "unknown task '\(architecture.task)'")
    }
    // The architecture is checked, and every tensor it needs found with its shape, before any
    // layer is built: a corrupt file cannot make sigbook allocate more than the file holds.
    let shapes: [[Int]]
    do {
      shapes = try checkArchitecture(
        architecture.layers, inputShape: architecture.inputShape, name: "its architecture",
        wiring: architecture.wiring)
    } catch {
      throw ModelFileError(path: path, message: error.message)
    }
    var tensors: [[Tensor]] = []
    for (i, spec) in architecture.layers.enumerated() {
      tensors.append(
        try zip(spec.parameterNames + spec.bufferNames, spec.parameterShapes + spec.bufferShapes)
          .map {
            name, shape throws(ModelFileError) in
            guard let tensor = contents["\(i).\(name)"] else {
              throw ModelFileError(path: path, message: "tensor '\(i).\(name)' is missing")
            }
            guard tensor.shape == shape else {
              throw ModelFileError(
                path: path,
                message:
                  "tensor '\(i).\(name)' has shape \(tensor.shape) but \(spec.displayName) needs \(shape)"
              )
            }
            return tensor
          })
    }
    let outputs = shapes.last.map { $0.reduce(1, *) } ?? 0
    if task == .classification, let names = architecture.classNames {
      let classes = outputs == 1 ? 2 : outputs
      guard names.count == classes else {
        throw ModelFileError(
          path: path,
          message: "its metadata names \(names.count) class\(names.count == 1 ? "" : "es") but the "
            + "model has \(outputs) output\(outputs == 1 ? "" : "s") (\(classes) classes)")
      }
    }
    if let count = architecture.encoderLayerCount {
      guard task == .reconstruction, count >= 1, count < architecture.layers.count else {
        throw ModelFileError(
          path: path,
          message: "its metadata puts the end of the encoder at layer \(count) of "
            + "\(architecture.layers.count)")
      }
    }
    var generator = SeededGenerator(seed: 0)
    var layers: [any Layer] = []
    for (spec, parameters) in zip(architecture.layers, tensors) {
      var layer = spec.makeLayer(initialization: .glorot, generator: &generator)
      let trained = spec.parameterShapes.count
      layer.parameters = Array(parameters.prefix(trained))
      layer.buffers = Array(parameters.dropFirst(trained))
      layers.append(layer)
    }
    var model: Model
    do {
      model = try Model(
        layers: layers, inputShape: architecture.inputShape, task: task,
        summary: architecture.summary, wiring: architecture.wiring)
    } catch {
      throw ModelFileError(path: path, message: "its layers do not fit together: \(error.message)")
    }
    if let names = architecture.names {
      guard names.count == layers.count, Set(names).count == names.count else {
        throw ModelFileError(
          path: path,
          message: "its metadata names \(names.count) layers, not \(layers.count) distinct ones")
      }
      model.names = names
    }
    if let signatureLayers = architecture.signatureLayers {
      guard signatureLayers.allSatisfy({ layers.indices.contains($0) }) else {
        throw ModelFileError(
          path: path, message: "its metadata takes signatures at layers it does not have")
      }
      model.signatureLayers = signatureLayers
    }
    model.classNames = architecture.classNames
    model.encoderLayerCount = architecture.encoderLayerCount
    model.source = path
    return model
  }
}
