import CZlib

/// A small deterministic zlib (RFC 1950) / deflate (RFC 1951) encoder for images.
///
/// One block with the fixed Huffman codes; matches are looked for only at two distances, the
/// previous byte and the byte one row up, which is what pixel-doubled images repeat. The output
/// depends only on the input bytes and the row length, never on the zlib build of a machine
/// (zlib, zlib-ng and others compress differently), so figures embedding PNGs stay byte-identical
/// everywhere. zlib itself is used only for the Adler-32 checksum, a fixed function.
enum Deflate {
  /// A complete zlib stream of `data` (header, one fixed-Huffman block, Adler-32).
  ///
  /// - Parameters:
  ///   - data: the bytes to compress.
  ///   - rowLength: the distance at which rows repeat (PNG: 1 + bytes per row); 0 for none.
  static func zlib(_ data: [UInt8], rowLength: Int) -> [UInt8] {
    var writer = BitWriter()
    // CMF 0x78 (deflate, 32 KiB window), FLG 0x01 (fastest, no dictionary): 0x7801 % 31 == 0.
    writer.bytes = [0x78, 0x01]
    writer.write(1, count: 1)  // BFINAL
    writer.write(1, count: 2)  // BTYPE 01: fixed Huffman codes
    let distances = [1, rowLength].filter { $0 > 0 && $0 <= 32_768 }
    var i = 0
    while i < data.count {
      var bestLength = 0
      var bestDistance = 0
      for d in distances where i >= d {
        var length = 0
        while length < 258 && i + length < data.count
          && data[i + length] == data[i + length - d]
        {
          length += 1
        }
        if length > bestLength {
          bestLength = length
          bestDistance = d
        }
      }
      if bestLength >= 3 {
        writer.writeLength(bestLength)
        writer.writeDistance(bestDistance)
        i += bestLength
      } else {
        writer.writeLiteral(Int(data[i]))
        i += 1
      }
    }
    writer.writeLiteral(256)  // end of block
    writer.flush()
    let adler = data.withUnsafeBufferPointer { buffer -> UInt32 in
      let start = adler32(0, nil, 0)
      guard let base = buffer.baseAddress else { return UInt32(truncatingIfNeeded: start) }
      return UInt32(truncatingIfNeeded: adler32(start, base, uInt(buffer.count)))
    }
    writer.bytes += [
      UInt8(adler >> 24), UInt8((adler >> 16) & 0xFF), UInt8((adler >> 8) & 0xFF),
      UInt8(adler & 0xFF),
    ]
    return writer.bytes
  }

  private static let lengthBase = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
  ]
  private static let lengthExtra = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
  ]
  private static let distanceBase = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049,
    3073, 4097, 6145, 8193, 12289, 16385, 24577,
  ]
  private static let distanceExtra = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
  ]

  /// Packs bits least significant first, as deflate does; Huffman codes go most significant first.
  private struct BitWriter {
    var bytes: [UInt8] = []
    var buffer: UInt32 = 0
    var used = 0

    mutating func write(_ value: Int, count: Int) {
      guard count > 0 else { return }
      buffer |= UInt32(value & ((1 << count) - 1)) << UInt32(used)
      used += count
      while used >= 8 {
        bytes.append(UInt8(buffer & 0xFF))
        buffer >>= 8
        used -= 8
      }
    }

    mutating func writeCode(_ code: Int, count: Int) {
      var reversed = 0
      for bit in 0..<count where code & (1 << bit) != 0 { reversed |= 1 << (count - 1 - bit) }
      write(reversed, count: count)
    }

    /// A literal/length symbol with the fixed code of RFC 1951 §3.2.6.
    mutating func writeLiteral(_ symbol: Int) {
      switch symbol {
      case 0...143: writeCode(0x30 + symbol, count: 8)
      case 144...255: writeCode(0x190 + symbol - 144, count: 9)
      case 256...279: writeCode(symbol - 256, count: 7)
      default: writeCode(0xC0 + symbol - 280, count: 8)
      }
    }

    mutating func writeLength(_ length: Int) {
      var index = Deflate.lengthBase.count - 1
      while Deflate.lengthBase[index] > length { index -= 1 }
      writeLiteral(257 + index)
      write(length - Deflate.lengthBase[index], count: Deflate.lengthExtra[index])
    }

    mutating func writeDistance(_ distance: Int) {
      var index = Deflate.distanceBase.count - 1
      while Deflate.distanceBase[index] > distance { index -= 1 }
      writeCode(index, count: 5)
      write(distance - Deflate.distanceBase[index], count: Deflate.distanceExtra[index])
    }

    mutating func flush() {
      if used > 0 {
        bytes.append(UInt8(buffer & 0xFF))
        buffer = 0
        used = 0
      }
    }
  }
}
