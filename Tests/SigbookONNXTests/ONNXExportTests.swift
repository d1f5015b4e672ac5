import Foundation
import SigbookTestSupport
import Testing

@testable import SigbookTensor
@testable import SigbookData
@testable import SigbookNN
@testable import SigbookONNX

/// Whether `python3` can import onnxruntime (for the round trip through ONNX Runtime).
let onnxRuntimeIsAvailable = Python.imports("onnxruntime", "numpy")

/// sigbook's models saved as ONNX: read back by sigbook and run by ONNX Runtime.
@Suite("ONNX export") struct ONNXExportTests {
  /// One of each kind of model sigbook builds, with inputs for it.
  static func models() throws -> [(String, Model, Tensor)] {
    var generator = SeededGenerator(seed: 5)
    let images = Tensor.uniform(shape: [6, 1, 12, 12], low: 0, high: 1, generator: &generator)
    let vectors = images.reshaped([6, 144])
    var cnn = try Model.cnn(input: [1, 12, 12], conv: [3, 4], dense: [8], classes: 3, seed: 1)
    cnn.classNames = ["a", "b", "c"]
    var mixed = try Model.sequential(
      [
        .conv(inChannels: 1, outChannels: 2, kernel: 3, stride: 2, padding: 1),
        .affine(channels: 2),
        .tanh, .averagePool(size: 2), .transpose(permutation: [1, 2, 0]), .flatten,
        .dense(inputs: 18, outputs: 5), .sigmoid, .dense(inputs: 5, outputs: 144), .sigmoid,
        .reshape(shape: [1, 12, 12]),
      ],
      inputShape: [1, 12, 12], task: .reconstruction, seed: 2)
    // A non-trivial affine layer.
    mixed.layers[1].parameters = [
      Tensor(shape: [2], scalars: [0.5, -1.5]), Tensor(shape: [2], scalars: [0.25, 0.1]),
    ]
    return [
      ("mlp", try Model.mlp([144, 16, 8, 4], activation: .tanh, seed: 1), vectors),
      ("cnn", cnn, images),
      ("autoencoder", try Model.autoencoder([144, 12, 3], seed: 1), vectors),
      ("sequential", mixed, images),
      (
        "cnn_dropout",
        try Model.cnn(
          input: [1, 12, 12], conv: [3], dense: [8], classes: 3, dropout: 0.25, seed: 1),
        images
      ),
    ]
  }

  /// Graph models (a residual sum, a channel concatenation), which ONNX Runtime runs; sigbook's
  /// importer does not read branches back yet.
  static func graphModels() throws -> [(String, Model, Tensor)] {
    var generator = SeededGenerator(seed: 6)
    let images = Tensor.uniform(shape: [6, 1, 8, 8], low: -1, high: 1, generator: &generator)
    func build(_ specs: [LayerSpec], _ wiring: [[Int]], _ inputShape: [Int]) throws -> Model {
      var g = SeededGenerator(seed: 7)
      return try Model(
        layers: specs.map { $0.makeLayer(initialization: .he, generator: &g) },
        inputShape: inputShape, wiring: wiring)
    }
    let conv: (Int, Int) -> LayerSpec = {
      .conv(inChannels: $0, outChannels: $1, kernel: 3, stride: 1, padding: 1)
    }
    let residual = try build(
      [
        conv(1, 4), .relu, conv(4, 4), .relu, .sum(inputs: 2), .flatten,
        .dense(inputs: 256, outputs: 3), .softmax,
      ],
      [[0], [1], [2], [3], [2, 4], [5], [6], [7]], [1, 8, 8])
    let concatenated = try build(
      [
        conv(1, 2), .tanh, conv(2, 3), .tanh, .concatenate(axis: 0, inputs: 3),
        .averagePool(size: 2), .flatten, .dense(inputs: 112, outputs: 4),
      ],
      [[0], [1], [2], [3], [2, 4, 2], [5], [6], [7]], [1, 8, 8])
    // Every graph operation: pointwise functions on maps, a channel gate (multiply by a pooled
    // [C, 1, 1] value), arithmetic with constants and between values of different ranks, layer
    // normalisation, slices, a batched matrix product, the softmax along an axis, means.
    var operations = try build(
      [
        conv(1, 4), .pointwise(.gelu), .pointwise(.hardSwish), .pointwise(.clip(min: 0, max: 6)),
        .globalAveragePool, .pointwise(.hardSigmoid(alpha: 0.2, beta: 0.5)), .binary(.multiply),
        .reshape(shape: [4, 64]), .layerNorm(shape: [64], epsilon: 1e-5),
        .linear(inputs: 64, outputs: 6), .slice(axis: 1, start: 0, end: 3),
        .slice(axis: 1, start: 3, end: 6), .transpose(permutation: [1, 0]), .matmul,
        .binaryConstant(.divide, shape: [1], constantFirst: false), .softmaxAlong(axis: 1),
        .reduceMean(axes: [1], keepsAxes: false), .pointwise(.leakyRelu(slope: 0.1)),
        .binaryConstant(.subtract, shape: [4], constantFirst: true),
        .reduceMean(axes: [0], keepsAxes: true), .binary(.add), .pointwise(.erf),
        .pointwise(.abs), .binaryConstant(.add, shape: [1], constantFirst: false),
        .pointwise(.sqrt), .pointwise(.log), .pointwise(.exp), .pointwise(.negate),
        .pointwise(.reciprocal), .pointwise(.power(3)), .dropout(rate: 0.1),
        .binary(.subtract), .dense(inputs: 4, outputs: 3),
      ],
      [
        [0], [1], [2], [3], [4], [5], [4, 6], [7], [8], [9], [10], [10], [12], [11, 13], [14],
        [15], [16], [17], [18], [19], [19, 20], [21], [22], [23], [24], [25], [26], [27], [28],
        [29], [30], [31, 18], [32],
      ], [1, 8, 8])
    operations.layers[14].parameters = [Tensor(repeating: 3, shape: [1])]
    operations.layers[23].parameters = [Tensor(repeating: 1.5, shape: [1])]
    // Batch normalisation in inference, with running statistics away from 0 and 1.
    var normalized = try build(
      [
        conv(1, 4), .batchNorm(channels: 4, epsilon: 1e-3, momentum: 0.1), .relu,
        .globalAveragePool, .dense(inputs: 4, outputs: 3),
      ], [[0], [1], [2], [3], [4]], [1, 8, 8])
    var g = SeededGenerator(seed: 8)
    normalized.layers[1].parameters = [
      Tensor.uniform(shape: [4], low: 0.5, high: 1.5, generator: &g),
      Tensor.uniform(shape: [4], low: -0.5, high: 0.5, generator: &g),
    ]
    normalized.layers[1].buffers = [
      Tensor.uniform(shape: [4], low: -0.5, high: 0.5, generator: &g),
      Tensor.uniform(shape: [4], low: 0.5, high: 2, generator: &g),
    ]
    // The image operations of imported networks: a depthwise convolution, a grouped one with a
    // 3×2 kernel, strides, dilation and uneven pads and no bias, local response normalisation
    // (alpha large enough to matter), a padded max pool in ceil mode, average pools counting
    // their padding (ceil mode dropping a window that would start in the padding) or not.
    var imageOperations = try build(
      [
        conv(1, 4), .relu,
        .convolution(
          Convolution(
            inChannels: 4, outChannels: 4, kernel: [3, 3], pads: [1, 1, 1, 1], groups: 4)),
        .convolution(
          Convolution(
            inChannels: 4, outChannels: 6, kernel: [3, 2], strides: [2, 1], pads: [1, 0, 2, 1],
            dilations: [2, 1], groups: 2, hasBias: false)),
        .localResponseNorm(size: 3, alpha: 0.9, beta: 0.75, bias: 1.5),
        .pool(
          Pooling(.max, kernel: [3, 2], strides: [2, 2], pads: [1, 1, 1, 0], ceilMode: true)),
        .pool(
          Pooling(
            .average, kernel: [2, 2], strides: [1, 2], pads: [1, 1, 0, 1], ceilMode: true,
            countIncludePad: true)),
        .pool(Pooling(.average, kernel: [2, 2], strides: [1, 1], pads: [0, 0, 1, 1])),
        .flatten, .dense(inputs: 54, outputs: 3),
      ],
      (0..<10).map { [$0] }, [1, 8, 8])
    imageOperations.layers[2].parameters[1] = Tensor.uniform(
      shape: [4], low: -0.5, high: 0.5, generator: &generator)
    return [
      ("residual", residual, images), ("concatenated", concatenated, images),
      ("operations", operations, images), ("batchnorm", normalized, images),
      ("image_operations", imageOperations, images),
      ("resnet", try Model.resnet(input: [1, 8, 8], widths: [4, 8], classes: 3, seed: 2), images),
      (
        "vit",
        try Model.vit(
          input: [1, 8, 8], patch: 4, width: 8, depth: 2, heads: 2, mlp: 16, classes: 3, seed: 2),
        images
      ),
    ]
  }

  /// A saved model says what it is (`sigbook.task`): an autoencoder that never narrows or ends
  /// in Softmax loads as an autoencoder, a classifier with as many classes as inputs as a
  /// classifier. The task used to be guessed from the widths and the last layer.
  @Test func savedModelsKeepTheirTask() throws {
    let folder = try TemporaryFolder()
    let models = [
      try Model.autoencoder([4, 8], seed: 1), try Model.autoencoder([6, 3], output: .softmax),
      try Model.mlp([4, 8, 4], output: .linear, seed: 1),
      try Model.mlp([4, 2, 4], output: .linear),
    ]
    for (i, model) in models.enumerated() {
      let path = try folder.write("m\(i).onnx", ONNXFormat().encode(model))
      let loaded = try ONNXFormat().load(from: path, inputShape: nil, classNames: nil)
      #expect(loaded.task == model.task, "\(model.summary)")
    }
  }

  /// A dropout layer is saved as a Dropout node with its ratio (the identity without
  /// `training_mode`) and read back as a dropout layer of that rate, so that the model trained
  /// again drops as before.
  @Test func savedDropoutKeepsItsRate() throws {
    let folder = try TemporaryFolder()
    let net = try Model.mlp([6, 5, 4, 3], dropout: 0.25, seed: 2)
    let bytes = try ONNXFormat().encode(net)
    let proto = try Onnx_ModelProto(serializedBytes: Data(bytes))
    #expect(proto.graph.node.filter { $0.opType == "Dropout" }.count == 2)
    let loaded = try ONNXFormat().load(
      from: try folder.write("net.onnx", bytes), inputShape: nil, classNames: nil)
    #expect(loaded.specs == net.specs)
  }

  @Test func savedModelsLoadBackWithTheSameOutputsAndSignatures() throws {
    let folder = try TemporaryFolder()
    for (name, model, x) in try Self.models() {
      let path = try folder.write("\(name).onnx", ONNXFormat().encode(model))
      let loaded = try ONNXFormat().load(from: path, inputShape: nil, classNames: nil)
      let error = largestRelativeError(loaded.predict(x).scalars, model.predict(x).scalars)
      #expect(error <= 1e-5, "\(name): \(error)")
      #expect(loaded.hiddenLayerIndices.count == model.hiddenLayerIndices.count, "\(name)")
      #expect(loaded.task == model.task && loaded.classNames == model.classNames, "\(name)")
    }
  }

  @Test(
    .enabled(
      if: onnxRuntimeIsAvailable,
      "skipped: python3 cannot import onnxruntime (pip install onnxruntime numpy to run it)"))
  func onnxRuntimeComputesTheSameOutputs() throws {
    let folder = try TemporaryFolder()
    var names: [String] = []
    // Graphs imported from PyTorch's exports, saved again by sigbook.
    let imported = try ["resnet_op13", "mobilenet_op17", "vit_op13"].map { name in
      (
        "imported_\(name)", try ONNXGraphImportTests.load(name),
        try ONNXGraphImportTests.input(for: name)
      )
    }
    for (name, model, x) in try Self.models() + Self.graphModels() + imported {
      try folder.write("\(name).onnx", ONNXFormat().encode(model))
      try folder.write("\(name)_x.npy", [UInt8](NPY.encode(x.scalars, shape: x.shape)))
      try folder.write(
        "\(name)_sigbook.npy",
        [UInt8](NPY.encode(model.predict(x).scalars, shape: [x.rows, model.outputCount])))
      names.append(name)
    }
    let script = """
      import sys, numpy as np, onnxruntime as ort
      folder = sys.argv[1]
      for name in sys.argv[2:]:
          session = ort.InferenceSession(f"{folder}/{name}.onnx", providers=["CPUExecutionProvider"])
          out = session.run(None, {"input": np.load(f"{folder}/{name}_x.npy")})[0]
          ref = np.load(f"{folder}/{name}_sigbook.npy")
          error = np.max(np.abs(out.reshape(ref.shape) - ref) / np.maximum(1, np.abs(ref)))
          print(name, error, float(np.abs(ref).mean()))
      """
    let result = try RunningProcess.run(
      "/usr/bin/env", ["python3", "-c", script, folder.url.path] + names)
    let output = result.stdout
    #expect(result.status == 0, "onnxruntime failed: \(result.stderr)")
    let lines = output.split(separator: "\n")
    #expect(lines.count == names.count, "\(output)")
    for line in lines {
      let parts = line.split(separator: " ")
      // The error, then the outputs' mean magnitude (a model that outputs nothing but zeros
      // or NaN would compare trivially).
      let error = parts.count == 3 ? Double(parts[1]) ?? .infinity : .infinity
      let magnitude = parts.count == 3 ? Double(parts[2]) ?? 0 : 0
      #expect(error <= 1e-5, "ONNX Runtime vs sigbook, \(line)")
      #expect(magnitude > 1e-3 && magnitude.isFinite, "outputs of \(line)")
    }
  }
}
