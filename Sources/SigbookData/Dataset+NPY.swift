import SigbookTensor

extension Dataset {
  /// A data set from NumPy arrays: features from one `.npy` file, labels from another.
  ///
  /// The features may have any shape `[N, …]` (a vector `[N]` becomes `[N, 1]`); unsigned
  /// bytes are read as pixels and scaled to [0, 1], other types are kept as they are. Labels
  /// are a vector of N integers (or whole floats); their distinct values, sorted, are the class
  /// names (`0`…`9`). Without a label file every input is of the one class `all`.
  ///
  /// - Parameters:
  ///   - features: the `.npy` file of inputs; its name without `.npy` names the data set.
  ///   - labels: the `.npy` file of labels, or nil.
  ///   - memoryLimit: what each array may take, checked as its header announces it.
  ///   - isCancelled: polled while the files are read and inflated (Ctrl-C).
  /// - Throws: the errors of `NPY.read`, `DataError.countMismatch` when the two files hold
  ///   different numbers of inputs, `.invalidArgument` for a label file that is not a vector of
  ///   whole numbers or a feature file that is a scalar.
  public static func npy(
    features path: String, labels labelPath: String? = nil,
    memoryLimit: MemoryLimit = .unlimited, isCancelled: @escaping () -> Bool = { false }
  ) throws -> Dataset {
    let x = try NPY.read(path, memoryLimit: memoryLimit, isCancelled: isCancelled)
    guard let n = x.shape.first else {
      throw DataError.invalidArgument("'\(path)' holds a single value, not one input per row")
    }
    var shape = x.shape
    if shape.count == 1 { shape.append(1) }
    var values = x.floats
    if x.typeName == "uint8" { for i in values.indices { values[i] /= 255 } }
    let features = Tensor(shape: shape, scalars: values)
    var labels = [Int](repeating: 0, count: n)
    var classNames = ["all"]
    if let labelPath {
      (labels, classNames) = try npyLabels(
        labelPath, count: n, featuresPath: path, memoryLimit: memoryLimit,
        isCancelled: isCancelled)
    }
    return Dataset(
      name: NPY.baseName(path), features: features, labels: labels, classNames: classNames)
  }

  /// The labels of a `.npy` vector as class indices and sorted class names.
  public static func npyLabels(
    _ path: String, count: Int, featuresPath: String, memoryLimit: MemoryLimit = .unlimited,
    isCancelled: @escaping () -> Bool = { false }
  ) throws -> (labels: [Int], classNames: [String]) {
    let y = try NPY.read(path, memoryLimit: memoryLimit, isCancelled: isCancelled)
    guard y.shape.count == 1 || (y.shape.count == 2 && y.shape[1] == 1) else {
      throw DataError.invalidArgument(
        "'\(path)' has shape \(y.shape); labels are a vector of one whole number per input")
    }
    guard y.shape[0] == count else {
      throw DataError.countMismatch(
        images: featuresPath, imageCount: count, labels: path, labelCount: y.shape[0])
    }
    if let bad = y.values.first(where: { $0 != $0.rounded() || Swift.abs($0) >= 1e15 }) {
      throw DataError.invalidArgument(
        "'\(path)' holds the label \(bad); labels must be whole numbers (class indices)")
    }
    let distinct = Array(Set(y.values)).sorted()
    let index = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, $0) })
    return (y.values.map { index[$0] ?? 0 }, distinct.map { String(Int64($0)) })
  }
}

extension NPY {
  /// The last path component without `.gz` and `.npy`: what names a data set.
  public static func baseName(_ path: String) -> String {
    var name = Substring(path.split(separator: "/").last ?? Substring(path))
    for suffix in [".gz", ".npy"] where name.lowercased().hasSuffix(suffix) {
      name = name.dropLast(suffix.count)
    }
    return name.isEmpty ? "npy" : String(name)
  }
}
