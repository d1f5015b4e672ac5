import CZlib
import Foundation

/// An 8-bit RGB image read back from a file, to compare renderings.
public struct RGBImage {
  public var width: Int
  public var height: Int
  /// `width · height · 3` bytes, row-major.
  public var pixels: [UInt8]

  /// Reads a binary PPM (`P6`, what `pdftoppm` writes without `-png`).
  public init(ppm data: [UInt8]) throws {
    var fields: [Int] = []
    var i = 2
    while fields.count < 3 {
      while i < data.count, data[i] == 0x20 || data[i] == 0x0A || data[i] == 0x0D { i += 1 }
      var value = 0
      while i < data.count, (0x30...0x39).contains(data[i]) {
        value = value * 10 + Int(data[i] - 0x30)
        i += 1
      }
      fields.append(value)
    }
    guard data.starts(with: Array("P6".utf8)) && fields[2] == 255 else {
      throw ToolFailure("not a PPM or PNG that sigbook writes")
    }
    width = fields[0]
    height = fields[1]
    pixels = Array(data[(i + 1)...])
    guard pixels.count == width * height * 3 else {
      throw ToolFailure("not a PPM or PNG that sigbook writes")
    }
  }

  /// Reads the PNGs `SVGRenderer` writes: 8-bit RGB, filter 0 on every row.
  public init(png data: [UInt8]) throws {
    var i = 8
    var compressed: [UInt8] = []
    var header: [UInt8] = []
    while i + 8 <= data.count {
      let length = data[i..<i + 4].reduce(0) { $0 << 8 | Int($1) }
      let type = String(decoding: data[i + 4..<i + 8], as: UTF8.self)
      let body = Array(data[i + 8..<i + 8 + length])
      if type == "IHDR" { header = body }
      if type == "IDAT" { compressed += body }
      i += 12 + length
    }
    guard header.count == 13 && header[8] == 8 && header[9] == 2 else {
      throw ToolFailure("not a PPM or PNG that sigbook writes")
    }
    width = header[0..<4].reduce(0) { $0 << 8 | Int($1) }
    height = header[4..<8].reduce(0) { $0 << 8 | Int($1) }
    var raw = [UInt8](repeating: 0, count: (width * 3 + 1) * height)
    var rawCount = uLongf(raw.count)
    let status = uncompress(&raw, &rawCount, compressed, uLong(compressed.count))
    guard status == Z_OK && Int(rawCount) == raw.count else {
      throw ToolFailure("not a PPM or PNG that sigbook writes")
    }
    pixels = []
    pixels.reserveCapacity(width * height * 3)
    for row in 0..<height {
      let start = row * (width * 3 + 1)
      guard raw[start] == 0 else { throw ToolFailure("not a PPM or PNG that sigbook writes") }
      pixels += raw[start + 1..<start + 1 + width * 3]
    }
  }

  /// The fraction of pixels (over the area both images cover) with no pixel of `other` within
  /// one pixel's distance whose channels all differ by at most `tolerance`.
  ///
  /// Two rasterisers of the same vector drawing disagree on antialiased edges and may place an
  /// edge one pixel apart; a neighbourhood comparison forgives that and nothing else.
  public func unmatchedFraction(in other: RGBImage, tolerance: Int) -> Double {
    let w = min(width, other.width)
    let h = min(height, other.height)
    var unmatched = 0
    for y in 0..<h {
      for x in 0..<w {
        let p = (y * width + x) * 3
        var found = false
        search: for dy in -1...1 {
          for dx in -1...1 {
            let yy = min(max(y + dy, 0), h - 1)
            let xx = min(max(x + dx, 0), w - 1)
            let q = (yy * other.width + xx) * 3
            if (0..<3).allSatisfy({
              abs(Int(pixels[p + $0]) - Int(other.pixels[q + $0])) <= tolerance
            }) {
              found = true
              break search
            }
          }
        }
        if !found { unmatched += 1 }
      }
    }
    return Double(unmatched) / Double(max(w * h, 1))
  }
}
