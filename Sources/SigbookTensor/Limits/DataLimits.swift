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
