import Foundation
import SigbookTensor
import SigbookData

extension SignatureSet {
  /// A signature set from activations computed anywhere (PyTorch hooks, Keras models, files),
  /// one `.npy` array per hidden layer.
  ///
  /// Each array is `[N, …]`, one row per input (a layer of maps `[N, C, H, W]` is flattened per
  /// input); all hold the same N. The labels are read as by `Dataset.npy` (sorted distinct
  /// whole numbers); without them every input is of the one class `all`. There are no
  /// predictions, so colouring by prediction and the softmax novelty baseline are unavailable.
  ///
  /// - Parameters:
  ///   - paths: the layers' `.npy` files, H1 first.
  ///   - labels: the `.npy` file of labels, or nil.
  /// - Throws: the errors of `NPY.read`; `DataError.shapeMismatch` when the layers hold
  ///   different numbers of inputs, `.countMismatch` when the labels do,
  ///   `.invalidArgument` for no file or a layer that is a single value.
  public static func npy(layers paths: [String], labels labelPath: String? = nil) throws
    -> SignatureSet
  {
    guard let first = paths.first else {
      throw DataError.invalidArgument("signatures_from needs at least one .npy file")
    }
    var layers: [Tensor] = []
    var count: Int?
    for path in paths {
      let array = try NPY.read(path)
      guard let n = array.shape.first else {
        throw DataError.invalidArgument("'\(path)' holds a single value, not one row per input")
      }
      if let count, n != count {
        throw DataError.shapeMismatch(
          "'\(path)' has \(n) rows but '\(first)' has \(count): every layer needs one row per input"
        )
      }
      count = n
      let width = n == 0 ? array.shape.dropFirst().reduce(1, *) : array.values.count / n
      layers.append(Tensor(shape: [n, width], scalars: array.floats))
    }
    let n = count ?? 0
    var labels = [Int](repeating: 0, count: n)
    var classNames = ["all"]
    if let labelPath {
      (labels, classNames) = try Dataset.npyLabels(labelPath, count: n, featuresPath: first)
    }
    let names = zip(paths, layers).enumerated().map { i, pair in
      "H\(i + 1) · \(NPY.baseName(pair.0)) · \(pair.1.rowSize)"
    }
    return SignatureSet(
      layers: layers, layerNames: names, labels: labels, classNames: classNames,
      predictions: nil, predictionNames: [],
      modelSummary:
        "signatures_from(\(paths.map { "\"\(NPY.baseName($0)).npy\"" }.joined(separator: ", ")))",
      dataName: labelPath.map(NPY.baseName) ?? NPY.baseName(first))
  }

  /// A signature set from its parts, as they are.
  init(
    layers: [Tensor], layerNames: [String], labels: [Int], classNames: [String],
    predictions: [Int]?, predictionNames: [String], modelSummary: String, dataName: String
  ) {
    self.layers = layers
    self.layerNames = layerNames
    self.labels = labels
    self.classNames = classNames
    self.predictions = predictions
    self.predictionNames = predictionNames
    self.modelSummary = modelSummary
    self.dataName = dataName
  }
}

extension SignatureSet {
  /// The signature set as NumPy arrays, for `NPZ.encode`: `H1`, `H2`, … (`[N, width]` float32,
  /// maps flattened per input, H1 the first hidden layer, H0 the inputs when included), `labels` (`[N]` int64, each input's
  /// index into `class_names`), `class_names` (text), and for a classifier's signatures
  /// `predictions` (`[N]` int64, into `prediction_names`) and `prediction_names`.
  public var namedArrays: [(name: String, npy: Data)] {
    var arrays = layers.enumerated().map { i, layer in
      (
        name: "H\(i + firstLayerNumber)",
        npy: NPY.encode(layer.scalars, shape: [layer.rows, layer.rowSize])
      )
    }
    arrays.append(("labels", NPY.encode(labels, shape: [labels.count])))
    arrays.append(("class_names", NPY.encode(texts: classNames, shape: [classNames.count])))
    if let predictions {
      arrays.append(("predictions", NPY.encode(predictions, shape: [predictions.count])))
      arrays.append(
        ("prediction_names", NPY.encode(texts: predictionNames, shape: [predictionNames.count])))
    }
    return arrays
  }
}
