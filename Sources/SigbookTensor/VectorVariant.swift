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

/// The variants of a C kernel that also has a portable one: plain C at the x86-64 baseline, or
/// AVX2 where the processor has it (`VectorVariant.avx2`). The two do the same operations in the
/// same order and give the same bits (t-SNE's repulsion sums, UMAP's layout epochs).
package enum PortableOrAVX2: Int32, CaseIterable, Sendable {
  /// Plain C at the baseline: every processor (`SIGBOOK_VECTORS_NONE`).
  case portable = 0
  /// 256-bit vectors, AVX2 (`SIGBOOK_VECTORS_AVX2`).
  case avx2 = 1

  /// The fastest variant this processor runs.
  package static let best: PortableOrAVX2 = VectorVariant.avx2.isSupported ? .avx2 : .portable

  /// Whether this processor runs the variant.
  package var isSupported: Bool { self == .portable || VectorVariant.avx2.isSupported }
}
