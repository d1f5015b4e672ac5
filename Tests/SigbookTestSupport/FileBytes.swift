/// The bytes of small files in the formats sigbook reads, built by hand for the readers' tests
/// and the seeds of their fuzzers.

/// Builders of small IDX files.
public enum IDXFixture {
  public static func bigEndian(_ value: Int) -> [UInt8] {
    [
      UInt8(value >> 24 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff),
      UInt8(value & 0xff),
    ]
  }

  public static func images(
    count: Int, rows: Int, columns: Int, pixels: [UInt8], type: UInt8 = 0x08
  )
    -> [UInt8]
  {
    [0, 0, type, 3] + bigEndian(count) + bigEndian(rows) + bigEndian(columns) + pixels
  }

  public static func labels(_ values: [UInt8], count: Int? = nil) -> [UInt8] {
    [0, 0, 0x08, 1] + bigEndian(count ?? values.count) + values
  }

  /// Three 2 × 2 images whose pixels are 0, 51, 102, … and labels 7, 1, 7.
  public static let pixels: [UInt8] = (0..<12).map { UInt8($0 * 51 % 256) }
  public static let labelValues: [UInt8] = [7, 1, 7]
}

/// Version-1 `.npy` files built by hand.
public enum NPYFixture {
  /// A `.npy` file of `descr` holding `data`.
  public static func bytes(descr: String, shape: String, data: [UInt8], fortran: Bool = false)
    -> [UInt8]
  {
    bytes(
      header:
        "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }",
      data: data)
  }

  /// A `.npy` file with the header text given as is (padded as NumPy pads it).
  public static func bytes(header text: String, data: [UInt8]) -> [UInt8] {
    let header =
      text + String(repeating: " ", count: (64 - (10 + text.utf8.count + 1) % 64) % 64) + "\n"
    let n = header.utf8.count
    return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xff), UInt8(n >> 8)]
      + Array(header.utf8) + data
  }
}
