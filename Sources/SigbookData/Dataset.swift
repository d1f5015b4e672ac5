import SigbookTensor

/// A labelled data set: one feature tensor, one class index per input, and the classes' names.
///
/// Labels are class *indices* `0 ..< classNames.count`, not the original label values: the digits
/// 1 and 7 selected from MNIST become `classNames == ["1", "7"]` with labels 0 and 1, so a network
/// with two outputs trains on them directly. Images keep their channels, height and width
/// (`[N, 1, 28, 28]` for MNIST, pixels in [0, 1]); vectors are `[N, D]`.
///
/// A data set is a value; every transformation (`subset`, `split`, `noise`, …) returns a new one.
public struct Dataset: Sendable, Equatable {
  /// The name shown in displays, such as `"mnist_sample"`.
  public var name: String
  /// The inputs, one per row of the first dimension: `[N, C, H, W]` images or `[N, D]` vectors.
  public var features: Tensor
  /// The class index of each input, in `0 ..< classNames.count`.
  public var labels: [Int]
  /// The name of each class, such as `["1", "7"]` or `["trouser", "dress"]`.
  public var classNames: [String]

  /// Creates a data set from features, class indices and class names.
  ///
  /// - Precondition: `features` has rank 2 or more, one row per label, and every label is in
  ///   `0 ..< classNames.count`.
  public init(name: String, features: Tensor, labels: [Int], classNames: [String]) {
    precondition(features.rank >= 2, "the features of a data set need a batch dimension")
    precondition(
      labels.count == features.rows,
      "a data set needs one label per input: \(labels.count) labels for \(features.rows) inputs")
    precondition(
      labels.allSatisfy { $0 >= 0 && $0 < classNames.count },
      "labels must be class indices 0 ..< \(classNames.count)")
    self.name = name
    self.features = features
    self.labels = labels
    self.classNames = classNames
  }

  /// The number of inputs, N.
  public var count: Int { labels.count }

  /// The shape of one input, such as `[1, 28, 28]` or `[2]`.
  public var featureShape: [Int] { Array(features.shape.dropFirst()) }

  /// The number of values in one input: the product of `featureShape` (784 for MNIST).
  public var featureCount: Int { featureShape.reduce(1, *) }

  /// The number of classes.
  public var classCount: Int { classNames.count }

  /// The number of inputs of each class, indexed by class.
  public func countsPerClass() -> [Int] {
    var counts = [Int](repeating: 0, count: classNames.count)
    for label in labels { counts[label] += 1 }
    return counts
  }

  /// The index of the class with the given name, or `nil` if there is none.
  public func classIndex(named name: String) -> Int? {
    classNames.firstIndex(of: name)
  }

  /// The indices of the inputs of each class, in data set order, indexed by class.
  func indicesPerClass() -> [[Int]] {
    var indices = [[Int]](repeating: [], count: classNames.count)
    for (i, label) in labels.enumerated() { indices[label].append(i) }
    return indices
  }
}

extension Dataset: CustomStringConvertible {
  /// One line: name, count, feature shape and the count of each class,
  /// e.g. `mnist_sample: 1000 inputs of [1, 28, 28]; 1: 500, 7: 500`.
  public var description: String {
    let counts = zip(classNames, countsPerClass()).map { "\($0): \($1)" }
    return "\(name): \(count) inputs of \(featureShape); " + counts.joined(separator: ", ")
  }
}
