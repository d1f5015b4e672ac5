import CZlib
import Foundation

/// NumPy's `.npz` format: a ZIP archive holding one `.npy` file per named array, as
/// `numpy.savez` writes it; `numpy.load("x.npz")["H1"]` reads an array back.
///
/// Entries are stored (ZIP method 0, as `numpy.savez` does; `savez_compressed` deflates), each
/// with its CRC-32 from zlib, dated 1980-01-01 so that the same arrays give the same bytes.
/// Plain ZIP, not ZIP64: the archive stays under 4 GiB.
public enum NPZ {
  /// Why arrays could not be packed.
  public struct TooLarge: Error, Sendable, Equatable, CustomStringConvertible {
    var bytes: Int
    public var description: String {
      "the arrays take \(bytes) bytes, more than a .npz without ZIP64 holds (4 GiB)"
    }
  }

  /// The archive of `arrays`, each an encoded `.npy` (`NPY.encode`) stored as `NAME.npy`.
  ///
  /// - Throws: `TooLarge` when the archive would pass 4 GiB.
  public static func encode(_ arrays: [(name: String, npy: Data)]) throws(TooLarge) -> Data {
    let total = arrays.reduce(0) { $0 + $1.npy.count + 2 * (46 + $1.name.utf8.count + 4) } + 22
    guard total < Int(UInt32.max) else { throw TooLarge(bytes: total) }
    var archive = Data()
    var directory = Data()
    for (name, npy) in arrays {
      let fileName = Array((name + ".npy").utf8)
      let crc = crc32(of: npy)
      let offset = UInt32(archive.count)
      // Local file header.
      archive.append(le32(0x0403_4b50))
      archive.append(entryFields(crc: crc, size: UInt32(npy.count), nameLength: fileName.count))
      archive.append(le16(0))  // extra field length
      archive.append(contentsOf: fileName)
      archive.append(npy)
      // Central directory entry.
      directory.append(le32(0x0201_4b50))
      directory.append(le16(20))  // made by: ZIP 2.0, MS-DOS attributes
      directory.append(entryFields(crc: crc, size: UInt32(npy.count), nameLength: fileName.count))
      directory.append(le16(0))  // extra field length
      directory.append(le16(0))  // comment length
      directory.append(le16(0))  // disk number
      directory.append(le16(0))  // internal attributes
      directory.append(le32(0))  // external attributes
      directory.append(le32(offset))
      directory.append(contentsOf: fileName)
    }
    let directoryOffset = UInt32(archive.count)
    archive.append(directory)
    // End of central directory record.
    archive.append(le32(0x0605_4b50))
    archive.append(le16(0))
    archive.append(le16(0))
    archive.append(le16(UInt16(arrays.count)))
    archive.append(le16(UInt16(arrays.count)))
    archive.append(le32(UInt32(directory.count)))
    archive.append(le32(directoryOffset))
    archive.append(le16(0))
    return archive
  }

  /// The fields a local header and a central directory entry share, from "version needed" to
  /// the name's length.
  private static func entryFields(crc: UInt32, size: UInt32, nameLength: Int) -> Data {
    var fields = Data()
    fields.append(le16(20))  // version needed: 2.0
    fields.append(le16(0))  // flags
    fields.append(le16(0))  // method: stored
    fields.append(le16(0))  // time 00:00:00
    fields.append(le16(0x21))  // date 1980-01-01
    fields.append(le32(crc))
    fields.append(le32(size))  // compressed size
    fields.append(le32(size))  // uncompressed size
    fields.append(le16(UInt16(nameLength)))
    return fields
  }

  /// zlib's CRC-32 of the bytes.
  static func crc32(of data: Data) -> UInt32 {
    data.withUnsafeBytes { raw -> UInt32 in
      var crc = CZlib.crc32(0, nil, 0)
      var offset = 0
      // zlib takes the length as a 32-bit uInt: feed large arrays in parts.
      while offset < raw.count {
        let count = Swift.min(raw.count - offset, 1 << 30)
        let base = raw.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) + offset }
        crc = CZlib.crc32(crc, base, uInt(count))
        offset += count
      }
      return UInt32(truncatingIfNeeded: crc)
    }
  }

  private static func le16(_ v: UInt16) -> Data { Data([UInt8(v & 0xff), UInt8(v >> 8)]) }

  private static func le32(_ v: UInt32) -> Data {
    Data([UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8(v >> 24)])
  }
}
