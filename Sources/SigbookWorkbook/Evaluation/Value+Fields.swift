import SigbookData
import SigbookTensor

extension Session {
  /// The fields each kind of value answers, for messages and completion (a table also
  /// answers its column names).
  static func fieldNames(of value: Value) -> [String] {
    let names = Typing.fields(of: value.kind).map(\.name)
    if case .table(let t) = value { return names + t.columns }
    return names
  }

  /// The value of `value.name`.
  func field(of value: Value, _ name: Identifier) throws(WorkbookError) -> Value {
    if let result = fieldValue(value, name.name) { return result }
    throw Typing.missingField(value.kind, name.name, among: Self.fieldNames(of: value))
      .at(name.span, kind: .name)
  }

  private func fieldValue(_ value: Value, _ name: String) -> Value? {
    func numbers(_ xs: [Double]) -> Value { .list(xs.map { .number($0) }) }
    func ints(_ xs: [Int]) -> Value { .list(xs.map { .number(Double($0)) }) }
    switch (value, name) {
    case (.dataset(let d), "count"): return .number(Double(d.count))
    case (.dataset(let d), "features"): return ints(d.featureShape)
    case (.dataset(let d), "classes"): return .list(d.classNames.map { .text($0) })
    case (.dataset(let d), "labels"): return .list(d.labels.map { .text(d.classNames[$0]) })
    case (.dataset(let d), "name"): return .text(d.name)
    case (.model(let m), "layers"): return .list(m.specs.map { .layer($0) })
    case (.model(let m), "history"): return m.history.map { .history($0) } ?? .nothing
    case (.model(let m), "parameters"): return .number(Double(m.parameterCount))
    case (.model(let m), "inputs"): return ints(m.inputShape)
    case (.model(let m), "outputs"): return .number(Double(m.outputCount))
    case (.model(let m), "classes"): return .list((m.classNames ?? []).map { .text($0) })
    case (.model(let m), "trained"): return .bool(m.isTrained)
    case (.model(let m), "signature_widths"): return ints(m.hiddenLayerWidths)
    case (.history(let h), "count"): return .number(Double(h.records.count))
    case (.history(let h), "loss"): return numbers(h.records.map(\.loss))
    case (.history(let h), "accuracy"): return numbers(h.records.compactMap(\.accuracy))
    case (.history(let h), "val_loss"): return numbers(h.records.compactMap(\.validationLoss))
    case (.history(let h), "val_accuracy"):
      return numbers(h.records.compactMap(\.validationAccuracy))
    case (.history(let h), "last"):
      guard let r = h.records.last else { return .nothing }
      return .table(Table(columns: h.table.columns, rows: h.table.rows.suffix(1)))
        .withTitle(r.epoch)
    case (.list(let items), "count"): return .number(Double(items.count))
    case (.list(let items), "first"): return items.first ?? .nothing
    case (.list(let items), "last"): return items.last ?? .nothing
    case (.range(let l, let u, let c), "count"):
      return .number(Double(Value.rangeCount(lower: l, upper: u, isClosed: c)))
    case (.table(let t), "count"): return .number(Double(t.count))
    case (.table(let t), "columns"): return .list(t.columns.map { .text($0) })
    case (.table(let t), _):
      // A row answers its cells, a table its columns (as lists).
      guard let column = t.column(name) else { return nil }
      return t.isRow ? column[0].value : .list(column.map(\.value))
    case (.text(let t), "count"): return .number(Double(t.count))
    case (.figure(let f), "kind"): return .text(f.kind)
    case (.figure(let f), "title"): return .text(f.title)
    case (.signatures(let sig), "count"): return .number(Double(sig.count))
    case (.signatures(let sig), "layers"): return .number(Double(sig.layers.count))
    case (.signatures(let sig), "widths"): return ints(sig.widths)
    case (.signatures(let sig), "classes"): return .list(sig.classNames.map { .text($0) })
    case (.points(let p), "count"): return .number(Double(p.count))
    case (.points(let p), "width"): return .number(Double(p.dimensions))
    case (.points(let p), "name"): return .text(p.name)
    case (.clustering(let c), "k"):
      return c.layers.count == 1 ? .number(Double(c.layers[0].k)) : ints(c.layers.map(\.k))
    case (.clustering(let c), "layers"): return .number(Double(c.layers.count))
    case (.clustering(let c), "count"): return .number(Double(c.count))
    case (.clustering(let c), "silhouette"):
      let values = c.layers.map { $0.silhouette.map { Value.number($0) } ?? .nothing }
      return c.layers.count == 1 ? values[0] : .list(values)
    case (.clustering(let c), "inertia"):
      return c.layers.count == 1
        ? .number(c.layers[0].result.inertia) : numbers(c.layers.map(\.result.inertia))
    case (.clustering(let c), "sizes"):
      return c.layers.count == 1
        ? ints(c.layers[0].result.clusterSizes)
        : .list(c.layers.map { ints($0.result.clusterSizes) })
    case (.projection(let p), "count"): return .number(Double(p.count))
    case (.projection(let p), "trustworthiness"):
      return p.trustworthiness.map { .number($0) } ?? .nothing
    case (.projection(let p), "method"): return .text(p.method)
    case (.novelty(let n), "auroc"): return n.headline?.auroc.map { .number($0) } ?? .nothing
    case (.novelty(let n), "aupr"): return n.headline?.aupr.map { .number($0) } ?? .nothing
    case (.novelty(let n), "fpr95"): return n.headline?.fpr95.map { .number($0) } ?? .nothing
    case (.novelty(let n), "layer"): return n.headline.map { .text($0.name) } ?? .nothing
    case (.novelty(let n), "scores"): return .table(n.scoreTable)
    case (.novelty(let n), "best"): return n.best.map { .text($0.name) } ?? .nothing
    case (.novelty(let n), "method"): return .option(n.method.rawValue)
    // Training time and per-batch losses (issue 8, figures): seconds vary between runs, so they
    // are for the user to print, never part of a figure or a default output.
    case (.model(let m), "seconds"): return m.history.map { .number($0.seconds) } ?? .nothing
    case (.history(let h), "batch_loss"): return numbers(h.batchLosses)
    case (.history(let h), "seconds"): return .number(h.seconds)
    default: return nil
    }
  }

  /// The value of `value[index]`: an item of a list (from 0), inputs of a dataset (an index or a
  /// range, from 0), a row of a table.
  func subscriptValue(_ value: Value, _ index: Value, span: SourceSpan, indexSpan: SourceSpan)
    throws(WorkbookError) -> Value
  {
    func outOfRange(_ i: Int, _ count: Int, _ what: String) -> WorkbookError {
      WorkbookError(
        kind: .value,
        message: count == 0
          ? "index \(i) is out of range: \(what) is empty"
          : "index \(i) is out of range: \(what) has \(count) (from 0 to \(count - 1))",
        span: indexSpan)
    }
    func bounds(_ l: Int, _ u: Int, _ c: Bool, _ count: Int, _ what: String) throws(WorkbookError)
      -> Range<Int>
    {
      let end = c ? u + 1 : u
      guard l >= 0, end <= count, l <= end else {
        throw WorkbookError(
          kind: .value,
          message: "range \(l)\(c ? "..." : "..<")\(u) is out of range: \(what) has \(count)",
          span: indexSpan)
      }
      return l..<end
    }
    if case .number(let x) = index, x != x.rounded() || abs(x) >= 1e15 {
      throw WorkbookError(
        kind: .value,
        message: x.isFinite && x == x.rounded()
          ? "index \(NumberFormat.display(x)) is out of range"
          : "an index must be a whole number, not \(NumberFormat.display(x))",
        span: indexSpan)
    }
    switch (value, index) {
    case (.list(let items), .number(let x)) where x == x.rounded():
      let i = Int(x)
      guard i >= 0 && i < items.count else { throw outOfRange(i, items.count, "the list") }
      return items[i]
    case (.list(let items), .range(let l, let u, let c)):
      return .list(Array(items[try bounds(l, u, c, items.count, "the list")]))
    case (.dataset(let d), .number(let x)) where x == x.rounded():
      let i = Int(x)
      guard i >= 0 && i < d.count else { throw outOfRange(i, d.count, "the dataset") }
      return .dataset(d.rows(i..<i + 1))
    case (.dataset(let d), .range(let l, let u, let c)):
      return .dataset(d.rows(try bounds(l, u, c, d.count, "the dataset")))
    case (.signatures(let sig), .number(let x)) where x == x.rounded():
      let i = Int(x)
      guard sig.layerNumbers.contains(i) else {
        throw WorkbookError(
          kind: .value,
          message:
            "layer \(i) is out of range: the signatures have layers \(sig.layerNumbers.lowerBound) to \(sig.layerNumbers.upperBound) (\(sig.includesInput ? "the inputs are layer 0" : "layers are numbered from 1"))",
          span: indexSpan)
      }
      return .points(sig.layer(i))
    case (.clustering(let c), .number(let x)) where x == x.rounded():
      let i = Int(x)
      guard c.layerNumbers.contains(i) else {
        throw WorkbookError(
          kind: .value,
          message:
            "layer \(i) is out of range: the clustering has layers \(c.layerNumbers.first ?? 1) to \(c.layerNumbers.last ?? 0) (\(c.layerNumbers.first == 0 ? "the inputs are layer 0" : "layers are numbered from 1"))",
          span: indexSpan)
      }
      return .clustering(c.layer(i))
    case (.clustering(let c), .range(let l, let u, let closed)):
      let numbers = c.layerNumbers
      guard (closed ? l <= u : l < u), let part = c.layers(l...(closed ? u : u - 1)) else {
        throw WorkbookError(
          kind: .value,
          message:
            "range \(l)\(closed ? "..." : "..<")\(u) is out of range: the clustering has layers \(numbers.first ?? 1) to \(numbers.last ?? 0)",
          span: indexSpan)
      }
      return .clustering(part)
    case (.table(let t), .number(let x)) where x == x.rounded():
      let i = Int(x)
      guard i >= 0 && i < t.count else { throw outOfRange(i, t.count, "the table") }
      var row = t.selecting([t.rows[i]], "row \(i)")
      row.isRow = true
      return .table(row)
    case (.table(let t), .range(let l, let u, let c)):
      let range = try bounds(l, u, c, t.count, "the table")
      return .table(t.selecting(Array(t.rows[range]), "rows \(l)\(c ? "..." : "..<")\(u)"))
    default:
      if case .failure(let error) = Typing.index(.of(value.kind), index.kind) {
        throw error.at(span)
      }
      throw WorkbookError(
        kind: .type,
        message: "\(value.kind.withArticle) cannot be indexed by \(index.kind.withArticle)",
        span: span)
    }
  }
}

extension Value {
  fileprivate func withTitle(_ epoch: Int) -> Value {
    guard case .table(var t) = self else { return self }
    t.title = "epoch \(epoch)"
    return .table(t)
  }
}

extension Table.Cell {
  /// The cell as a value of the language: a number, a text, or nothing for an empty cell.
  var value: Value {
    switch self {
    case .number(let x): .number(x)
    case .text(let t): .text(t)
    case .empty: .nothing
    }
  }
}
