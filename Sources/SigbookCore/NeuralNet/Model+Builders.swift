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
  ///
  /// - Parameter seed: seeds the initial weights.
  /// - Throws: `ShapeMismatch` for fewer than two sizes or a size below 1.
  public static func mlp(
    _ sizes: [Int], activation: Activation.Function = .relu, output: OutputActivation = .softmax,
    seed: Int = 0
  ) throws(ShapeMismatch) -> Model {
    guard sizes.count >= 2 else {
      throw ShapeMismatch("mlp needs at least an input size and an output size")
    }
    guard sizes.allSatisfy({ $0 > 0 }) else { throw ShapeMismatch("mlp sizes must be positive") }
    var generator = SeededGenerator(seed: seed)
    var layers: [any Layer] = []
    for i in 0..<sizes.count - 2 {
      layers.append(
        Dense(
          inputs: sizes[i], outputs: sizes[i + 1], initialization: hiddenInitialization(activation),
          generator: &generator))
      layers.append(Activation(activation))
    }
    layers.append(
      Dense(
        inputs: sizes[sizes.count - 2], outputs: sizes[sizes.count - 1], initialization: .glorot,
        generator: &generator))
    if let last = outputLayer(output) { layers.append(last) }
    let options = [
      activation == .relu ? nil : "activation: .\(activation.rawValue)",
      output == .softmax ? nil : "output: .\(output.rawValue)",
    ].compactMap { $0 }
    let summary = "mlp(\((sizes.map(String.init) + options).joined(separator: ", ")))"
    return try Model(layers: layers, inputShape: [sizes[0]], summary: summary)
  }

  /// A convolutional classifier: for each entry of `conv`, a convolution (`kernel` × `kernel`,
  /// stride 1, padding ⌊kernel/2⌋ so maps keep their size), the activation and a max-pool of
  /// `pool` (none when `pool` ≤ 1); then a dense layer and activation per `dense` entry, a dense
  /// layer of `classes` outputs and a softmax.
  ///
  /// `cnn(input: [1, 28, 28], conv: [8, 16], kernel: 3, pool: 2, dense: [64], classes: 10)`.
  ///
  /// - Throws: `ShapeMismatch` when the maps shrink to nothing or a size is not positive.
  public static func cnn(
    input: [Int] = [1, 28, 28], conv: [Int] = [8, 16], kernel: Int = 3, pool: Int = 2,
    dense: [Int] = [64], classes: Int = 10, activation: Activation.Function = .relu, seed: Int = 0
  ) throws(ShapeMismatch) -> Model {
    guard input.count == 3, input.allSatisfy({ $0 > 0 }) else {
      throw ShapeMismatch("cnn expects input: [channels, height, width], not \(input)")
    }
    guard kernel > 0, classes > 0, (conv + dense).allSatisfy({ $0 > 0 }) else {
      throw ShapeMismatch("cnn sizes must be positive")
    }
    var generator = SeededGenerator(seed: seed)
    var layers: [any Layer] = []
    var channels = input[0]
    let initialization = hiddenInitialization(activation)
    for width in conv {
      layers.append(
        Conv2D(
          inChannels: channels, outChannels: width, kernel: kernel, stride: 1, padding: kernel / 2,
          initialization: initialization, generator: &generator))
      layers.append(Activation(activation))
      if pool > 1 { layers.append(MaxPool2D(size: pool)) }
      channels = width
    }
    layers.append(Flatten())
    // The flattened width follows from the shapes; build the convolutional part first to know it.
    let convolutional = try Model(layers: layers, inputShape: input)
    var width = convolutional.outputCount
    for next in dense {
      layers.append(
        Dense(inputs: width, outputs: next, initialization: initialization, generator: &generator))
      layers.append(Activation(activation))
      width = next
    }
    layers.append(Dense(inputs: width, outputs: classes, initialization: .glorot, generator: &generator))
    layers.append(Softmax())
    let summary =
      "cnn(input: \(input), conv: \(conv), kernel: \(kernel), pool: \(pool), dense: \(dense), classes: \(classes))"
    return try Model(layers: layers, inputShape: input, summary: summary)
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
  /// - Throws: `ShapeMismatch` for fewer than two sizes or a size below 1.
  public static func autoencoder(
    _ sizes: [Int], activation: Activation.Function = .tanh, output: OutputActivation = .sigmoid,
    seed: Int = 0
  ) throws(ShapeMismatch) -> Model {
    guard sizes.count >= 2 else { throw ShapeMismatch("autoencoder needs an input size and a code size") }
    guard sizes.allSatisfy({ $0 > 0 }) else { throw ShapeMismatch("autoencoder sizes must be positive") }
    var generator = SeededGenerator(seed: seed)
    var layers: [any Layer] = []
    let initialization = hiddenInitialization(activation)
    for i in 0..<sizes.count - 1 {
      let isCode = i == sizes.count - 2
      layers.append(
        Dense(
          inputs: sizes[i], outputs: sizes[i + 1], initialization: isCode ? .glorot : initialization,
          generator: &generator))
      if !isCode { layers.append(Activation(activation)) }
    }
    let encoderLayers = layers.count
    let mirrored = Array(sizes.reversed())
    for i in 0..<mirrored.count - 1 {
      let last = i == mirrored.count - 2
      layers.append(
        Dense(
          inputs: mirrored[i], outputs: mirrored[i + 1],
          initialization: last ? .glorot : initialization, generator: &generator))
      if !last { layers.append(Activation(activation)) }
    }
    if let last = outputLayer(output) { layers.append(last) }
    let options = [
      activation == .tanh ? nil : "activation: .\(activation.rawValue)",
      output == .sigmoid ? nil : "output: .\(output.rawValue)",
    ].compactMap { $0 }
    var model = try Model(
      layers: layers, inputShape: [sizes[0]], task: .reconstruction,
      summary: "autoencoder(\((sizes.map(String.init) + options).joined(separator: ", ")))")
    model.encoderLayerCount = encoderLayers
    return model
  }

  /// A model from layer specifications, initialised from `seed` (He for layers followed by a
  /// ReLU, Glorot otherwise).
  ///
  /// - Throws: `ShapeMismatch` when a layer cannot take the previous one's output.
  public static func sequential(
    _ specs: [LayerSpec], inputShape: [Int], task: Task = .classification, seed: Int = 0
  ) throws(ShapeMismatch) -> Model {
    var generator = SeededGenerator(seed: seed)
    var layers: [any Layer] = []
    for (i, spec) in specs.enumerated() {
      let next = i + 1 < specs.count ? specs[i + 1] : nil
      layers.append(spec.makeLayer(initialization: next == .relu ? .he : .glorot, generator: &generator))
    }
    return try Model(layers: layers, inputShape: inputShape, task: task)
  }

  /// He initialisation before a ReLU, Glorot before tanh and sigmoid.
  private static func hiddenInitialization(_ activation: Activation.Function) -> Initialization {
    activation == .relu ? .he : .glorot
  }

  private static func outputLayer(_ output: OutputActivation) -> (any Layer)? {
    switch output {
    case .softmax: Softmax()
    case .sigmoid: Activation(.sigmoid)
    case .linear: nil
    }
  }
}
