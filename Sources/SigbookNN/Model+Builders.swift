import SigbookTensor

/// The activation of a network's last layer.
public enum OutputActivation: String, Sendable, CaseIterable {
  case softmax, sigmoid, linear
}

extension Model {
  /// A multilayer perceptron: `sizes[0]` inputs, one dense layer and activation per hidden size,
  /// then a dense layer of `sizes.last` outputs and the output activation.
  ///
  /// Hidden layers are initialised He-normal for ReLU and Glorot-uniform for tanh and sigmoid;
  /// the output layer Glorot-uniform; biases zero. `mlp([784, 32, 64, 2])` is
  /// dense(784, 32) relu dense(32, 64) relu dense(64, 2) softmax: signatures H1 (32) and H2 (64).
  /// With `dropout` above 0, a dropout layer follows each hidden activation (the signature stays
  /// the activation's output).
  ///
  /// - Parameters:
  ///   - dropout: the rate of the dropout after each hidden activation, in [0, 1); 0: none.
  ///   - seed: seeds the initial weights.
  ///   - memoryLimit: the most the weights may take (see `checkArchitecture`).
  /// - Throws: `ShapeMismatch` for fewer than two sizes, a size below 1, a softmax over a single
  ///   output (always 1: it cannot learn), a dropout rate outside [0, 1), or a model beyond
  ///   `checkArchitecture`'s limits.
  public static func mlp(
    _ sizes: [Int], activation: Activation.Function = .relu, output: OutputActivation = .softmax,
    dropout: Float = 0, seed: Int = 0, memoryLimit: MemoryLimit = .unlimited
  ) throws(ShapeMismatch) -> Model {
    guard sizes.count >= 2 else {
      throw ShapeMismatch("mlp needs at least an input size and an output size")
    }
    guard sizes.allSatisfy({ $0 > 0 }) else { throw ShapeMismatch("mlp sizes must be positive") }
    try checkDropout(dropout, of: "mlp")
    let options = [
      activation == .relu ? nil : "activation: .\(activation.rawValue)",
      output == .softmax ? nil : "output: .\(output.rawValue)",
      dropout == 0 ? nil : "dropout: \(dropout)",
    ].compactMap { $0 }
    let summary = "mlp(\((sizes.map(String.init) + options).joined(separator: ", ")))"
    var plan: [(LayerSpec, Initialization)] = []
    for i in 0..<sizes.count - 2 {
      plan.append(
        (.dense(inputs: sizes[i], outputs: sizes[i + 1]), hiddenInitialization(activation)))
      plan.append((.activation(activation), .glorot))
      if dropout > 0 { plan.append((.dropout(rate: dropout), .glorot)) }
    }
    plan.append((.dense(inputs: sizes[sizes.count - 2], outputs: sizes[sizes.count - 1]), .glorot))
    if let last = outputSpec(output) { plan.append((last, .glorot)) }
    return try build(
      plan, inputShape: [sizes[0]], summary: summary, seed: seed, memoryLimit: memoryLimit)
  }

  /// A convolutional classifier: for each entry of `conv`, a convolution (`kernel` × `kernel`,
  /// stride 1, padding ⌊kernel/2⌋ so maps keep their size), the activation and a max-pool of
  /// `pool` (none when `pool` ≤ 1); then a dense layer and activation per `dense` entry, a dense
  /// layer of `classes` outputs and a softmax. With `dropout` above 0, a dropout layer comes
  /// before every dense layer (after the flattening and after each dense activation), as in
  /// Keras's and PyTorch's MNIST examples.
  ///
  /// `cnn(input: [1, 28, 28], conv: [8, 16], kernel: 3, pool: 2, dense: [64], classes: 10)`.
  ///
  /// - Throws: `ShapeMismatch` when the maps shrink to nothing, a size is not positive, the
  ///   kernel is larger than the images, the dropout rate is outside [0, 1), or the model is
  ///   beyond `checkArchitecture`'s limits.
  public static func cnn(
    input: [Int] = [1, 28, 28], conv: [Int] = [8, 16], kernel: Int = 3, pool: Int = 2,
    dense: [Int] = [64], classes: Int = 10, activation: Activation.Function = .relu,
    dropout: Float = 0, seed: Int = 0, memoryLimit: MemoryLimit = .unlimited
  ) throws(ShapeMismatch) -> Model {
    guard input.count == 3, input.allSatisfy({ $0 > 0 }) else {
      throw ShapeMismatch("cnn expects input: [channels, height, width], not \(input)")
    }
    guard kernel > 0, classes > 0, (conv + dense).allSatisfy({ $0 > 0 }) else {
      throw ShapeMismatch("cnn sizes must be positive")
    }
    try checkDropout(dropout, of: "cnn")
    guard kernel <= min(input[1], input[2]) else {
      throw ShapeMismatch(
        "cnn's kernel of \(kernel) is larger than its \(input[1]) × \(input[2]) input images",
        hint: "a kernel is at most the images' size; 3 or 5 is usual")
    }
    let summary =
      "cnn(input: \(input), conv: \(conv), kernel: \(kernel), pool: \(pool), dense: \(dense), classes: \(classes)\(dropout == 0 ? "" : ", dropout: \(dropout)"))"
    var plan: [(LayerSpec, Initialization)] = []
    var channels = input[0]
    let initialization = hiddenInitialization(activation)
    for width in conv {
      plan.append(
        (
          .conv(
            inChannels: channels, outChannels: width, kernel: kernel, stride: 1, padding: kernel / 2
          ),
          initialization
        ))
      plan.append((.activation(activation), .glorot))
      if pool > 1 { plan.append((.maxPool(size: pool), .glorot)) }
      channels = width
    }
    plan.append((.flatten, .glorot))
    // The flattened width follows from the shapes of the convolutional part.
    var width =
      try checkArchitecture(plan.map(\.0), inputShape: input, name: summary).last?.reduce(1, *) ?? 0
    for next in dense {
      if dropout > 0 { plan.append((.dropout(rate: dropout), .glorot)) }
      plan.append((.dense(inputs: width, outputs: next), initialization))
      plan.append((.activation(activation), .glorot))
      width = next
    }
    if dropout > 0 { plan.append((.dropout(rate: dropout), .glorot)) }
    plan.append((.dense(inputs: width, outputs: classes), .glorot))
    plan.append((.softmax, .glorot))
    return try build(
      plan, inputShape: input, summary: summary, seed: seed, memoryLimit: memoryLimit)
  }

  /// An autoencoder: the encoder `sizes[0] → sizes[1] → … → sizes.last`, then the mirrored
  /// decoder back to `sizes[0]` ending in the output activation. Every layer but the code is a
  /// dense layer and the activation; the code (`sizes.last`) is linear, as in Hinton and
  /// Salakhutdinov (2006). `autoencoder([784, 100, 10])` is dense(784, 100) tanh dense(100, 10) |
  /// dense(10, 100) tanh dense(100, 784) sigmoid, with signature layers 100, 10 (the code) and 100.
  ///
  /// A saturating code (tanh) collapses under Adam to one constant code for every input while
  /// the decoder learns the mean image; a linear code does not.
  ///
  /// - Throws: `ShapeMismatch` for fewer than two sizes, a size below 1, or a model beyond
  ///   `checkArchitecture`'s limits.
  public static func autoencoder(
    _ sizes: [Int], activation: Activation.Function = .tanh, output: OutputActivation = .sigmoid,
    seed: Int = 0, memoryLimit: MemoryLimit = .unlimited
  ) throws(ShapeMismatch) -> Model {
    guard sizes.count >= 2 else {
      throw ShapeMismatch("autoencoder needs an input size and a code size")
    }
    guard sizes.allSatisfy({ $0 > 0 }) else {
      throw ShapeMismatch("autoencoder sizes must be positive")
    }
    var plan: [(LayerSpec, Initialization)] = []
    let initialization = hiddenInitialization(activation)
    for i in 0..<sizes.count - 1 {
      let isCode = i == sizes.count - 2
      plan.append(
        (.dense(inputs: sizes[i], outputs: sizes[i + 1]), isCode ? .glorot : initialization))
      if !isCode { plan.append((.activation(activation), .glorot)) }
    }
    let encoderLayers = plan.count
    let mirrored = Array(sizes.reversed())
    for i in 0..<mirrored.count - 1 {
      let last = i == mirrored.count - 2
      plan.append(
        (.dense(inputs: mirrored[i], outputs: mirrored[i + 1]), last ? .glorot : initialization))
      if !last { plan.append((.activation(activation), .glorot)) }
    }
    if let last = outputSpec(output) { plan.append((last, .glorot)) }
    let options = [
      activation == .tanh ? nil : "activation: .\(activation.rawValue)",
      output == .sigmoid ? nil : "output: .\(output.rawValue)",
    ].compactMap { $0 }
    var model = try build(
      plan, inputShape: [sizes[0]], task: .reconstruction,
      summary: "autoencoder(\((sizes.map(String.init) + options).joined(separator: ", ")))",
      seed: seed, memoryLimit: memoryLimit)
    model.encoderLayerCount = encoderLayers
    return model
  }

  /// A model from layer specifications, initialised from `seed` (He for layers followed by a
  /// ReLU, Glorot otherwise).
  ///
  /// - Throws: `ShapeMismatch` when a layer cannot take the previous one's output, or the model
  ///   is beyond `checkArchitecture`'s limits.
  public static func sequential(
    _ specs: [LayerSpec], inputShape: [Int], task: Task = .classification, seed: Int = 0,
    memoryLimit: MemoryLimit = .unlimited
  ) throws(ShapeMismatch) -> Model {
    let plan = specs.enumerated().map { i, spec in
      (spec, i + 1 < specs.count && specs[i + 1] == .relu ? Initialization.he : .glorot)
    }
    return try build(
      plan, inputShape: inputShape, task: task, summary: nil, seed: seed, memoryLimit: memoryLimit)
  }

  /// Checks an architecture (`checkArchitecture`), then builds its layers in order from one
  /// generator seeded with `seed`.
  private static func build(
    _ plan: [(spec: LayerSpec, initialization: Initialization)], inputShape: [Int],
    task: Task = .classification, summary: String?, seed: Int, memoryLimit: MemoryLimit
  ) throws(ShapeMismatch) -> Model {
    let name = summary ?? "sequential(\(plan.map(\.spec.displayName).joined(separator: ", ")))"
    try checkArchitecture(
      plan.map(\.spec), inputShape: inputShape, name: name, memoryLimit: memoryLimit)
    var generator = SeededGenerator(seed: seed)
    let layers = plan.map {
      $0.spec.makeLayer(initialization: $0.initialization, generator: &generator)
    }
    return try Model(layers: layers, inputShape: inputShape, task: task, summary: summary)
  }

  /// Refuses a dropout rate outside [0, 1) (1 would drop everything).
  static func checkDropout(_ rate: Float, of builder: String) throws(ShapeMismatch) {
    guard rate >= 0, rate < 1 else {
      throw ShapeMismatch(
        "\(builder)'s dropout must be in [0, 1), not \(rate)", hint: "0.1 to 0.5 is usual")
    }
  }

  /// He initialisation before a ReLU, Glorot before tanh and sigmoid.
  private static func hiddenInitialization(_ activation: Activation.Function) -> Initialization {
    activation == .relu ? .he : .glorot
  }

  private static func outputSpec(_ output: OutputActivation) -> LayerSpec? {
    switch output {
    case .softmax: .softmax
    case .sigmoid: .sigmoid
    case .linear: nil
    }
  }
}
