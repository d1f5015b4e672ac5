import Foundation
import SigbookTensor

/// Reading and writing named tensors in the safetensors format (Hugging Face).
///
/// A file is an 8-byte little-endian `UInt64` N, then N bytes of UTF-8 JSON header, then the data
/// buffer. The header maps each tensor name to `{"dtype": "F32", "shape": [2, 3], "data_offsets":
/// [begin, end]}` (byte offsets into the data buffer) and may hold `"__metadata__"`, an object of
/// strings. Data is little-endian in C (row-major) order; the tensors fill the buffer without gaps
/// or overlaps. Reference: <https://github.com/huggingface/safetensors>.
///
/// sigbook writes `F32` only and reads `F32`, `F64`, `F16`, `BF16`, `I64`, `I32`, `I16`, `I8`,
/// `U64`, `U32`, `U16`, `U8` and `BOOL`, converting to `Float` (rounding to nearest where the
/// type is wider). Files from Python's `safetensors` (any key order, header padding or none) are
/// read, and files written here load in Python.
enum Safetensors {
  /// The header key under which string metadata is stored.
  static let metadataKey = "__metadata__"

  /// The largest file read: 1 GiB, room for a model of `Model.maxParameters` parameters in
  /// 32-bit floats.
  static let maxFileBytes = 1 << 30

  /// The largest header read: 100,000,000 bytes, the limit of Hugging Face's own reader.
  static let maxHeaderBytes = 100_000_000

  /// The tensors and string metadata of one safetensors file.
  struct Contents: Sendable, Equatable {
    /// The tensors in the order of their data in the file.
    var tensors: [(name: String, tensor: Tensor)]
    /// The `__metadata__` entries; empty if the file has none.
    var metadata: [String: String]

    /// Creates contents from tensors and metadata.
    init(tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) {
      self.tensors = tensors
      self.metadata = metadata
    }

    /// The tensor with the given name, or `nil` if there is none.
    subscript(name: String) -> Tensor? {
      tensors.first { $0.name == name }?.tensor
    }

    /// Whether both hold the same metadata and the same named tensors in the same order.
    static func == (a: Contents, b: Contents) -> Bool {
      a.metadata == b.metadata && a.tensors.count == b.tensors.count
        && zip(a.tensors, b.tensors).allSatisfy { $0.name == $1.name && $0.tensor == $1.tensor }
    }
  }

  /// Encodes named tensors as `F32` together with string metadata.
  ///
  /// Deterministic: the same input gives the same bytes. The header is compact JSON: first
  /// `__metadata__` (omitted when empty) with its keys sorted by their UTF-8 bytes, then the
  /// tensors in the given order, each `{"dtype":"F32","shape":[…],"data_offsets":[b,e]}`; it is
  /// padded with spaces so that the data starts at a multiple of 8 bytes. The data follows in the
  /// same order without gaps.
  ///
  /// - Parameters:
  ///   - tensors: names and tensors, written in this order.
  ///   - metadata: free-form string pairs (for example the model's architecture).
  /// - Returns: the complete file.
  /// - Precondition: names are distinct and none is `__metadata__`.
  /// - Complexity: O(total size), one bulk copy per tensor.
  static func encode(
    _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]
  ) -> [UInt8] {
    var members: [(key: String, value: JSONValue)] = []
    if !metadata.isEmpty {
      let sorted = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
      members.append((metadataKey, .object(sorted.map { ($0.key, .string($0.value)) })))
    }
    var names = Set<String>()
    var dataSize = 0
    for (name, tensor) in tensors {
      precondition(name != metadataKey, "a tensor cannot be named '\(metadataKey)'")
      precondition(names.insert(name).inserted, "two tensors are named '\(name)'")
      let end = dataSize + tensor.count * MemoryLayout<Float>.size
      let entry: [(key: String, value: JSONValue)] = [
        ("dtype", .string(DType.f32.rawValue)),
        ("shape", .array(tensor.shape.map(JSONValue.integer))),
        ("data_offsets", .array([.integer(dataSize), .integer(end)])),
      ]
      members.append((name, .object(entry)))
      dataSize = end
    }
    let header = Array(JSONValue.object(members).text.utf8)
    let headerLength = (header.count + 7) / 8 * 8
    let total = 8 + headerLength + dataSize
    return [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
      let out = UnsafeMutableRawBufferPointer(buffer)
      out.storeBytes(of: UInt64(headerLength).littleEndian, as: UInt64.self)
      header.withUnsafeBytes {
        UnsafeMutableRawBufferPointer(rebasing: out[8..<(8 + header.count)]).copyMemory(from: $0)
      }
      for i in (8 + header.count)..<(8 + headerLength) { out[i] = 0x20 }
      var position = 8 + headerLength
      for (_, tensor) in tensors {
        tensor.withUnsafeBufferPointer { values in
          let bytes = UnsafeRawBufferPointer(values)
          UnsafeMutableRawBufferPointer(rebasing: out[position..<(position + bytes.count)])
            .copyMemory(from: bytes)
          position += bytes.count
        }
      }
      #if _endian(big)
        for i in stride(from: 8 + headerLength, to: total, by: 4) {
          let bits = out.loadUnaligned(fromByteOffset: i, as: UInt32.self)
          out.storeBytes(of: bits.byteSwapped, toByteOffset: i, as: UInt32.self)
        }
      #endif
      initialized = total
    }
  }
}

extension Safetensors {
  /// Decodes a safetensors file held in memory.
  ///
  /// Header keys may come in any order and the header need not be padded. Tensors are returned
  /// in the order of their data (ties between empty tensors keep the header's order); other
  /// element types than `F32` are converted to `Float`.
  ///
  /// - Parameters:
  ///   - bytes: the whole file.
  ///   - path: the file's name, used in error messages only.
  /// - Throws: `SafetensorsError` naming `path` if the file is shorter than 8 bytes, its header is
  ///   longer than the file, not UTF-8 JSON, not an object, has a key twice or a malformed entry
  ///   or metadata, a tensor's dtype cannot be read, its offsets fall outside the data, disagree
  ///   with its shape and dtype, or the tensors overlap, leave gaps or leave bytes unused.
  /// - Complexity: O(file size) plus O(t log t) for t tensors.
  static func decode(_ bytes: [UInt8], path: String) throws(SafetensorsError) -> Contents {
    let result = bytes.withUnsafeBytes { raw in
      Result { () throws(SafetensorsError) in try decode(raw, path: path) }
    }
    return try result.get()
  }

  /// Reads and decodes the safetensors file at `path`.
  ///
  /// - Throws: `SafetensorsError.fileSystem` if the file cannot be read, else as `decode`.
  static func read(from path: String) throws(SafetensorsError) -> Contents {
    try decode(try FileBytes.contents(ofFile: path), path: path)
  }

  /// Reads a safetensors file of model weights: `read(from:)`, then every value must be finite.
  ///
  /// The format itself stores NaN and infinities bit for bit (`read` and `decode` keep them); a
  /// model's weights must not hold one, as every output would be NaN. The first such value is
  /// reported with its tensor and position (an `F64` beyond ±3.4e38 is infinite as a `Float`).
  ///
  /// - Throws: as `read(from:)`, and `SafetensorsError.invalidEntry` naming the tensor for a
  ///   value that is not finite.
  static func readWeights(from path: String) throws(SafetensorsError) -> Contents {
    try decodeWeights(try FileBytes.contents(ofFile: path), path: path)
  }

  /// `readWeights(from:)` of a file held in memory: `decode`, then every value must be finite.
  static func decodeWeights(
    _ bytes: [UInt8], path: String
  ) throws(SafetensorsError) -> Contents {
    let contents = try decode(bytes, path: path)
    for (name, tensor) in contents.tensors {
      let bad = tensor.withUnsafeBufferPointer { values in values.firstIndex { !$0.isFinite } }
      guard let bad else { continue }
      var position: [Int] = []
      var rest = bad
      for size in tensor.shape.reversed() {
        position.insert(rest % size, at: 0)
        rest /= size
      }
      let what = tensor.scalars[bad].isNaN ? "NaN" : "an infinite value (as a 32-bit float)"
      throw .invalidEntry(
        path: path, tensor: name, reason: "holds \(what) at \(position); weights must be finite")
    }
    return contents
  }

  /// Encodes named tensors and metadata (see `encode`) and writes them to `path` atomically,
  /// through `AtomicFile`: readers see the old file or the new one, never a partial one.
  ///
  /// - Throws: `SafetensorsError.fileSystem` if the file cannot be created, written or renamed.
  /// - Precondition: as `encode`.
  static func write(
    _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:],
    to path: String
  ) throws(SafetensorsError) {
    try FileBytes.replaceContents(ofFile: path, with: encode(tensors, metadata: metadata))
  }

  /// An element type of the format that sigbook reads.
  enum DType: String, CaseIterable {
    case f32 = "F32"
    case f64 = "F64"
    case f16 = "F16"
    case bf16 = "BF16"
    case i64 = "I64"
    case i32 = "I32"
    case i16 = "I16"
    case i8 = "I8"
    case u64 = "U64"
    case u32 = "U32"
    case u16 = "U16"
    case u8 = "U8"
    case bool = "BOOL"

    /// The size of one element in bytes.
    var byteSize: Int {
      switch self {
      case .f64, .i64, .u64: 8
      case .f32, .i32, .u32: 4
      case .f16, .bf16, .i16, .u16: 2
      case .i8, .u8, .bool: 1
      }
    }
  }

  /// One validated header entry.
  private struct Entry {
    var name: String
    var dtype: DType
    var shape: [Int]
    var begin: Int
    var end: Int
    /// The position of the entry in the header, to order empty tensors that share an offset.
    var order: Int
  }

  private static func decode(
    _ raw: UnsafeRawBufferPointer, path: String
  ) throws(SafetensorsError) -> Contents {
    guard raw.count >= 8 else { throw .truncated(path: path, byteCount: raw.count) }
    let headerLength = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
    guard headerLength <= UInt64(raw.count - 8), headerLength <= UInt64(maxHeaderBytes) else {
      throw .headerTooLong(path: path, headerLength: headerLength, available: raw.count - 8)
    }
    let dataStart = 8 + Int(headerLength)
    let header = [UInt8](UnsafeRawBufferPointer(rebasing: raw[8..<dataStart]))
    guard String(validating: header, as: UTF8.self) != nil else {
      throw .invalidHeader(path: path, reason: "is not valid utf-8")
    }
    let json: JSONValue
    do {
      json = try JSONValue.parse(header)
    } catch {
      throw .invalidHeader(path: path, reason: "is not valid json: \(error)")
    }
    guard let members = json.objectMembers else {
      throw .invalidHeader(path: path, reason: "is not a json object")
    }
    let data = UnsafeRawBufferPointer(rebasing: raw[dataStart...])
    var metadata: [String: String] = [:]
    var entries: [Entry] = []
    var keys = Set<String>()
    for (key, value) in members {
      guard keys.insert(key).inserted else {
        throw .invalidHeader(path: path, reason: "has the key '\(key)' twice")
      }
      if key == metadataKey {
        metadata = try parseMetadata(value, path: path)
      } else {
        entries.append(
          try parseEntry(key, value, order: entries.count, dataSize: data.count, path: path))
      }
    }
    entries.sort { ($0.begin, $0.end, $0.order) < ($1.begin, $1.end, $1.order) }
    var position = 0
    var previous: String?
    for entry in entries {
      if entry.begin != position {
        let reason =
          if let previous {
            entry.begin < position
              ? "overlaps tensor '\(previous)', which ends at byte \(position) of the data"
              : "starts at byte \(entry.begin) of the data but tensor '\(previous)' ends at "
                + "byte \(position); tensors must be contiguous"
          } else {
            "starts at byte \(entry.begin) of the data, not 0"
          }
        throw .invalidOffsets(path: path, tensor: entry.name, reason: reason)
      }
      position = entry.end
      previous = entry.name
    }
    guard position == data.count else {
      throw .unusedBytes(path: path, byteCount: data.count - position)
    }
    let tensors = entries.map { entry in
      let bytes = UnsafeRawBufferPointer(rebasing: data[entry.begin..<entry.end])
      let tensor = Tensor(shape: entry.shape) { convert(bytes, from: entry.dtype, into: $0) }
      return (name: entry.name, tensor: tensor)
    }
    return Contents(tensors: tensors, metadata: metadata)
  }

  private static func parseMetadata(
    _ value: JSONValue, path: String
  ) throws(SafetensorsError) -> [String: String] {
    if case .null = value { return [:] }
    guard let members = value.objectMembers else {
      throw .invalidMetadata(path: path, reason: "is not a json object")
    }
    var metadata: [String: String] = [:]
    for (key, value) in members {
      guard let text = value.stringValue else {
        throw .invalidMetadata(path: path, reason: "has a value for '\(key)' that is not a string")
      }
      guard metadata.updateValue(text, forKey: key) == nil else {
        throw .invalidMetadata(path: path, reason: "has the key '\(key)' twice")
      }
    }
    return metadata
  }

  private static func parseEntry(
    _ name: String, _ value: JSONValue, order: Int, dataSize: Int, path: String
  ) throws(SafetensorsError) -> Entry {
    func invalid(_ reason: String) -> SafetensorsError {
      .invalidEntry(path: path, tensor: name, reason: reason)
    }
    guard let fields = value.objectMembers else { throw invalid("is not a json object") }
    func field(_ key: String) throws(SafetensorsError) -> JSONValue {
      guard let value = fields.first(where: { $0.key == key })?.value else {
        throw invalid("has no '\(key)'")
      }
      return value
    }
    guard let dtypeName = try field("dtype").stringValue else {
      throw invalid("has a 'dtype' that is not a string")
    }
    let dimensions = try field("shape").arrayValue ?? [.null]
    let shape = dimensions.compactMap(\.integerValue)
    guard shape.count == dimensions.count, shape.allSatisfy({ $0 >= 0 }) else {
      throw invalid("has a 'shape' that is not a list of non-negative integers")
    }
    guard let offsets = try field("data_offsets").arrayValue?.map(\.integerValue),
      offsets.count == 2, let begin = offsets[0], let end = offsets[1], begin >= 0, end >= 0
    else { throw invalid("has 'data_offsets' that are not two non-negative integers") }
    guard let dtype = DType(rawValue: dtypeName) else {
      throw .unsupportedDType(path: path, tensor: name, dtype: dtypeName)
    }
    var byteCount = dtype.byteSize
    for n in shape {
      let (product, overflow) = byteCount.multipliedReportingOverflow(by: n)
      guard !overflow else { throw invalid("has a shape \(shape) too large to address") }
      byteCount = product
    }
    guard begin <= end else {
      throw .invalidOffsets(
        path: path, tensor: name,
        reason: "has data offsets [\(begin), \(end)] that end before they begin")
    }
    guard end <= dataSize else {
      throw .invalidOffsets(
        path: path, tensor: name,
        reason: "has data offsets [\(begin), \(end)] beyond the \(dataSize) bytes of data")
    }
    guard end - begin == byteCount else {
      throw .sizeMismatch(
        path: path, tensor: name, shape: shape, dtype: dtypeName, expected: byteCount,
        found: end - begin)
    }
    return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end, order: order)
  }

  /// Converts little-endian elements of `dtype` to `Float`, one bulk copy for `F32`.
  private static func convert(
    _ raw: UnsafeRawBufferPointer, from dtype: DType, into out: UnsafeMutableBufferPointer<Float>
  ) {
    switch dtype {
    case .f32:
      UnsafeMutableRawBufferPointer(out).copyMemory(from: raw)
      #if _endian(big)
        for i in out.indices { out[i] = Float(bitPattern: out[i].bitPattern.byteSwapped) }
      #endif
    case .f64: load(raw, into: out, as: UInt64.self) { Float(Double(bitPattern: $0)) }
    case .f16: load(raw, into: out, as: UInt16.self, floatFromHalf)
    case .bf16: load(raw, into: out, as: UInt16.self) { Float(bitPattern: UInt32($0) << 16) }
    case .i64: load(raw, into: out, as: Int64.self) { Float($0) }
    case .i32: load(raw, into: out, as: Int32.self) { Float($0) }
    case .i16: load(raw, into: out, as: Int16.self) { Float($0) }
    case .i8: load(raw, into: out, as: Int8.self) { Float($0) }
    case .u64: load(raw, into: out, as: UInt64.self) { Float($0) }
    case .u32: load(raw, into: out, as: UInt32.self) { Float($0) }
    case .u16: load(raw, into: out, as: UInt16.self) { Float($0) }
    case .u8: load(raw, into: out, as: UInt8.self) { Float($0) }
    case .bool: load(raw, into: out, as: UInt8.self) { $0 == 0 ? 0 : 1 }
    }
  }

  private static func load<T: FixedWidthInteger>(
    _ raw: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>, as _: T.Type,
    _ convert: (T) -> Float
  ) {
    let size = MemoryLayout<T>.size
    for i in out.indices {
      out[i] = convert(T(littleEndian: raw.loadUnaligned(fromByteOffset: i * size, as: T.self)))
    }
  }

  /// The `Float` with the value of an IEEE 754 binary16 bit pattern (exact; subnormals, infinities
  /// and NaNs included).
  static func floatFromHalf(_ bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = UInt32(bits >> 10) & 0x1F
    let mantissa = UInt32(bits & 0x3FF)
    switch exponent {
    case 0:
      let magnitude = Float(mantissa) * 0x1p-24
      return sign == 0 ? magnitude : -magnitude
    case 0x1F:
      return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
    default:
      return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
    }
  }
}

/// Why a safetensors file could not be read or written.
///
/// Every case names the file; `description` is a complete lower-case message.
enum SafetensorsError: Error, Equatable, CustomStringConvertible {
  /// The file is shorter than the 8 bytes of its header length.
  case truncated(path: String, byteCount: Int)
  /// The header length exceeds the bytes that follow it, or `Safetensors.maxHeaderBytes`.
  case headerTooLong(path: String, headerLength: UInt64, available: Int)
  /// The header is not UTF-8, not JSON, not an object, or repeats a key.
  case invalidHeader(path: String, reason: String)
  /// A tensor's entry is not an object or lacks or mistypes `dtype`, `shape` or `data_offsets`.
  case invalidEntry(path: String, tensor: String, reason: String)
  /// A tensor's dtype is not one sigbook reads.
  case unsupportedDType(path: String, tensor: String, dtype: String)
  /// A tensor's data offsets span another number of bytes than its shape and dtype need.
  case sizeMismatch(
    path: String, tensor: String, shape: [Int], dtype: String, expected: Int, found: Int)
  /// A tensor's data offsets are reversed, out of range, overlap another's or leave a gap.
  case invalidOffsets(path: String, tensor: String, reason: String)
  /// Bytes at the end of the data belong to no tensor.
  case unusedBytes(path: String, byteCount: Int)
  /// `__metadata__` is not an object of strings.
  case invalidMetadata(path: String, reason: String)
  /// The operating system refused to read or write the file (`operation` is "read" or "write").
  case fileSystem(path: String, operation: String, reason: String)

  /// The file the error is about.
  var path: String {
    switch self {
    case .truncated(let path, _), .headerTooLong(let path, _, _), .invalidHeader(let path, _),
      .invalidEntry(let path, _, _), .unsupportedDType(let path, _, _),
      .sizeMismatch(let path, _, _, _, _, _), .invalidOffsets(let path, _, _),
      .unusedBytes(let path, _), .invalidMetadata(let path, _), .fileSystem(let path, _, _):
      path
    }
  }

  var description: String {
    switch self {
    case .truncated(let path, let count):
      "'\(path)' is too short for a safetensors file: \(count) bytes, expected at least 8"
    case .headerTooLong(let path, let length, let available):
      length > UInt64(available)
        ? "'\(path)' declares a header of \(length) bytes but only \(available) bytes follow"
        : "'\(path)' declares a header of \(length) bytes; sigbook reads headers of at most "
          + "\(Safetensors.maxHeaderBytes) bytes"
    case .invalidHeader(let path, let reason):
      "the header of '\(path)' \(reason)"
    case .invalidEntry(let path, let tensor, let reason),
      .invalidOffsets(let path, let tensor, let reason):
      "tensor '\(tensor)' in '\(path)' \(reason)"
    case .unsupportedDType(let path, let tensor, let dtype):
      "tensor '\(tensor)' in '\(path)' has dtype '\(dtype)'; sigbook reads "
        + Safetensors.DType.allCases.map(\.rawValue).joined(separator: ", ")
    case .sizeMismatch(let path, let tensor, let shape, let dtype, let expected, let found):
      "tensor '\(tensor)' in '\(path)' of shape \(shape) and dtype \(dtype) needs \(expected) "
        + "bytes but its data offsets span \(found)"
    case .unusedBytes(let path, let count):
      "'\(path)' has \(count) bytes of data after the last tensor"
    case .invalidMetadata(let path, let reason):
      "the metadata of '\(path)' \(reason)"
    case .fileSystem(let path, let operation, let reason):
      "cannot \(operation) '\(path)': \(reason)"
    }
  }
}

/// Whole-file reads and atomic whole-file writes through the one guarded reader and the one
/// atomic writer (`GuardedFile`, `AtomicFile`), their failures in the format's words.
private enum FileBytes {
  /// The bytes of a regular file of at most `Safetensors.maxFileBytes` (see `GuardedFile`: a
  /// folder, a pipe or a device is refused before anything is read, and so is a larger file).
  static func contents(ofFile path: String) throws(SafetensorsError) -> [UInt8] {
    do {
      return try GuardedFile(path: path).contents(limit: Safetensors.maxFileBytes)
    } catch {
      let reason =
        switch error {
        case .cannotOpen(let code), .readFailed(let code): lowercasedFirst(code)
        case .isFolder: "it is a folder"
        case .notRegularFile: "it is not a regular file (a device, a pipe or a socket)"
        case .tooLarge(let size):
          "it is \(size) bytes; sigbook reads model files of at most "
            + "\(Safetensors.maxFileBytes) bytes (1 GiB)"
        case .grew: "it grew while it was read"
        }
      throw .fileSystem(path: path, operation: "read", reason: reason)
    }
  }

  /// Replaces the file at `path` with `bytes` whole or not at all (see `AtomicFile`).
  static func replaceContents(ofFile path: String, with bytes: [UInt8]) throws(SafetensorsError) {
    do {
      try AtomicFile.write(Data(bytes), to: path)
    } catch {
      let text = error.reason
      throw .fileSystem(
        path: path, operation: "write", reason: text.prefix(1).lowercased() + text.dropFirst())
    }
  }

  /// The system's text for `errno` `code`, its first letter in lower case.
  private static func lowercasedFirst(_ code: Int32) -> String {
    let text = FileReadError.systemText(code)
    return text.prefix(1).lowercased() + text.dropFirst()
  }
}
