import CKernels

/// A vector variant of the C kernels (`CKernels`): which instructions a kernel call runs.
package enum VectorVariant: Int32, CaseIterable, Sendable {
  /// 256-bit vectors, AVX2 with FMA.
  case avx2 = 1
  /// 512-bit vectors, AVX-512F.
  case avx512 = 2

  /// The widest variant this processor runs, or nil where there is none (not x86-64, or a
  /// processor without AVX2): callers then keep their portable path.
  package static let best = VectorVariant(rawValue: Int32(sigbook_vectors_best()))

  /// Whether this processor runs the variant.
  package var isSupported: Bool { sigbook_vectors_supported(rawValue) != 0 }
}
