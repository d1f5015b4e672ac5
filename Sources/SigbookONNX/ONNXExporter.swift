import Foundation
import SwiftProtobuf
import SigbookTensor
import SigbookNN

/// Writes a sigbook model as an ONNX model (opset 13, IR version 7) that ONNX Runtime runs and
/// Netron opens.
///
/// One node per layer (a per-channel affine layer becomes Mul then Add), named after its layer
/// (`layer1/Gemm`), taking what the layer takes (a graph's joins become `Sum` and `Concat`); the weights are initializers named like PyTorch's `nn.Sequential`
/// (`0.weight`). The input `input` is `[batch, …inputShape]` with a dynamic batch, the output
/// `output` the last layer's. A dense layer that follows images gets a `Flatten` in front, as
/// ONNX's `Gemm` takes matrices. The summary, task and class names go into the metadata
/// (`sigbook.summary`, `sigbook.task`, `sigbook.classes`), which `load_onnx` reads back.
enum ONNXExporter {
  /// The opset the files import.
  static let opset: Int64 = 13

  static func encode(_ model: Model) throws -> [UInt8] {
    var graph = Onnx_GraphProto()
    graph.name = "sigbook"
    var current = "input"
    var shape = model.inputShape
    var nodeCount = 0
    var usedNames: Set<String> = []
    func node(
      _ op: String, _ inputs: [String], layer: Int, attributes: [Onnx_AttributeProto] = []
    ) -> String {
      nodeCount += 1
      var n = Onnx_NodeProto()
      n.opType = op
      // A layer written as several nodes of one operator numbers them: `layer2/Mul_1`.
      var name = "layer\(layer)/\(op)"
      var k = 0
      while usedNames.contains(name) {
        k += 1
        name = "layer\(layer)/\(op)_\(k)"
      }
      usedNames.insert(name)
      n.name = name
      n.input = inputs
      let output = "layer\(layer)/\(op)_\(nodeCount)"
      n.output = [output]
      n.attribute = attributes
      graph.node.append(n)
      return output
    }
    func initializer(_ name: String, _ tensor: Tensor) -> String {
      graph.initializer.append(Self.tensor(name, shape: tensor.shape, values: tensor.scalars))
      return name
    }
    // The name of each value: the input, then each layer's output.
    var values = ["input"]
    for (i, layer) in model.layers.enumerated() {
      let number = i + 1
      let names = layer.parameterNames.map { "\(i).\($0)" }
      let inputs = model.inputs(ofLayer: i)
      current = values[inputs[0]]
      shape = inputs[0] == 0 ? model.inputShape : model.layerShapes[inputs[0] - 1]
      switch layer.spec {
      case .dense:
        if shape.count > 1 {
          current = node("Flatten", [current], layer: number, attributes: [int("axis", 1)])
        }
        current = node(
          "Gemm",
          [
            current, initializer(names[0], layer.parameters[0]),
            initializer(names[1], layer.parameters[1]),
          ],
          layer: number, attributes: [int("transB", 1)])
      case .conv(_, _, let k, let s, let p):
        current = node(
          "Conv",
          [
            current, initializer(names[0], layer.parameters[0]),
            initializer(names[1], layer.parameters[1]),
          ],
          layer: number,
          attributes: [
            ints("kernel_shape", [k, k]), ints("strides", [s, s]), ints("pads", [p, p, p, p]),
          ])
      case .convolution(let c):
        current = node(
          "Conv",
          [current] + zip(names, layer.parameters).map { initializer($0, $1) },
          layer: number,
          attributes: [
            ints("kernel_shape", c.kernel), ints("strides", c.strides), ints("pads", c.pads),
            ints("dilations", c.dilations), int("group", c.groups),
          ])
      case .maxPool(let s), .averagePool(let s):
        current = node(
          layer.spec == .maxPool(size: s) ? "MaxPool" : "AveragePool", [current], layer: number,
          attributes: [ints("kernel_shape", [s, s]), ints("strides", [s, s])])
      case .flatten:
        current = node("Flatten", [current], layer: number, attributes: [int("axis", 1)])
      case .relu: current = node("Relu", [current], layer: number)
      case .tanh: current = node("Tanh", [current], layer: number)
      case .sigmoid: current = node("Sigmoid", [current], layer: number)
      case .softmax:
        current = node("Softmax", [current], layer: number, attributes: [int("axis", -1)])
      case .reshape(let target):
        let name = "\(i).shape"
        graph.initializer.append(Self.int64Tensor(name, [0] + target))
        current = node("Reshape", [current, name], layer: number)
      case .transpose(let permutation):
        current = node(
          "Transpose", [current], layer: number,
          attributes: [ints("perm", [0] + permutation.map { $0 + 1 })])
      case .affine(let c):
        // Shaped to broadcast over the channel axis of [batch, C, …].
        let constantShape = [c] + [Int](repeating: 1, count: shape.count - 1)
        graph.initializer.append(
          Self.tensor(names[0], shape: constantShape, values: layer.parameters[0].scalars))
        graph.initializer.append(
          Self.tensor(names[1], shape: constantShape, values: layer.parameters[1].scalars))
        current = node("Mul", [current, names[0]], layer: number)
        current = node("Add", [current, names[1]], layer: number)
      case .sum:
        current = node("Sum", inputs.map { values[$0] }, layer: number)
      case .concatenate(let axis, _):
        current = node(
          "Concat", inputs.map { values[$0] }, layer: number, attributes: [int("axis", axis + 1)])
      default:
        var constants = 0
        current = Self.operation(
          layer.spec, inputs.map { values[$0] }, parameters: layer.parameters,
          buffers: layer.buffers,
          itemShapes: inputs.map { $0 == 0 ? model.inputShape : model.layerShapes[$0 - 1] },
          node: { op, operands, attributes in
            node(op, operands, layer: number, attributes: attributes)
          },
          constant: { shape, values in
            constants += 1
            let name = "\(i).c\(constants)"
            graph.initializer.append(Self.tensor(name, shape: shape, values: values))
            return name
          },
          indices: { values in
            constants += 1
            let name = "\(i).c\(constants)"
            graph.initializer.append(Self.int64Tensor(name, values))
            return name
          })
      }
      values.append(current)
    }
    // The last node's output is the model's.
    graph.node[graph.node.count - 1].output = ["output"]
    graph.input = [valueInfo("input", model.inputShape)]
    graph.output = [valueInfo("output", model.layerShapes.last ?? [])]

    var proto = Onnx_ModelProto()
    proto.irVersion = 7
    proto.producerName = "sigbook"
    proto.graph = graph
    var opset = Onnx_OperatorSetIdProto()
    opset.domain = ""
    opset.version = Self.opset
    proto.opsetImport = [opset]
    var summary = Onnx_StringStringEntryProto()
    summary.key = "sigbook.summary"
    summary.value = model.summary
    var task = Onnx_StringStringEntryProto()
    task.key = "sigbook.task"
    task.value = model.task.rawValue
    proto.metadataProps = [summary, task]
    if let classNames = model.classNames,
      let json = try? JSONEncoder().encode(classNames),
      let text = String(data: json, encoding: .utf8)
    {
      var classes = Onnx_StringStringEntryProto()
      classes.key = "sigbook.classes"
      classes.value = text
      proto.metadataProps.append(classes)
    }
    // The tensors that make up a signature, by layer name, so that a runtime can give them
    // as extra outputs, in the model's order (`sigbook.signatures`:
    // [["stage1.block1.relu", "layer9/Relu_12"], …]).
    let last = model.layers.count - 1
    let signatureTensors = model.hiddenLayerIndices.map { i in
      [model.layerNames[i], i == last ? "output" : values[i + 1]]
    }
    if let json = try? JSONEncoder().encode(signatureTensors),
      let text = String(data: json, encoding: .utf8)
    {
      var signatures = Onnx_StringStringEntryProto()
      signatures.key = "sigbook.signatures"
      signatures.value = text
      proto.metadataProps.append(signatures)
    }
    let data: Data = try proto.serializedBytes()
    return [UInt8](data)
  }

  static func tensor(_ name: String, shape: [Int], values: [Float]) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
    t.dims = shape.map { Int64($0) }
    var raw = Data(capacity: values.count * 4)
    for v in values {
      withUnsafeBytes(of: v.bitPattern.littleEndian) { raw.append(contentsOf: $0) }
    }
    t.rawData = raw
    return t
  }

  static func int64Tensor(_ name: String, _ values: [Int]) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
    t.dims = [Int64(values.count)]
    t.int64Data = values.map { Int64($0) }
    return t
  }

  static func valueInfo(_ name: String, _ itemShape: [Int]) -> Onnx_ValueInfoProto {
    var info = Onnx_ValueInfoProto()
    info.name = name
    var type = Onnx_TypeProto.Tensor()
    type.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
    var shape = Onnx_TensorShapeProto()
    var batch = Onnx_TensorShapeProto.Dimension()
    batch.dimParam = "batch"
    shape.dim =
      [batch]
      + itemShape.map { n in
        var d = Onnx_TensorShapeProto.Dimension()
        d.dimValue = Int64(n)
        return d
      }
    type.shape = shape
    info.type.tensorType = type
    return info
  }

  static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .int
    a.i = Int64(value)
    return a
  }

  static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .ints
    a.ints = values.map { Int64($0) }
    return a
  }
}
