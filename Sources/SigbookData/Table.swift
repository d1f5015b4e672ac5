import Foundation
import SigbookTensor

/// A table of results: named columns, rows of numbers and text.
///
/// Datasets, evaluations and reports show as tables; `export` writes them as CSV.
public struct Table: Sendable, Equatable {
  /// One cell of a table.
  public enum Cell: Sendable, Equatable {
    case number(Double)
    case text(String)
    /// No value (a missing validation loss, say): shown as `–`, exported empty.
    case empty
  }

  /// An optional line shown above the table.
  public var title: String?
  /// Whether this is one row picked out of a table (`t[2]`), whose fields are its cells
  /// (`t[2].nmi` is a number) rather than its columns.
  public var isRow = false
  public var columns: [String]
  public var rows: [[Cell]]

  /// - Precondition: every row has one cell per column.
  public init(title: String? = nil, columns: [String], rows: [[Cell]]) {
    precondition(rows.allSatisfy { $0.count == columns.count }, "a table row of the wrong width")
    self.title = title
    self.columns = columns
    self.rows = rows
  }

  /// The number of rows.
  public var count: Int { rows.count }

  /// Row `i` as a one-row table that answers its cells by column name.
  ///
  /// - Precondition: `i` is a row index.
  func row(_ i: Int) -> Table {
    var row = Table(title: title, columns: columns, rows: [rows[i]])
    row.isRow = true
    return row
  }

  /// Every row, each as `row(_:)` gives it.
  public var rowTables: [Table] { rows.indices.map(row) }

  /// The rows in `range`, as a table.
  func rows(_ range: Range<Int>) -> Table {
    Table(title: title, columns: columns, rows: Array(rows[range]))
  }

  /// Some of this table's rows as a table whose title says which they are: the title of the
  /// whole ("89 distinct paths of 1,000 inputs") no longer describes them, so it becomes
  /// `rows where count > 5 (12 of 89) of “89 distinct paths of 1,000 inputs”`. A table without
  /// a title stays without one.
  ///
  /// - Parameters:
  ///   - kept: the rows, each one of this table's.
  ///   - selection: how they were chosen (`rows 0..<5`, `rows where count > 5`).
  public func selecting(_ kept: [[Cell]], _ selection: String) -> Table {
    Table(
      title: title.map { "\(selection) (\(kept.count) of \(count)) of “\($0)”" }, columns: columns,
      rows: kept)
  }

  /// The values of the named column, or nil if there is no such column.
  public func column(_ name: String) -> [Cell]? {
    guard let j = columns.firstIndex(of: name) else { return nil }
    return rows.map { $0[j] }
  }

  /// The table as aligned text: numbers right-aligned, text left-aligned, a rule under the
  /// header.
  public var rendered: String {
    let texts = rows.map { $0.map(\.display) }
    var widths = columns.map(\.count)
    for row in texts {
      for (j, text) in row.enumerated() { widths[j] = max(widths[j], text.count) }
    }
    let numeric = columns.indices.map { j in
      rows.allSatisfy { if case .text = $0[j] { false } else { true } } && !rows.isEmpty
    }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { j, text in
        let pad = String(repeating: " ", count: widths[j] - text.count)
        return numeric[j] ? pad + text : text + pad
      }.joined(separator: "  ").trailingSpacesRemoved
    }
    var lines: [String] = []
    if let title { lines.append(title) }
    lines.append(line(columns))
    lines.append(widths.map { String(repeating: "─", count: $0) }.joined(separator: "  "))
    lines += texts.map(line)
    return lines.joined(separator: "\n")
  }

  /// The table as CSV with a header row (RFC 4180 quoting).
  public var csv: String {
    func field(_ text: String) -> String {
      text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
        ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
    var lines = [columns.map(field).joined(separator: ",")]
    for row in rows {
      lines.append(
        row.map { cell in
          switch cell {
          case .number(let x): NumberFormat.exact(x)
          case .text(let t): field(t)
          case .empty: ""
          }
        }.joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

extension Table.Cell {
  /// The cell as shown in a table.
  public var display: String {
    switch self {
    case .number(let x): NumberFormat.display(x)
    case .text(let t): t
    case .empty: "–"
    }
  }
}

extension String {
  public var trailingSpacesRemoved: String {
    var s = self
    while s.last == " " { s.removeLast() }
    return s
  }
}
