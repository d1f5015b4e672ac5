import SigbookTensor
import SigbookData

extension Model {
  /// The model's name of each of its classes (its training data's, else `0`, `1`…).
  public var outputClassNames: [String] {
    classNames.map { Self.classNames($0, count: classCount) } ?? (0..<classCount).map(String.init)
  }

  /// For each input of `data`, the model's class index standing for its label, or nil when
  /// the model has no class of that name.
  public func modelLabels(for data: Dataset) -> [Int?] {
    let names = outputClassNames
    let lookup = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    return data.labels.map {
      classNames == nil ? ($0 < classCount ? $0 : nil) : lookup[data.classNames[$0]]
    }
  }

  /// Loss and accuracy on a dataset, overall and per class (reconstruction loss only for an
  /// autoencoder).
  public func evaluation(on data: Dataset) -> Table {
    if task == .reconstruction {
      let (loss, _) = measure(inputs: data.features, labels: data.labels)
      return Table(
        title:
          "\(defaultLoss.rawValue) reconstruction loss on \(NumberFormat.grouped(data.count)) inputs",
        columns: ["inputs", "loss"], rows: [[.number(Double(data.count)), .number(loss)]])
    }
    let labels = modelLabels(for: data)
    let known = labels.indices.filter { labels[$0] != nil }
    let subset = data.rows(at: known)
    let targets = known.compactMap { labels[$0] }
    let (loss, _) = measure(inputs: subset.features, labels: targets)
    let predicted = predictedClasses(data.features)
    var rows: [[Table.Cell]] = []
    for (c, name) in data.classNames.enumerated() {
      let members = data.labels.indices.filter { data.labels[$0] == c }
      guard !members.isEmpty else { continue }
      let correct = members.filter { labels[$0] == predicted[$0] }.count
      rows.append([
        .text(name), .number(Double(members.count)), .number(Double(correct)),
        .number(Double(correct) / Double(members.count)),
      ])
    }
    let correct = data.labels.indices.filter { labels[$0] == predicted[$0] }.count
    rows.append([
      .text("all"), .number(Double(data.count)), .number(Double(correct)),
      .number(data.count == 0 ? 0 : Double(correct) / Double(data.count)),
    ])
    let title =
      known.isEmpty
      ? "no input is of a class the model knows (\(outputClassNames.joined(separator: ", ")))"
      : "\(defaultLoss.rawValue) loss \(NumberFormat.display(loss))"
        + (known.count < data.count
          ? " (on the \(known.count) inputs of classes the model knows)" : "")
    return Table(
      title: title,
      columns: ["class", "inputs", "correct", "accuracy"], rows: rows)
  }

  /// The confusion matrix on a dataset: rows are the data's classes, columns the model's.
  public func confusion(on data: Dataset) -> Table {
    let names = outputClassNames
    let predicted = predictedClasses(data.features)
    var counts = [[Int]](repeating: [Int](repeating: 0, count: names.count), count: data.classCount)
    for (l, p) in zip(data.labels, predicted) where p < names.count { counts[l][p] += 1 }
    return Table(
      title: "rows: true class · columns: predicted class",
      columns: ["class"] + names,
      rows: zip(data.classNames, counts).map { [.text($0)] + $1.map { .number(Double($0)) } })
  }

  /// Every input's label, predicted class and the probability of that prediction (the
  /// softmax or sigmoid of a model's logits, a model's own output when it is probabilities).
  public func predictions(on data: Dataset) -> Table {
    let outputs = predict(data.features)
    let predicted = classes(ofOutputs: outputs)
    let probabilities = probabilities(ofOutputs: outputs)
    let names = outputClassNames
    let d = probabilities.rowSize
    let rows: [[Table.Cell]] = data.labels.indices.map { i in
      let p = predicted[i]
      let probability =
        d == 1
        ? (p == 1 ? probabilities[flat: i] : 1 - probabilities[flat: i])
        : probabilities[flat: i * d + p]
      return [
        .number(Double(i)), .text(data.classNames[data.labels[i]]), .text(names[p]),
        .number(Double(probability)),
      ]
    }
    return Table(columns: ["input", "label", "predicted", "probability"], rows: rows)
  }

  /// The code of every input of an autoencoder (the encoder's output), as a dataset.
  public func encoded(_ data: Dataset) -> Dataset {
    let encoderCount = encoderLayerCount ?? layers.count
    var outputs: [Tensor] = []
    var start = 0
    while start < data.count {
      let end = Swift.min(data.count, start + 1024)
      var x = shaped(data.features).rows(start..<end)
      for layer in layers.prefix(encoderCount) { x = layer.apply(x) }
      outputs.append(x.flattenedRows)
      start = end
    }
    let width = encoderCount > 0 ? layerShapes[encoderCount - 1].reduce(1, *) : inputCount
    let features = outputs.isEmpty ? Tensor(zeros: [0, width]) : Tensor.concatenate(outputs)
    return Dataset(
      name: data.name + " (encoded)", features: features, labels: data.labels,
      classNames: data.classNames)
  }
}
