import SigbookTensor

/// A network: layers applied in order — a chain — or, when `wiring` says what each layer takes,
/// a directed acyclic graph of them (residual connections, concatenations), with what a user
/// needs to know about it.
///
/// A model is a value. Training (`fitted`) returns a new model and leaves this one untouched,
/// so a workbook cell that trains can run twice with the same result.
public struct Model: Sendable {
  /// What the network is trained to produce.
  public enum Task: String, Sendable {
    /// Class scores, one output per class (or one sigmoid output for two classes).
    case classification
    /// Its own input (an autoencoder).
    case reconstruction
  }

  /// The layers, first to last (for a graph, in an order where every layer comes after what
  /// it takes).
  public var layers: [any Layer]
  /// For a graph, the values each layer takes: 0 is the model's input, j the output of layer j
  /// (1-based), always computed before the layer. The last layer's output is the model's. Nil
  /// for a chain, where layer i takes the output of layer i − 1.
  let wiring: [[Int]]?
  /// The shape of one input item: `[784]` for vectors, `[1, 28, 28]` for images.
  public let inputShape: [Int]
  /// The shape of one item after each layer.
  public let layerShapes: [[Int]]
  public var task: Task
  /// How the model was built, as a user would write it (`mlp(784, 32, 64, 2)`).
  public var summary: String
  /// The names of the classes the outputs stand for, once trained on a dataset.
  public var classNames: [String]?
  /// Loss and accuracy per epoch, once trained.
  public var history: History?
  /// For an autoencoder, the number of layers of the encoder (its code is their output).
  public var encoderLayerCount: Int?
  /// The file the model was loaded from, if it was.
  public var source: String?
  /// Where each layer comes from in the file it was imported from (the ONNX nodes it stands
  /// for, `/fc1/Gemm`), one entry per layer; nil for sigbook's own models.
  public var layerOrigins: [String]?
  /// Readable names of the layers, one per layer (`stage2.block1.add`), given by the builder of
  /// a graph; nil for a chain, whose layers are named by kind (`dense1`, `relu1`).
  public var names: [String]?
  /// The layers (0-based) whose outputs make up a signature when the builder chose them (each
  /// block's output in a ResNet or a ViT); nil to take every hidden activation.
  public var signatureLayers: [Int]?

  /// Creates a model, checking that each layer takes what it is given: the previous layer's
  /// output in a chain, the values `wiring` names in a graph.
  ///
  /// - Throws: `ShapeMismatch` naming the layer (1-based) that cannot take its input.
  public init(
    layers: [any Layer], inputShape: [Int], task: Task = .classification, summary: String? = nil,
    wiring: [[Int]]? = nil
  ) throws(ShapeMismatch) {
    guard !layers.isEmpty else { throw ShapeMismatch("a model needs at least one layer") }
    if let wiring { try Self.checkWiring(wiring, layers: layers.count, name: "the model") }
    var shapes: [[Int]] = []
    for (i, layer) in layers.enumerated() {
      let inputs = wiring?[i].map { $0 == 0 ? inputShape : shapes[$0 - 1] }
      switch layer.outputShape(joining: inputs ?? [shapes.last ?? inputShape]) {
      case .success(let next):
        shapes.append(next)
      case .failure(let mismatch):
        throw ShapeMismatch("layer \(i + 1): \(mismatch.message)")
      }
    }
    self.layers = layers
    self.wiring = wiring
    self.inputShape = inputShape
    self.layerShapes = shapes
    self.task = task
    self.summary =
      summary ?? "sequential(\(layers.map(\.spec.displayName).joined(separator: ", ")))"
  }

  /// The number of values one input item holds.
  var inputCount: Int { inputShape.reduce(1, *) }

  /// The number of values of one output.
  public var outputCount: Int { layerShapes.last?.reduce(1, *) ?? 0 }

  /// The number of classes a classifier tells apart (2 for a single sigmoid output).
  public var classCount: Int { outputCount == 1 ? 2 : outputCount }

  /// The total number of trainable values.
  public var parameterCount: Int {
    layers.reduce(0) { $0 + $1.parameters.reduce(0) { $0 + $1.count } }
  }

  /// Whether the model has been trained (here, or before it was saved and loaded).
  public var isTrained: Bool { history != nil || source != nil }

  /// The architecture, layer by layer.
  public var specs: [LayerSpec] { layers.map(\.spec) }

  /// The layer indices (0-based) whose outputs make up a signature: every elementwise hidden
  /// activation (ReLU, tanh, sigmoid) that a layer with parameters follows (so not the output's
  /// activation, even when an imported model reshapes after it), and an autoencoder's code (the
  /// encoder's last layer, which is linear).
  public var hiddenLayerIndices: [Int] {
    if let signatureLayers { return signatureLayers }
    let lastWeighted = layers.lastIndex { !$0.parameters.isEmpty } ?? -1
    return layers.indices.filter { i in
      i != layers.count - 1
        && ((layers[i].spec.isHiddenActivation && i < lastWeighted)
          || encoderLayerCount.map { i == $0 - 1 } == true)
    }
  }

  /// The width (values per input) of each signature layer.
  public var hiddenLayerWidths: [Int] { hiddenLayerIndices.map { layerShapes[$0].reduce(1, *) } }

  /// The inputs with each item shaped as the model takes it: vectors of 784 values become
  /// `[1, 28, 28]` images for a convolutional model (the number of values must agree).
  func shaped(_ inputs: Tensor) -> Tensor {
    guard inputShape.count > 1, Array(inputs.shape.dropFirst()) != inputShape,
      inputs.rowSize == inputCount
    else { return inputs }
    return inputs.reshaped([inputs.rows] + inputShape)
  }

  /// Applies every layer to a batch.
  func forward(_ input: Tensor) -> Tensor {
    if wiring != nil { return graphForward(input, through: layers.count - 1) { _, _ in } }
    var x = input
    for layer in layers { x = layer.apply(consume x) }
    return x
  }

  /// The most values one layer's output holds for an inference batch: 256 K floats (1 MB), so
  /// that a batch's live values (a block's input, its branches, the shortcut) stay in the
  /// caches while every layer reads and writes them. A larger block is mapped from the system
  /// and its pages faulted in anew for every batch (for a ResNet's 16 × 28 × 28 maps, a
  /// 1,024-image batch is 51 MB a layer), which cost more than the arithmetic; 8 MB batches
  /// (2 M floats, 167 of those images) came from the heap but left the caches at every layer.
  static let forwardBatchBudget = 1 << 18

  /// Rows per inference batch: `batchSize`, or fewer where a layer's output for that many
  /// rows would exceed `forwardBatchBudget` values (a dense network keeps its 1,024).
  func forwardBatchRows(_ batchSize: Int) -> Int {
    let widest = layerShapes.map { $0.reduce(1, *) }.max() ?? 1
    return max(1, min(batchSize, Self.forwardBatchBudget / max(widest, 1)))
  }

  /// The outputs for many inputs, computed in batches of `batchSize` to bound memory.
  ///
  /// - Parameter isCancelled: checked before every batch; when it returns true the outputs stop
  ///   there and are incomplete (the caller checks `isCancelled` again and throws).
  /// - Returns: `[N, outputCount]`.
  public func predict(
    _ inputs: Tensor, batchSize: Int = 1024, isCancelled: () -> Bool = { false }
  ) -> Tensor {
    let inputs = shaped(inputs)
    let n = inputs.rows
    let batchSize = forwardBatchRows(batchSize)
    var outputs: [Tensor] = []
    var start = 0
    while start < n && !isCancelled() {
      let end = min(n, start + batchSize)
      outputs.append(forward(inputs.rows(start..<end)).flattenedRows)
      start = end
    }
    return outputs.isEmpty ? Tensor(zeros: [0, outputCount]) : Tensor.concatenate(outputs)
  }

  /// The predicted class of each input: the largest output, or for one output a logit above 0
  /// (a probability above 0.5).
  public func predictedClasses(
    _ inputs: Tensor, batchSize: Int = 1024, isCancelled: () -> Bool = { false }
  ) -> [Int] {
    classes(ofOutputs: predict(inputs, batchSize: batchSize, isCancelled: isCancelled))
  }

  /// The output of every signature layer for many inputs, computed in batches.
  ///
  /// - Parameter isCancelled: checked before every batch; when it returns true the outputs stop
  ///   there and the rows after are unset (the caller checks `isCancelled` again and throws).
  /// - Returns: one `[N, width]` tensor per entry of `hiddenLayerIndices`.
  public func hiddenOutputs(
    _ inputs: Tensor, batchSize: Int = 1024, isCancelled: () -> Bool = { false }
  ) -> [Tensor] {
    hiddenOutputs(
      inputs, at: hiddenLayerIndices, pooling: .none, batchSize: batchSize,
      isCancelled: isCancelled)
  }

  /// The outputs of the layers at `indices` (0-based, in the order the model runs them) for
  /// many inputs, computed in batches, each pooled by `pooling`.
  ///
  /// - Precondition: `indices` are increasing layer indices whose outputs `pooling` can take
  ///   (`pooledWidth(ofLayer:pooling:)` is not nil).
  /// - Returns: one `[N, width]` tensor per entry of `indices`.
  public func hiddenOutputs(
    _ inputs: Tensor, at indices: [Int], pooling: SignaturePooling, batchSize: Int = 1024,
    isCancelled: () -> Bool = { false }
  ) -> [Tensor] {
    let inputs = shaped(inputs)
    let n = inputs.rows
    let batchSize = forwardBatchRows(batchSize)
    let widths = indices.map { pooledWidth(ofLayer: $0, pooling: pooling) ?? 0 }
    // Not zeroed: every row is overwritten by its batch. Zeroing first cost a second and more
    // before the first cancellation check for a CNN on 60,000 images (gigabytes of
    // activations, every page touched up front); unset, the pages are touched batch by batch.
    var results = widths.map { Tensor(unsetShape: [n, $0]) }
    guard let lastNeeded = indices.last else { return results }
    if wiring != nil {
      graphOutputs(
        inputs, at: indices, widths: widths, pooling: pooling, into: &results,
        batchSize: batchSize, isCancelled: isCancelled)
      return results
    }
    if pooling == .none, let steps = denseChain(through: lastNeeded, signatureLayers: indices) {
      denseChainOutputs(
        inputs, steps: steps, into: &results, batchSize: batchSize, isCancelled: isCancelled)
      return results
    }
    var start = 0
    while start < n && !isCancelled() {
      let end = min(n, start + batchSize)
      var x = inputs.rows(start..<end)
      var h = 0
      for (i, layer) in layers.enumerated() where i <= lastNeeded {
        x = layer.apply(consume x)
        if h < indices.count, i == indices[h] {
          let w = widths[h]
          let pooled = pooling == .none ? x : pooling.apply(x)
          pooled.withUnsafeBufferPointer { source in
            results[h].withUnsafeMutableBufferPointer { target in
              _ = UnsafeMutableBufferPointer(rebasing: target[start * w..<end * w])
                .update(fromContentsOf: source)
            }
          }
          h += 1
        }
      }
      start = end
    }
    return results
  }

  /// Batches run together by `graphOutputs`, one wave at a time (a fixed number, so that the
  /// split never depends on the cores).
  static let batchesPerWave = 4

  /// `hiddenOutputs` of a graph: its batches run in waves of `batchesPerWave`, the batches of a
  /// wave on every core at once, each product on one OpenBLAS thread, each batch writing its
  /// own rows; cancellation is checked before every wave. Convolutions run fused with the batch
  /// normalisation and ReLU after them where no output of those is asked for
  /// (`fusedConvolutions`, folded once for all the batches).
  private func graphOutputs(
    _ inputs: Tensor, at indices: [Int], widths: [Int], pooling: SignaturePooling,
    into results: inout [Tensor], batchSize: Int, isCancelled: () -> Bool
  ) {
    guard let lastNeeded = indices.last else { return }
    let n = inputs.rows, batches = (n + batchSize - 1) / batchSize
    let fused = fusedConvolutions(through: lastNeeded, keeping: Set(indices))
    BLAS.beginSingleThreaded()
    defer { BLAS.endSingleThreaded() }
    Self.withMutablePointers(&results) { targets in
      // Each batch writes rows of its own.
      nonisolated(unsafe) let rows = targets
      var wave = 0
      while wave < batches && !isCancelled() {
        let first = wave
        Parallel.forEach(min(Self.batchesPerWave, batches - first)) { k in
          let start = (first + k) * batchSize, end = min(n, start + batchSize)
          _ = graphForward(inputs.rows(start..<end), through: lastNeeded, fused: fused) {
            i, output in
            guard let h = indices.firstIndex(of: i), let target = rows[h] else { return }
            let w = widths[h]
            pooling.apply(output).withUnsafeBufferPointer { source in
              guard let source = source.baseAddress else { return }
              (target + start * w).update(from: source, count: (end - start) * w)
            }
          }
        }
        wave += Self.batchesPerWave
      }
    }
  }

  /// Calls `body` with the base address of every tensor's storage, each held by its own
  /// `withUnsafeMutableBufferPointer` for the whole call (a tensor is taken out of the array
  /// meanwhile, so that its storage is not shared and the address stays its own).
  private static func withMutablePointers(
    _ tensors: inout [Tensor], from index: Int = 0,
    collected: [UnsafeMutablePointer<Float>?] = [],
    _ body: ([UnsafeMutablePointer<Float>?]) -> Void
  ) {
    guard index < tensors.count else { return body(collected) }
    var tensor = tensors[index]
    tensors[index] = Tensor(zeros: [0])
    tensor.withUnsafeMutableBufferPointer { buffer in
      withMutablePointers(
        &tensors, from: index + 1, collected: collected + [buffer.baseAddress], body)
    }
    tensors[index] = tensor
  }

  /// One dense layer of a dense chain, with the activation that follows it (if any) and the
  /// signature its output is (if it is one).
  private struct DenseStep: Sendable {
    var dense: Dense
    var activation: Activation?
    var signature: Int?
  }

  /// Layers `0...last` as dense steps, when they are dense layers each followed by at most one
  /// activation and every signature is a step's output; nil otherwise.
  private func denseChain(through last: Int, signatureLayers: [Int]) -> [DenseStep]? {
    var steps: [DenseStep] = []
    for i in 0...last {
      if let dense = layers[i] as? Dense {
        steps.append(DenseStep(dense: dense))
      } else if let activation = layers[i] as? Activation, let step = steps.last,
        step.activation == nil, step.signature == nil
      {
        steps[steps.count - 1].activation = activation
      } else {
        return nil
      }
      if let h = signatureLayers.firstIndex(of: i) { steps[steps.count - 1].signature = h }
    }
    return steps
  }

  /// `hiddenOutputs` for a dense chain: each batch's products are written straight into the
  /// signature rows (`Dense.apply`, then the activation in place), and the next layer reads them
  /// there, so no row is copied. The same products as layer by layer, batch by batch: the same
  /// values.
  private func denseChainOutputs(
    _ inputs: Tensor, steps: [DenseStep], into results: inout [Tensor], batchSize: Int,
    isCancelled: () -> Bool
  ) {
    let n = inputs.rows
    // Step s writes its rows into its signature, or into a scratch matrix when it is none.
    var outputs = steps.map {
      Tensor(unsetShape: [$0.signature == nil ? batchSize : 0, $0.dense.outputs])
    }
    for (s, step) in steps.enumerated() {
      if let h = step.signature { swap(&outputs[s], &results[h]) }
    }
    defer {
      for (s, step) in steps.enumerated() {
        if let h = step.signature { swap(&outputs[s], &results[h]) }
      }
    }
    // Each batch's rows in chunks of `denseChunkRows` on every core, each chunk's products on
    // one OpenBLAS thread: OpenBLAS's own threads split a product by the thread count, and the
    // rows of its tiles then summed differently (at 1 and 2 threads, two rows in three of W2's
    // signatures differed in their last bits). The chunks depend on the batch alone.
    BLAS.beginSingleThreaded()
    defer { BLAS.endSingleThreaded() }
    let rowSize = inputs.rowSize
    inputs.withUnsafeBufferPointer { x in
      Tensor.withMutableBaseAddresses(&outputs) { bases in
        guard let x = x.baseAddress else { return }
        // Each chunk reads its own input rows and writes its own output rows (scratch rows too).
        nonisolated(unsafe) let (source, targets) = (x, bases)
        var start = 0
        while start < n && !isCancelled() {
          let first = start, end = min(n, start + batchSize)
          let chunks = (end - first + Self.denseChunkRows - 1) / Self.denseChunkRows
          Parallel.forEach(chunks) { c in
            let from = first + c * Self.denseChunkRows
            let rows = min(end, from + Self.denseChunkRows) - from
            var input = UnsafePointer(source + from * rowSize)
            for (s, step) in steps.enumerated() {
              let width = step.dense.outputs
              let out = targets[s] + (step.signature == nil ? from - first : from) * width
              step.dense.apply(rows: rows, from: input, into: out)
              step.activation?.applyInPlace(.init(start: out, count: rows * width))
              input = UnsafePointer(out)
            }
          }
          start = end
        }
      }
    }
  }

  /// Rows per chunk of a dense chain's inference batch (`denseChainOutputs`).
  static let denseChunkRows = 256

  /// Whether two models have the same architecture and bit-identical parameters.
  func hasSameWeights(as other: Model) -> Bool {
    specs == other.specs && inputShape == other.inputShape && wiring == other.wiring
      && zip(layers, other.layers).allSatisfy { $0.parameters == $1.parameters }
  }
}
