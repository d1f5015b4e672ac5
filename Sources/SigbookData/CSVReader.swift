import Foundation
import SigbookTensor

extension Dataset {
  /// Reads a data set from a CSV file, raw or gzip-compressed (recognised by its magic bytes).
  ///
  /// One input a row, fields separated by commas; blank lines are skipped. The first row is a
  /// header when one of its fields is not a number while the same field of the next row is (or,
  /// in a one-row file, when any of its fields is not a number), or when it holds `label`.
  /// Quoted fields may not contain commas; surrounding quotes and spaces are removed.
  ///
  /// The label column is the one named `label`, else the last column. Its values become the
  /// class names: sorted numerically when they are all numbers (whole numbers written as
  /// integers, so `7.0` is class `"7"`), else sorted as text. The other columns are the
  /// features, `[N, D]` floats exactly as written, not scaled (see `reshapedAsImages`).
  ///
  /// Parsing works on the bytes directly: 5,000 × 785 fields load in about a tenth of a second.
  /// The file is read (and inflated) in chunks of 4 MiB, each parsed before the next is read, so
  /// the text is never held whole: what the rows cost is counted as they come (4 bytes a value,
  /// 24 a row for its label) and checked against `memoryLimit` after every chunk.
  ///
  /// - Parameters:
  ///   - path: the file; its name without `.csv` and `.gz` becomes the data set's name.
  ///   - label: the header name of the label column; `nil` for the last column.
  ///   - memoryLimit: the most the data set may take while it is read (what is left of the
  ///     session's limit).
  ///   - isCancelled: polled before every chunk (Ctrl-C): reading stops and nothing is kept.
  ///   - progress: told the fraction of the file read after every chunk.
  /// - Throws: `DataError.emptyCSV` for a file without data rows, `.wrongWidth` for a row with
  ///   a different number of fields from the first, `.notNumeric` for a feature that is not a
  ///   finite number, `.outOfRange` for one too large for a 32-bit float (`1e39`),
  ///   `.unknownColumn` when `label` is not in the header, `.tooLarge` for more than
  ///   `DataLimits.values` values (checked before they are allocated), a ``MemoryRefusal`` when
  ///   the rows read pass `memoryLimit`, ``ReadInterrupted``, and the errors of ``Gzip/Reader``
  ///   (at most `DataLimits.fileBytes` of text).
  public static func csv(
    path: String, label: String? = nil, memoryLimit: MemoryLimit = .unlimited,
    isCancelled: @escaping () -> Bool = { false }, progress: ((Double) -> Void)? = nil
  ) throws -> Dataset {
    let reader = try Gzip.Reader(path: path, isCancelled: isCancelled)
    var parser = CSVReader.Parser(
      path: path, label: label, name: CSVReader.baseName(path),
      memoryLimit: memoryLimit.startingOperation())
    return try parser.read(reader, progress: progress)
  }

  /// The same data set with each input shaped as an image and its values divided by `divisor`.
  ///
  /// The MNIST sample, read as 784 pixel values 0–255 a row, becomes `[N, 1, 28, 28]` in [0, 1]
  /// with `reshapedAsImages(channels: 1, height: 28, width: 28, dividedBy: 255)`.
  ///
  /// - Throws: `DataError.invalidArgument` when an input does not hold
  ///   `channels × height × width` values, or `divisor` is zero or not finite.
  func reshapedAsImages(
    channels: Int = 1, height: Int, width: Int, dividedBy divisor: Float = 1
  ) throws -> Dataset {
    guard channels > 0, height > 0, width > 0, channels * height * width == featureCount else {
      throw DataError.invalidArgument(
        "'\(name)' has \(featureCount) values per input, "
          + "which cannot be shaped as \(channels) × \(height) × \(width) images")
    }
    guard divisor != 0, divisor.isFinite else {
      throw DataError.invalidArgument("cannot divide the values of '\(name)' by \(divisor)")
    }
    var result = self
    result.features = features.reshaped([count, channels, height, width])
    if divisor != 1 {
      result.features.withUnsafeMutableBufferPointer { values in
        for i in values.indices { values[i] /= divisor }
      }
    }
    return result
  }
}

/// The byte-level CSV parser behind `Dataset.csv(path:label:)`.
enum CSVReader {
  /// `10⁰ … 10¹⁸`, exact in `Double`: a decimal with at most 18 digits divided by one of these
  /// is correctly rounded.
  static let powersOfTen: [Double] = (0...18).map { Foundation.pow(10, Double($0)) }

  /// The data set's name for a file: its last path component without `.gz` and `.csv`.
  /// Parses CSV text held in memory (the tests' and the fuzzer's entry), by the rules of
  /// `Dataset.csv(path:label:)`, with no memory limit.
  static func parse(_ bytes: [UInt8], path: String, label: String?, name: String) throws -> Dataset
  {
    var parser = Parser(path: path, label: label, name: name, memoryLimit: .unlimited)
    return try parser.read(bytes: bytes)
  }

  static func baseName(_ path: String) -> String {
    var name = Substring(path.split(separator: "/").last ?? Substring(path))
    for suffix in [".gz", ".csv"] where name.lowercased().hasSuffix(suffix) {
      name = name.dropLast(suffix.count)
    }
    return name.isEmpty ? "csv" : String(name)
  }

  /// What has been learnt of a CSV file so far: its shape (from its first lines), and the values
  /// and labels of the rows parsed.
  struct Parser {
    let path: String
    let label: String?
    let name: String
    let memoryLimit: MemoryLimit
    /// The first row's fields, the header's when it is one; nil until the first line is parsed.
    var width: Int?
    var labelColumn = 0
    var hasHeader = false
    var header: [String] = []
    var values: [Float] = []
    var labelTokens: [String] = []
    /// Lines already consumed, to number those of the next chunk.
    var linesBefore = 0

    init(path: String, label: String?, name: String, memoryLimit: MemoryLimit) {
      self.path = path
      self.label = label
      self.name = name
      self.memoryLimit = memoryLimit
    }

    /// Bytes read and parsed at a time.
    static let chunkSize = 1 << 22

    /// Reads every row of `reader`, chunk by chunk, and makes the data set.
    mutating func read(_ reader: Gzip.Reader, progress: ((Double) -> Void)?) throws -> Dataset {
      var text: [UInt8] = []
      var atEnd = false
      while true {
        if !atEnd {
          // A line longer than a chunk (a file of NUL bytes) grows the text: checked first.
          let chunk = min(Self.chunkSize, reader.nextReadLimit)
          if text.count + chunk > text.capacity {
            let grown = max(text.count + chunk, 2 * text.capacity)
            try checkMemory(pendingText: MemoryEstimate.sum(text.count, grown))
            text.reserveCapacity(grown)
            MemoryLimit.releaseFreedMemory()
          }
          atEnd = try reader.read(appendingTo: &text, upTo: Self.chunkSize) == 0
          // The text not yet parsed starts at line linesBefore + 1.
          try text.withUnsafeBufferPointer {
            try CSVReader.refuseNUL($0, path: path, linesBefore: linesBefore)
          }
        }
        // Only complete lines are parsed; the header needs its next line to be told apart.
        var end = atEnd ? text.count : (text.lastIndex(of: 10).map { $0 + 1 } ?? 0)
        if width == nil && !atEnd && !holdsTwoLines(text[..<end]) { end = 0 }
        if end > 0 {
          try text.withUnsafeBufferPointer { buffer in
            try parse(UnsafeBufferPointer(rebasing: buffer[..<end]))
          }
          text.removeSubrange(..<end)
        }
        try checkMemory(pendingText: text.capacity)
        progress?(reader.fraction)
        if atEnd { break }
      }
      return try finish()
    }

    /// Reads CSV text held in memory, as `read` reads a file.
    mutating func read(bytes: [UInt8]) throws -> Dataset {
      try bytes.withUnsafeBufferPointer { buffer in
        try CSVReader.refuseNUL(buffer, path: path, linesBefore: 0)
        try parse(buffer)
      }
      return try finish()
    }

    /// The data set of the rows parsed.
    private mutating func finish() throws -> Dataset {
      guard let width, !labelTokens.isEmpty else {
        throw DataError.emptyCSV(path: path, hasHeader: hasHeader)
      }
      let (classNames, labels) = CSVReader.classes(of: labelTokens)
      labelTokens = []
      return Dataset(
        name: name, features: Tensor(shape: [labels.count, width - 1], scalars: values),
        labels: labels, classNames: classNames)
    }

    /// Whether `bytes` hold two lines that are not blank (or a first line and the end).
    private func holdsTwoLines(_ bytes: ArraySlice<UInt8>) -> Bool {
      bytes.withUnsafeBufferPointer { buffer in
        var lines = LineScanner(buffer)
        return lines.nextNonBlank() != nil && lines.nextNonBlank() != nil
      }
    }

    /// Refuses to go on when the rows read, with the room they may grow into and the text not
    /// yet parsed, pass the memory limit: 4 bytes a value, and for each row its label's text
    /// (16 bytes) and class number (8 bytes).
    private func checkMemory(pendingText: Int) throws {
      let held = MemoryEstimate.sum(
        MemoryEstimate.product(4, values.capacity),
        MemoryEstimate.product(16, labelTokens.capacity),
        MemoryEstimate.product(8, labelTokens.count), pendingText)
      let rows = NumberFormat.grouped(labelTokens.count)
      try memoryLimit.check(
        held, for: "reading '\(path)' (\(rows) rows so far)",
        advice: "read a smaller file (a sample of its rows)")
    }

    /// Parses complete lines: the first ones fix the shape, every data row is appended.
    private mutating func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws {
      var lines = LineScanner(buffer, firstNumber: linesBefore)
      if width == nil {
        guard let first = lines.nextNonBlank() else {
          linesBefore = lines.lineNumber
          return
        }
        try start(first, lines: lines, buffer)
        if !hasHeader { lines = LineScanner(buffer, firstNumber: linesBefore) }
      }
      guard let width else { return }
      let d = width - 1
      let rows = lines.remainingNonBlankCount()
      guard let total = DataLimits.product([labelTokens.count + rows, d]),
        total <= DataLimits.values
      else {
        throw DataError.tooLarge(
          path: path,
          message:
            "holds more than \(NumberFormat.grouped(labelTokens.count + rows - 1)) rows of "
            + "\(NumberFormat.grouped(d)) features; a dataset holds at most "
            + "\(NumberFormat.grouped(DataLimits.values)) values")
      }
      try reserve(rows: rows, features: d)
      var o = values.count
      values.append(contentsOf: repeatElement(0, count: rows * d))
      let header = header, labelColumn = labelColumn, path = path
      try values.withUnsafeMutableBufferPointer { out in
        guard let base = buffer.baseAddress, let target = out.baseAddress else { return }
        try CSVReader.powersOfTen.withUnsafeBufferPointer { powers in
          while let line = lines.nextNonBlank() {
            try CSVReader.parseRow(
              base, line, width: width, labelColumn: labelColumn, into: target, at: &o,
              labels: &labelTokens, powers: powers, path: path, header: header)
          }
        }
      }
      values.removeLast(values.count - o)
      linesBefore = lines.lineNumber
    }

    /// Makes room for `rows` more rows, doubling, after checking that the grown arrays (and the
    /// old ones, while they are copied) fit the memory limit.
    private mutating func reserve(rows: Int, features d: Int) throws {
      let neededValues = values.count + rows * d
      let neededRows = labelTokens.count + rows
      if neededValues > values.capacity {
        let grown = max(neededValues, values.capacity * 2)
        try checkMemory(pendingText: MemoryEstimate.product(4, grown))
        values.reserveCapacity(grown)
        MemoryLimit.releaseFreedMemory()
      }
      if neededRows > labelTokens.capacity {
        let grown = max(neededRows, labelTokens.capacity * 2)
        try checkMemory(pendingText: MemoryEstimate.product(16, grown))
        labelTokens.reserveCapacity(grown)
        MemoryLimit.releaseFreedMemory()
      }
    }

    /// Reads the shape from the first line (and the next, to tell a header).
    private mutating func start(
      _ first: Line, lines: LineScanner, _ buffer: UnsafeBufferPointer<UInt8>
    ) throws {
      let firstFields = CSVReader.fields(of: first, in: buffer)
      var lookahead = lines
      let second = lookahead.nextNonBlank().map { CSVReader.fields(of: $0, in: buffer) }
      hasHeader = CSVReader.isHeader(firstFields, next: second, label: label)
      header = hasHeader ? firstFields : []
      if let label {
        guard
          let column = header.firstIndex(of: label)
            ?? header.firstIndex(where: { $0.lowercased() == label.lowercased() })
        else {
          throw DataError.unknownColumn(path: path, name: label, columns: header)
        }
        labelColumn = column
      } else {
        labelColumn = firstFields.count - 1
      }
      guard firstFields.count >= 2 else {
        throw DataError.invalidArgument(
          "'\(path)' has a single column; a data set needs features and a label")
      }
      width = firstFields.count
      if hasHeader { linesBefore = first.number }
    }
  }

  /// Parses one row: its features into `target[o...]` (advancing `o`), its label into `labels`.
  ///
  /// Numbers of at most 18 significant digits without exponent (every pixel, most CSV files) are
  /// converted here, in one pass over the bytes; anything else goes through `Double(_:)`.
  /// Throws when the bytes hold a NUL byte, naming its line and column (field): a CSV file is
  /// text, and a NUL would otherwise end a field early where the text is read as a C string.
  /// `linesBefore` is the number of lines before these bytes.
  static func refuseNUL(_ buffer: UnsafeBufferPointer<UInt8>, path: String, linesBefore: Int)
    throws
  {
    guard let base = buffer.baseAddress, let found = memchr(base, 0, buffer.count) else { return }
    let position = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    var line = linesBefore + 1
    var column = 1
    for k in 0..<position {
      if buffer[k] == 10 {
        line += 1
        column = 1
      } else if buffer[k] == 44 {
        column += 1
      }
    }
    throw DataError.invalidArgument(
      "'\(path)' line \(line), column \(column): holds a NUL byte; a CSV file is text "
        + "(is it a binary file?)")
  }

  /// The value of a decimal number — `[+-]digits[.digits][(e|E)[+-]digits]`, digits on at least
  /// one side of the point — or nil for anything else. `Double(_:)` alone follows `strtod`, which
  /// also takes hexadecimal numbers (`0x10` as 16, `0x1p4`), `inf` and `nan`.
  static func decimalValue(_ text: String) -> Double? {
    let bytes = Array(text.utf8)
    var i = 0
    func digits() -> Int {
      let start = i
      while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 { i += 1 }
      return i - start
    }
    if i < bytes.count, bytes[i] == 43 || bytes[i] == 45 { i += 1 }
    var mantissa = digits()
    if i < bytes.count, bytes[i] == 46 {
      i += 1
      mantissa += digits()
    }
    guard mantissa > 0 else { return nil }
    if i < bytes.count, bytes[i] == 101 || bytes[i] == 69 {
      i += 1
      if i < bytes.count, bytes[i] == 43 || bytes[i] == 45 { i += 1 }
      guard digits() > 0 else { return nil }
    }
    guard i == bytes.count else { return nil }
    return Double(text)
  }

  static func parseRow(
    _ p: UnsafePointer<UInt8>, _ line: Line, width: Int, labelColumn: Int,
    into target: UnsafeMutablePointer<Float>, at o: inout Int, labels: inout [String],
    powers: UnsafeBufferPointer<Double>, path: String, header: [String]
  ) throws {
    let end = line.end
    var i = line.start
    var column = 0
    while true {
      var j = i
      if column == labelColumn {
        while j < end && p[j] != 44 { j += 1 }
        labels.append(String(trimmed(p, i, j)))
      } else {
        var negative = false
        if j < end && (p[j] == 45 || p[j] == 43) {
          negative = p[j] == 45
          j += 1
        }
        var mantissa = 0
        var digits = 0
        var decimals = 0
        while j < end {
          let c = p[j] &- 48
          if c > 9 { break }
          mantissa = mantissa &* 10 &+ Int(c)
          digits += 1
          j += 1
        }
        if j < end && p[j] == 46 {
          j += 1
          while j < end {
            let c = p[j] &- 48
            if c > 9 { break }
            mantissa = mantissa &* 10 &+ Int(c)
            digits += 1
            decimals += 1
            j += 1
          }
        }
        if digits > 0 && digits <= 18 && (j == end || p[j] == 44) {
          var value = decimals == 0 ? Double(mantissa) : Double(mantissa) / powers[decimals]
          if negative { value = -value }
          target[o] = Float(value)
        } else {
          while j < end && p[j] != 44 { j += 1 }
          let text = trimmed(p, i, j)
          guard let value = decimalValue(text), value.isFinite else {
            throw DataError.notNumeric(
              path: path, line: line.number, column: column + 1,
              columnName: column < header.count ? header[column] : nil, text: text)
          }
          // 1e39 is a finite Double but an infinite Float.
          guard Float(value).isFinite else {
            throw DataError.outOfRange(
              path: path, line: line.number, column: column + 1,
              columnName: column < header.count ? header[column] : nil, text: text)
          }
          target[o] = Float(value)
        }
        o += 1
      }
      column += 1
      if j >= end { break }
      // p[j] is a comma.
      if column == width {
        var found = column + 1
        for k in (j + 1)..<end where p[k] == 44 { found += 1 }
        throw DataError.wrongWidth(path: path, line: line.number, expected: width, found: found)
      }
      i = j + 1
    }
    guard column == width else {
      throw DataError.wrongWidth(path: path, line: line.number, expected: width, found: column)
    }
  }

  /// The text of bytes `i ..< j` without surrounding spaces, tabs and double quotes.
  private static func trimmed(_ p: UnsafePointer<UInt8>, _ i: Int, _ j: Int) -> String {
    var a = i
    var b = j
    while a < b && (p[a] == 32 || p[a] == 9 || p[a] == 34) { a += 1 }
    while b > a && (p[b - 1] == 32 || p[b - 1] == 9 || p[b - 1] == 34) { b -= 1 }
    return String(decoding: UnsafeBufferPointer(start: p + a, count: b - a), as: UTF8.self)
  }

  /// The trimmed fields of one line (for the header and its detection).
  static func fields(of line: Line, in buffer: UnsafeBufferPointer<UInt8>) -> [String] {
    guard let p = buffer.baseAddress else { return [] }
    var result: [String] = []
    var i = line.start
    while true {
      var j = i
      while j < line.end && p[j] != 44 { j += 1 }
      result.append(trimmed(p, i, j))
      if j >= line.end { return result }
      i = j + 1
    }
  }

  /// Whether the first row is a header: a field that is text above a number, or (one row only)
  /// any field that is not a number, or a field equal to the label column's name.
  static func isHeader(_ first: [String], next: [String]?, label: String?) -> Bool {
    if let label, first.contains(label) { return true }
    guard let next else { return first.contains { !isNumber($0) } }
    return zip(first, next).contains { !isNumber($0) && isNumber($1) }
  }

  private static func isNumber(_ text: String) -> Bool {
    decimalValue(text)?.isFinite ?? false
  }

  /// The class names of the label values (sorted numerically when all are numbers, else as
  /// text) and each row's class index.
  static func classes(of tokens: [String]) -> (names: [String], labels: [Int]) {
    let distinct = Array(Set(tokens))
    let numbers = distinct.compactMap { token in
      decimalValue(token).flatMap { $0.isFinite ? $0 : nil }
    }
    var index: [String: Int] = [:]
    var names: [String]
    if numbers.count == distinct.count {
      let values = Array(Set(numbers)).sorted()
      names = values.map(numberName)
      let position = Dictionary(uniqueKeysWithValues: values.enumerated().map { ($1, $0) })
      for (token, value) in zip(distinct, numbers) { index[token] = position[value] }
    } else {
      names = distinct.sorted()
      for (i, token) in names.enumerated() { index[token] = i }
    }
    return (names, tokens.map { index[$0] ?? 0 })
  }

  /// `7` for 7.0, `0.5` for 0.5: whole numbers as integers.
  private static func numberName(_ value: Double) -> String {
    if value == value.rounded(), Swift.abs(value) < 1e15 { return String(Int64(value)) }
    return String(value)
  }
}

extension CSVReader {
  /// One line of a CSV file: bytes `start ..< end` (without the line break) and its number from 1.
  struct Line {
    var start: Int
    var end: Int
    var number: Int
  }

  /// Walks the lines of a byte buffer; `\n` and `\r\n` both end a line.
  struct LineScanner {
    private let buffer: UnsafeBufferPointer<UInt8>
    private var position = 0
    private var number = 0

    /// A scanner of `buffer` whose first line is numbered `firstNumber + 1`.
    init(_ buffer: UnsafeBufferPointer<UInt8>, firstNumber: Int = 0) {
      self.buffer = buffer
      number = firstNumber
    }

    /// The number of the last line returned (the lines before the buffer included).
    var lineNumber: Int { number }

    /// The next line that holds something other than spaces, tabs and `\r`, or `nil` at the end.
    mutating func nextNonBlank() -> Line? {
      while let line = next() {
        var k = line.start
        while k < line.end && (buffer[k] == 32 || buffer[k] == 9) { k += 1 }
        if k < line.end { return line }
      }
      return nil
    }

    /// The next line, or `nil` at the end of the buffer.
    mutating func next() -> Line? {
      guard position < buffer.count, let base = buffer.baseAddress else { return nil }
      number += 1
      let start = position
      var end = buffer.count
      if let found = memchr(base + start, 10, buffer.count - start) {
        end = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        position = end + 1
      } else {
        position = buffer.count
      }
      if end > start && buffer[end - 1] == 13 { end -= 1 }
      return Line(start: start, end: end, number: number)
    }

    /// The number of non-blank lines from here to the end (an upper bound on the rows left).
    func remainingNonBlankCount() -> Int {
      var copy = self
      var count = 0
      while copy.nextNonBlank() != nil { count += 1 }
      return count
    }
  }
}
