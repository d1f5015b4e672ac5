import Foundation
import SigbookTensor
import SigbookData
import SigbookNN
import SigbookAnalysis

extension Value {
  /// The value as an expression statement shows it: tables for datasets, models and histories,
  /// numbers as `NumberFormat.display` writes them.
  public var display: String { displayTable?.rendered ?? inlineDisplay }

  /// The table a value shows as — a dataset, model, history, table, signature set, clustering or
  /// novelty result — or nil for values shown on one line (the kernel also sends it as HTML).
  public var displayTable: Table? {
    switch self {
    case .dataset(let d): d.table
    case .model(let m): m.table
    case .history(let h): h.table
    case .table(let t): t
    case .signatures(let s): s.table
    case .clustering(let c): c.summaryTable
    case .novelty(let n): n.table
    default: nil
    }
  }

  /// The value on one line (inside lists, interpolations and `print`).
  var inlineDisplay: String {
    switch self {
    case .number(let x): NumberFormat.display(x)
    case .text(let t): t
    case .bool(let b): b ? "true" : "false"
    case .list(let items): "[" + items.map(\.listItemDisplay).joined(separator: ", ") + "]"
    case .range(let lower, let upper, let closed): "\(lower)\(closed ? "..." : "..<")\(upper)"
    case .option(let name): "." + name
    case .dataset(let d): "dataset '\(d.name)' (\(d.count) inputs)"
    case .model(let m): m.summary + (m.isTrained ? " (trained)" : "")
    case .layer(let spec): spec.displayName
    case .history(let h): "history of \(h.records.count) epochs"
    case .table(let t): "table of \(t.count) rows"
    case .figure(let f): "figure (\(f.kind))"
    case .signatures(let s): "signatures of \(s.count) inputs, \(s.layers.count) layers \(s.widths)"
    case .points(let p): "signature layer \(p.name) (\(p.count) × \(p.dimensions))"
    case .clustering(let c):
      c.layers.count == 1
        ? "clustering of \(c.layers[0].points.name): k = \(c.layers[0].k)"
        : "clustering of \(c.layers.count) layers, k = \(c.layers.map(\.k))"
    case .projection(let p): p.summary
    case .novelty(let n):
      "novelty by \(n.method.rawValue)"
        + (n.headline.flatMap { row in
          row.auroc.map { ", AUROC \(NumberFormat.display($0)) (\(row.name))" }
        } ?? "")
    case .nothing: ""
    }
  }

  private var listItemDisplay: String {
    if case .text(let t) = self { return "\"\(t)\"" }
    return inlineDisplay
  }

  /// The value written as workbook source, where it can be (numbers, texts, lists, options):
  /// used for defaults in help and for `--set` records.
  var sourceText: String {
    switch self {
    case .number(let x): NumberFormat.exact(x)
    case .text(let t):
      "\""
        + t.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
          of: "\"", with: "\\\"") + "\""
    case .list(let items): "[" + items.map(\.sourceText).joined(separator: ", ") + "]"
    default: inlineDisplay
    }
  }

  /// What `:vars` says of the value's size: `1,000 inputs`, `52,962 parameters`, `3 items`.
  var sizeDescription: String {
    switch self {
    case .dataset(let d): "\(NumberFormat.grouped(d.count)) inputs × \(d.featureShape)"
    case .model(let m):
      "\(NumberFormat.grouped(m.parameterCount)) parameters" + (m.isTrained ? ", trained" : "")
    case .list(let items): "\(items.count) items"
    case .history(let h): "\(h.records.count) epochs"
    case .table(let t): "\(t.count) rows"
    case .text(let t): "\(t.count) characters"
    case .figure(let f): f.kind
    case .signatures(let s): "\(NumberFormat.grouped(s.count)) inputs × \(s.widths)"
    case .points(let p): "\(NumberFormat.grouped(p.count)) × \(p.dimensions)"
    case .clustering(let c): "k = \(c.layers.map(\.k))"
    case .projection(let p): "\(NumberFormat.grouped(p.count)) points"
    default: inlineDisplay
    }
  }

  /// Equality as `==` sees it: numbers, texts, bools, options and lists of them by value; other
  /// values never compare equal.
  func isEqual(to other: Value) -> Bool {
    switch (self, other) {
    case (.number(let a), .number(let b)): a == b
    case (.text(let a), .text(let b)): a == b
    case (.bool(let a), .bool(let b)): a == b
    case (.option(let a), .option(let b)): a == b
    case (.list(let a), .list(let b)):
      a.count == b.count && zip(a, b).allSatisfy { $0.isEqual(to: $1) }
    case (.range(let a, let b, let c), .range(let d, let e, let f)): a == d && b == e && c == f
    default: false
    }
  }
}

extension Dataset {
  /// The dataset as a table: one row per class with its count, titled with the name, size and
  /// feature shape.
  var table: Table {
    Table(
      title: "dataset '\(name)' · \(NumberFormat.grouped(count)) inputs · features \(featureShape)",
      columns: ["class", "count"],
      rows: zip(classNames, countsPerClass()).map { [.text($0), .number(Double($1))] })
  }
}

extension Model {
  /// The model as a table: one row per layer with its output shape, its parameters and which
  /// signature layer (H1, H2…) it gives.
  var table: Table {
    let hidden = hiddenLayerIndices
    var title = "\(summary) · \(NumberFormat.grouped(parameterCount)) parameters"
    if let history, let last = history.records.last {
      title += " · trained \(history.records.count) epoch\(history.records.count == 1 ? "" : "s")"
      title += " (loss \(NumberFormat.display(last.loss))"
      if let accuracy = last.accuracy { title += ", accuracy \(NumberFormat.display(accuracy))" }
      title += ")"
    } else if let source {
      title += " · loaded from \((source as NSString).lastPathComponent)"
    } else {
      title += " · not trained"
    }
    if let classNames { title += "\nclasses: " + classNames.joined(separator: ", ") }
    let rows: [[Table.Cell]] = layers.enumerated().map { i, layer in
      let signature = hidden.firstIndex(of: i).map { "H\($0 + 1)" }
      return [
        .number(Double(i + 1)), .text(layer.spec.displayName), .text("\(layerShapes[i])"),
        .number(Double(layer.parameters.reduce(0) { $0 + $1.count })),
        signature.map { .text($0) } ?? .empty,
      ]
    }
    if let origins = layerOrigins, origins.count == rows.count {
      // An imported model also shows the nodes of its file each layer stands for.
      return Table(
        title: title, columns: ["layer", "kind", "output", "parameters", "signature", "from"],
        rows: zip(rows, origins).map { $0 + [.text($1)] })
    }
    return Table(
      title: title, columns: ["layer", "kind", "output", "parameters", "signature"], rows: rows)
  }
}

extension History {
  /// Loss and accuracy per epoch (times are left out so that outputs are reproducible).
  var table: Table {
    let hasAccuracy = records.contains { $0.accuracy != nil }
    let hasValidation = records.contains { $0.validationLoss != nil }
    var columns = ["epoch", "loss"]
    if hasAccuracy { columns.append("accuracy") }
    if hasValidation { columns += hasAccuracy ? ["val_loss", "val_accuracy"] : ["val_loss"] }
    let rows: [[Table.Cell]] = records.map { r in
      var row: [Table.Cell] = [.number(Double(r.epoch)), .number(r.loss)]
      if hasAccuracy { row.append(r.accuracy.map { .number($0) } ?? .empty) }
      if hasValidation {
        row.append(r.validationLoss.map { .number($0) } ?? .empty)
        if hasAccuracy { row.append(r.validationAccuracy.map { .number($0) } ?? .empty) }
      }
      return row
    }
    return Table(
      title:
        "\(loss.rawValue) loss, \(options.optimizer.rawValue), lr \(NumberFormat.display(options.learningRate))\(options.schedule == .constant ? "" : " (\(options.schedule.rawValue))"), batch \(options.batchSize), \(NumberFormat.grouped(sampleCount)) inputs",
      columns: columns, rows: rows)
  }
}

extension SignatureSet {
  /// One row per layer: its width, mean activation and the fraction of active (non-zero) units.
  var table: Table {
    Table(
      title:
        "signatures of '\(dataName)' through \(modelSummary) · \(NumberFormat.grouped(count)) inputs",
      columns: ["layer", "width", "mean", "active"],
      rows: zip(layerNames, layers).map { name, layer in
        let active = layer.scalars.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        return [
          .text(name), .number(Double(layer.rowSize)), .number(layer.mean()),
          .number(layer.count == 0 ? 0 : Double(active) / Double(layer.count)),
        ]
      })
  }
}

extension Clustering {
  /// One row per layer: width, chosen k, silhouette, inertia and cluster sizes.
  var summaryTable: Table {
    Table(
      title: "k-means of \(NumberFormat.grouped(count)) inputs",
      columns: ["layer", "width", "k", "silhouette", "inertia", "sizes"],
      rows: layers.map { layer in
        [
          .text(layer.points.name), .number(Double(layer.points.dimensions)),
          .number(Double(layer.k)),
          layer.silhouette.map { .number($0) } ?? .empty, .number(layer.result.inertia),
          .text(layer.result.clusterSizes.map(String.init).joined(separator: " ")),
        ]
      })
  }
}
