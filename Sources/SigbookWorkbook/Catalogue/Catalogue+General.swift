import Foundation
import SigbookAnalysis
import SigbookData
import SigbookNN

extension Catalogue {
  /// A failure that carries an engine error's message (lower layers write complete messages).
  static func failure(
    _ error: any Error, kind: WorkbookError.Kind = .value, blaming key: String? = nil
  )
    -> CallFailure
  {
    CallFailure(String(describing: error), kind: kind, parameter: key)
  }

  static let general: [FunctionEntry] = [
    FunctionEntry(
      "print", category: "General",
      parameters: [
        .positional("value", .any, doc: "the values to write, separated by spaces", variadic: true)
      ],
      returns: .kind(.nothing),
      summary:
        "Writes the values on one line of the output: texts as they are, numbers whole when they are whole and with four significant digits otherwise, tables as aligned text.",
      example: "print(\"accuracy\", accuracy(net, test))"
    ) { call in
      call.session.emit(.printed(call.variadic.map(\.display).joined(separator: " ")))
      return .nothing
    },
    FunctionEntry(
      "help", category: "General",
      parameters: [
        .positional(
          "name", .any,
          doc: "a function (written as a name or a text); leave out for the list of functions",
          optional: true)
      ],
      returns: .kind(.text),
      summary:
        "The catalogue entry of a function: its signature, what it does, its parameters and an example. Without a name, the list of every function by category.",
      example: "help(kmeans)"
    ) { call in
      guard let value = call.value("name") else { return .text(Catalogue.overview) }
      guard case .text(let name) = value else {
        throw call.failure("help takes a function's name, as in help(\"fit\")", blaming: "name")
      }
      guard let help = Catalogue.help(for: name, session: call.session) else {
        throw call.failure(
          "unknown function '\(name)'", blaming: "name", kind: .name,
          hint: nearestName(to: name, among: Catalogue.helpNames(session: call.session))
            .map { "did you mean '\($0)'?" })
      }
      return .text(help)
    },
    FunctionEntry(
      "export", category: "General",
      parameters: [
        .positional(
          "value",
          .oneOf([
            .kind(.dataset), .kind(.signatures), .kind(.signatureLayer), .kind(.projection),
            .kind(.clustering), .kind(.table), .kind(.novelty),
          ]),
          doc:
            "a dataset, a whole signature set (as .npz), one signature layer, a projection, a one-layer clustering (its assignments), a table or a novelty result (every input's scores)"
        ),
        .positional(
          "file", .kind(.text),
          doc:
            "a file name ending in .npy, .npz or .csv, written in the figures folder (a name that leaves it is refused)"
        ),
      ],
      returns: .kind(.nothing),
      summary:
        "Writes a value for other tools: NumPy .npy (float32 in C order; a clustering's assignments as int64), a whole signature set as one NumPy .npz (numpy.load gives H1, H2, … as [inputs, width] float32 arrays, maps flattened per input, then labels and class_names, and for a classifier's signatures predictions and prediction_names), or CSV with a header row (features then the label, a projection's x, y, label and cluster, a clustering's assignments, a table's columns, a novelty result's scores of every input by layer). Files are written atomically.",
      example: "export(sig, \"sig.npz\")"
    ) { call in
      let name = call.text("file")
      if case .signatures(let sig)? = call.value("value") {
        guard name.hasSuffix(".npz") else {
          throw call.failure(
            "a signature set exports as one .npz (all its layers), not '\(name)'",
            blaming: "file", hint: "write export(sig, \"sig.npz\"), or export(sig[1], \"h1.npy\")")
        }
        let path = try call.session.writePath(name)
        let data: Data
        do { data = try NPZ.encode(sig.namedArrays) } catch let error as NPZ.TooLarge {
          throw call.failure(error.description, blaming: "value")
        }
        try call.session.writeFile(data, to: path)
        return .nothing
      }
      guard name.hasSuffix(".npy") || name.hasSuffix(".csv") else {
        throw call.failure(
          "export writes .npy or .csv files, not '\(name)'"
            + (name.hasSuffix(".npz")
              ? " (.npz takes a whole signature set)" : ""),
          blaming: "file")
      }
      let path = try call.session.writePath(name)
      let data: Data
      switch call.value("value") {
      case .dataset(let d)?:
        data =
          name.hasSuffix(".npy")
          ? NPY.encode(d.features.scalars, shape: d.features.shape) : Data(d.csvTable.csv.utf8)
      case .points(let p)?:
        data =
          name.hasSuffix(".npy")
          ? NPY.encode(p.points.scalars, shape: p.points.shape) : Data(p.csvTable.csv.utf8)
      case .projection(let p)?:
        data =
          name.hasSuffix(".npy")
          ? NPY.encode(p.points.scalars, shape: p.points.shape) : Data(p.csvTable.csv.utf8)
      case .clustering(let c)?:
        guard c.layers.count == 1, let layer = c.layers.first else {
          throw call.failure(
            "export one layer's clustering: clusters[2], not all \(c.layers.count) layers",
            blaming: "value")
        }
        data =
          name.hasSuffix(".npy")
          ? NPY.encode(layer.assignments, shape: [layer.assignments.count])
          : Data(
            Table(
              columns: ["cluster", "label"],
              rows: zip(layer.assignments, layer.points.labels).map {
                [.number(Double($0)), .text(layer.points.classNames[$1])]
              }
            ).csv.utf8)
      case .table(let t)?:
        guard name.hasSuffix(".csv") else {
          throw call.failure("a table exports as .csv", blaming: "file")
        }
        data = Data(t.csv.utf8)
      case .novelty(let n)?:
        guard name.hasSuffix(".csv") else {
          throw call.failure("a novelty result exports as .csv", blaming: "file")
        }
        data = Data(n.scoreTable.csv.utf8)
      default: return .nothing
      }
      try call.session.writeFile(data, to: path)
      return .nothing
    },
  ]

  /// The entries grouped by category, the categories in the order they first appear and the
  /// entries of each in catalogue order, so that each category is listed once.
  static var entriesByCategory: [FunctionEntry] {
    var order: [String] = []
    var groups: [String: [FunctionEntry]] = [:]
    for entry in entries {
      if groups[entry.category] == nil { order.append(entry.category) }
      groups[entry.category, default: []].append(entry)
    }
    return order.flatMap { groups[$0] ?? [] }
  }

  /// Every function by category, one line each: what `help()` prints.
  public static var overview: String {
    var lines: [String] = []
    var category = ""
    for entry in entriesByCategory {
      if entry.category != category {
        if !lines.isEmpty { lines.append("") }
        lines.append(entry.category)
        category = entry.category
      }
      var first =
        entry.summary.range(of: ". ").map { String(entry.summary[..<$0.lowerBound]) }
        ?? entry.summary
      if first.count > 74 { first = String(first.prefix(73)) + "…" }
      lines.append("  \(entry.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(first)")
    }
    return lines.joined(separator: "\n")
  }
}

extension Dataset {
  /// The dataset as a table for CSV: one column per feature (`f0`, `f1`…) then `label`.
  var csvTable: Table {
    let d = featureCount
    let columns = (0..<d).map { "f\($0)" } + ["label"]
    let values = features.scalars
    let rows: [[Table.Cell]] = (0..<count).map { i in
      (0..<d).map { .number(Double(values[i * d + $0])) } + [.text(classNames[labels[i]])]
    }
    return Table(columns: columns, rows: rows)
  }
}

extension Catalogue {
  /// The whole catalogue as Markdown: what `docs/functions.md` holds (a test keeps it current).
  ///
  /// - Parameter formats: the model formats linked, whose readers' operations are listed.
  public static func markdown(formats: [any ModelFormat]) -> String {
    var out = """
      # sigbook functions

      Generated from the function catalogue (`sigbook help --markdown`); do not edit by hand.
      Names and labels are the contract workbooks are written against.

      """
    var category = ""
    for entry in entriesByCategory {
      if entry.category != category {
        out += "\n## \(entry.category)\n"
        category = entry.category
      }
      let text = entry.documentation(formats: formats)
      out += "\n### `\(entry.name)`\n\n```\n\(entry.signature)\n```\n\n\(text)\n"
      if !entry.parameters.isEmpty {
        out += "\n| parameter | accepts | default | meaning |\n|---|---|---|---|\n"
        for p in entry.parameters {
          let name = p.label.map { "`\($0):`" } ?? "`\(p.name)`" + (p.isVariadic ? " …" : "")
          let accepts = p.accepts.description.replacingOccurrences(of: "|", with: "\\|")
          let defaultText =
            p.isRequired ? "required" : p.defaultText ?? (p.isVariadic ? "" : "none")
          out +=
            "| \(name) | \(accepts) | \(defaultText.replacingOccurrences(of: "|", with: "\\|")) | \(p.doc.replacingOccurrences(of: "|", with: "\\|")) |\n"
        }
      }
      out += "\nExample:\n\n```sigbook\n\(entry.example)\n```\n"
    }
    return out
  }
}

extension PointSet {
  /// The points as a table for CSV: one column per dimension then `label`.
  var csvTable: Table {
    let d = dimensions
    let values = points.scalars
    return Table(
      columns: (0..<d).map { "\(name.lowercased())_\($0)" } + ["label"],
      rows: (0..<count).map { i in
        (0..<d).map { .number(Double(values[i * d + $0])) } + [.text(classNames[labels[i]])]
      })
  }
}

extension Projection {
  /// The projection as a table for CSV: x, y, label, and prediction and cluster when known.
  var csvTable: Table {
    let values = points.scalars, d = points.rowSize
    var columns = ["x", "y", "label"]
    if predictions != nil { columns.append("predicted") }
    if clusters != nil { columns.append("cluster") }
    return Table(
      columns: columns,
      rows: (0..<count).map { i in
        var row: [Table.Cell] = [
          .number(Double(values[i * d])), .number(Double(d > 1 ? values[i * d + 1] : 0)),
          .text(classNames[labels[i]]),
        ]
        if let predictions { row.append(.text(predictionNames[predictions[i]])) }
        if let clusters { row.append(.number(Double(clusters[i]))) }
        return row
      })
  }
}
