import Foundation
import SigbookData
import SigbookTensor

extension Catalogue {
  /// The numbers of the `values` argument: one list (or range), or several numbers.
  private static func numbers(_ call: Call) -> [Double] {
    call.variadic.flatMap { value -> [Double] in
      switch value {
      case .number(let x): [x]
      case .list(let items): items.compactMap { if case .number(let x) = $0 { x } else { nil } }
      default: []
      }
    }
  }

  private static let numbersParameter = Parameter.positional(
    "values", .oneOf([.number, .list(.number)]),
    doc: "a list (or range) of numbers, or several numbers", variadic: true)

  /// A value as a table cell: numbers stay numbers, anything else is written as text.
  static func cell(_ value: Value) -> Table.Cell {
    switch value {
    case .number(let x): .number(x)
    case .text(let t): .text(t)
    case .nothing: .empty
    default: .text(value.inlineDisplay)
    }
  }

  static let lists: [FunctionEntry] = [
    FunctionEntry(
      "sum", category: "Lists and tables", parameters: [numbersParameter], returns: .number,
      summary: "The sum of numbers (0 for none), added in order.",
      example: "sum(accs)"
    ) { call in .number(numbers(call).reduce(0, +)) },
    FunctionEntry(
      "mean", category: "Lists and tables", parameters: [numbersParameter], returns: .number,
      summary: "The arithmetic mean of one or more numbers.",
      example: "mean(layer_report(clusters).nmi)"
    ) { call in
      let xs = numbers(call)
      guard !xs.isEmpty else {
        throw call.failure("the mean of no numbers is undefined", blaming: "values")
      }
      return .number(xs.reduce(0, +) / Double(xs.count))
    },
    extremum("min", "The smallest of one or more numbers.", "min(net.history.loss)", by: <),
    extremum("max", "The largest of one or more numbers.", "max(accs)", by: >),
    FunctionEntry(
      "sort", category: "Lists and tables",
      parameters: [
        .positional(
          "value", .oneOf([.list(.number), .list(.kind(.text)), .kind(.table)]),
          doc: "a list of numbers or texts, or a table"),
        .labelled("by", .kind(.text), doc: "the column to sort a table by", optional: true),
        .labelled("descending", .kind(.bool), doc: "largest first", default: .bool(false)),
      ],
      returns: .any,
      summary:
        "A list in increasing order, or a table's rows ordered by one column (numbers before texts, ties kept in their order). Returns a new value; the argument is unchanged.",
      example: "sort(layer_report(clusters), by: \"nmi\", descending: true)"
    ) { call in
      let descending = call.bool("descending")
      switch call.value("value") {
      case .table(let t)?:
        guard let column = call.optionalText("by") else {
          throw call.failure(
            "sorting a table needs the column to sort by", blaming: "value",
            hint: "its columns: " + t.columns.joined(separator: ", "))
        }
        guard let j = t.columns.firstIndex(of: column) else {
          throw call.failure(
            "the table has no column '\(column)'", blaming: "by",
            hint: nearestName(to: column, among: t.columns).map { "did you mean '\($0)'?" }
              ?? "its columns: " + t.columns.joined(separator: ", "))
        }
        let order = t.rows.indices.sorted { a, b in
          let x = t.rows[a][j], y = t.rows[b][j]
          let less = descending ? cellLess(y, x) : cellLess(x, y)
          let more = descending ? cellLess(x, y) : cellLess(y, x)
          return less || (!more && a < b)
        }
        return .table(Table(title: t.title, columns: t.columns, rows: order.map { t.rows[$0] }))
      case .list(let items)?:
        if call.optionalText("by") != nil {
          throw call.failure(
            "'by:' sorts a table by a column; a list sorts by its values", blaming: "by")
        }
        let sorted = items.enumerated().sorted { a, b in
          let less = descending ? valueLess(b.element, a.element) : valueLess(a.element, b.element)
          let more = descending ? valueLess(a.element, b.element) : valueLess(b.element, a.element)
          return less || (!more && a.offset < b.offset)
        }
        return .list(sorted.map(\.element))
      default: return .nothing
      }
    },
    FunctionEntry(
      "table", category: "Lists and tables",
      parameters: [
        .positional(
          "rows", .list(.kind(.table)),
          doc: "rows picked from tables (t[2]), all with the same columns",
          optional: true)
      ],
      returns: .kind(.table),
      summary:
        "A table from columns, each passed with its name as a label (lists of the same length: numbers, or anything else written as text), or from a list of rows taken from other tables. Like every table it can be printed, indexed, sorted, filtered and exported.",
      example: "table(hidden: [10, 100, 500], accuracy: accs)",
      otherLabels: .list(.any)
    ) { call in
      if let rows = call.value("rows") {
        guard call.extra.isEmpty else {
          throw call.failure(
            "a table is made of rows or of named columns, not both", blaming: "rows")
        }
        guard case .list(let items) = rows else { return .nothing }
        var tables: [Table] = []
        for case .table(let t) in items { tables.append(t) }
        guard let columns = tables.first?.columns else {
          return .table(Table(columns: [], rows: []))
        }
        guard tables.allSatisfy({ $0.columns == columns }) else {
          throw call.failure("the rows come from tables with different columns", blaming: "rows")
        }
        return .table(Table(columns: columns, rows: tables.flatMap(\.rows)))
      }
      guard let first = call.extra.first else {
        throw call.failure("table needs columns, as in table(k: ks, nmi: nmis), or a list of rows")
      }
      var columns: [[Value]] = []
      for (label, value) in call.extra {
        guard case .list(let items) = value else { return .nothing }
        guard items.count == columns.first?.count ?? items.count else {
          throw call.failure(
            "the column '\(label)' has \(items.count) values but '\(first.label)' has \(columns[0].count)",
            blaming: label)
        }
        columns.append(items)
      }
      let rows = (0..<columns[0].count).map { i in columns.map { cell($0[i]) } }
      return .table(Table(columns: call.extra.map(\.label), rows: rows))
    },
    FunctionEntry(
      "filter", category: "Lists and tables",
      parameters: [
        .positional("table", .kind(.table), doc: "the table whose rows to keep"),
        .positional("column", .kind(.text), doc: "the column the condition looks at"),
        .labelled(
          "above", .number, doc: "keep rows whose value is greater than this", optional: true),
        .labelled("below", .number, doc: "keep rows whose value is less than this", optional: true),
        .labelled(
          "equals", .oneOf([.number, .kind(.text)]), doc: "keep rows whose value is this",
          optional: true),
      ],
      returns: .kind(.table),
      summary:
        "The rows of a table that meet a condition on one column: above or below a number, or equal to a number or a text. Conditions given together must all hold.",
      example: "filter(paths(clusters), \"count\", above: 10)"
    ) { call in
      guard case .table(let t)? = call.value("table") else { return .nothing }
      let column = call.text("column")
      guard let j = t.columns.firstIndex(of: column) else {
        throw call.failure(
          "the table has no column '\(column)'", blaming: "column",
          hint: nearestName(to: column, among: t.columns).map { "did you mean '\($0)'?" }
            ?? "its columns: " + t.columns.joined(separator: ", "))
      }
      let above = call.optionalNumber("above"), below = call.optionalNumber("below")
      let equals = call.value("equals")
      guard above != nil || below != nil || equals != nil else {
        throw call.failure(
          "filter needs a condition: above:, below: or equals:", hint: call.entry.signature)
      }
      let kept = t.rows.filter { row in
        let cell = row[j]
        if let above {
          guard case .number(let x) = cell, x > above else { return false }
        }
        if let below {
          guard case .number(let x) = cell, x < below else { return false }
        }
        switch equals {
        case .number(let y)?:
          guard case .number(let x) = cell, x == y else { return false }
        case .text(let y)?:
          guard cell.display == y else { return false }
        default: break
        }
        return true
      }
      var conditions: [String] = []
      if let above { conditions.append("\(column) > \(NumberFormat.display(above))") }
      if let below { conditions.append("\(column) < \(NumberFormat.display(below))") }
      switch equals {
      case .number(let y)?: conditions.append("\(column) = \(NumberFormat.display(y))")
      case .text(let y)?: conditions.append("\(column) = \(y)")
      default: break
      }
      return .table(t.selecting(kept, "rows where " + conditions.joined(separator: " and ")))
    },
    FunctionEntry(
      "time", category: "Lists and tables",
      parameters: [.positional("value", .any, doc: "the expression to time")],
      returns: .any,
      summary:
        "The value of its argument, unchanged; how long computing it took goes to standard error and the report, never to the printed outputs, so they stay the same from run to run. A trained model also keeps its training time in net.seconds.",
      example: "net = time(fit(mlp(784, 32, 2), train, epochs: 10))"
    ) { call in
      call.value("value") ?? .nothing
    },
  ]

  /// `min` or `max`: the number that comes first in `order` among the arguments.
  private static func extremum(
    _ name: String, _ summary: String, _ example: String,
    by order: @escaping @Sendable (Double, Double) -> Bool
  ) -> FunctionEntry {
    FunctionEntry(
      name, category: "Lists and tables", parameters: [numbersParameter], returns: .number,
      summary: summary, example: example
    ) { call in
      guard let x = numbers(call).min(by: order) else {
        throw call.failure("\(name) needs at least one number", blaming: "values")
      }
      return .number(x)
    }
  }

  /// Numbers order before texts; numbers by value, texts alphabetically; empty cells last.
  private static func cellLess(_ a: Table.Cell, _ b: Table.Cell) -> Bool {
    switch (a, b) {
    case (.number(let x), .number(let y)): x < y
    case (.text(let x), .text(let y)): x < y
    case (.number, _): true
    case (.text, .empty): true
    default: false
    }
  }

  private static func valueLess(_ a: Value, _ b: Value) -> Bool {
    cellLess(cell(a), cell(b))
  }
}
