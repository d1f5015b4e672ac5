import SigbookTensor

/// Selections, splits, joins and noise: each returns a new data set and leaves this one untouched.
extension Dataset {
  /// The inputs at `indices`, in that order, with the same classes.
  ///
  /// - Precondition: every index is in `0 ..< count`.
  public func rows(at indices: [Int]) -> Dataset {
    Dataset(
      name: name, features: features.rows(at: indices), labels: indices.map { labels[$0] },
      classNames: classNames)
  }

  /// The inputs in `range`, with the same classes.
  ///
  /// - Precondition: `range` lies within `0 ..< count`.
  public func rows(_ range: Range<Int>) -> Dataset {
    Dataset(
      name: name, features: features.rows(range), labels: Array(labels[range]),
      classNames: classNames)
  }

  /// Some classes, and a random sample of each, with the classes re-indexed.
  ///
  /// The kept classes are `classes` sorted ascending and without repeats, and they are
  /// re-indexed in that order: classes `[7, 1]` of the ten digits give `classNames ["1", "7"]`
  /// and labels 0 and 1. With `perClass`, each kept class contributes a uniform random sample of
  /// that many inputs, drawn class after class from one `SeededGenerator(seed:)`; a class without
  /// inputs stays empty. The chosen inputs keep their order in this data set.
  ///
  /// - Parameters:
  ///   - classes: class indices to keep; `nil` keeps every class (and their indices).
  ///   - perClass: the number of inputs to keep of each class; `nil` keeps all of them.
  ///   - seed: the seed of the sample (unused without `perClass`).
  /// - Throws: `DataError.invalidArgument` for an empty list or an index that is not a class,
  ///   a negative `perClass`, or a class with fewer inputs than `perClass`.
  public func subset(classes: [Int]? = nil, perClass: Int? = nil, seed: Int = 0) throws -> Dataset {
    let kept = Array(Set(classes ?? Array(0..<classCount))).sorted()
    if let classes {
      guard !classes.isEmpty else {
        throw DataError.invalidArgument("choose at least one class of '\(name)'")
      }
      if let bad = classes.first(where: { $0 < 0 || $0 >= classCount }) {
        throw DataError.invalidArgument(
          "'\(name)' has no class \(bad); its class indices are 0 to \(classCount - 1)")
      }
    }
    if let perClass, perClass < 0 {
      throw DataError.invalidArgument(
        "the number of inputs per class must be at least 0, not \(perClass)")
    }
    let members = indicesPerClass()
    var generator = SeededGenerator(seed: seed)
    var chosen: [Int] = []
    for c in kept {
      let all = members[c]
      guard let perClass, all.count != perClass, !all.isEmpty else {
        chosen += all
        continue
      }
      guard all.count > perClass else {
        throw DataError.invalidArgument(
          "asked for \(perClass) inputs per class but class '\(classNames[c])' of '\(name)' "
            + "has only \(all.count)")
      }
      chosen += generator.sample(perClass, from: all.count).map { all[$0] }
    }
    chosen.sort()
    var newIndex = [Int](repeating: 0, count: classCount)
    for (i, c) in kept.enumerated() { newIndex[c] = i }
    return Dataset(
      name: name, features: features.rows(at: chosen), labels: chosen.map { newIndex[labels[$0]] },
      classNames: kept.map { classNames[$0] })
  }

  /// A stratified split into a training part and a test part.
  ///
  /// For each class of `n` inputs, the inputs are shuffled (Fisher–Yates, one
  /// `SeededGenerator(seed:)` for all classes, class after class) and the first
  /// `round(testFraction · n)` go to the test part, so both parts keep the class proportions:
  /// 500 and 500 inputs split 0.2 give 400 + 400 for training and 100 + 100 for testing. Both
  /// parts keep the order of this data set and all its classes; their names end in `(train)`
  /// and `(test)`.
  ///
  /// - Parameters:
  ///   - testFraction: the fraction of each class that goes to the test part, in [0, 1].
  ///   - seed: the seed of the shuffles.
  /// - Throws: `DataError.invalidArgument` when `testFraction` is outside [0, 1].
  public func split(testFraction: Double = 0.2, seed: Int = 0) throws -> (
    train: Dataset, test: Dataset
  ) {
    guard testFraction >= 0, testFraction <= 1 else {
      throw DataError.invalidArgument(
        "the test fraction must be between 0 and 1, not \(testFraction)")
    }
    var generator = SeededGenerator(seed: seed)
    var isTest = [Bool](repeating: false, count: count)
    for all in indicesPerClass() {
      let order = generator.permutation(all.count)
      let k = Int((testFraction * Double(all.count)).rounded())
      for i in order.prefix(k) { isTest[all[i]] = true }
    }
    var train = rows(at: (0..<count).filter { !isTest[$0] })
    var test = rows(at: (0..<count).filter { isTest[$0] })
    train.name = "\(name) (train)"
    test.name = "\(name) (test)"
    return (train, test)
  }

  /// The inputs of several data sets one after the other, their classes merged by name.
  ///
  /// The classes are the union of all class names in order of first appearance (the classes of
  /// the first data set, then the new ones of the second, …), and every label is re-indexed to
  /// that list: joining `["1", "7"]` and `["3"]` gives `["1", "7", "3"]`. The name joins the
  /// names with ` + `.
  ///
  /// - Throws: `DataError.invalidArgument` for an empty list, `DataError.shapeMismatch` when the
  ///   inputs do not all have the same shape.
  public static func concatenate(_ datasets: [Dataset]) throws -> Dataset {
    guard let first = datasets.first else {
      throw DataError.invalidArgument("concat needs at least one data set")
    }
    if let other = datasets.first(where: { $0.featureShape != first.featureShape }) {
      throw DataError.shapeMismatch(
        "cannot concatenate '\(first.name)' (inputs of shape \(first.featureShape)) and "
          + "'\(other.name)' (inputs of shape \(other.featureShape))")
    }
    var classNames: [String] = []
    var position: [String: Int] = [:]
    var labels: [Int] = []
    labels.reserveCapacity(datasets.reduce(0) { $0 + $1.count })
    for dataset in datasets {
      let mapping = dataset.classNames.map { name in
        if let p = position[name] { return p }
        position[name] = classNames.count
        classNames.append(name)
        return classNames.count - 1
      }
      labels += dataset.labels.map { mapping[$0] }
    }
    return Dataset(
      name: datasets.map(\.name).joined(separator: " + "),
      features: Tensor.concatenate(datasets.map(\.features)), labels: labels,
      classNames: classNames)
  }

  /// The same inputs with Gaussian noise added to every value.
  ///
  /// Each value gets an independent normal deviate of standard deviation `sigma` from
  /// `SeededGenerator(seed:)`, in row-major order. The result is not clamped: pixels may leave
  /// [0, 1].
  ///
  /// - Throws: `DataError.invalidArgument` when `sigma` is negative or not finite, or so large
  ///   that a value is beyond the range of a 32-bit float (±3.4 × 10³⁸).
  public func noise(sigma: Double, seed: Int = 0) throws -> Dataset {
    guard sigma >= 0, sigma.isFinite else {
      throw DataError.invalidArgument("sigma must be a finite number ≥ 0, not \(sigma)")
    }
    var generator = SeededGenerator(seed: seed)
    var result = self
    result.features.withUnsafeMutableBufferPointer { values in
      for i in values.indices { values[i] += Float(sigma * generator.nextNormal()) }
    }
    try result.features.requireFinite(
      "noise(\(name), sigma: \(sigma))", argument: "sigma", value: sigma)
    return result
  }

  /// The inputs of one class, in order, with all the classes kept (indices unchanged).
  ///
  /// - Precondition: `label` is a class index, in `0 ..< classNames.count`.
  func filter(label: Int) -> Dataset {
    precondition(label >= 0 && label < classCount, "class index \(label) of \(classCount)")
    return rows(at: labels.indices.filter { labels[$0] == label })
  }

  /// The inputs a network predicted as class `predicted`, in order, with all the classes kept.
  ///
  /// - Parameters:
  ///   - predictions: the predicted class index of every input, in order.
  ///   - predicted: the class index to keep.
  /// - Precondition: `predictions.count == count`.
  func filter(predictions: [Int], predicted: Int) -> Dataset {
    precondition(
      predictions.count == count, "\(predictions.count) predictions for \(count) inputs")
    return rows(at: predictions.indices.filter { predictions[$0] == predicted })
  }
}

extension Tensor {
  /// Throws when a value is infinite or NaN, naming what made it and its position: the check a
  /// generator runs on what it made, so that an argument too large (`sigma: 1e308`) is refused
  /// where it was given rather than as a NaN loss later.
  ///
  /// - Parameters:
  ///   - what: the call that made the values, for the message.
  ///   - argument: the argument to blame; `value` is its value.
  func requireFinite(_ what: String, argument: String, value: Double) throws {
    let bad = withUnsafeBufferPointer { values in values.firstIndex { !$0.isFinite } }
    guard let bad else { return }
    var position: [Int] = []
    var rest = bad
    for size in shape.dropFirst().reversed() {
      position.insert(rest % size, at: 0)
      rest /= size
    }
    position.insert(rest, at: 0)
    throw DataError.invalidArgument(
      "\(what) makes the value at \(position) \(scalars[bad].isNaN ? "NaN" : "infinite") in "
        + "32-bit floats (at most ±3.4e38); \(argument) \(value) is too large")
  }
}
