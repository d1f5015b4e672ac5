import SigbookTensor
import SigbookData
import SigbookNN

/// The signatures of a set of inputs: for every input, the output of each hidden layer of a
/// network, S = (H1, …, HN), with the inputs' labels and the network's predictions.
public struct SignatureSet: Sendable {
  /// One `[N, width]` tensor per hidden layer, H1 first.
  public var layers: [Tensor]
  /// A short description of each layer: `H1 · relu · 32`.
  public var layerNames: [String]
  /// The node each layer was taken at, for signatures taken at named nodes (`at:`, or any
  /// graph model's); nil for a chain's own hidden layers and for the inputs.
  var layerNodes: [String?] = []
  /// Each input's class index into `classNames`.
  public var labels: [Int]
  public var classNames: [String]
  /// Each input's predicted class index into `predictionNames` (nil for an autoencoder).
  public var predictions: [Int]?
  public var predictionNames: [String]
  /// The summary of the network the signatures come from.
  public var modelSummary: String
  /// The name of the dataset they were computed on.
  public var dataName: String
  /// The number of the first layer: 1, or 0 when the raw inputs are the first layer (`H0`, the
  /// baseline every hidden layer is compared with).
  var firstLayerNumber = 1

  /// The numbers of the layers, as people write them (`sig[2]`): H1 first, or H0 the inputs.
  public var layerNumbers: ClosedRange<Int> {
    firstLayerNumber...(firstLayerNumber + layers.count - 1)
  }

  /// Whether the first layer is the raw inputs (H0).
  public var includesInput: Bool { firstLayerNumber == 0 }

  /// The number of inputs.
  public var count: Int { labels.count }

  /// The width of each layer.
  public var widths: [Int] { layers.map(\.rowSize) }

  /// The signatures of `data` through `model`, computed in batches (no per-input loop).
  ///
  /// - Parameter isCancelled: checked before every batch; when it returns true the signatures
  ///   are incomplete (the caller checks `isCancelled` again and throws).
  /// - Precondition: the data fits the model (see `Model.validate`).
  /// - Parameters:
  ///   - nodes: the layers (0-based, in the order the model runs them) whose outputs make up the
  ///     signature, named in `layerNames` by their node names; nil for the model's own
  ///     (`Model.hiddenLayerIndices`).
  ///   - pooling: how each output becomes one layer (maps to one value per channel, tokens to
  ///     one vector).
  ///   - includingInput: adds the raw inputs, flattened per input, as a first layer `H0 · input`:
  ///     the baseline that tells what the network adds to what the pixels already say.
  /// - Precondition: `pooling` can take every chosen output (`Model.pooledWidth`).
  public init(
    model: Model, data: Dataset, nodes: [Int]? = nil, pooling: SignaturePooling = .none,
    includingInput: Bool = false, batchSize: Int = 1024, isCancelled: () -> Bool = { false }
  ) {
    let indices = nodes ?? model.hiddenLayerIndices
    layers = model.hiddenOutputs(
      data.features, at: indices, pooling: pooling, batchSize: batchSize,
      isCancelled: isCancelled)
    let names = model.layerNames
    let isNamed = nodes != nil || model.isGraph
    layerNodes = indices.map { isNamed ? names[$0] : nil }
    layerNames = indices.enumerated().map { h, i in
      let width = model.pooledWidth(ofLayer: i, pooling: pooling) ?? 0
      if isNamed {
        let pooled =
          pooling == .none
          ? ""
          : " (\(pooling.rawValue) of \(model.layerShapes[i].map(String.init).joined(separator: "×")))"
        return "H\(h + 1) · \(names[i]) · \(width)\(pooled)"
      }
      let producer =
        i > 0 && !model.layers[i].spec.isHiddenActivation
        ? "linear" : model.layers[i].spec.displayName.replacingOccurrences(of: "()", with: "")
      return "H\(h + 1) · \(producer) · \(width)"
    }
    if includingInput {
      let x = data.features
      layers.insert(Tensor(shape: [x.rows, x.rowSize], scalars: x.scalars), at: 0)
      layerNames.insert("H0 · input · \(x.rowSize)", at: 0)
      layerNodes.insert(nil, at: 0)
      firstLayerNumber = 0
    }
    labels = data.labels
    classNames = data.classNames
    if model.task == .classification && !isCancelled() {
      predictions = model.predictedClasses(
        data.features, batchSize: batchSize, isCancelled: isCancelled)
      predictionNames = model.outputClassNames
    } else {
      predictions = nil
      predictionNames = []
    }
    modelSummary = model.summary
    dataName = data.name
  }

  /// One layer (numbered as people number them: H1 = 1, the inputs H0 = 0 when included) as a
  /// set of points with the same labels.
  ///
  /// - Precondition: `layerNumbers.contains(number)`.
  public func layer(_ number: Int) -> PointSet {
    precondition(layerNumbers.contains(number), "layer \(number) of \(layerNumbers)")
    var points = PointSet(
      points: layers[number - firstLayerNumber], name: "H\(number)", labels: labels,
      classNames: classNames, predictions: predictions, predictionNames: predictionNames,
      layer: number)
    points.node =
      layerNodes.indices.contains(number - firstLayerNumber)
      ? layerNodes[number - firstLayerNumber] : nil
    return points
  }

  /// The layer numbered `number` (see `layer(_:)`).
  public func layerTensor(_ number: Int) -> Tensor { layers[number - firstLayerNumber] }

  /// Every layer as a point set.
  public var pointSets: [PointSet] { layerNumbers.map { layer($0) } }

  /// The signatures of the inputs at `indices`, in that order.
  public func rows(at indices: [Int]) -> SignatureSet {
    var copy = self
    copy.layers = layers.map { $0.rows(at: indices) }
    copy.labels = indices.map { labels[$0] }
    copy.predictions = predictions.map { p in indices.map { p[$0] } }
    return copy
  }
}

/// Points to cluster or project — one signature layer, the features of a dataset, or codes —
/// with the labels (and predictions) of the inputs they stand for.
public struct PointSet: Sendable {
  /// `[N, d]`.
  public var points: Tensor
  /// What the points are: `H2`, `mnist_sample`.
  public var name: String
  public var labels: [Int]
  public var classNames: [String]
  public var predictions: [Int]?
  public var predictionNames: [String]
  /// The signature layer (1-based) the points come from, if they do.
  var layer: Int?
  /// The node of the network the layer was taken at, when signatures name their nodes.
  var node: String?

  /// The layer's name with its node when it has one: `H2 · stage3.block1`.
  public var nodeTitle: String { node.map { "\(name) · \($0)" } ?? name }

  init(
    points: Tensor, name: String, labels: [Int], classNames: [String], predictions: [Int]? = nil,
    predictionNames: [String] = [], layer: Int? = nil
  ) {
    self.points = points.rank == 2 ? points : points.flattenedRows
    self.name = name
    self.labels = labels
    self.classNames = classNames
    self.predictions = predictions
    self.predictionNames = predictionNames
    self.layer = layer
  }

  /// A dataset's features as points.
  public init(dataset: Dataset) {
    self.init(
      points: dataset.features.flattenedRows, name: dataset.name, labels: dataset.labels,
      classNames: dataset.classNames)
  }

  public var count: Int { labels.count }
  public var dimensions: Int { points.rowSize }
}
