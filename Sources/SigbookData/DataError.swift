/// An error reading, generating or transforming a data set: a file that is missing, not what its
/// name says, corrupt or truncated, or an argument that does not fit the data.
///
/// Every message is complete on its own and names the file involved in quotes, so the evaluator
/// only adds the workbook location: `'train.csv' line 17: expected 785 fields but found 784`.
public enum DataError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A file could not be read at all (missing, a folder, no permission).
  case unreadable(path: String, reason: String)
  /// A file whose name ends in `.gz` does not start with the gzip magic bytes `1f 8b`.
  case notGzip(path: String)
  /// A gzip stream ends before its end marker.
  case truncatedGzip(path: String)
  /// zlib rejected a gzip stream; `message` is zlib's own explanation.
  case corruptGzip(path: String, message: String)
  /// An IDX file's magic number is not the one expected for its kind (images or labels).
  case badMagic(path: String, expected: UInt32, found: UInt32)
  /// An IDX file holds values of a type other than unsigned bytes.
  case unsupportedType(path: String, typeCode: UInt8)
  /// A file holds fewer bytes than its header announces; `what` names the part ("pixel data").
  case truncated(path: String, what: String, expected: Int, found: Int)
  /// An image file and a label file hold different numbers of items.
  case countMismatch(images: String, imageCount: Int, labels: String, labelCount: Int)
  /// A CSV file holds no rows at all, or a header but no data rows.
  case emptyCSV(path: String, hasHeader: Bool)
  /// A CSV row has a different number of fields from the first row.
  case wrongWidth(path: String, line: Int, expected: Int, found: Int)
  /// A CSV feature field is not a finite number; `column` counts from 1.
  case notNumeric(path: String, line: Int, column: Int, columnName: String?, text: String)
  /// A CSV feature field is a number too large for a 32-bit float (`1e39`); `column` counts
  /// from 1.
  case outOfRange(path: String, line: Int, column: Int, columnName: String?, text: String)
  /// A file, or what its header announces, is larger than `DataLimits` allows, or the file is
  /// not a regular file; `message` says what was found and the limit.
  case tooLarge(path: String, message: String)
  /// The label column asked for is not in the CSV header (`columns` is the header, or empty
  /// when the file has none).
  case unknownColumn(path: String, name: String, columns: [String])
  /// A data file could not be found; `looked` lists every place tried, `hint` how to get it.
  case notFound(what: String, looked: [String], hint: String)
  /// A class asked for by name does not exist.
  case unknownClass(name: String, dataset: String, valid: [String])
  /// Feature shapes that had to agree do not.
  case shapeMismatch(String)
  /// An argument outside its valid range; the message says which and why.
  case invalidArgument(String)

  /// The complete message, lower case, naming the file.
  public var description: String {
    switch self {
    case .unreadable(let path, let reason):
      return "cannot read '\(path)': \(reason)"
    case .notGzip(let path):
      return "'\(path)' is not a gzip file"
    case .truncatedGzip(let path):
      return "'\(path)': gzip data is truncated"
    case .corruptGzip(let path, let message):
      return "'\(path)': corrupt gzip data: \(message)"
    case .badMagic(let path, let expected, let found):
      let kind = expected == IDXReader.imageMagic ? "an IDX image file" : "an IDX label file"
      return
        "'\(path)' is not \(kind): expected magic number \(hex(expected)) but found \(hex(found))"
    case .unsupportedType(let path, let typeCode):
      let name = IDXReader.typeNames[typeCode].map { " (\($0))" } ?? ""
      return "'\(path)': unsupported IDX data type 0x\(hex2(typeCode))\(name); "
        + "sigbook reads unsigned bytes (0x08)"
    case .truncated(let path, let what, let expected, let found):
      return "'\(path)' is truncated: expected \(expected) bytes of \(what) but found \(found)"
    case .countMismatch(let images, let imageCount, let labels, let labelCount):
      return "'\(labels)' has \(labelCount) labels but '\(images)' has \(imageCount) images"
    case .emptyCSV(let path, let hasHeader):
      return hasHeader ? "'\(path)' has a header but no data rows" : "'\(path)' is empty"
    case .wrongWidth(let path, let line, let expected, let found):
      return "'\(path)' line \(line): expected \(expected) fields but found \(found)"
    case .notNumeric(let path, let line, let column, let columnName, let text):
      let named = columnName.map { " ('\($0)')" } ?? ""
      // `0x10` or `1_000` reads as a number elsewhere; say which kind of number is wanted.
      let kind = Double(text)?.isFinite == true ? "a decimal number" : "a number"
      return "'\(path)' line \(line), column \(column)\(named): expected \(kind) but found "
        + "'\(text.replacingControlCharacters)'"
    case .outOfRange(let path, let line, let column, let columnName, let text):
      let named = columnName.map { " ('\($0)')" } ?? ""
      return "'\(path)' line \(line), column \(column)\(named): \(text) is too large for a "
        + "32-bit float (at most ±3.4e38)"
    case .tooLarge(let path, let message):
      return "'\(path)' \(message)"
    case .unknownColumn(let path, let name, let columns):
      if columns.isEmpty {
        return "'\(path)' has no header row, so it has no column '\(name)' "
          + "(without a header the label is the last column)"
      }
      return "'\(path)' has no column '\(name)'; its columns are \(quotedList(columns))"
    case .notFound(let what, let looked, let hint):
      let places = looked.isEmpty ? "" : "; looked in " + looked.joined(separator: ", ")
      return "cannot find \(what)\(places); \(hint)"
    case .unknownClass(let name, let dataset, let valid):
      return "\(dataset) has no class '\(name)'; its classes are \(quotedList(valid))"
    case .shapeMismatch(let message), .invalidArgument(let message):
      return message
    }
  }
}

/// `0x00000803`: eight hex digits, lower case.
private func hex(_ value: UInt32) -> String {
  let digits = String(value, radix: 16)
  return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}

/// `0d`: two hex digits, lower case.
private func hex2(_ value: UInt8) -> String {
  let digits = String(value, radix: 16)
  return digits.count < 2 ? "0" + digits : digits
}

/// `'a', 'b', 'c'`; long lists keep their first ten items and the last one.
func quotedList(_ items: [String]) -> String {
  let quoted = items.map { "'\($0)'" }
  guard quoted.count > 12 else { return quoted.joined(separator: ", ") }
  return quoted.prefix(10).joined(separator: ", ") + ", … " + (quoted.last ?? "")
    + " (\(quoted.count) in all)"
}
