import Foundation
import SwiftProtobuf
import SigbookTensor
import SigbookNN
import SigbookWorkbook

/// Reads an ONNX model as a sigbook model: the graph of layers it computes.
///
/// The graph is walked once, in node order (ONNX requires a topological order). Nodes whose
/// inputs are all known when the model is imported (weights, `Constant`, and the shape
/// computations exporters write, `Shape` → `Gather` → `Unsqueeze` → `Concat` → `Reshape`, with
/// the batch size standing as a symbol) are computed then; every other node becomes one of
/// sigbook's layers (`Gemm` → dense, `Conv` → conv, `Add` of two activations → a join…) taking
/// the values its inputs name. A bias (`Add` of a constant) or a `BatchNormalization` that is
/// the only use of a dense, linear or convolutional layer's output is folded into it. Nodes
/// whose outputs reach nothing are left out. The result is an ordinary `Model`: a chain when
/// every layer takes the one before, else a graph whose layers are named by their nodes
/// (`/stage1/Add`), so that signatures can be taken at any of them; `layerOrigins` names the
/// nodes each layer stands for.
///
/// What cannot be imported (control flow, operators sigbook lacks, shapes that depend on
/// values, a transpose of the batch axis that nothing brings back) is refused with an error
/// that names the file, the node and its operator, and says what is supported.
struct ONNXImporter {
  /// What a tensor name stands for while the graph is walked.
  enum Value {
    /// Known at import time.
    case constant(Constant)
    /// Computed when the model runs: value 0 is the model's input, j the output of layer j.
    case activation(Int)
    /// The same constant for every input: an `Expand` of a constant to a shape led by the batch
    /// size (a class token before it joins the tokens). Its shape is one item's.
    case perItem(Constant)
    /// An activation whose batch axis the ONNX value has moved from the front, alone or merged
    /// with another (`[tokens, batch · heads, d]`): `Layout` says where each ONNX axis lies.
    case laidOut(Int, Layout)
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
    "Cast": ["to", "saturate", "round_mode"], "Clip": ["min", "max"], "Concat": ["axis"],
    "Constant": ["value", "value_float", "value_floats", "value_int", "value_ints"],
    "ConstantOfShape": ["value"],
    "Conv": ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"],
    "Div": [], "Dropout": ["ratio", "seed", "is_test"], "Equal": [], "Erf": [], "Exp": [],
    "Expand": [], "Flatten": ["axis"], "Gather": ["axis"], "Gelu": ["approximate"],
    "Gemm": ["alpha", "beta", "transA", "transB"],
    "GlobalAveragePool": [], "HardSigmoid": ["alpha", "beta"], "HardSwish": [],
    "Identity": [], "LayerNormalization": ["axis", "epsilon", "stash_type"],
    "LeakyRelu": ["alpha"], "LRN": ["alpha", "beta", "bias", "size"], "MatMul": [], "Mul": [],
    "Max": [],
    "MaxPool": [
      "auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides",
    ],
    "Neg": [], "Pad": ["mode", "pads", "value"], "Pow": [], "Reciprocal": [],
    "ReduceMean": ["axes", "keepdims", "noop_with_empty_axes"],
    "ReduceProd": ["axes", "keepdims", "noop_with_empty_axes"], "Relu": [],
    "Reshape": ["allowzero"], "Shape": ["start", "end"], "Sigmoid": [],
    "Slice": ["starts", "ends", "axes"], "Softmax": ["axis"],
    "Split": ["axis", "split", "num_outputs"],
    "Sqrt": [], "Squeeze": ["axes"], "Sub": [], "Sum": [], "Tanh": [], "Tile": [],
    "Transpose": ["perm"],
    "Unsqueeze": ["axes"], "Where": [],
  ]

  let path: String
  /// The default-domain opset the model imports.
  var opset = 13
  var values: [String: Value] = [:]
  var layers: [any Layer] = []
  /// The values each layer takes (0 the model's input, j layer j's output).
  var wiring: [[Int]] = []
  /// The shape of one item of each value, the input's first.
  var shapes: [[Int]]
  /// The ONNX nodes each layer stands for.
  var origins: [String] = []
  /// The name of each layer: its node's (or its node's output's).
  var layerNames: [String] = []
  /// How many nodes (and graph outputs) read each tensor name.
  var uses: [String: Int] = [:]
  /// The value the node being imported reads (`activationInput`), and its item shape.
  var current = 0
  var itemShape: [Int]
  /// The values whose layer (dense, linear, convolutional or an affine one) can still take a
  /// bias or a normalisation folded in.
  var foldable: Set<Int> = []
  /// The batch size the file fixes for its input (`[1, 1, 28, 28]`), if it fixes one.
  var fixedBatch: Int?
  /// The layers whose node's output is laid out otherwise than they hold it, by name: how
  /// the node's ONNX value is read from the layer's output.
  var layouts: [String: Layout] = [:]

  init(path: String, itemShape: [Int]) {
    self.path = path
    self.itemShape = itemShape
    shapes = [itemShape]
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
    let importer = try imported(proto, path: path, inputShape: inputShape)
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

  /// The graph of `proto` walked: its layers, their wiring and names, pruned to what its
  /// output needs.
  static func imported(_ proto: Onnx_ModelProto, path: String, inputShape: [Int]?)
    throws(ONNXError) -> ONNXImporter
  {
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
    importer.shapes = [importer.itemShape]
    importer.values[input.name] = .activation(0)
    for node in graph.node {
      for name in node.input where !name.isEmpty { importer.uses[name, default: 0] += 1 }
    }
    for output in graph.output { importer.uses[output.name, default: 0] += 1 }
    for node in graph.node { try importer.importNode(node) }
    guard graph.output.count == 1, let output = graph.output.first else {
      throw importer.error(
        "has \(graph.output.count) outputs; sigbook imports models with one output")
    }
    if case .laidOut(let v, let layout)? = importer.values[output.name] {
      throw importer.error(
        "its output '\(output.name)' \(importer.describe(v, layout)) does not have the batch as its first axis; sigbook keeps the batch first in a model's output"
      )
    }
    guard case .activation(let last)? = importer.values[output.name], last > 0 else {
      throw importer.error(
        "its output '\(output.name)' is not computed by layers from its input '\(input.name)'")
    }
    importer.prune(keeping: last)
    return importer
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
    if type.hasShape, dims.count == 1 {
      throw error(
        "input '\(input.name)' has shape [\(names[0])], a batch of single numbers; sigbook reads inputs [batch, …] of at least one value each, the first axis the batch"
      )
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
    // A chain keeps the chain's faster path; anything else is a graph.
    let isChain = isChainSoFar
    do {
      try Model.checkArchitecture(
        layers.map(\.spec), inputShape: inputShape, name: "the model",
        wiring: isChain ? nil : wiring)
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
        summary: "load_onnx(\"\((path as NSString).lastPathComponent)\")",
        wiring: isChain ? nil : wiring)
    } catch {
      throw self.error("its layers do not fit together: \(error.message)")
    }
    // Every layer answers to its node's name, as in the file.
    model.names = layerNames
    if !isChain { model.signatureLayers = blockOutputs() }
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

  /// Leaves out the layers whose outputs do not reach value `output` (an exporter's unused
  /// branch, a shape computation's source), numbering the others anew.
  mutating func prune(keeping output: Int) {
    var needed = [Bool](repeating: false, count: layers.count + 1)
    needed[output] = true
    for j in stride(from: output, through: 1, by: -1) where needed[j] {
      for v in wiring[j - 1] { needed[v] = true }
    }
    var renumbered = [Int](repeating: -1, count: layers.count + 1)
    renumbered[0] = 0
    var kept = 0
    for j in 1...max(output, 1) where needed[j] {
      kept += 1
      renumbered[j] = kept
    }
    let keep = (1...max(output, 1)).filter { needed[$0] }
    layers = keep.map { layers[$0 - 1] }
    wiring = keep.map { j in wiring[j - 1].map { renumbered[$0] } }
    origins = keep.map { origins[$0 - 1] }
    layerNames = keep.map { layerNames[$0 - 1] }
    shapes = [shapes[0]] + keep.map { shapes[$0] }
    itemShape = shapes[shapes.count - 1]
  }

  /// The layers whose outputs make a graph's signature: the end of every residual block — a
  /// join of two activations (`Add`, `Sum`), or the activation that alone follows one —, or,
  /// in a graph without joins, nil (every hidden activation).
  func blockOutputs() -> [Int]? {
    var consumers = [[Int]](repeating: [], count: layers.count + 1)
    for (i, taken) in wiring.enumerated() { for v in Set(taken) { consumers[v].append(i) } }
    var outputs: [Int] = []
    for (i, layer) in layers.enumerated() where i < layers.count - 1 {
      let isJoin: Bool
      switch layer.spec {
      case .sum: isJoin = true
      case .binary(let op): isJoin = op == .add && wiring[i].allSatisfy { $0 > 0 }
      default: isJoin = false
      }
      guard isJoin else { continue }
      let next = consumers[i + 1]
      if next.count == 1, layers[next[0]].spec.isHiddenActivation, next[0] < layers.count - 1 {
        outputs.append(next[0])
      } else {
        outputs.append(i)
      }
    }
    return outputs.isEmpty ? nil : outputs
  }
}
