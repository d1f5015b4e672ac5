import Foundation
import SigbookTensor
import SigbookData
import SigbookNN
import SigbookPlot

extension Catalogue {
  static let activations = Activation.Function.allCases.map(\.rawValue)

  /// Builds a model, turning a shape mismatch into a failure of the call.
  static func build(_ body: () throws(ShapeMismatch) -> Model) throws(CallFailure) -> Value {
    do { return .model(try body()) } catch { throw CallFailure(error.message, hint: error.hint) }
  }

  /// `nodes(net)`: one row per layer of the model.
  static func nodeTable(_ net: Model) -> Table {
    let names = net.layerNames
    let signatures = Set(net.hiddenLayerIndices)
    let rows: [[Table.Cell]] = net.layers.indices.map { i in
      let inputs = net.inputs(ofLayer: i).map { $0 == 0 ? "input" : names[$0 - 1] }
      let shape = net.layerShapes[i].map(String.init).joined(separator: "×")
      return [
        .text(names[i]), .text(net.layers[i].spec.displayName),
        .text(inputs.joined(separator: ", ")), .text(shape),
        .number(Double(net.layers[i].parameters.reduce(0) { $0 + $1.count })),
        .text(signatures.contains(i) ? "yes" : ""),
      ]
    }
    return Table(
      title: "\(net.layers.count) nodes of \(net.summary)",
      columns: ["name", "operation", "takes", "output", "parameters", "signature"], rows: rows)
  }

  /// Checks that a dataset fits a model, blaming the dataset argument.
  static func check(
    _ call: Call, model: String = "model", data: String = "data", labels: Bool = false
  )
    throws(CallFailure) -> (Model, Dataset)
  {
    let net = call.model(model), d = call.dataset(data)
    do {
      try net.validate(
        inputs: d.features, labels: labels ? d.labels : nil,
        dataName: call.describe(data, fallback: data == "data" ? "the data" : "the \(data) data"))
    } catch {
      throw call.failure(error.description, blaming: data)
    }
    return (net, d)
  }

  /// A classifier and a dataset that fits it.
  static func checkClassifier(_ call: Call) throws(CallFailure) -> (Model, Dataset) {
    _ = try classifier(call)
    return try check(call)
  }

  static func classifier(_ call: Call, _ key: String = "model") throws(CallFailure) -> Model {
    let net = call.model(key)
    guard net.task == .classification else {
      throw call.failure(
        "\(call.entry.name) needs a classifier, but \(call.describe(key, fallback: "this model")) is an autoencoder",
        blaming: key, kind: .type)
    }
    return net
  }

  static func autoencoder(_ call: Call, _ key: String = "model") throws(CallFailure) -> Model {
    let net = call.model(key)
    guard net.task == .reconstruction else {
      throw call.failure(
        "\(call.entry.name) needs an autoencoder, but \(call.describe(key, fallback: "this model")) is a classifier",
        blaming: key, kind: .type)
    }
    return net
  }

  /// The `dropout:` of the builders (each one's summary says where its dropout layers go).
  static let dropoutParameter = Parameter.labelled(
    "dropout", .number,
    doc: "the fraction of values dropped in each training step, in [0, 1) (0: no dropout)",
    default: .number(0))

  /// The dropout rate passed as `key`, refused outside [0, 1) (1 would drop everything).
  static func dropoutRate(_ call: Call, _ key: String = "dropout") throws(CallFailure) -> Float {
    let rate = call.number(key)
    guard rate >= 0, rate < 1 else {
      throw call.failure(
        "a dropout rate must be in [0, 1), not \(NumberFormat.exact(rate))", blaming: key,
        hint: "0.1 to 0.5 is usual; 0 drops nothing")
    }
    return Float(rate)
  }

  static func layerEntry(_ name: String, _ spec: LayerSpec, _ summary: String) -> FunctionEntry {
    FunctionEntry(
      name, category: "Layers", parameters: [], returns: .kind(.layer), summary: summary,
      example: "net = sequential(dense(784, 32), \(name)(), dense(32, 2), softmax())"
    ) { _ in .layer(spec) }
  }

  /// The model format registered for an extension, or a failure saying it is not linked.
  static func modelFormat(_ fileExtension: String, _ call: Call) throws(CallFailure)
    -> any ModelFormat
  {
    guard let format = call.session.modelFormats[fileExtension] else {
      throw call.failure(
        ".\(fileExtension) models need the \(fileExtension.uppercased()) support that the sigbook command links; this session has none",
        kind: .runtime)
    }
    return format
  }

  static let onnxEntry = FunctionEntry(
    "load_onnx", category: "Models",
    parameters: [
      .positional("file", .kind(.text), doc: "an .onnx file (external data files beside it)"),
      .labelled(
        "input", .list(.integer),
        doc:
          "the shape of one input, for a file whose input sizes (other than the batch) are dynamic",
        defaultText: "the file's", optional: true, maximum: CountLimit.width),
      .labelled(
        "classes", classList, doc: "the names of the classes the outputs stand for",
        defaultText: "0, 1, …", optional: true),
    ],
    returns: .kind(.model),
    summary:
      "A model exported from PyTorch (`torch.onnx.export`, opsets 11–17) or Keras (`tf2onnx`): a chain or a graph (residual and skip connections, depthwise convolutions, attention written as MatMul/Softmax/Transpose/Reshape, LayerNormalization whole or as ReduceMean/Sub/Pow/Sqrt/Div, GELU as Erf) made of the operators listed at the end (Pad with zeros only), its shape computations (Shape → Gather → Unsqueeze → Concat, Expand or Tile of a class token, ReduceProd and Max of sizes, with the batch size symbolic) worked out once (Tile, ReduceProd and Max only on such constants and sizes, not on the layers' values); tf2onnx's exports of Keras models (NHWC inputs, layer normalisation as moments, `MultiHeadAttention`'s einsums as batched products over `batch · heads`) are read as well. Each layer is named by its ONNX node (`nodes(net)` lists them) and `signatures(net, data, at: [\"/stage2/Add\"])` takes the outputs of any of them; by default a graph's signature is the end of each residual block, a chain's its hidden activations (an autoencoder's narrowest layer is its code). `nn.MultiheadAttention`'s export, which moves the batch axis among the others and merges it with the heads (`[tokens, batch · heads, d]`), is followed through its transposes, reshapes, slices and products, and its nodes give each input's own values (the attention weights of one input: heads × tokens × tokens). Control flow (If, Loop, Scan) is refused naming the node. A model whose output is as large as its input, that narrows in between (a code) and does not end in Softmax, is an autoencoder (a model sigbook saved says which it is; `classes:` makes a classifier). The graph may end at the logits (`torch.onnx.export`'s default: the last node a Gemm, MatMul + Add or Conv) or in Softmax or Sigmoid: the output kind is read from the last operation that is not a reshape, and every reader of probabilities (`predict`, `evaluate`, `accuracy`, `novelty(method: .softmax)`) applies the softmax — the sigmoid for one output, whose class is logit > 0 — to logits exactly once. A BatchNormalization or bias that alone reads a Gemm, MatMul or Conv is folded into its weights; elsewhere it is a per-channel scale and shift. A Dropout node with a ratio above 0 is kept as a dropout layer of that rate: it passes values unchanged in predictions and signatures, and drops them if the model is trained again with `fit`. An unsupported operator or attribute is an error naming the node and what is supported.",
    example: "net = load_onnx(\"fashion-cnn.onnx\", classes: [\"t-shirt\", \"trouser\"])",
    readsFormat: "onnx"
  ) { call in
    let format = try modelFormat("onnx", call)
    let path = call.session.readPath(call.text("file"))
    do {
      return .model(
        try format.load(
          from: path, inputShape: call.optionalIntList("input"),
          classNames: classNames(call.value("classes"))))
    } catch {
      throw call.failure(String(describing: error), blaming: "file", kind: .io)
    }
  }

  static let models: [FunctionEntry] = [
    FunctionEntry(
      "mlp", category: "Models",
      parameters: [
        .positional(
          "sizes", .integer,
          doc: "the input size, the hidden layer sizes and the number of outputs", variadic: true,
          maximum: CountLimit.width),
        .labelled(
          "activation", .option(activations), doc: "the activation of the hidden layers",
          default: .option("relu")),
        .labelled(
          "output", .option(OutputActivation.allCases.map(\.rawValue)),
          doc: "the activation of the output layer", default: .option("softmax")),
        dropoutParameter,
        seedParameter,
      ],
      returns: .kind(.model),
      summary:
        "A multilayer perceptron: a dense layer and the activation for each hidden size, then a dense output layer. Hidden layers start He-initialised for ReLU and Glorot-initialised otherwise. Each hidden activation is one layer of the signature. With `dropout:`, a dropout layer follows each hidden activation: `fit` drops values at that rate, everything else keeps them (see `dropout`).",
      example: "net = mlp(784, 32, 64, 2)"
    ) { call in
      let sizes = call.variadicInts
      let activation = Activation.Function(rawValue: call.option("activation")) ?? .relu
      let output = OutputActivation(rawValue: call.option("output")) ?? .softmax
      let dropout = try dropoutRate(call)
      return try build { () throws(ShapeMismatch) in
        try Model.mlp(
          sizes, activation: activation, output: output, dropout: dropout, seed: call.int("seed"),
          memoryLimit: call.session.memoryLimit)
      }
    },
    FunctionEntry(
      "cnn", category: "Models",
      parameters: [
        .labelled(
          "input", .list(.integer), doc: "the shape of one image: [channels, height, width]",
          default: .list([.number(1), .number(28), .number(28)]), maximum: CountLimit.width),
        .labelled(
          "conv", .list(.integer), doc: "the channels of each convolution",
          default: .list([.number(8), .number(16)]), maximum: CountLimit.width),
        .labelled(
          "kernel", .integer,
          doc: "the size of each convolution kernel (padding keeps the map size)",
          default: .number(3)),
        .labelled(
          "pool", .integer, doc: "the max-pooling window after each convolution (1: none)",
          default: .number(2), maximum: CountLimit.window),
        .labelled(
          "dense", .list(.integer), doc: "the sizes of the dense hidden layers",
          default: .list([.number(64)]), maximum: CountLimit.width),
        .labelled(
          "classes", .integer, doc: "the number of classes", default: .number(10),
          maximum: CountLimit.width),
        .labelled(
          "activation", .option(activations), doc: "the activation after each layer",
          default: .option("relu")),
        dropoutParameter,
        seedParameter,
      ],
      returns: .kind(.model),
      summary:
        "A convolutional classifier: convolution, activation and max-pooling for each entry of `conv`, then dense layers and a softmax output. The activations of the convolutions (flattened) and of the dense layers make up the signature. With `dropout:`, a dropout layer comes before every dense layer (after the flattening and after each dense activation), as in Keras's and PyTorch's MNIST examples: `fit` drops values at that rate, everything else keeps them (see `dropout`).",
      example: "net = cnn(input: [1, 28, 28], conv: [8, 16], dense: [64], classes: 10)"
    ) { call in
      let activation = Activation.Function(rawValue: call.option("activation")) ?? .relu
      let dropout = try dropoutRate(call)
      return try build { () throws(ShapeMismatch) in
        try Model.cnn(
          input: call.intList("input"), conv: call.intList("conv"), kernel: call.int("kernel"),
          pool: call.int("pool"), dense: call.intList("dense"), classes: call.int("classes"),
          activation: activation, dropout: dropout, seed: call.int("seed"),
          memoryLimit: call.session.memoryLimit)
      }
    },
    FunctionEntry(
      "resnet", category: "Models",
      parameters: [
        .labelled(
          "input", .list(.integer), doc: "the shape of one image: [channels, height, width]",
          default: .list([.number(1), .number(28), .number(28)]), maximum: CountLimit.width),
        .labelled(
          "widths", .list(.integer),
          doc: "the channels of each stage; every stage after the first halves the maps",
          default: .list([.number(16), .number(32), .number(64)]), maximum: CountLimit.width),
        .labelled(
          "blocks", .integer, doc: "the residual blocks of each stage", default: .number(1),
          maximum: CountLimit.width),
        .labelled(
          "classes", .integer, doc: "the number of classes", default: .number(10),
          maximum: CountLimit.width),
        .labelled(
          "skips", .kind(.bool),
          doc: "whether blocks add their input (false: the plain network of the same depth)",
          default: .bool(true)),
        seedParameter,
      ],
      returns: .kind(.model),
      summary:
        "A residual network (He et al., 2016): a 3×3 convolution with batch normalisation and ReLU, then for each stage `blocks` basic blocks (conv, batch norm, ReLU, conv, batch norm, plus the block's input — through a 1×1 convolution where the width or size changes — and ReLU), global average pooling and a softmax classifier. Batch normalisation uses each training chunk's statistics and, once trained, running ones. Nodes have names (`stage2.block1.add`, `nodes(net)` lists them); each block's output (`stage2.block1`) is one layer of the signature.",
      example: "net = resnet(input: [1, 28, 28], widths: [16, 32, 64], blocks: 1)"
    ) { call in
      try build { () throws(ShapeMismatch) in
        try Model.resnet(
          input: call.intList("input"), widths: call.intList("widths"),
          blocks: call.int("blocks"), classes: call.int("classes"), skips: call.bool("skips"),
          seed: call.int("seed"),
          memoryLimit: call.session.memoryLimit)
      }
    },
    FunctionEntry(
      "vit", category: "Models",
      parameters: [
        .labelled(
          "input", .list(.integer), doc: "the shape of one image: [channels, height, width]",
          default: .list([.number(1), .number(28), .number(28)]), maximum: CountLimit.width),
        .labelled(
          "patch", .integer, doc: "the side of the square patches (it divides the image)",
          default: .number(7), maximum: CountLimit.width),
        .labelled(
          "width", .integer, doc: "the width of each token", default: .number(64),
          maximum: CountLimit.width),
        .labelled(
          "depth", .integer, doc: "the number of transformer blocks", default: .number(4),
          maximum: CountLimit.width),
        .labelled(
          "heads", .integer, doc: "the attention heads (they divide the width)",
          default: .number(4), maximum: CountLimit.width),
        .labelled(
          "mlp", .integer, doc: "the hidden units of each block's MLP", default: .number(128),
          maximum: CountLimit.width),
        .labelled(
          "classes", .integer, doc: "the number of classes", default: .number(10),
          maximum: CountLimit.width),
        dropoutParameter,
        seedParameter,
      ],
      returns: .kind(.model),
      summary:
        "A vision transformer (Dosovitskiy et al., 2021): patches embedded by one linear map, a learned class token and position embedding, `depth` pre-norm blocks (layer norm, multi-head self-attention and a residual; layer norm, a GELU MLP and a residual), a final layer norm and a softmax classifier on the class token. Nodes have names (`block2.attn.softmax`, `nodes(net)` lists them); each block's output (`block2`, one row per token) is one layer of the signature. With `dropout:`, dropout follows the position embedding (`pos_drop`), each attention's projection (`block2.attn.proj_drop`), each MLP's GELU and second layer (`block2.mlp.drop1`, `block2.mlp.drop2`), as timm's `drop_rate` and `proj_drop_rate`: `fit` drops values at that rate, everything else keeps them (see `dropout`).",
      example: "net = vit(input: [1, 28, 28], patch: 7, width: 64, depth: 4, heads: 4)"
    ) { call in
      let dropout = try dropoutRate(call)
      return try build { () throws(ShapeMismatch) in
        try Model.vit(
          input: call.intList("input"), patch: call.int("patch"), width: call.int("width"),
          depth: call.int("depth"), heads: call.int("heads"), mlp: call.int("mlp"),
          classes: call.int("classes"), dropout: dropout, seed: call.int("seed"),
          memoryLimit: call.session.memoryLimit)
      }
    },
    FunctionEntry(
      "nodes", category: "Models",
      parameters: [.positional("model", .kind(.model), doc: "a network")],
      returns: .kind(.table),
      summary:
        "Every node of a network in the order it runs: its name (a builder's `stage2.block1.add`, an imported model's ONNX node name, `dense1`/`relu1` for a chain), its operation, the nodes it takes, the shape of its output for one input, its trained values, and whether its output is a layer of the signature.",
      example: "nodes(net)"
    ) { call in
      .table(nodeTable(call.model("model")))
    },
    FunctionEntry(
      "autoencoder", category: "Models",
      parameters: [
        .positional(
          "sizes", .integer, doc: "the input size, the encoder's hidden sizes and the code size",
          variadic: true, maximum: CountLimit.width),
        .labelled(
          "activation", .option(activations), doc: "the activation of the hidden layers",
          default: .option("tanh")),
        .labelled(
          "output", .option(OutputActivation.allCases.map(\.rawValue)),
          doc: "the activation of the reconstruction", default: .option("sigmoid")),
        seedParameter,
      ],
      returns: .kind(.model),
      summary:
        "An autoencoder: the encoder (784 → 100 → 10), a linear code, and the mirrored decoder back to the input size. `fit` trains it to reconstruct its input (binary cross-entropy for a sigmoid output); the hidden layers and the code make up the signature.",
      example: "ae = autoencoder(784, 100, 10)"
    ) { call in
      let activation = Activation.Function(rawValue: call.option("activation")) ?? .tanh
      let output = OutputActivation(rawValue: call.option("output")) ?? .sigmoid
      return try build { () throws(ShapeMismatch) in
        try Model.autoencoder(
          call.variadicInts, activation: activation, output: output, seed: call.int("seed"),
          memoryLimit: call.session.memoryLimit)
      }
    },
    FunctionEntry(
      "sequential", category: "Models",
      parameters: [
        .positional("layers", .kind(.layer), doc: "the layers, first to last", variadic: true),
        .labelled(
          "input", .list(.integer),
          doc: "the shape of one input; needed when the first layer is a convolution",
          defaultText: "from the first dense layer", optional: true, maximum: CountLimit.width),
        .labelled(
          "autoencoder", .kind(.bool), doc: "train it to reconstruct its input",
          default: .bool(false)),
        seedParameter,
      ],
      returns: .kind(.model),
      summary:
        "A model from a list of layers: dense, conv, maxpool, flatten, dropout and the activations. Each layer must take the previous one's output; the error says which one does not.",
      example: "net = sequential(dense(784, 32), relu(), dense(32, 2), softmax())"
    ) { call in
      let specs = call.variadic.compactMap { v -> LayerSpec? in
        if case .layer(let s) = v { s } else { nil }
      }
      guard let first = specs.first else {
        throw call.failure("sequential needs at least one layer")
      }
      var input = call.optionalIntList("input")
      if input == nil, case .dense(let n, _) = first { input = [n] }
      guard let inputShape = input else {
        throw call.failure(
          "sequential starting with \(first.displayName) needs input: [channels, height, width]")
      }
      let task: Model.Task = call.bool("autoencoder") ? .reconstruction : .classification
      return try build { () throws(ShapeMismatch) in
        try Model.sequential(
          specs, inputShape: inputShape, task: task, seed: call.int("seed"),
          memoryLimit: call.session.memoryLimit)
      }
    },
    FunctionEntry(
      "dense", category: "Layers",
      parameters: [
        .positional("inputs", .integer, doc: "the number of inputs"),
        .positional("outputs", .integer, doc: "the number of outputs"),
      ],
      returns: .kind(.layer),
      summary: "A fully connected layer, y = x·Wᵀ + b, for `sequential`.",
      example: "dense(784, 32)"
    ) { call in
      let i = call.int("inputs"), o = call.int("outputs")
      guard i > 0, o > 0 else { throw call.failure("dense sizes must be positive") }
      return .layer(.dense(inputs: i, outputs: o))
    },
    FunctionEntry(
      "conv", category: "Layers",
      parameters: [
        .positional("in", .integer, doc: "input channels", maximum: CountLimit.width),
        .positional("out", .integer, doc: "output channels", maximum: CountLimit.width),
        .labelled(
          "kernel", .integer, doc: "the kernel size", default: .number(3),
          maximum: CountLimit.window),
        .labelled(
          "stride", .integer, doc: "the step between positions", default: .number(1),
          maximum: CountLimit.window),
        .labelled(
          "padding", .integer, doc: "zeros added around each map", default: .number(0),
          maximum: CountLimit.window),
      ],
      returns: .kind(.layer),
      summary:
        "A 2-D convolution for `sequential` (weights [out, in, kernel, kernel], as PyTorch).",
      example: "conv(1, 8, kernel: 3, padding: 1)"
    ) { call in
      let values = ["in", "out", "kernel", "stride"].map(call.int)
      guard values.allSatisfy({ $0 > 0 }), call.int("padding") >= 0 else {
        throw call.failure("conv sizes must be positive and padding not negative")
      }
      return .layer(
        .conv(
          inChannels: values[0], outChannels: values[1], kernel: values[2], stride: values[3],
          padding: call.int("padding")))
    },
    FunctionEntry(
      "maxpool", category: "Layers",
      parameters: [
        .positional(
          "size", .integer, doc: "the window (and step) size", default: .number(2),
          maximum: CountLimit.window)
      ],
      returns: .kind(.layer),
      summary: "Max pooling over size × size windows, for `sequential`.",
      example: "maxpool(2)"
    ) { call in
      guard call.int("size") > 0 else {
        throw call.failure("a pooling size must be positive", blaming: "size")
      }
      return .layer(.maxPool(size: call.int("size")))
    },
    layerEntry("flatten", .flatten, "Flattens each input to a vector, for `sequential`."),
    layerEntry("relu", .relu, "The rectified linear unit, max(x, 0), for `sequential`."),
    layerEntry("tanh", .tanh, "The hyperbolic tangent, for `sequential`."),
    layerEntry("sigmoid", .sigmoid, "The logistic sigmoid 1 / (1 + e^−x), for `sequential`."),
    layerEntry(
      "softmax", .softmax, "The softmax of each input's outputs, for `sequential`'s last layer."),
    FunctionEntry(
      "dropout", category: "Layers",
      parameters: [
        .positional(
          "rate", .number, doc: "the fraction of values dropped in each training step, in [0, 1)",
          default: .number(0.5))
      ],
      returns: .kind(.layer),
      summary:
        "Inverted dropout (Srivastava et al., 2014), for `sequential`: in each training step of `fit`, every value is zeroed with probability `rate` and the others are scaled by 1/(1 − rate), as PyTorch's `nn.Dropout` and Keras's `Dropout` do; predictions, signatures, attributions and every other use of the model keep all values unchanged. Which values are dropped is drawn from `fit`'s `seed`, the step and each input's place in the batch, so the same call trains the same weights whatever the number of threads. Saved models keep the rate (safetensors metadata; an ONNX Dropout node).",
      example: "net = sequential(dense(784, 32), relu(), dropout(0.5), dense(32, 2), softmax())"
    ) { call in
      .layer(.dropout(rate: try dropoutRate(call, "rate")))
    },
    FunctionEntry(
      "fit", category: "Models",
      parameters: [
        .positional("model", .kind(.model), doc: "the model to train (left untouched)"),
        .positional("data", .kind(.dataset), doc: "the training data"),
        .labelled(
          "epochs", .integer, doc: "passes over the data", default: .number(10),
          maximum: CountLimit.steps),
        .labelled(
          "batch", .integer, doc: "inputs per gradient step", default: .number(32),
          maximum: CountLimit.inputs),
        .labelled("lr", .number, doc: "the learning rate", default: .number(0.01)),
        .labelled(
          "optimizer", .option(Optimizer.allCases.map(\.rawValue)), doc: "the update rule",
          default: .option("sgd")),
        .labelled(
          "schedule", .option(LearningRateSchedule.allCases.map(\.rawValue)),
          doc: "the learning rate over the steps: constant, or cosine annealing from lr to 0",
          default: .option("constant")),
        .labelled(
          "loss", .option(Loss.allCases.map(\.rawValue)),
          doc: "the loss (default: cross-entropy for a classifier, BCE for a sigmoid output)",
          defaultText: "by model", optional: true),
        .labelled(
          "validation", .kind(.dataset), doc: "data measured after every epoch",
          defaultText: "none",
          optional: true),
        seedParameter,
      ],
      returns: .kind(.model),
      summary:
        "Trains a copy of a model by mini-batch gradient descent and returns it; `net.history` holds loss and accuracy per epoch. The order of inputs is drawn from `seed`, so the same call gives the same weights. Dropout layers (`dropout:` of `mlp`, `cnn` and `vit`, `dropout()` in `sequential`, the Dropout nodes of an ONNX model at its ratio) drop values in every step, drawn from `seed` too; the loss and accuracy of `history` are measured with them dropping, those of `validation` without. A loss that becomes NaN or infinite stops training with a message; Ctrl-C stops it at the next batch.",
      example: "net = fit(mlp(784, 32, 64, 2), train, epochs: 10, batch: 32, lr: 0.05, seed: 7)"
    ) { call in
      let net = call.model("model"), d = call.dataset("data")
      var options = TrainingOptions(
        epochs: call.int("epochs"), batchSize: call.int("batch"), learningRate: call.number("lr"),
        optimizer: Optimizer(rawValue: call.option("optimizer")) ?? .sgd,
        loss: call.value("loss").flatMap { v in
          if case .option(let o) = v { Loss(rawValue: o) } else { nil }
        },
        seed: call.int("seed"))
      options.schedule = LearningRateSchedule(rawValue: call.option("schedule")) ?? .constant
      for key in ["epochs", "batch"] where call.int(key) <= 0 {
        throw call.failure("'\(key):' must be positive", blaming: key)
      }
      guard options.learningRate > 0 else {
        throw call.failure("'lr:' must be positive", blaming: "lr")
      }
      // An empty dataset would "train" to loss 0 and accuracy 0 without a single step.
      for key in ["data", "validation"] where call.optionalDataset(key)?.count == 0 {
        throw call.failure(
          "\(call.describe(key, fallback: key == "data" ? "the training data" : "the validation data")) has no inputs: there is nothing to \(key == "data" ? "train on" : "measure")",
          blaming: key)
      }
      _ = try check(call, labels: true)
      let slots: Int
      switch options.optimizer {
      case .sgd: slots = 0
      case .momentum: slots = 1
      case .adam: slots = 2
      }
      let batch = min(options.batchSize, d.count)
      try call.requireMemory(
        MemoryEstimate.training(model: net, batch: batch, optimizerSlots: slots),
        for: "training \(net.summary) in batches of \(NumberFormat.grouped(batch))",
        advice: "use a smaller batch or a smaller model", blaming: "batch")
      let validation = call.optionalDataset("validation")
      if validation != nil { _ = try check(call, data: "validation", labels: true) }
      let progress = call.session.progress
      progress?.begin("fit")
      defer { progress?.end() }
      do {
        let trained = try net.fitted(
          on: d, options: options, validation: validation,
          progress: { p in
            progress?.update(
              fraction: p.fraction,
              detail:
                "epoch \(p.epoch)/\(p.epochs) · loss \(NumberFormat.display(p.loss)) · \(NumberFormat.grouped(Int(p.samplesPerSecond))) inputs/s"
            )
          }, isCancelled: call.session.isCancelled)
        return .model(trained)
      } catch let error as TrainingError {
        switch error {
        case .cancelled: throw call.failure(error.description, kind: .interrupted)
        case .nonFiniteLoss(_, _, _, let lr), .diverged(_, _, _, _, let lr):
          throw call.failure(
            error.description + " (try a smaller lr than \(NumberFormat.exact(lr)))",
            blaming: "lr", kind: .runtime)
        case .mismatch: throw call.failure(error.description, blaming: "data")
        }
      }
    },
    FunctionEntry(
      "accuracy", category: "Models",
      parameters: [
        .positional("model", .kind(.model), doc: "a classifier"),
        .positional("data", .kind(.dataset), doc: "the inputs to classify"),
      ],
      returns: .number,
      summary:
        "The fraction of inputs the classifier assigns to their own class (classes matched by name).",
      example: "accuracy(net, test)"
    ) { call in
      let (net, d) = try checkClassifier(call)
      return .number(net.accuracy(on: d))
    },
    FunctionEntry(
      "evaluate", category: "Models",
      parameters: [
        .positional("model", .kind(.model), doc: "a trained model"),
        .positional("data", .kind(.dataset), doc: "the inputs to measure"),
      ],
      returns: .kind(.table),
      summary:
        "Loss and accuracy on a dataset, overall and for each class (for an autoencoder: the reconstruction loss).",
      example: "evaluate(net, test)"
    ) { call in
      let (net, d) = try check(call)
      return .table(net.evaluation(on: d))
    },
    FunctionEntry(
      "confusion", category: "Models",
      parameters: [
        .positional("model", .kind(.model), doc: "a classifier"),
        .positional("data", .kind(.dataset), doc: "the inputs to classify"),
      ],
      returns: .kind(.table),
      summary:
        "The confusion matrix: one row per true class, one column per predicted class, counts of inputs.",
      example: "confusion(net, test)"
    ) { call in
      let (net, d) = try checkClassifier(call)
      return .table(net.confusion(on: d))
    },
    FunctionEntry(
      "predict", category: "Models",
      parameters: [
        .positional("model", .kind(.model), doc: "a classifier"),
        .positional("data", .kind(.dataset), doc: "the inputs to classify"),
      ],
      returns: .kind(.table),
      summary:
        "The predicted class of every input, with its label and the network's probability for its prediction.",
      example: "predict(net, test[0..<10])"
    ) { call in
      let (net, d) = try checkClassifier(call)
      return .table(net.predictions(on: d))
    },
    FunctionEntry(
      "encode", category: "Models",
      parameters: [
        .positional("model", .kind(.model), doc: "an autoencoder"),
        .positional("data", .kind(.dataset), doc: "the inputs to encode"),
      ],
      returns: .kind(.dataset),
      summary:
        "The code of every input (the output of the encoder), as a dataset with the same labels.",
      example: "codes = encode(ae, test)"
    ) { call in
      _ = try autoencoder(call)
      let (net, d) = try check(call)
      return .dataset(net.encoded(d))
    },
    FunctionEntry(
      "reconstruct", category: "Models",
      parameters: [
        .positional("model", .kind(.model), doc: "an autoencoder"),
        .positional("data", .kind(.dataset), doc: "the inputs to reconstruct"),
      ],
      returns: .kind(.dataset),
      summary:
        "The autoencoder's reconstruction of every input, shaped as the inputs, with the same labels.",
      example: "copies = reconstruct(ae, test)"
    ) { call in
      _ = try autoencoder(call)
      let (net, d) = try check(call)
      let output = net.predict(d.features).reshaped(d.features.shape)
      return .dataset(
        Dataset(
          name: d.name + " (reconstructed)", features: output, labels: d.labels,
          classNames: d.classNames))
    },
    FunctionEntry(
      "save", category: "Models",
      parameters: [
        .positional("value", .oneOf([.kind(.model), .kind(.figure)]), doc: "a model or a figure"),
        .positional(
          "file", .kind(.text),
          doc:
            "a .safetensors or .onnx file for a model; a .svg, .pdf or .png name for a figure"),
        .labelled(
          "dpi", .number,
          doc:
            "the resolution of a .png, in dots per inch (10…1200); left out: sigbook run --dpi, else 150",
          defaultText: "150", optional: true),
      ],
      returns: .kind(.nothing),
      summary:
        "Saves a model as safetensors (weights as F32 tensors named like PyTorch's nn.Sequential, the architecture in the metadata), or as ONNX (opset 13, a dynamic batch; ONNX Runtime runs it, Netron opens it), or a figure in the figures folder: always as SVG, and as a vector PDF (fonts embedded, page the figure's size) or a PNG on white (size × dpi / 96 pixels) when the name ends in .pdf or .png, both rendered from that SVG with DejaVu Sans. A figure's name may not leave that folder.",
      example: "save(flows, \"flows.png\", dpi: 300)"
    ) { call in
      let name = call.text("file")
      switch call.value("value") {
      case .figure(let figure)?:
        let dpi = call.optionalNumber("dpi")
        if let dpi, !SVGRenderer.dpiRange.contains(dpi) {
          throw call.failure(
            "dpi must be between \(Int(SVGRenderer.dpiRange.lowerBound)) and \(Int(SVGRenderer.dpiRange.upperBound)), not \(Plot.number(dpi))",
            blaming: "dpi")
        }
        do { try call.session.writeFigure(figure, name: name, dpi: dpi, isSave: true) } catch let
          error
          as CallFailure
        {
          throw CallFailure(error.message, kind: error.kind, parameter: "file", hint: error.hint)
        }
      case .model(let net)?:
        if name.hasSuffix(".onnx") {
          let format = try modelFormat("onnx", call)
          let bytes: [UInt8]
          do { bytes = try format.encode(net) } catch {
            throw call.failure(String(describing: error), blaming: "value")
          }
          let path = try call.session.writePath(name)
          try call.session.writeFile(Data(bytes), to: path)
          return .nothing
        }
        guard name.hasSuffix(".safetensors") else {
          throw call.failure(
            "a model is saved as a .safetensors or .onnx file, not '\(name)'", blaming: "file")
        }
        let path = try call.session.writePath(name)
        try call.session.writeFile(Data(net.safetensorsBytes()), to: path)
      default: break
      }
      return .nothing
    },
    FunctionEntry(
      "load_model", category: "Models",
      parameters: [
        .positional(
          "file", .kind(.text), doc: "a .safetensors file written by save, or a PyTorch state_dict"),
        .labelled(
          "architecture", .kind(.model),
          doc: "the model whose layers take a PyTorch state_dict's weights (mlp(…), cnn(…)…)",
          defaultText: "the one saved in the file", optional: true),
      ],
      returns: .kind(.model),
      summary:
        "A model saved by `save`, with its architecture, weights and class names; or, with `architecture:`, that model with the weights of a PyTorch `state_dict` saved by `safetensors.torch.save_file`. The file's weight and bias pairs are matched to the architecture's dense and conv layers by shape, in natural name order (`fc1`, `fc2`; `net.0`, `net.2`), and every tensor must find its layer; the error lists what does not fit.",
      example: "net = load_model(\"state.safetensors\", architecture: mlp(784, 32, 64, 2))"
    ) { call in
      let path = call.session.readPath(call.text("file"))
      if let architecture = call.optionalModel("architecture") {
        do { return .model(try architecture.loadingStateDict(from: path)) } catch {
          throw call.failure(String(describing: error), blaming: "file", kind: .io)
        }
      }
      do { return .model(try Model.load(from: path)) } catch {
        throw call.failure(String(describing: error), blaming: "file", kind: .io)
      }
    },
    onnxEntry,
  ]
}
