import RealModule

/// Whether `a` is within `tolerance` of `b`: `|a − b| ≤ tolerance · max(1, |a|, |b|)`, the
/// tests' one closeness check (swift-numerics' `isApproximatelyEqual` with the same absolute
/// and relative tolerance). False for nil and for non-finite differences.
public func isClose<T: Real>(_ a: T?, _ b: T, tolerance: T) -> Bool {
  guard let a else { return false }
  return a.isApproximatelyEqual(to: b, absoluteTolerance: tolerance, relativeTolerance: tolerance)
}

/// The largest `|a − b| / max(1, |b|)` over two arrays (∞ when the counts differ).
public func largestRelativeError(_ a: [Float], _ b: [Float]) -> Double {
  guard a.count == b.count else { return .infinity }
  return zip(a, b).reduce(0) { max($0, Double(abs($1.0 - $1.1)) / max(1, Double(abs($1.1)))) }
}
