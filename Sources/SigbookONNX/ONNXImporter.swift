import Foundation
import SwiftProtobuf
import SigbookTensor
import SigbookNN
import SigbookWorkbook

/// Reads an ONNX model as a sigbook model: the chain of layers its graph computes.
///
/// The graph is walked once, in node order. Nodes whose inputs are all known when the model is
/// imported (weights, `Constant`, and the `Shape` → `Gather` → `Unsqueeze` → `Concat` chains
/// exporters write for `x.view(x.size(0), -1)`) are computed then, the batch size standing as a
/// symbol; every other node must take the output of the one before it, and becomes one of
/// sigbook's layers (`Gemm` → dense, `Conv` → conv, `Relu` → relu…). `BatchNormalization` right
/// after a dense or convolutional layer, and a constant `Add` after one (a bias), are folded into
/// it. The result is an ordinary `Model`: its hidden activations give signatures like sigbook's
/// own models', and `layerOrigins` names the nodes each layer stands for.
///
/// What is not a chain of these operators (branches, recurrent layers, dynamic shapes that
/// depend on values) is refused with an error that names the file, the node and its operator,
/// and says what is supported.
struct ONNXImporter {
  /// What a tensor name stands for while the graph is walked.
  public enum Value {
    /// Known at import time.
    case constant(Constant)
    /// Computed when the model runs: the output of the chain after `version` steps.
    case activation(version: Int)
  }

  /// The largest file read: 1 GiB, as for safetensors.
  static let maxFileBytes = 1 << 30

  /// The operators imported, each with the attributes it may carry.
  static let operators: [String: Set<String>] = [
    "Add": [],
    "AveragePool": [
      "auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides", "dilations",
    ],
    "BatchNormalization": [
      "epsilon", "momentum", "spatial", "training_mode", "is_test", "consumed_inputs",
    ],
    "Cast": ["to", "saturate", "round_mode"], "Concat": ["axis"],
    "Constant": ["value", "value_float", "value_floats", "value_int", "value_ints"],
    "Conv": ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"],
    "Dropout": ["ratio", "seed", "is_test"], "Flatten": ["axis"], "Gather": ["axis"],
    "Gemm": ["alpha", "beta", "transA", "transB"],
    "GlobalAveragePool": [], "Identity": [], "MatMul": [], "Mul": [],
    "MaxPool": [
      "auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides",
    ],
    "Pad": ["mode", "pads", "value"], "Relu": [], "Reshape": ["allowzero"],
    "Shape": ["start", "end"], "Sigmoid": [], "Slice": ["starts", "ends", "axes"],
    "Softmax": ["axis"], "Squeeze": ["axes"], "Tanh": [], "Transpose": ["perm"],
    "Unsqueeze": ["axes"],
  ]

  let path: String
  /// The default-domain opset the model imports.
  var opset = 13
  var values: [String: Value] = [:]
  var layers: [any Layer] = []
  var origins: [String] = []
  /// The shape of one item at the end of the chain.
  var itemShape: [Int]
  /// How many steps the chain has taken (a layer added or folded into the last one).
  var version = 0
  /// The version at which the last layer, a dense or convolutional one, was last changed: while
  /// it is the current version, a bias or a batch normalisation can be folded into it.
  var foldableVersion: Int?
  /// The batch size the file fixes for its input (`[1, 1, 28, 28]`), if it fixes one.
  var fixedBatch: Int?

  init(path: String, itemShape: [Int]) {
    self.path = path
    self.itemShape = itemShape
  }

  func error(_ message: String) -> ONNXError { ONNXError(path: path, message) }

  /// An error about one node: `node '/fc1/Gemm' (Gemm): …`.
  func error(_ node: Onnx_NodeProto, _ message: String) -> ONNXError {
    ONNXError(path: path, "node \(Self.describe(node)): \(message)")
  }

  static func describe(_ node: Onnx_NodeProto) -> String {
    node.name.isEmpty
      ? "\(node.opType) → '\(node.output.first ?? "")'" : "'\(node.name)' (\(node.opType))"
  }

  /// Reads and decodes an ONNX file.
  static func read(path: String) throws(ONNXError) -> Onnx_ModelProto {
    let bytes: [UInt8]
    do {
      bytes = try GuardedFile(path: path).contents(limit: maxFileBytes)
    } catch {
      switch error {
      case .cannotOpen:
        throw ONNXError(path: path, "cannot read the file: it does not exist or is not readable")
      case .isFolder, .notRegularFile: throw ONNXError(path: path, "is not a regular file")
      case .tooLarge(let size):
        throw ONNXError(path: path, "is \(size) bytes; sigbook reads ONNX files of at most 1 GiB")
      case .grew:
        throw ONNXError(
          path: path, "grew while it was read; sigbook reads ONNX files of at most 1 GiB")
      case .readFailed(let code):
        throw ONNXError(path: path, "cannot read the file: \(FileReadError.systemText(code))")
      }
    }
    return try decode(Data(bytes), path: path)
  }

  /// Decodes the bytes of an ONNX file; `path` names it in errors.
  static func decode(_ bytes: Data, path: String) throws(ONNXError) -> Onnx_ModelProto {
    guard !bytes.isEmpty else { throw ONNXError(path: path, "is empty, not an ONNX model") }
    var options = BinaryDecodingOptions()
    options.discardUnknownFields = true
    let model: Onnx_ModelProto
    do {
      model = try Onnx_ModelProto(serializedBytes: bytes, options: options)
    } catch BinaryDecodingError.truncated {
      throw ONNXError(
        path: path,
        "is truncated or corrupt: its protobuf data ends in the middle of a field (was the download or copy complete?)"
      )
    } catch {
      throw ONNXError(
        path: path, "is not an ONNX model: its bytes are not a protobuf message (\(error))")
    }
    guard model.irVersion > 0, model.hasGraph, !model.graph.node.isEmpty else {
      throw ONNXError(
        path: path,
        "is not an ONNX model: it has no IR version or no graph of nodes (is it an ONNX file?)")
    }
    return model
  }

  /// Reads an ONNX file as a model; see the type's documentation.
  ///
  /// - Parameters:
  ///   - inputShape: the shape of one input item, needed when the file leaves sizes other than
  ///     the batch dynamic.
  ///   - classNames: the classes the outputs stand for.
  static func load(path: String, inputShape: [Int]?, classNames: [String]?) throws(ONNXError)
    -> Model
  {
    try load(read(path: path), path: path, inputShape: inputShape, classNames: classNames)
  }

  /// `load(path:inputShape:classNames:)` of a model decoded already (external data files are
  /// found beside `path`).
  static func load(
    _ proto: Onnx_ModelProto, path: String, inputShape: [Int]?, classNames: [String]?
  ) throws(ONNXError) -> Model {
    let graph = proto.graph
    var importer = ONNXImporter(path: path, itemShape: [])
    for entry in proto.opsetImport where entry.domain.isEmpty || entry.domain == "ai.onnx" {
      importer.opset = Int(entry.version)
    }
    for initializer in graph.initializer {
      importer.values[initializer.name] = .constant(
        try importer.constant(initializer, what: "initializer '\(initializer.name)'"))
    }
    let inputs = graph.input.filter { importer.values[$0.name] == nil }
    guard inputs.count == 1, let input = inputs.first else {
      throw importer.error(
        "has \(inputs.count) inputs (\(inputs.map { "'\($0.name)'" }.joined(separator: ", "))); sigbook imports models with one input"
      )
    }
    importer.itemShape = try importer.inputItemShape(input, given: inputShape)
    importer.values[input.name] = .activation(version: 0)
    for node in graph.node { try importer.importNode(node) }
    guard graph.output.count == 1, let output = graph.output.first else {
      throw importer.error(
        "has \(graph.output.count) outputs; sigbook imports models with one output")
    }
    guard case .activation(let v)? = importer.values[output.name], v == importer.version else {
      throw importer.error(
        "its output '\(output.name)' is not the end of the chain of layers that starts at its input"
      )
    }
    // A model sigbook saved names its classes and its task in the metadata.
    let saved = proto.metadataProps.first { $0.key == "sigbook.classes" }.flatMap {
      try? JSONDecoder().decode([String].self, from: Data($0.value.utf8))
    }
    // Classes given to load_onnx make it a classifier, whatever the file says.
    let savedTask = proto.metadataProps.first { $0.key == "sigbook.task" }.flatMap {
      classNames == nil ? Model.Task(rawValue: $0.value) : nil
    }
    return try importer.model(
      inputShape: importer.firstInputShape, classNames: classNames ?? saved, task: savedTask)
  }

  /// The shape of one input item, as read from the file or given.
  var firstInputShape: [Int] = []

  /// The shape of one input item: the file's input shape without the batch, or `given`.
  mutating func inputItemShape(_ input: Onnx_ValueInfoProto, given: [Int]?) throws(ONNXError)
    -> [Int]
  {
    let type = input.type.tensorType
    guard input.type.tensorType.elemType == 1 || input.type.tensorType.elemType == 0 else {
      throw error(
        "input '\(input.name)' holds ONNX data type \(type.elemType); sigbook feeds float inputs")
    }
    let dims = type.shape.dim.map { d -> Int? in
      if case .dimValue(let v)? = d.value, v > 0 { Int(v) } else { nil }
    }
    let names = type.shape.dim.map { d -> String in
      switch d.value {
      case .dimValue(let v)?: v > 0 ? String(v) : "?"
      case .dimParam(let p)?: p
      default: "?"
      }
    }
    if let given {
      guard given.allSatisfy({ $0 > 0 }) else {
        throw error("input: \(given) must hold positive sizes")
      }
      if type.hasShape, !dims.isEmpty {
        guard dims.count == given.count + 1 else {
          throw error(
            "input '\(input.name)' has shape [\(names.joined(separator: ", "))], \(dims.count - 1) sizes per item, but input: gives \(given.count) (\(given))"
          )
        }
        for (d, g) in zip(dims.dropFirst(), given) where d != nil && d != g {
          throw error(
            "input '\(input.name)' has shape [\(names.joined(separator: ", "))], which input: \(given) contradicts"
          )
        }
        fixedBatch = dims[0]
      }
      try checkItemSize(given, of: input)
      firstInputShape = given
      return given
    }
    guard type.hasShape, dims.count >= 2, dims.dropFirst().allSatisfy({ $0 != nil }) else {
      let shown = type.hasShape ? "[\(names.joined(separator: ", "))]" : "no shape"
      throw error(
        "input '\(input.name)' has \(shown): its sizes other than the batch are dynamic, so sigbook cannot work out the layers' shapes; give the shape of one input with load_onnx(\"\((path as NSString).lastPathComponent)\", input: [1, 28, 28])"
      )
    }
    fixedBatch = dims[0]
    let shape = dims.dropFirst().map { $0 ?? 0 }
    try checkItemSize(shape, of: input)
    firstInputShape = shape
    return shape
  }

  /// Refuses input items too large to compute with (`[2⁴⁰, 2⁴⁰]`): every size computed from
  /// them later stays within 64 bits.
  func checkItemSize(_ shape: [Int], of input: Onnx_ValueInfoProto) throws(ONNXError) {
    guard let count = DimArithmetic.boundedCount(shape), count > 0 else {
      throw error(
        "input '\(input.name)' has items of shape \(shape); sigbook reads items of 1 to \(DimArithmetic.maxValues) values"
      )
    }
  }

  /// The model the walk built.
  ///
  /// Its task is `task` when the file says it (sigbook writes `sigbook.task`); else it is
  /// classification when class names are given, and reconstruction (an autoencoder) only when
  /// the output is as large as the input, does not end in Softmax, and a layer in between is
  /// narrower than the input — a code. Equal widths alone say nothing: a classifier of 10
  /// features into 10 classes, or of one feature into one logit, has them too, and a network
  /// that never narrows can copy its input without learning a code.
  func model(
    inputShape: [Int], classNames: [String]?, task: Model.Task? = nil
  ) throws(ONNXError) -> Model {
    guard !layers.isEmpty else {
      throw error("has no layers: its output is its input")
    }
    do {
      try Model.checkArchitecture(layers.map(\.spec), inputShape: inputShape, name: "the model")
    } catch {
      throw self.error(error.message)
    }
    let inputCount = inputShape.reduce(1, *)
    let outputCount = itemShape.reduce(1, *)
    let endsInSoftmax = layers.last?.spec == .softmax
    var model: Model
    do {
      model = try Model(
        layers: layers, inputShape: inputShape, task: .classification,
        summary: "load_onnx(\"\((path as NSString).lastPathComponent)\")")
    } catch {
      throw self.error("its layers do not fit together: \(error.message)")
    }
    let narrows = model.layerShapes.dropLast().contains { $0.reduce(1, *) < inputCount }
    // Whatever the metadata says, an autoencoder's output is as large as its input.
    let isAutoencoder =
      outputCount == inputCount
      && (task.map { $0 == .reconstruction } ?? (classNames == nil && !endsInSoftmax && narrows))
    if isAutoencoder {
      model.task = .reconstruction
      // The code is the narrowest layer (the last of equally narrow ones, so that a code
      // followed by its activation is taken after the activation).
      var narrowest = 0
      for i in 0..<(layers.count - 1)
      where model.layerShapes[i].reduce(1, *) <= model.layerShapes[narrowest].reduce(1, *) {
        narrowest = i
      }
      model.encoderLayerCount = narrowest + 1
    }
    if let classNames {
      // An autoencoder sigbook trained keeps the classes of its data, whatever its width.
      guard model.task == .reconstruction || classNames.count == model.classCount else {
        throw error(
          "classes: names \(classNames.count) classes but the model has \(model.outputCount) output\(model.outputCount == 1 ? "" : "s") (\(model.classCount) classes)"
        )
      }
      model.classNames = classNames
    }
    model.source = path
    model.layerOrigins = origins
    return model
  }
}
