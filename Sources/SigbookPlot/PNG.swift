import CZlib
import Foundation
import SigbookTensor

extension Plot {
  /// A greyscale image: `height` rows of `width` pixels, row-major, 0 black … 1 white.
  struct GreyImage: Sendable, Equatable {
    /// Pixels per row.
    var width: Int
    /// Rows.
    var height: Int
    /// `width · height` intensities in [0, 1], row-major (missing ones read as 0).
    var pixels: [Float]

    /// An image from its size and row-major pixels.
    init(width: Int, height: Int, pixels: [Float]) {
      self.width = max(width, 0)
      self.height = max(height, 0)
      self.pixels = pixels
    }

    /// The first `count` images of a row-major block of features, `width · height` values each
    /// (the layout of a `[N, 1, 28, 28]` or `[N, 784]` tensor).
    static func slices(
      of features: [Float], count: Int, width: Int = 28, height: Int = 28
    ) -> [GreyImage] {
      let size = max(width * height, 1)
      let available = min(max(count, 0), features.count / size)
      return (0..<available).map { i in
        GreyImage(
          width: width, height: height, pixels: Array(features[i * size..<(i + 1) * size]))
      }
    }

    /// The images of a `[count, height, width]` tensor, in order.
    ///
    /// - Precondition: `images` has rank 3.
    static func slices(of images: Tensor) -> [GreyImage] {
      let shape = images.shape
      precondition(shape.count == 3, "images are [count, height, width], not \(shape)")
      return slices(of: images.scalars, count: shape[0], width: shape[2], height: shape[1])
    }

    /// The image as 8-bit grey levels: `round(255 · clamp(v, 0, 1))`, NaN as 0.
    var bytes: [UInt8] {
      (0..<(width * height)).map { i in
        let v = i < pixels.count ? pixels[i] : 0
        guard v.isFinite else { return v == .infinity ? 255 : 0 }
        return UInt8((min(max(v, 0), 1) * 255).rounded())
      }
    }
  }

  /// A PNG file of an 8-bit greyscale image (colour type 0, no interlace), each pixel repeated
  /// as a `scale × scale` block.
  ///
  /// Enlarging the pixels inside the file keeps them square in viewers that smooth images whatever
  /// `image-rendering` says (librsvg, PDF exports); the repeats cost little because the deflate
  /// stream (``Deflate``, fixed Huffman codes, matches one byte back and one row up) encodes them as
  /// back-references. That encoder is sigbook's own, so the bytes depend only on the pixels and
  /// not on the zlib build of the machine. Every row uses filter 0 (none); checksums are zlib's
  /// `crc32` and `adler32`.
  ///
  /// - Parameters:
  ///   - image: the pixels.
  ///   - scale: the side of the block each pixel becomes (1…16).
  /// - Returns: the file's bytes.
  static func png(_ image: GreyImage, scale: Int = 1) -> [UInt8] {
    let scale = min(max(scale, 1), 16)
    let width = image.width * scale
    let height = image.height * scale
    let grey = image.bytes
    var raw: [UInt8] = []
    raw.reserveCapacity((width + 1) * height)
    for row in 0..<height {
      raw.append(0)
      let source = (row / scale) * image.width
      for column in 0..<width { raw.append(grey[source + column / scale]) }
    }
    var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    let header =
      bigEndian32(UInt32(width)) + bigEndian32(UInt32(height)) + [8, 0, 0, 0, 0]
    appendChunk("IHDR", header, to: &file)
    appendChunk("IDAT", Deflate.zlib(raw, rowLength: width + 1), to: &file)
    appendChunk("IEND", [], to: &file)
    return file
  }

  /// `data:image/png;base64,…` for an image, to embed in an `<image>` element.
  static func pngDataURI(_ image: GreyImage, scale: Int) -> String {
    "data:image/png;base64," + Data(png(image, scale: scale)).base64EncodedString()
  }

  static func appendChunk(_ type: String, _ data: [UInt8], to file: inout [UInt8]) {
    let typeBytes = Array(type.utf8)
    file += bigEndian32(UInt32(data.count))
    file += typeBytes
    file += data
    file += bigEndian32(crc(typeBytes + data))
  }

  /// zlib's CRC-32 of the bytes.
  private static func crc(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBufferPointer { buffer -> UInt32 in
      let start = crc32(0, nil, 0)
      guard let base = buffer.baseAddress else { return UInt32(truncatingIfNeeded: start) }
      return UInt32(truncatingIfNeeded: crc32(start, base, uInt(buffer.count)))
    }
  }

  static func bigEndian32(_ v: UInt32) -> [UInt8] {
    [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
  }

}
