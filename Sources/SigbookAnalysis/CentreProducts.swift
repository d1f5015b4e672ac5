import CKernels
import SigbookTensor

/// Products of many points with a few centres, and each point's nearest centre: k-means's
/// distances, by the vector kernels of `CKernels` where the processor runs one (the C file says
/// how they work), else by sgemm.
///
/// Through sgemm, 2,000 points × 128 features against 2 to 10 centres are products tiny on one
/// side, and OpenBLAS packs both operands for every call: on the Zen kernels the packing took
/// half as long as the products. The kernels read points packed once into panels of 16
/// (``pack(_:rows:columns:)``) and keep the centres' accumulators in registers.
///
/// Each product is the sum over features in order, one fused multiply-add per feature, the same
/// in both variants (they agree to the bit). OpenBLAS's Zen sgemm gave the same bits for 2,000
/// points × 128 features against 2 to 7 centres, and against 8 to 15 for all but the last 8
/// rows (measured 2026-12-07); W5's assignments for every k and its silhouette came out
/// identical to the sgemm build's.
enum CentreProducts {
  /// Points per panel of the packed layout.
  static let panelWidth = 16

  /// The most centres a kernel call takes; beyond, callers use sgemm.
  static let maxCentres = Int(SIGBOOK_MAX_CENTRES)

  /// The variant for `k` centres: `best`, or nil when there is none or k is outside
  /// `1 ... maxCentres`.
  static func variant(centres k: Int) -> VectorVariant? {
    (1...maxCentres).contains(k) ? VectorVariant.best : nil
  }

  /// The rows of a row-major `[rows, columns]` buffer in panels of 16 rows stored feature by
  /// feature: feature f of row i at `((i / 16) · columns + f) · 16 + i % 16`, the last panel
  /// padded with zeros.
  static func pack(_ x: UnsafeBufferPointer<Float>, rows n: Int, columns d: Int) -> [Float] {
    let w = panelWidth
    let panels = (n + w - 1) / w
    var packed = [Float](repeating: 0, count: panels * d * w)
    packed.withUnsafeMutableBufferPointer { out in
      for i in 0..<n {
        let base = (i / w) * d * w + i % w
        for f in 0..<d { out[base + f * w] = x[i * d + f] }
      }
    }
    return packed
  }

  /// `out[j · stride + i] = −2 · xᵢ · c_j` for the points `start ..< start + count` of `panels`
  /// and the `k` centres (`[k, d]`, row-major).
  ///
  /// - Precondition: `variant.isSupported`, `1 ≤ k ≤ maxCentres`, `stride ≥ count`.
  static func products(
    _ variant: VectorVariant, panels: UnsafePointer<Float>, features d: Int, start: Int, count: Int,
    centres: UnsafePointer<Float>, k: Int, into out: UnsafeMutablePointer<Float>, stride: Int
  ) {
    let status = sigbook_centre_products(
      variant.rawValue, panels, Int32(d), Int32(start), Int32(count), centres, Int32(k), out,
      stride)
    precondition(status == 0, "centre products of \(count) points and \(k) centres, \(variant)")
  }

  /// The nearest centre of each of the points `start ..< start + count` (the first of least
  /// `‖c_j‖² − 2 · x · c_j`) into `labels[0 ..< count]`, and its squared distance
  /// `max(0, norms[i] + that value)` into `distances` (`norms` indexed from `start` too).
  ///
  /// - Precondition: as ``products(_:panels:features:start:count:centres:k:into:stride:)``.
  static func nearest(
    _ variant: VectorVariant, panels: UnsafePointer<Float>, features d: Int, start: Int, count: Int,
    norms: UnsafePointer<Float>, centres: UnsafePointer<Float>,
    centreNorms: UnsafePointer<Float>, k: Int, labels: UnsafeMutablePointer<Int>,
    distances: UnsafeMutablePointer<Float>
  ) {
    let status = sigbook_nearest_centres(
      variant.rawValue, panels, Int32(d), Int32(start), Int32(count), norms, centres,
      centreNorms, Int32(k), labels, distances)
    precondition(status == 0, "nearest of \(k) centres for \(count) points, \(variant)")
  }
}
