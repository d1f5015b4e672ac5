import Foundation
import SigbookTensor

/// Reads the IDX files that MNIST and Fashion-MNIST are distributed in, raw or gzip-compressed.
///
/// An IDX file is a 4-byte magic number — two zero bytes, a data type code (`0x08` for unsigned
/// bytes) and the number of dimensions — then each dimension as a big-endian 32-bit integer, then
/// the values in row-major order. Images are rank 3 (`0x00000803`: count, rows, columns), labels
/// rank 1 (`0x00000801`: count). See LeCun, Cortes and Burges, "The MNIST database of handwritten
/// digits". Only unsigned bytes are read; other data types are refused with a clear message.
enum IDXReader {
  /// The magic number of an image file: unsigned bytes, three dimensions.
  static let imageMagic: UInt32 = 0x0000_0803
  /// The magic number of a label file: unsigned bytes, one dimension.
  static let labelMagic: UInt32 = 0x0000_0801

  /// The names of the IDX data type codes, for messages.
  static let typeNames: [UInt8: String] = [
    0x08: "unsigned byte", 0x09: "signed byte", 0x0b: "int16", 0x0c: "int32", 0x0d: "float32",
    0x0e: "float64",
  ]

  /// Reads an IDX image file (`*-images-idx3-ubyte`, optionally gzip-compressed).
  ///
  /// The header is read first and the dimensions it announces are checked against
  /// `DataLimits.values`; only then is the rest inflated, and no further than the pixels
  /// announced, so a small file claiming billions of pixels (or a gzip bomb) costs nothing.
  ///
  /// The memory the images take — the bytes read, the pixels and the data set's 32-bit floats —
  /// is checked against `memoryLimit` as the header announces it, before the body is read: a
  /// small gzip file is no smaller once inflated.
  ///
  /// - Parameters:
  ///   - path: the file, raw or gzip (recognised by its magic bytes).
  ///   - memoryLimit: what the images may take.
  ///   - isCancelled: polled while the body is read and inflated (Ctrl-C).
  /// - Returns: the number of images, their height (`rows`) and width (`columns`), and the
  ///   pixels, `count × rows × columns` bytes in row-major order, 0 (background) to 255.
  /// - Throws: `DataError.badMagic` when the file is not an IDX image file,
  ///   `.unsupportedType` when its values are not unsigned bytes, `.tooLarge` when the header
  ///   announces more than `DataLimits.values` pixels, `.invalidArgument` for images of zero
  ///   height or width, `.truncated` when it holds fewer pixels than its header announces,
  ///   `MemoryRefusal` when they would not fit `memoryLimit`, ``ReadInterrupted``, and the
  ///   errors of `Gzip.readFile(_:limit:prefix:isCancelled:)`.
  static func readImages(
    _ path: String, memoryLimit: MemoryLimit = .unlimited,
    isCancelled: @escaping () -> Bool = { false }
  ) throws -> (count: Int, rows: Int, columns: Int, pixels: [UInt8]) {
    let dimensions = try readHeader(path, magic: imageMagic)
    let count = dimensions[0]
    let rows = dimensions[1]
    let columns = dimensions[2]
    if count > 0, rows == 0 || columns == 0 {
      throw DataError.invalidArgument(
        "'\(path)' announces images of \(rows) × \(columns) pixels; an image needs at least one")
    }
    // Three 32-bit sizes multiply to as much as 2⁹⁶: the product is checked, not assumed.
    guard let expected = DataLimits.product([count, rows, columns]),
      expected <= DataLimits.values
    else {
      let values =
        DataLimits.product([count, rows, columns]).map { NumberFormat.grouped($0) }
        ?? "more than 2⁶³"
      throw DataError.tooLarge(
        path: path,
        message: "announces \(NumberFormat.grouped(count)) images of \(rows) × \(columns) pixels "
          + "(\(values) values); sigbook reads at most "
          + "\(NumberFormat.grouped(DataLimits.values)) values")
    }
    // The file's bytes and a copy of the pixels, then 4-byte floats in the data set.
    try memoryLimit.check(
      MemoryEstimate.product(6, expected),
      for:
        "reading '\(path)' (\(NumberFormat.grouped(count)) images of \(rows) × \(columns) pixels)",
      advice: "read a smaller file")
    let bytes = try body(
      path, rank: 3, expected: expected, what: "pixel data", isCancelled: isCancelled)
    return (count, rows, columns, bytes)
  }

  /// Reads an IDX label file (`*-labels-idx1-ubyte`, optionally gzip-compressed).
  ///
  /// - Parameters:
  ///   - path: the file, raw or gzip (recognised by its magic bytes).
  ///   - memoryLimit: what the labels may take (a byte each read, 8 bytes each as class indices),
  ///     checked as the header announces them.
  ///   - isCancelled: polled while the body is read and inflated (Ctrl-C).
  /// - Returns: one label a byte, in file order.
  /// - Throws: `DataError.badMagic`, `.unsupportedType`, `.tooLarge` or `.truncated`,
  ///   `MemoryRefusal` and ``ReadInterrupted`` as `readImages(_:memoryLimit:isCancelled:)`.
  static func readLabels(
    _ path: String, memoryLimit: MemoryLimit = .unlimited,
    isCancelled: @escaping () -> Bool = { false }
  ) throws -> [UInt8] {
    let count = try readHeader(path, magic: labelMagic)[0]
    guard count <= DataLimits.values else {
      throw DataError.tooLarge(
        path: path,
        message: "announces \(NumberFormat.grouped(count)) labels; sigbook reads at most "
          + "\(NumberFormat.grouped(DataLimits.values))")
    }
    try memoryLimit.check(
      MemoryEstimate.product(10, count),
      for: "reading '\(path)' (\(NumberFormat.grouped(count)) labels)",
      advice: "read a smaller file")
    return try body(path, rank: 1, expected: count, what: "labels", isCancelled: isCancelled)
  }

  /// The `expected` bytes after the header of a file of `rank` dimensions, reading (and
  /// inflating) no further.
  private static func body(
    _ path: String, rank: Int, expected: Int, what: String, isCancelled: @escaping () -> Bool
  ) throws -> [UInt8] {
    let start = 4 + 4 * rank
    // A raw file shorter than its header announces is refused before its body is read; a
    // gzip file's inflated size is known only by inflating it, which stops at the limit.
    if !Gzip.hasMagic(try Gzip.readBytes(path, upTo: 2)) {
      let size = try fileSize(path)
      guard size - start >= expected else {
        throw DataError.truncated(path: path, what: what, expected: expected, found: size - start)
      }
    }
    let bytes = try Gzip.readFile(
      path, limit: start + expected, prefix: true, isCancelled: isCancelled)
    let found = bytes.count - start
    guard found >= expected else {
      throw DataError.truncated(path: path, what: what, expected: expected, found: found)
    }
    return Array(bytes[start..<start + expected])
  }

  /// Reads the header of a file (inflating only its first bytes) and checks its magic number;
  /// returns its dimensions.
  private static func readHeader(_ path: String, magic: UInt32) throws -> [Int] {
    let rank = Int(magic & 0xff)
    let headerSize = 4 + 4 * rank
    let bytes = try Gzip.readFile(path, limit: headerSize, prefix: true)
    guard bytes.count >= 4 else {
      throw DataError.truncated(
        path: path, what: "IDX header", expected: headerSize, found: bytes.count)
    }
    let found = bigEndian(bytes, at: 0)
    if found != magic {
      // Right layout and rank but another value type: say so rather than "wrong magic".
      if bytes[0] == 0, bytes[1] == 0, Int(bytes[3]) == rank, typeNames[bytes[2]] != nil {
        throw DataError.unsupportedType(path: path, typeCode: bytes[2])
      }
      throw DataError.badMagic(path: path, expected: magic, found: found)
    }
    guard bytes.count >= headerSize else {
      throw DataError.truncated(
        path: path, what: "IDX header", expected: headerSize, found: bytes.count)
    }
    return (0..<rank).map { Int(bigEndian(bytes, at: 4 + 4 * $0)) }
  }

  /// The size of a file in bytes, as `stat` gives it.
  private static func fileSize(_ path: String) throws -> Int {
    var info = stat()
    guard stat(path, &info) == 0 else {
      throw DataError.unreadable(path: path, reason: String(cString: strerror(errno)).lowercased())
    }
    return Int(info.st_size)
  }

  /// The big-endian 32-bit integer at `offset`.
  private static func bigEndian(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
      | UInt32(bytes[offset + 3])
  }
}

extension Dataset {
  /// Reads a data set from an IDX image file and its IDX label file (raw or gzip).
  ///
  /// Pixels are scaled to [0, 1] (divided by 255) and images shaped `[N, 1, rows, columns]`.
  /// The classes are the distinct label values, sorted, named by their value (`"0"` … `"9"`);
  /// labels are re-indexed to those classes.
  ///
  /// - Parameters:
  ///   - images: the `*-images-idx3-ubyte[.gz]` file.
  ///   - labels: the `*-labels-idx1-ubyte[.gz]` file.
  ///   - name: the name shown in displays.
  ///   - memoryLimit: what the data set may take, checked as each file's header announces it.
  ///   - isCancelled: polled while the files are read and inflated (Ctrl-C).
  /// - Throws: the errors of `IDXReader.readImages(_:memoryLimit:isCancelled:)` and
  ///   `readLabels(_:memoryLimit:isCancelled:)`, and `DataError.countMismatch` when the two files
  ///   hold different numbers of items.
  public static func idx(
    images: String, labels: String, name: String = "idx", memoryLimit: MemoryLimit = .unlimited,
    isCancelled: @escaping () -> Bool = { false }
  ) throws -> Dataset {
    let image = try IDXReader.readImages(
      images, memoryLimit: memoryLimit, isCancelled: isCancelled)
    let values = try IDXReader.readLabels(
      labels, memoryLimit: memoryLimit, isCancelled: isCancelled)
    guard values.count == image.count else {
      throw DataError.countMismatch(
        images: images, imageCount: image.count, labels: labels, labelCount: values.count)
    }
    let features = pixelTensor(
      image.pixels, shape: [image.count, 1, image.rows, image.columns], divisor: 255)
    let classes = Array(Set(values)).sorted()
    var index = [Int](repeating: 0, count: 256)
    for (i, c) in classes.enumerated() { index[Int(c)] = i }
    return Dataset(
      name: name, features: features, labels: values.map { index[Int($0)] },
      classNames: classes.map { String($0) })
  }

  /// Bytes converted to floats and divided by `divisor`, through a 256-entry table.
  static func pixelTensor(_ bytes: [UInt8], shape: [Int], divisor: Float) -> Tensor {
    let table = (0..<256).map { Float($0) / divisor }
    return Tensor(shape: shape) { out in
      bytes.withUnsafeBufferPointer { source in
        table.withUnsafeBufferPointer { table in
          for i in 0..<source.count { out[i] = table[Int(source[i])] }
        }
      }
    }
  }
}
