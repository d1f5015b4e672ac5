import Foundation
import SigbookTensor

extension NPY {
  /// The element types `read` accepts, by their NumPy `descr`.
  static let readableTypes: [String: (name: String, size: Int)] = [
    "<f4": ("float32", 4), "<f8": ("float64", 8), "|u1": ("uint8", 1), "<u1": ("uint8", 1),
    "<i8": ("int64", 8), "<i4": ("int32", 4),
  ]

  /// A NumPy array read from a `.npy` file, its values widened to `Double`.
  package struct Contents: Sendable, Equatable {
    /// The array's shape (empty for a scalar).
    package var shape: [Int]
    /// The values in C order.
    package var values: [Double]
    /// The NumPy type name: `float32`, `float64`, `uint8`, `int32` or `int64`.
    var typeName: String

    /// Whether the values are integers (`uint8`, `int32`, `int64`).
    var isInteger: Bool { typeName.hasPrefix("int") || typeName == "uint8" }

    /// The values as 32-bit floats.
    package var floats: [Float] { values.map { Float($0) } }
  }

  /// Reads a `.npy` file (format versions 1, 2 and 3), raw or gzip-compressed.
  ///
  /// Accepts little-endian float32, float64, int32 and int64 and unsigned bytes, in C order, of
  /// any shape. The header is checked before the data is touched, so a file whose shape claims
  /// more values than it holds is refused.
  ///
  /// - Throws: `DataError.unreadable` for a file that cannot be read or is not a `.npy` file,
  ///   `.invalidArgument` for an element type or order sigbook does not read, `.truncated` when
  ///   the data is shorter than the shape says, `.tooLarge` for more than `DataLimits.values`
  ///   values.
  ///
  /// The header is read (and inflated) first; what it announces — the bytes of the data, the
  /// values widened to `Double`, then 32-bit floats — is checked against `memoryLimit` before
  /// the data is read, and the data is inflated no further than the shape says: a small gzip
  /// file is no smaller once inflated. Bytes after the data are ignored.
  ///
  /// - Parameters:
  ///   - memoryLimit: what the array may take.
  ///   - isCancelled: polled while the data is read and inflated (Ctrl-C).
  /// - Throws: also `MemoryRefusal` when the array would not fit `memoryLimit`, and
  ///   ``ReadInterrupted`` when `isCancelled` says so.
  package static func read(
    _ path: String, memoryLimit: MemoryLimit = .unlimited,
    isCancelled: @escaping () -> Bool = { false }
  ) throws -> Contents {
    // The fixed part first (magic, version, header length), then the header it announces.
    let fixed = try Gzip.readFile(path, limit: 12, prefix: true)
    let headerEnd = try headerEnd(fixed, path: path, needsHeader: false)
    let header = try decodeHeader(
      try Gzip.readFile(path, limit: headerEnd, prefix: true), path: path)
    let dataBytes = header.count * header.type.size
    try memoryLimit.check(
      // The bytes read, the values as `Double`, then as `Float` and in the data set's tensor.
      MemoryEstimate.sum(header.start, dataBytes, MemoryEstimate.product(16, header.count)),
      for: "reading '\(path)' (shape \(header.shape), \(header.type.name))",
      advice: "read a smaller file")
    guard header.start + dataBytes <= DataLimits.fileBytes else {
      throw DataError.tooLarge(
        path: path,
        message:
          "holds \(NumberFormat.bytes(header.start + dataBytes)) of .npy data; sigbook reads "
          + "files of at most \(NumberFormat.bytes(DataLimits.fileBytes))")
    }
    let bytes = try Gzip.readFile(
      path, limit: header.start + dataBytes, prefix: true, isCancelled: isCancelled)
    return try decode(bytes, path: path)
  }

  /// What a `.npy` header announces: where the data starts, its shape, the number of values and
  /// their type.
  struct AnnouncedData {
    var start: Int
    var shape: [Int]
    var count: Int
    var type: (name: String, size: Int)
  }

  /// The most header bytes read: NumPy writes headers of under 10,000 bytes and reads no
  /// larger ones unless told to (`max_header_size`).
  static let maxHeaderBytes = 1 << 20

  /// Where the header of the `.npy` file starting with `bytes` ends (where the data starts),
  /// from its magic, version and header length; `needsHeader` also requires the header itself.
  private static func headerEnd(_ bytes: [UInt8], path: String, needsHeader: Bool) throws -> Int {
    let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
      throw DataError.unreadable(
        path: path, reason: "it is not a NumPy .npy file (it does not start with \\x93NUMPY)")
    }
    let major = bytes[6]
    let lengthSize = major == 1 ? 2 : 4
    guard (1...3).contains(major), bytes.count >= 8 + lengthSize else {
      throw DataError.unreadable(
        path: path, reason: "unknown .npy format version \(major); sigbook reads versions 1 to 3")
    }
    var headerLength = 0
    for i in (0..<lengthSize).reversed() { headerLength = headerLength << 8 | Int(bytes[8 + i]) }
    guard headerLength <= maxHeaderBytes else {
      throw DataError.unreadable(
        path: path,
        reason: "its .npy header says it is \(NumberFormat.grouped(headerLength)) bytes long; "
          + "NumPy writes headers of under 10,000 bytes")
    }
    let start = 8 + lengthSize + headerLength
    guard !needsHeader || start <= bytes.count else {
      throw DataError.truncated(
        path: path, what: "header", expected: headerLength, found: bytes.count - 8 - lengthSize)
    }
    return start
  }

  /// Decodes the header of the `.npy` file starting with `bytes`: what it announces, checked.
  private static func decodeHeader(_ bytes: [UInt8], path: String) throws -> AnnouncedData {
    let start = try headerEnd(bytes, path: path, needsHeader: true)
    let lengthSize = bytes[6] == 1 ? 2 : 4
    let headerLength = start - 8 - lengthSize
    guard
      let header = String(bytes: bytes[(8 + lengthSize)..<start], encoding: .utf8)
    else {
      throw DataError.truncated(
        path: path, what: "header", expected: headerLength, found: bytes.count - 8 - lengthSize)
    }
    let parsed: Header
    switch parseHeader(header) {
    case .success(let h): parsed = h
    case .failure(let failure):
      throw DataError.unreadable(
        path: path,
        reason: "its .npy header \(failure.reason): \(header.trimmed.replacingControlCharacters)")
    }
    let descrName = parsed.descr
    guard let type = readableTypes[descrName == "=f4" ? "<f4" : descrName] else {
      throw DataError.invalidArgument(
        "'\(path)' holds values of NumPy type '\(descrName)'; sigbook reads little-endian "
          + "float32, float64, int32, int64 and uint8 (convert with a.astype('float32'))")
    }
    guard !parsed.fortranOrder else {
      throw DataError.invalidArgument(
        "'\(path)' is in Fortran order; sigbook reads C order (save np.ascontiguousarray(a))")
    }
    let shape = parsed.shape
    guard let count = DataLimits.product(shape), count <= DataLimits.values else {
      throw DataError.tooLarge(
        path: path,
        message: "has shape \(shape); sigbook reads arrays of at most "
          + "\(NumberFormat.grouped(DataLimits.values)) values")
    }
    return AnnouncedData(start: start, shape: shape, count: count, type: type)
  }

  /// Decodes the bytes of a `.npy` file; `path` names it in errors.
  static func decode(_ bytes: [UInt8], path: String) throws -> Contents {
    let header = try decodeHeader(bytes, path: path)
    let (start, shape, count, type) = (header.start, header.shape, header.count, header.type)
    let expected = count * type.size
    guard bytes.count - start >= expected else {
      throw DataError.truncated(
        path: path, what: "\(type.name) data", expected: expected, found: bytes.count - start)
    }
    var values = [Double](repeating: 0, count: count)
    bytes.withUnsafeBytes { raw in
      let data = UnsafeRawBufferPointer(rebasing: raw[start..<(start + expected)])
      switch type.name {
      case "float32":
        for i in 0..<count {
          values[i] = Double(
            Float(
              bitPattern: UInt32(
                littleEndian: data.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))))
        }
      case "float64":
        for i in 0..<count {
          values[i] = Double(
            bitPattern: UInt64(
              littleEndian: data.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))
        }
      case "int32":
        for i in 0..<count {
          values[i] = Double(
            Int32(littleEndian: data.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
        }
      case "int64":
        for i in 0..<count {
          values[i] = Double(
            Int64(littleEndian: data.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))
        }
      default:
        for i in 0..<count { values[i] = Double(data[i]) }
      }
    }
    // A float64 beyond ±3.4e38 is finite here but infinite as the 32-bit float sigbook computes
    // in: refused here, with its position, rather than as a NaN loss later.
    if type.name.hasPrefix("float"),
      let bad = values.firstIndex(where: { !$0.isFinite || !Float($0).isFinite })
    {
      // Index of the bad value in every dimension: [row, column…].
      var position: [Int] = []
      var rest = bad
      for size in shape.reversed() where size > 0 {
        position.insert(rest % size, at: 0)
        rest /= size
      }
      if values[bad].isFinite {
        throw DataError.invalidArgument(
          "'\(path)' holds \(values[bad]) at \(position), beyond the ±3.4e38 of the 32-bit "
            + "floats sigbook computes in (scale or clip the values first)")
      }
      let what = values[bad].isNaN ? "NaN" : "an infinite value"
      throw DataError.invalidArgument(
        "'\(path)' holds \(what) at \(position); sigbook reads finite numbers only "
          + "(replace them first, with np.nan_to_num or by dropping those rows)")
    }
    return Contents(shape: shape, values: values, typeName: type.name)
  }
}

extension String {
  fileprivate var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
