import Foundation
import SigbookTensor
import SigbookNN

/// One size of a shape computed from the graph: a number, or the batch size (unknown until the
/// model runs) times a number, as `Shape` → `Gather` → `Unsqueeze` → `Concat` chains produce
/// (`batch · heads` where attention merges the two).
enum Dim: Equatable {
  case known(Int)
  case batch(Int)

  /// The batch size itself.
  static let batchSize = Dim.batch(1)

  var value: Int? {
    if case .known(let n) = self { n } else { nil }
  }
}

/// A tensor whose values are known when the model is imported: a weight, or a shape.
struct Constant {
  var shape: [Int]
  /// The values of a float tensor, in C order.
  var floats: [Float]?
  /// The values of an integer tensor (or of a shape, which may hold the batch size).
  var ints: [Dim]?

  init(shape: [Int], floats: [Float]) {
    self.shape = shape
    self.floats = floats
  }

  init(shape: [Int], ints: [Dim]) {
    self.shape = shape
    self.ints = ints
  }

  var count: Int { floats?.count ?? ints?.count ?? 0 }

  /// The values as floats (integers converted); nil if an integer is the batch size.
  var asFloats: [Float]? {
    if let floats { return floats }
    return ints?.reduce(into: [Float]?([])) { out, d in
      if let v = d.value { out?.append(Float(v)) } else { out = nil }
    }
  }

  /// The values as integers (floats must be whole).
  var asDims: [Dim]? {
    if let ints { return ints }
    return floats?.reduce(into: [Dim]?([])) { out, f in
      if f == f.rounded(), abs(f) < 1e9 { out?.append(.known(Int(f))) } else { out = nil }
    }
  }

  /// The values as known integers; nil if one is the batch size or not whole.
  var asInts: [Int]? {
    guard let dims = asDims else { return nil }
    var out: [Int] = []
    for d in dims {
      guard let v = d.value else { return nil }
      out.append(v)
    }
    return out
  }

  var tensor: Tensor { Tensor(shape: shape, scalars: asFloats ?? []) }

  /// The elements taken along `axis` from `indices` (ONNX `Gather`).
  func gathered(_ indices: [Int], indexShape: [Int], axis: Int) -> Constant? {
    guard axis >= 0, axis < shape.count else { return nil }
    let outer = shape[..<axis].reduce(1, *), n = shape[axis]
    let inner = shape[(axis + 1)...].reduce(1, *)
    var positions: [Int] = []
    for o in 0..<outer {
      for index in indices {
        let i = index < 0 ? index + n : index
        guard i >= 0, i < n else { return nil }
        for k in 0..<inner { positions.append((o * n + i) * inner + k) }
      }
    }
    let newShape = Array(shape[..<axis]) + indexShape + Array(shape[(axis + 1)...])
    if let floats { return Constant(shape: newShape, floats: positions.map { floats[$0] }) }
    if let ints { return Constant(shape: newShape, ints: positions.map { ints[$0] }) }
    return nil
  }

  /// The tensor with its axes permuted (ONNX `Transpose`).
  func transposed(_ permutation: [Int]) -> Constant {
    let t = Tensor(shape: [1] + shape, scalars: Array(0..<count).map(Float.init))
    let order = ONNXImporter.make(.transpose(permutation: permutation)).apply(t).scalars.map {
      Int($0)
    }
    let newShape = permutation.map { shape[$0] }
    if let floats { return Constant(shape: newShape, floats: order.map { floats[$0] }) }
    return Constant(shape: newShape, ints: order.map { (ints ?? [])[$0] })
  }
}

extension ONNXImporter {
  /// The ONNX data types sigbook reads, by their `TensorProto.DataType` number.
  static let dataTypeNames: [Int32: String] = [
    1: "float", 2: "uint8", 3: "int8", 5: "int16", 6: "int32", 7: "int64", 9: "bool", 10: "float16",
    11: "double",
  ]

  /// The values of a `TensorProto`: from `raw_data`, the typed fields, or an external data
  /// file beside the model.
  func constant(_ proto: Onnx_TensorProto, what: String) throws(ONNXError) -> Constant {
    var shape: [Int] = []
    for d in proto.dims {
      guard d >= 0, d <= Int64(Int32.max) else {
        throw error("\(what) has a dimension of \(d)")
      }
      shape.append(Int(d))
    }
    guard let count = DimArithmetic.boundedCount(shape) else {
      throw error("\(what) has shape \(shape), more values than sigbook reads")
    }
    let type = proto.dataType
    guard let typeName = Self.dataTypeNames[type] else {
      throw error(
        "\(what) holds values of ONNX data type \(type); sigbook reads float, double, float16 and integer tensors"
      )
    }
    var raw: Data?
    let size: Int =
      switch typeName {
      case "double", "int64": 8
      case "float", "int32": 4
      case "int16", "float16": 2
      default: 1
      }
    if proto.dataLocation == .external {
      raw = try externalData(proto, byteCount: count * size, what: what)
    } else if proto.hasRawData {
      raw = proto.rawData
    }
    if let raw {
      guard raw.count == count * size else {
        throw error(
          "\(what) should hold \(count) \(typeName) values (\(count * size) bytes) but holds \(raw.count) bytes"
        )
      }
      return raw.withUnsafeBytes { bytes -> Constant in
        func load<T: FixedWidthInteger>(_: T.Type) -> [T] {
          (0..<count).map {
            T(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * size, as: T.self))
          }
        }
        switch typeName {
        case "float":
          return Constant(shape: shape, floats: load(UInt32.self).map(Float.init(bitPattern:)))
        case "double":
          return Constant(
            shape: shape, floats: load(UInt64.self).map { Float(Double(bitPattern: $0)) })
        case "float16": return Constant(shape: shape, floats: load(UInt16.self).map(Self.half))
        case "int64": return Constant(shape: shape, ints: load(Int64.self).map { .known(Int($0)) })
        case "int32": return Constant(shape: shape, ints: load(Int32.self).map { .known(Int($0)) })
        case "int16": return Constant(shape: shape, ints: load(Int16.self).map { .known(Int($0)) })
        case "int8": return Constant(shape: shape, ints: load(Int8.self).map { .known(Int($0)) })
        default: return Constant(shape: shape, ints: load(UInt8.self).map { .known(Int($0)) })
        }
      }
    }
    let values: Constant
    switch typeName {
    case "float": values = Constant(shape: shape, floats: proto.floatData)
    case "double": values = Constant(shape: shape, floats: proto.doubleData.map { Float($0) })
    case "int64": values = Constant(shape: shape, ints: proto.int64Data.map { .known(Int($0)) })
    case "float16":
      values = Constant(
        shape: shape, floats: proto.int32Data.map { Self.half(UInt16(truncatingIfNeeded: $0)) })
    default: values = Constant(shape: shape, ints: proto.int32Data.map { .known(Int($0)) })
    }
    guard values.count == count else {
      throw error("\(what) has shape \(shape) (\(count) values) but holds \(values.count)")
    }
    return values
  }

  /// The `byteCount` bytes of a tensor stored in an external data file (`location`, `offset`,
  /// `length`), found relative to the model's folder.
  ///
  /// Only a regular file is read, and only the bytes the tensor needs: the file is opened by
  /// `GuardedFile` — a device (`/dev/zero` through a symbolic link), a FIFO or a folder is
  /// refused, and so is a file too short to hold `offset + byteCount` bytes — before anything is
  /// read.
  func externalData(_ proto: Onnx_TensorProto, byteCount: Int, what: String) throws(ONNXError)
    -> Data
  {
    var entries: [String: String] = [:]
    for entry in proto.externalData { entries[entry.key] = entry.value }
    guard let location = entries["location"], !location.isEmpty else {
      throw error("\(what) is stored outside the file but names no location")
    }
    guard !location.hasPrefix("/"), !location.split(separator: "/").contains("..") else {
      throw error("\(what) is stored in '\(location)', outside the model's folder")
    }
    var offset = 0
    if let text = entries["offset"] {
      guard let value = Int(text), value >= 0 else {
        throw error("\(what) has the external data offset '\(text)'; a byte offset was expected")
      }
      offset = value
    }
    if let text = entries["length"] {
      guard let length = Int(text), length >= 0 else {
        throw error("\(what) has the external data length '\(text)'; a byte count was expected")
      }
      guard length == byteCount else {
        throw error(
          "\(what) should hold \(byteCount) bytes but its external data length is \(length)")
      }
    }
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
    let file = folder.appendingPathComponent(location).path
    let source: GuardedFile
    do {
      source = try GuardedFile(path: file)
    } catch {
      guard case .cannotOpen(let code) = error else {
        throw self.error(
          "\(what) is stored in '\(location)', which is not a regular file (a device, a pipe, a socket or a folder)"
        )
      }
      throw self.error(
        "\(what) is stored in '\(location)', which cannot be read (looked in \(folder.path)): \(FileReadError.systemText(code).lowercased())"
      )
    }
    let fileSize = source.size
    let (end, overflow) = offset.addingReportingOverflow(byteCount)
    guard !overflow, end <= fileSize else {
      throw error(
        "\(what) needs bytes \(offset) to \(overflow ? "beyond 2⁶³" : String(end)) of '\(location)', which holds \(fileSize) bytes"
      )
    }
    var data = Data(count: byteCount)
    var failure: Int32?
    let done = data.withUnsafeMutableBytes { buffer -> Int in
      guard let base = buffer.baseAddress else { return 0 }
      do throws(FileReadError) {
        return try source.read(into: base, count: byteCount, at: offset)
      } catch {
        if case .readFailed(let code) = error { failure = code }
        return 0
      }
    }
    if let failure {
      throw error(
        "\(what): cannot read '\(location)' at offset \(offset): \(FileReadError.systemText(failure))"
      )
    }
    guard done == byteCount else {
      throw error(
        "\(what) needs \(byteCount) bytes at offset \(offset) of '\(location)', which ended after \(done)"
      )
    }
    return data
  }

  /// An IEEE 754 half-precision value.
  static func half(_ bits: UInt16) -> Float {
    let sign: Float = bits & 0x8000 != 0 ? -1 : 1
    let exponent = Int((bits >> 10) & 0x1f), fraction = Float(bits & 0x3ff)
    switch exponent {
    case 0: return sign * fraction * Float(pow(2.0, -24.0))
    case 0x1f: return fraction == 0 ? sign * .infinity : .nan
    default: return sign * (1 + fraction / 1024) * Float(pow(2.0, Double(exponent - 15)))
    }
  }
}

/// Products of sizes that cannot overflow.
enum DimArithmetic {
  /// The most values a tensor (or one item of the chain) may hold: 2²⁸, 1 GiB of floats.
  static let maxValues = 1 << 28

  /// The number of values of a tensor of `shape`, or nil when a size is negative or the shape
  /// is too large to index: the product of the sizes, zeros counted as ones, must be at most
  /// `maxValues`, so that no product of some of its sizes (a stride, a count) can overflow, even
  /// for an empty tensor such as `[0, 2⁴⁰, 2⁴⁰]`.
  static func boundedCount(_ shape: [Int]) -> Int? {
    guard shape.allSatisfy({ $0 >= 0 }), let span = product(shape.map { Swift.max($0, 1) }),
      span <= maxValues
    else { return nil }
    return product(shape)
  }

  /// The product, or nil when it overflows.
  static func product(_ sizes: [Int]) -> Int? {
    var total = 1
    for s in sizes {
      let (p, overflow) = total.multipliedReportingOverflow(by: s)
      if overflow { return nil }
      total = p
    }
    return total
  }
}
