import CKernels
import SigbookTensor

/// t-SNE's repulsion sums by the C kernel of `CKernels` (TSNERepulsion.c says how): every point of
/// a Barnes–Hut group against the group's interaction list.
///
/// The variants do the same single-precision operations in the same order (eight lanes, no
/// fused multiply-add), so an embedding is the same bits on a processor with AVX2 as on one
/// without.
enum TSNEKernels {
  /// A variant of the kernel.
  typealias Variant = PortableOrAVX2

  /// The kernel's lanes: interaction lists are padded to a multiple of this (with entries of
  /// mass 0).
  static let lanes = 8

  /// For each point i of `count` at (px[i], py[i]): z[i] = Σₑ mₑ wₑ, fx[i] = Σₑ mₑ wₑ² dxₑ,
  /// fy[i] = Σₑ mₑ wₑ² dyₑ over the `length` list entries (lx, ly, lm), wₑ = 1 / (1 + dx² + dy²).
  ///
  /// - Precondition: `variant.isSupported`, `length` a multiple of `lanes`.
  static func repulsionSums(
    _ variant: Variant, px: UnsafePointer<Float>, py: UnsafePointer<Float>, count: Int,
    lx: UnsafePointer<Float>, ly: UnsafePointer<Float>, lm: UnsafePointer<Float>, length: Int,
    z: UnsafeMutablePointer<Double>, fx: UnsafeMutablePointer<Double>,
    fy: UnsafeMutablePointer<Double>
  ) {
    let status = sigbook_tsne_repulsion_sums(
      variant.rawValue, px, py, Int32(count), lx, ly, lm, Int32(length), z, fx, fy)
    precondition(status == 0, "repulsion sums of \(count) points over \(length) entries")
  }
}
