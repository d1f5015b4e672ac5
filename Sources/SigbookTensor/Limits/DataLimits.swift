/// The sizes beyond which sigbook refuses data, checked before anything large is read or
/// allocated, so that a corrupt or hostile file (a gzip bomb, a header claiming billions of
/// images, `/dev/zero`) gives a clear error instead of exhausting memory.
///
/// The limits are generous for the data sigbook is made for: the full MNIST training set is
/// 47 million values (a 110 MB CSV, a 47 MB IDX file).
public enum DataLimits {
  /// The largest file read, in bytes — raw, or once gzip data is decompressed: 1 GiB.
  public static let fileBytes = 1 << 30

  /// The most values (inputs × features) a dataset may hold: 2²⁸ = 268,435,456, which is 1 GiB
  /// as 32-bit floats.
  public static let values = 1 << 28

  /// `1 GiB`, `512 MiB`, `700 KiB`, `12 bytes`: a byte count as people read it.
  public static func bytes(_ count: Int) -> String {
    let units = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
    for (size, name) in units where count >= size {
      let value = Double(count) / Double(size)
      let text = value == value.rounded() ? String(Int(value)) : String(format1(value))
      return "\(text) \(name)"
    }
    return "\(count) byte\(count == 1 ? "" : "s")"
  }

  /// `268,435,456`: a count with thousands separators.
  public static func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
      out.append(c)
    }
    return (n < 0 ? "-" : "") + out
  }

  /// One decimal: `1.5`.
  private static func format1(_ x: Double) -> String {
    let tenths = Int((x * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
  }

  /// The product of `factors`, or nil when it overflows `Int` or a factor is negative.
  public static func product(_ factors: [Int]) -> Int? {
    var result = 1
    for f in factors {
      guard f >= 0 else { return nil }
      let (p, overflow) = result.multipliedReportingOverflow(by: f)
      if overflow { return nil }
      result = p
    }
    return result
  }
}
