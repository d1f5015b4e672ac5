import SigbookData

extension Model {
  /// Trains a copy of this model on a dataset (see `fitted(inputs:labels:…)`), keeping the
  /// dataset's class names with the trained model (outputs beyond the data's classes are named
  /// `(output i)`).
  ///
  /// - Throws: `TrainingError` when the data does not fit the model, the loss becomes NaN or
  ///   infinite, or training is cancelled.
  public func fitted(
    on data: Dataset, options: TrainingOptions, validation: Dataset? = nil,
    progress: ((TrainingProgress) -> Void)? = nil, isCancelled: () -> Bool = { false }
  ) throws(TrainingError) -> Model {
    try validate(inputs: data.features, labels: data.labels, dataName: "'\(data.name)'")
    if let validation {
      try validate(
        inputs: validation.features, labels: validation.labels, dataName: "'\(validation.name)'")
    }
    return try fitted(
      inputs: data.features, labels: data.labels,
      classNames: task == .classification
        ? Self.classNames(data.classNames, count: classCount) : nil,
      options: options,
      validation: validation.map { ($0.features, $0.labels) }, progress: progress,
      isCancelled: isCancelled)
  }

  /// Class names for `count` outputs: `names`, then `(output i)` for outputs no class of the
  /// data stands for (a 10-output network trained on the digits 1 and 7), so that every output
  /// a prediction can take has a name.
  static func classNames(_ names: [String], count: Int) -> [String] {
    names.count >= count ? names : names + (names.count..<count).map { "(output \($0))" }
  }

  /// The fraction of a dataset's inputs this classifier assigns to their own class.
  ///
  /// Classes are matched by name when the model knows its class names (a model trained on
  /// digits 1 and 7 scores a dataset of 7s correctly), else by index.
  public func accuracy(on data: Dataset) -> Double {
    let predicted = predictedClasses(data.features)
    guard !predicted.isEmpty else { return 0 }
    let correct = zip(predicted, data.labels).filter { p, l in
      guard let names = classNames, p < names.count else { return p == l }
      return names[p] == data.classNames[l]
    }.count
    return Double(correct) / Double(predicted.count)
  }
}
