import Foundation

@testable import SigbookONNX

/// Small ONNX models built from the generated protobuf types, for tests of what the importer
/// refuses: a graph of one float input, some initializers and nodes, and one output.
enum ONNXModelBuilder {
  static func floats(_ name: String, _ dims: [Int64], _ values: [Float]) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dims = dims
    t.dataType = 1
    t.floatData = values
    return t
  }

  static func int64s(_ name: String, _ dims: [Int64], _ values: [Int64]) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dims = dims
    t.dataType = 7
    t.int64Data = values
    return t
  }

  static func ints(_ name: String, _ values: [Int64]) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .ints
    a.ints = values
    return a
  }

  static func int(_ name: String, _ value: Int64) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .int
    a.i = value
    return a
  }

  static func tensor(_ name: String, _ value: Onnx_TensorProto) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .tensor
    a.t = value
    return a
  }

  /// A node named after its output (`'y' (Reshape)` in messages).
  static func node(
    _ op: String, _ inputs: [String], _ output: String, _ attributes: [Onnx_AttributeProto] = []
  ) -> Onnx_NodeProto {
    var n = Onnx_NodeProto()
    n.opType = op
    n.name = output
    n.input = inputs
    n.output = [output]
    n.attribute = attributes
    return n
  }

  /// A `Constant` node holding `value`.
  static func constant(_ output: String, _ value: Onnx_TensorProto) -> Onnx_NodeProto {
    node("Constant", [], output, [tensor("value", value)])
  }

  /// A model of input `x` of shape `input`, opset 13, whose output is `output`.
  static func model(
    input: [Int64], initializers: [Onnx_TensorProto] = [], nodes: [Onnx_NodeProto],
    output: String
  ) -> Onnx_ModelProto {
    var x = Onnx_ValueInfoProto()
    x.name = "x"
    x.type.tensorType.elemType = 1
    x.type.tensorType.shape.dim = input.map { size in
      var d = Onnx_TensorShapeProto.Dimension()
      d.dimValue = size
      return d
    }
    var y = Onnx_ValueInfoProto()
    y.name = output
    y.type.tensorType.elemType = 1
    var m = Onnx_ModelProto()
    m.irVersion = 8
    var opset = Onnx_OperatorSetIdProto()
    opset.version = 13
    m.opsetImport = [opset]
    m.graph.name = "g"
    m.graph.input = [x]
    m.graph.output = [y]
    m.graph.initializer = initializers
    m.graph.node = nodes
    return m
  }

  /// The models that crashed the importer before it checked its arithmetic and shapes, by
  /// name, each with a part of the message it now gives. The fuzz corpus
  /// (`Fixtures/fuzz-corpus/*.onnx`) holds them as files.
  static var crashers: [(name: String, model: Onnx_ModelProto, message: String)] {
    let big: Int64 = 1 << 40
    let shape = int64s("shape", [3], [1, big, big])
    return [
      (
        "reshape-2p40",
        model(
          input: [1, 4], initializers: [shape], nodes: [node("Reshape", ["x", "shape"], "y")],
          output: "y"),
        "node 'y' (Reshape): reshapes items of [4] (4 values) to [1099511627776, 1099511627776]"
      ),
      (
        "reshape-free-2p40",
        model(
          input: [1, 4], initializers: [int64s("shape", [4], [1, big, big, -1])],
          nodes: [node("Reshape", ["x", "shape"], "y")], output: "y"),
        "node 'y' (Reshape): cannot reshape [4] to [1099511627776, 1099511627776, -1]"
      ),
      (
        "reshape-constant-2p40",
        model(
          input: [1, 4], initializers: [floats("w", [4], [1, 2, 3, 4]), shape],
          nodes: [node("Reshape", ["w", "shape"], "v"), node("Add", ["x", "v"], "y")],
          output: "y"),
        "node 'v' (Reshape): cannot reshape [4] to [1, 1099511627776, 1099511627776]"
      ),
      (
        "input-2p40-flatten",
        model(input: [1, big, big], nodes: [node("Flatten", ["x"], "y")], output: "y"),
        "input 'x' has items of shape [1099511627776, 1099511627776]; sigbook reads items of 1 to"
      ),
      (
        "input-2p40-shape",
        model(
          input: [1, big, big],
          nodes: [node("Shape", ["x"], "s"), node("Reshape", ["x", "s"], "y")], output: "y"),
        "input 'x' has items of shape [1099511627776, 1099511627776]"
      ),
      (
        "cast-nan",
        model(
          input: [1, 4],
          nodes: [
            constant("c", floats("c", [1], [.nan])), node("Cast", ["c"], "i", [int("to", 7)]),
            node("Relu", ["x"], "y"),
          ], output: "y"),
        "node 'i' (Cast): casts nan (value 0 of its input) to the integer data type 7"
      ),
      (
        "cast-1e30",
        model(
          input: [1, 4],
          nodes: [
            constant("c", floats("c", [2], [1, 1e30])), node("Cast", ["c"], "i", [int("to", 7)]),
            node("Relu", ["x"], "y"),
          ], output: "y"),
        "node 'i' (Cast): casts 1e+30 (value 1 of its input) to the integer data type 7"
      ),
      (
        "add-int64-overflow",
        model(
          input: [1, 4],
          nodes: [
            constant("a", int64s("a", [1], [1 << 62])), constant("b", int64s("b", [1], [1 << 62])),
            node("Add", ["a", "b"], "s"), node("Relu", ["x"], "y"),
          ], output: "y"),
        "node 's' (Add): adds the integers 4611686018427387904 and 4611686018427387904, which overflows 64 bits"
      ),
      (
        "matmul-no-outputs",
        model(
          input: [1, 4], initializers: [floats("w", [4, 0], []), floats("b", [0], [])],
          nodes: [node("MatMul", ["x", "w"], "h"), node("Add", ["h", "b"], "y")], output: "y"),
        "node 'h' (MatMul): its weight has shape [4, 0]: a layer of no outputs"
      ),
      (
        "conv-no-outputs",
        model(
          input: [1, 1, 4, 4], initializers: [floats("w", [0, 1, 3, 3], [])],
          nodes: [node("Conv", ["x", "w"], "y")], output: "y"),
        "node 'y' (Conv): its weight has shape [0, 1, 3, 3]: no output channels"
      ),
      (
        "squeeze-empty",
        model(
          input: [1, 4], initializers: [floats("w", [0, 4, 3], [])],
          nodes: [
            node("Squeeze", ["w"], "v", [ints("axes", [0])]),
            node("Gemm", ["x", "v"], "y"),
          ], output: "y"),
        "node 'v' (Squeeze): squeezes axis 0 of size 0 in [0, 4, 3]; only axes of size 1 can be removed"
      ),
      (
        "squeeze-size-2",
        model(
          input: [1, 3], initializers: [floats("w", [2, 3], [1, 2, 3, 4, 5, 6])],
          nodes: [
            node("Squeeze", ["w"], "v", [ints("axes", [0])]),
            node("Add", ["x", "v"], "y"),
          ], output: "y"),
        "node 'v' (Squeeze): squeezes axis 0 of size 2 in [2, 3]; only axes of size 1 can be removed"
      ),
      (
        "external-offset-2p63",
        externalModel(offset: "9223372036854775809", length: "16"),
        "initializer 'w' has the external data offset '9223372036854775809'; a byte offset was expected"
      ),
    ]
  }

  /// A dense layer whose [4, 1] weight (16 bytes) is stored in `w.bin` beside the model.
  static func externalModel(offset: String, length: String?) -> Onnx_ModelProto {
    var w = Onnx_TensorProto()
    w.name = "w"
    w.dims = [4, 1]
    w.dataType = 1
    w.dataLocation = .external
    var entries = [("location", "w.bin"), ("offset", offset)]
    if let length { entries.append(("length", length)) }
    w.externalData = entries.map { key, value in
      var e = Onnx_StringStringEntryProto()
      e.key = key
      e.value = value
      return e
    }
    return model(
      input: [1, 4], initializers: [w], nodes: [node("MatMul", ["x", "w"], "y")], output: "y")
  }
}
