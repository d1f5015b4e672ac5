import SigbookTensor

/// One stage of a network: a value that maps a batch forward and gradients backward.
///
/// Layers hold no per-batch state: `forward` returns what `backward` needs as its `Cache`, so a
/// model can be shared, copied and trained without side effects. Gradients are hand-written and
/// checked against finite differences in `GradientCheckTests`.
public protocol Layer: Sendable {
  /// What `forward` keeps for `backward` (the input, the output, pooling indices…).
  associatedtype Cache: Sendable

  /// Applies the layer to a batch whose first dimension is the batch size, drawing nothing at
  /// random (dropout keeps every unit).
  func forward(_ input: consuming Tensor) -> (output: Tensor, cache: Cache)

  /// Applies the layer to a batch of a training step: `forward(_:)`, unless the layer trains
  /// differently (dropout drops units, drawn from `training`).
  func forward(_ input: consuming Tensor, training: TrainingContext) -> (
    output: Tensor, cache: Cache
  )

  /// Returns ∂loss/∂input and appends the parameter gradients, in `parameters` order.
  ///
  /// - Parameters:
  ///   - outputGradient: ∂loss/∂output, the shape of `forward`'s output.
  ///   - cache: what `forward` returned for this batch.
  ///   - gradients: receives one gradient per parameter, in `parameters` order.
  ///   - needsInputGradient: when false (the first layer), the input gradient is not computed
  ///     and an empty tensor is returned, saving a matrix product.
  func backward(
    _ outputGradient: consuming Tensor, cache: Cache, gradients: inout [Tensor],
    needsInputGradient: Bool
  ) -> Tensor

  /// The trainable tensors (weights then bias), empty for parameter-free layers.
  var parameters: [Tensor] { get set }

  /// The names of `parameters` in a saved file (`weight`, `bias`).
  var parameterNames: [String] { get }

  /// The architecture of this layer, enough to rebuild it without its weights.
  var spec: LayerSpec { get }

  /// The shape of one output item for one input item of shape `inputShape`, or a message saying
  /// why the layer cannot take it.
  func outputShape(for inputShape: [Int]) -> Result<[Int], ShapeMismatch>

  /// How many values the layer takes in a graph: 1, or more for a join (a residual sum, a
  /// concatenation). A join given one value passes it on unchanged.
  var arity: Int { get }

  /// Applies the layer to `arity` batches of the same number of rows (a join's operands).
  func forward(joining inputs: [Tensor]) -> (output: Tensor, cache: Cache)

  /// `forward(joining:)` in a training step (see `forward(_:training:)`).
  func forward(joining inputs: [Tensor], training: TrainingContext) -> (
    output: Tensor, cache: Cache
  )

  /// Returns ∂loss/∂input for each of the `arity` inputs (an empty tensor where
  /// `needsInputGradients` is false) and appends the parameter gradients.
  func backward(
    _ outputGradient: consuming Tensor, cache: Cache, gradients: inout [Tensor],
    needsInputGradients: [Bool]
  ) -> [Tensor]

  /// The shape of one output item for `arity` input items of these shapes, or why the layer
  /// cannot take them.
  func outputShape(joining inputShapes: [[Int]]) -> Result<[Int], ShapeMismatch>

  /// Applies the layer for inference (no gradient will be asked for): `forward`'s output, or a
  /// cheaper path that keeps no cache.
  func apply(_ input: consuming Tensor) -> Tensor

  /// Tensors the layer keeps that are not trained by gradients but estimated from the batches
  /// it is trained on (batch normalisation's running mean and variance); saved with the
  /// parameters. Empty for most layers.
  var buffers: [Tensor] { get set }

  /// The names of `buffers` in a saved file (`running_mean`, `running_var`).
  var bufferNames: [String] { get }

  /// What a training batch contributes to `buffers`, read from `forward`'s cache, or nil.
  func statistics(of cache: Cache) -> [Tensor]?

  /// Folds one training batch's `statistics(of:)` into `buffers`.
  mutating func absorb(statistics: [Tensor])
}

extension Layer {
  public var parameters: [Tensor] {
    get { [] }
    set {}
  }
  public var parameterNames: [String] { [] }

  public var arity: Int { 1 }

  public var buffers: [Tensor] {
    get { [] }
    set {}
  }
  public var bufferNames: [String] { [] }
  public func statistics(of cache: Cache) -> [Tensor]? { nil }
  public mutating func absorb(statistics: [Tensor]) {}

  public func forward(joining inputs: [Tensor]) -> (output: Tensor, cache: Cache) {
    precondition(inputs.count == 1, "\(Self.self) takes one value, not \(inputs.count)")
    return forward(inputs[0])
  }

  public func forward(_ input: consuming Tensor, training: TrainingContext) -> (
    output: Tensor, cache: Cache
  ) {
    forward(input)
  }

  public func forward(joining inputs: [Tensor], training: TrainingContext) -> (
    output: Tensor, cache: Cache
  ) {
    forward(joining: inputs)
  }

  public func backward(
    _ outputGradient: consuming Tensor, cache: Cache, gradients: inout [Tensor],
    needsInputGradients: [Bool]
  ) -> [Tensor] {
    [
      backward(
        outputGradient, cache: cache, gradients: &gradients,
        needsInputGradient: needsInputGradients[0])
    ]
  }

  public func outputShape(joining inputShapes: [[Int]]) -> Result<[Int], ShapeMismatch> {
    guard inputShapes.count == 1 else {
      return .failure(
        ShapeMismatch("\(spec.displayName) takes one value, not \(inputShapes.count)"))
    }
    return outputShape(for: inputShapes[0])
  }

  /// Applies the layer for inference (no gradient will be asked for).
  public func apply(_ input: consuming Tensor) -> Tensor { forward(input).output }
}

/// Why a layer cannot take an input of some shape: a complete, lower-case message.
public struct ShapeMismatch: Error, Sendable, Equatable, CustomStringConvertible {
  public var message: String
  /// What to do about it (`use fewer or narrower layers`), if there is something to say.
  public var hint: String?
  init(_ message: String, hint: String? = nil) {
    self.message = message
    self.hint = hint
  }
  public var description: String { message }
}

/// A layer's architecture without its weights: what a saved model records in its metadata.
public enum LayerSpec: Codable, Equatable, Sendable {
  case dense(inputs: Int, outputs: Int)
  case conv(inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int)
  case maxPool(size: Int)
  case flatten
  case relu
  case tanh
  case sigmoid
  case softmax
  /// Average pooling over size × size windows (imported models).
  case averagePool(size: Int)
  /// A new shape for each item, with the same number of values (imported models).
  case reshape(shape: [Int])
  /// A permutation of each item's axes (imported models).
  case transpose(permutation: [Int])
  /// A per-channel scale and shift: batch normalisation in inference (imported models).
  case affine(channels: Int)
  /// The elementwise sum of `inputs` values of one shape (a residual connection's join).
  case sum(inputs: Int)
  /// `inputs` values joined along item axis `axis` (0: the channels of images).
  case concatenate(axis: Int, inputs: Int)
  /// A function of each value on its own (GELU, leaky ReLU, ReLU6, hard-swish, `erf`, …).
  case pointwise(PointwiseFunction)
  /// Inverted dropout: in training, each value zeroed with probability `rate` and the others
  /// scaled by 1 / (1 − rate); the identity at inference.
  case dropout(rate: Float)
  /// An arithmetic operation between two values, their item shapes broadcast.
  case binary(BinaryOperation)
  /// An arithmetic operation between a value and a learned tensor of `shape` (broadcast against
  /// each item), the tensor first when `constantFirst`.
  case binaryConstant(BinaryOperation, shape: [Int], constantFirst: Bool)
  /// Layer normalisation over the item's last axes, of `shape`.
  case layerNorm(shape: [Int], epsilon: Float)
  /// The softmax along item axis `axis`.
  case softmaxAlong(axis: Int)
  /// The mean over item axes `axes`, kept as size 1 or dropped.
  case reduceMean(axes: [Int], keepsAxes: Bool)
  /// The mean of each channel of `[C, …]`, kept as `[C, 1, …]`.
  case globalAveragePool
  /// The values `start..<end` along item axis `axis`.
  case slice(axis: Int, start: Int, end: Int)
  /// The matrix product of two values, `[…, m, k] · […, k, n]`.
  case matmul
  /// A dense layer applied to the last axis of each item.
  case linear(inputs: Int, outputs: Int)
  /// Batch normalisation of `[channels, …]` items (batch statistics in training, running ones
  /// after).
  case batchNorm(channels: Int, epsilon: Float, momentum: Float)
  /// A learned token put before the tokens `[count, width]` of each item (ViT's class token).
  case classToken(width: Int)
  /// A 2-D convolution of any geometry: grouped or depthwise, dilated, rectangular, padded
  /// unevenly (ONNX's `Conv`). `conv` is the square, ungrouped case.
  case convolution(Convolution)
  /// Local response normalisation across channels over windows of `size` channels (ONNX's
  /// `LRN`).
  case localResponseNorm(size: Int, alpha: Float, beta: Float, bias: Float)
  /// Max or average pooling of any geometry: rectangular windows, strides, uneven pads, ceil
  /// mode (ONNX's `MaxPool` and `AveragePool`). `maxPool` and `averagePool` are the
  /// non-overlapping, unpadded cases.
  case pool(Pooling)

  /// Whether this is an elementwise hidden activation (the points where a signature is taken).
  public var isHiddenActivation: Bool {
    switch self {
    case .relu, .tanh, .sigmoid: true
    case .pointwise(let f): f.isActivation
    default: false
    }
  }

  /// The text people write for this layer (`dense(784, 32)`, `relu()`).
  public var displayName: String {
    switch self {
    case .dense(let i, let o): "dense(\(i), \(o))"
    case .conv(let i, let o, let k, let s, let p):
      "conv(\(i), \(o), kernel: \(k)\(s != 1 ? ", stride: \(s)" : "")\(p != 0 ? ", padding: \(p)" : ""))"
    case .maxPool(let s): "maxpool(\(s))"
    case .flatten: "flatten()"
    case .relu: "relu()"
    case .tanh: "tanh()"
    case .sigmoid: "sigmoid()"
    case .softmax: "softmax()"
    case .averagePool(let s): "avgpool(\(s))"
    case .reshape(let shape): "reshape(\(shape))"
    case .transpose(let permutation): "transpose(\(permutation))"
    case .affine(let c): "affine(\(c))"
    case .sum: "sum()"
    case .concatenate(let axis, _): "concat(axis: \(axis))"
    case .pointwise(let f): f.displayName
    case .dropout(let rate): "dropout(\(rate))"
    case .binary(let op): "\(op.rawValue)()"
    case .binaryConstant(let op, let shape, _): "\(op.rawValue)(constant \(shape))"
    case .layerNorm(let shape, _): "layer_norm(\(shape))"
    case .softmaxAlong(let axis): "softmax(axis: \(axis))"
    case .reduceMean(let axes, _): "mean(axes: \(axes))"
    case .globalAveragePool: "global_avgpool()"
    case .slice(let axis, let start, let end): "slice(axis: \(axis), \(start)..<\(end))"
    case .matmul: "matmul()"
    case .linear(let i, let o): "linear(\(i), \(o))"
    case .batchNorm(let c, _, _): "batchnorm(\(c))"
    case .classToken(let width): "class_token(\(width))"
    case .convolution(let c): c.displayName
    case .localResponseNorm(let size, let alpha, let beta, let bias):
      // ONNX's defaults (alpha 10⁻⁴, beta 0.75, bias 1) go unsaid.
      "lrn(\(size)" + (alpha != 1e-4 ? ", alpha: \(alpha)" : "")
        + (beta != 0.75 ? ", beta: \(beta)" : "") + (bias != 1 ? ", bias: \(bias)" : "") + ")"
    case .pool(let p): p.displayName
    }
  }

  /// A freshly initialised layer of this architecture.
  ///
  /// - Parameters:
  ///   - initialization: how weights are drawn (ignored by parameter-free layers).
  ///   - generator: the seeded source of the initial weights.
  public func makeLayer(
    initialization: Initialization, generator: inout SeededGenerator
  ) -> any Layer {
    switch self {
    case .dense(let i, let o):
      Dense(inputs: i, outputs: o, initialization: initialization, generator: &generator)
    case .conv(let i, let o, let k, let s, let p):
      Conv2D(
        inChannels: i, outChannels: o, kernel: k, stride: s, padding: p,
        initialization: initialization, generator: &generator)
    case .maxPool(let s): MaxPool2D(size: s)
    case .flatten: Flatten()
    case .relu: Activation(.relu)
    case .tanh: Activation(.tanh)
    case .sigmoid: Activation(.sigmoid)
    case .softmax: Softmax()
    case .averagePool(let s): AveragePool2D(size: s)
    case .reshape(let shape): Reshape(shape: shape)
    case .transpose(let permutation): Transpose(permutation: permutation)
    case .affine(let c): ChannelAffine(channels: c)
    case .sum(let n): Sum(inputs: n)
    case .concatenate(let axis, let n): Concatenate(axis: axis, inputs: n)
    case .pointwise(let f): Pointwise(f)
    case .dropout(let rate): Dropout(rate: rate)
    case .binary(let op): Binary(operation: op)
    case .binaryConstant(let op, let shape, let first):
      // A learned offset starts small and random (ViT's position embedding: N(0, 0.02²)), a
      // learned factor at 1.
      ConstantBinary(
        op,
        constant: op == .add || op == .subtract
          ? Tensor.normal(shape: shape, standardDeviation: 0.02, generator: &generator)
          : Tensor(repeating: 1, shape: shape),
        constantFirst: first)
    case .layerNorm(let shape, let epsilon): LayerNorm(shape: shape, epsilon: epsilon)
    case .softmaxAlong(let axis): AxisSoftmax(axis: axis)
    case .reduceMean(let axes, let keeps): ReduceMean(axes: axes, keepsAxes: keeps)
    case .globalAveragePool: ReduceMean(axes: nil, keepsAxes: true)
    case .slice(let axis, let start, let end): Slice(axis: axis, start: start, end: end)
    case .matmul: MatMul()
    case .linear(let i, let o):
      Linear(
        dense: Dense(
          inputs: i, outputs: o, initialization: initialization, generator: &generator))
    case .batchNorm(let c, let epsilon, let momentum):
      BatchNorm(channels: c, epsilon: epsilon, momentum: momentum)
    case .classToken(let width):
      // As ViT's: small and random, N(0, 0.02²).
      ClassToken(
        token: Tensor.normal(shape: [width], standardDeviation: 0.02, generator: &generator))
    case .convolution(let c):
      GroupedConv2D(c, initialization: initialization, generator: &generator)
    case .localResponseNorm(let size, let alpha, let beta, let bias):
      LocalResponseNorm(size: size, alpha: alpha, beta: beta, bias: bias)
    case .pool(let p): Pool2D(pooling: p)
    }
  }
}

/// How a layer's initial weights are drawn.
public enum Initialization: Sendable {
  /// Glorot (Xavier) uniform, U(−a, a) with a = √(6 / (fanIn + fanOut)): for tanh, sigmoid and
  /// linear outputs (Glorot and Bengio, 2010).
  case glorot
  /// He (Kaiming) normal, N(0, 2 / fanIn): for ReLU layers (He et al., 2015).
  case he

  /// Draws a weight tensor of `shape` for a layer with the given fan-in and fan-out.
  func weights(
    shape: [Int], fanIn: Int, fanOut: Int, generator: inout SeededGenerator
  ) -> Tensor {
    switch self {
    case .glorot:
      let a = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
      return Tensor.uniform(shape: shape, low: -a, high: a, generator: &generator)
    case .he:
      let sd = Float((2.0 / Double(fanIn)).squareRoot())
      return Tensor.normal(shape: shape, standardDeviation: sd, generator: &generator)
    }
  }
}

/// Calls `backward` on a type-erased layer with its type-erased cache.
func backwardErased<L: Layer>(
  _ layer: L, _ outputGradient: consuming Tensor, cache: any Sendable, gradients: inout [Tensor],
  needsInputGradient: Bool
) -> Tensor {
  guard let cache = cache as? L.Cache else {
    preconditionFailure("a cache of \(type(of: cache)) reached \(L.self).backward")
  }
  return layer.backward(
    outputGradient, cache: cache, gradients: &gradients, needsInputGradient: needsInputGradient)
}

/// Calls the joining `backward` on a type-erased layer with its type-erased cache.
func backwardErased<L: Layer>(
  _ layer: L, _ outputGradient: consuming Tensor, cache: any Sendable, gradients: inout [Tensor],
  needsInputGradients: [Bool]
) -> [Tensor] {
  guard let cache = cache as? L.Cache else {
    preconditionFailure("a cache of \(type(of: cache)) reached \(L.self).backward")
  }
  return layer.backward(
    outputGradient, cache: cache, gradients: &gradients, needsInputGradients: needsInputGradients)
}

/// Calls the joining `forward` on a type-erased layer (in a training step when `training` is
/// given), erasing its cache.
func forwardErased<L: Layer>(
  _ layer: L, joining inputs: [Tensor], training: TrainingContext? = nil
) -> (output: Tensor, cache: any Sendable) {
  guard let training else {
    let (output, cache) = layer.forward(joining: inputs)
    return (output, cache)
  }
  let (output, cache) = layer.forward(joining: inputs, training: training)
  return (output, cache)
}

/// Calls `forward` on a type-erased layer (in a training step when `training` is given),
/// erasing its cache.
func forwardErased<L: Layer>(
  _ layer: L, _ input: consuming Tensor, training: TrainingContext? = nil
) -> (output: Tensor, cache: any Sendable) {
  guard let training else {
    let (output, cache) = layer.forward(input)
    return (output, cache)
  }
  let (output, cache) = layer.forward(input, training: training)
  return (output, cache)
}

/// The training statistics a type-erased layer reads from its type-erased cache.
func statisticsErased<L: Layer>(_ layer: L, cache: any Sendable) -> [Tensor]? {
  guard let cache = cache as? L.Cache else { return nil }
  return layer.statistics(of: cache)
}
