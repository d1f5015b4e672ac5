import Foundation

/// NumPy's `.npy` format, version 1.0: the magic `\x93NUMPY`, the version, a little-endian
/// header length, a Python-literal header padded with spaces to a multiple of 64 bytes and
/// ending in a newline, then the data in C order.
public enum NPY {
  /// A float32 array of the given shape (`<f4`).
  public static func encode(_ values: [Float], shape: [Int]) -> Data {
    var data = header(descr: "<f4", shape: shape)
    values.withUnsafeBytes { data.append(contentsOf: $0) }
    return data
  }

  /// An int64 array of the given shape (`<i8`).
  public static func encode(_ values: [Int], shape: [Int]) -> Data {
    var data = header(descr: "<i8", shape: shape)
    let wide = values.map { Int64($0).littleEndian }
    wide.withUnsafeBytes { data.append(contentsOf: $0) }
    return data
  }

  /// A Unicode text array of the given shape (`<Uk`, k the longest text in characters, each text
  /// as k UTF-32 little-endian code points padded with zeros), as NumPy saves a list of strings.
  public static func encode(texts: [String], shape: [Int]) -> Data {
    let width = max(1, texts.map(\.unicodeScalars.count).max() ?? 1)
    var data = header(descr: "<U\(width)", shape: shape)
    var scalars: [UInt32] = []
    scalars.reserveCapacity(texts.count * width)
    for text in texts {
      let codes = text.unicodeScalars.map(\.value)
      scalars += codes.map(\.littleEndian)
      scalars += [UInt32](repeating: 0, count: width - codes.count)
    }
    scalars.withUnsafeBytes { data.append(contentsOf: $0) }
    return data
  }

  private static func header(descr: String, shape: [Int]) -> Data {
    let shapeText =
      shape.count == 1
      ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var dictionary = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
    // magic (6) + version (2) + length (2) + header + "\n" is a multiple of 64.
    let unpadded = 10 + dictionary.utf8.count + 1
    dictionary += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
    let length = UInt16(dictionary.utf8.count)
    data.append(contentsOf: [UInt8(length & 0xff), UInt8(length >> 8)])
    data.append(contentsOf: Array(dictionary.utf8))
    return data
  }
}
