import SigbookTensor

/// The names by which a model's nodes are addressed: `nodes(net)` lists them and
/// `signatures(net, data, at: [...])` takes their outputs.
extension Model {
  /// One name per layer, unique: the builder's (`stage2.block1.add`), the ONNX node an
  /// imported layer stands for (`/layer1/layer1.0/Add`), or, for a chain, the layer's kind and
  /// its number among layers of that kind (`dense1`, `relu1`, `dense2`).
  public var layerNames: [String] {
    if let names { return names }
    if let origins = layerOrigins, Set(origins).count == layers.count { return origins }
    var counts: [String: Int] = [:]
    return layers.map { layer in
      let kind = String(layer.spec.displayName.prefix { $0 != "(" })
      counts[kind, default: 0] += 1
      return "\(kind)\(counts[kind] ?? 1)"
    }
  }

  /// The layer (0-based) named `name`, or nil.
  public func layerIndex(named name: String) -> Int? { layerNames.firstIndex(of: name) }
}

/// Builds a graph model node by node: each node a layer specification, the values it takes and
/// a name. A value is a node's number (0 the model's input); each node's output shape is
/// worked out as it is added, so a builder can size what follows from it.
struct GraphBuilder {
  /// A node's output: 0 is the model's input, j the output of the j-th node (1-based).
  typealias Value = Int

  let inputShape: [Int]
  private(set) var plan: [(spec: LayerSpec, initialization: Initialization)] = []
  private(set) var wiring: [[Int]] = []
  private(set) var names: [String] = []
  /// The shape of each value, the input's first.
  private var shapes: [[Int]]
  /// Parameters set instead of the initial ones, by node (0-based).
  private var fixedParameters: [Int: [Tensor]] = [:]

  init(inputShape: [Int]) {
    self.inputShape = inputShape
    shapes = [inputShape]
  }

  /// The shape of one item of `value`.
  func shape(of value: Value) -> [Int] { shapes[value] }

  /// Adds a node and returns its output.
  ///
  /// - Throws: `ShapeMismatch` naming the node when it cannot take what it is given.
  @discardableResult
  mutating func add(
    _ spec: LayerSpec, _ inputs: [Value], name: String, initialization: Initialization = .glorot
  ) throws(ShapeMismatch) -> Value {
    if let problem = spec.sizeProblem { throw ShapeMismatch("\(name) \(problem)") }
    switch spec.outputShape(joining: inputs.map { shapes[$0] }) {
    case .success(let shape): shapes.append(shape)
    case .failure(let mismatch): throw ShapeMismatch("\(name): \(mismatch.message)")
    }
    plan.append((spec, initialization))
    wiring.append(inputs)
    names.append(name)
    return plan.count
  }

  /// Adds a node whose parameters are `parameters` rather than drawn (a fixed scale).
  @discardableResult
  mutating func add(
    _ spec: LayerSpec, _ inputs: [Value], name: String, parameters: [Tensor]
  ) throws(ShapeMismatch) -> Value {
    let value = try add(spec, inputs, name: name)
    fixedParameters[value - 1] = parameters
    return value
  }

  /// The model: its architecture checked (`checkArchitecture`), its layers initialised in node
  /// order from one generator seeded with `seed`, named, its signatures taken at
  /// `signatures` (nodes' outputs).
  func model(
    summary: String, signatures: [Value], seed: Int, memoryLimit: MemoryLimit
  ) throws(ShapeMismatch) -> Model {
    try Model.checkArchitecture(
      plan.map(\.spec), inputShape: inputShape, name: summary, memoryLimit: memoryLimit,
      wiring: wiring)
    var generator = SeededGenerator(seed: seed)
    var layers = plan.map {
      $0.spec.makeLayer(initialization: $0.initialization, generator: &generator)
    }
    for (i, parameters) in fixedParameters { layers[i].parameters = parameters }
    var model = try Model(layers: layers, inputShape: inputShape, summary: summary, wiring: wiring)
    model.names = names
    model.signatureLayers = signatures.map { $0 - 1 }
    return model
  }
}
