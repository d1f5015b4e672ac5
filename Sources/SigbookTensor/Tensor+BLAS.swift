import COpenBLAS
import Foundation
import Synchronization

/// OpenBLAS's thread count is one setting for the whole process. Training holds it at one thread
/// (its batches use the cores through fixed chunks), and two trainings at once (tests run side by
/// side) must not end each other's hold: every change goes through this lock, and a count asked
/// for while a hold is on takes effect when the last hold ends.
private let threadSetting = Mutex<(holds: Int, outside: Int)>((0, 0))

/// Single-precision matrix products through OpenBLAS (`cblas_sgemm`, row-major).
public enum BLAS {
  /// `C ← alpha · op(A) · op(B) + beta · C` on raw row-major buffers.
  ///
  /// `op(X)` is `X` or its transpose; transposes are read in place, never copied. `A` is `m × k`
  /// after `op`, `B` is `k × n` after `op`, `C` is `m × n`. `lda` and `ldb`, A's and B's
  /// stored row lengths, default to those of whole matrices; a larger one reads a block of
  /// columns of a wider one.
  ///
  /// - Complexity: 2·m·n·k floating-point operations.
  package static func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>?, lda: Int? = nil, b: UnsafePointer<Float>?,
    ldb: Int? = nil, beta: Float = 0, c: UnsafeMutablePointer<Float>?
  ) {
    guard m > 0, n > 0, let c else { return }
    if k == 0 {
      // BLAS leaves C untouched for k = 0 only when beta = 1; be explicit.
      let out = UnsafeMutableBufferPointer(start: c, count: m * n)
      if beta == 0 { out.update(repeating: 0) } else { for i in out.indices { out[i] *= beta } }
      return
    }
    let lda = lda ?? (transposeA ? m : k)
    let ldb = ldb ?? (transposeB ? k : n)
    var beta = beta
    if beta == 0 {
      // OpenBLAS zeroes C before a product with beta = 0 and then adds the product to it; on
      // the Zen kernels it zeroes with scalar stores (`sgemm_beta`, 7% of an Adam-trained
      // autoencoder's epoch). memset's vector stores and a product added with beta = 1 give the
      // same bits.
      memset(c, 0, m * n * MemoryLayout<Float>.stride)
      beta = 1
    }
    cblas_sgemm(
      CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(n))
  }

  /// The number of threads OpenBLAS uses outside training.
  public static var threadCount: Int {
    threadSetting.withLock { $0.holds > 0 ? $0.outside : Int(openblas_get_num_threads()) }
  }

  /// Holds OpenBLAS at one thread until the matching `endSingleThreaded()`; holds nest.
  package static func beginSingleThreaded() {
    threadSetting.withLock { state in
      if state.holds == 0 {
        state.outside = Int(openblas_get_num_threads())
        openblas_set_num_threads(1)
      }
      state.holds += 1
    }
  }

  /// Ends a hold of `beginSingleThreaded()`; the last one restores the count asked for.
  package static func endSingleThreaded() {
    threadSetting.withLock { state in
      state.holds -= 1
      if state.holds == 0 { openblas_set_num_threads(Int32(state.outside)) }
    }
  }

  /// The name of the kernel set OpenBLAS chose for this processor (`SkylakeX`, `Haswell`, …).
  public static var coreName: String {
    guard let name = openblas_get_corename() else { return "unknown" }
    return String(cString: name)
  }

  /// Sets the number of threads OpenBLAS uses for the whole process.
  public static func setThreadCount(_ count: Int) {
    threadSetting.withLock { state in
      if state.holds > 0 { state.outside = count } else { openblas_set_num_threads(Int32(count)) }
    }
  }
}

extension Tensor {
  /// The matrix product `op(a) · op(b)` of two rank-2 tensors.
  ///
  /// - Precondition: the inner dimensions agree.
  package static func matmul(
    _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false
  ) -> Tensor {
    precondition(a.rank == 2 && b.rank == 2, "matmul takes matrices, not \(a.shape) and \(b.shape)")
    let m = transposeA ? a.shape[1] : a.shape[0]
    let k = transposeA ? a.shape[0] : a.shape[1]
    let kb = transposeB ? b.shape[1] : b.shape[0]
    let n = transposeB ? b.shape[0] : b.shape[1]
    precondition(k == kb, "matmul of \(a.shape) and \(b.shape): inner dimensions differ")
    var c = Tensor(zeros: [m, n])
    c.gemm(a, b, transposeA: transposeA, transposeB: transposeB)
    return c
  }

  /// `self ← alpha · op(a) · op(b) + beta · self`, accumulating into this matrix in place.
  ///
  /// - Precondition: shapes agree; `self` is `[m, n]`.
  public mutating func gemm(
    _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false,
    alpha: Float = 1, beta: Float = 0
  ) {
    let m = transposeA ? a.shape[1] : a.shape[0]
    let k = transposeA ? a.shape[0] : a.shape[1]
    let n = transposeB ? b.shape[0] : b.shape[1]
    precondition(
      rank == 2 && shape[0] == m && shape[1] == n && (transposeB ? b.shape[1] : b.shape[0]) == k,
      "gemm into \(shape) of \(a.shape) and \(b.shape): shapes disagree")
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        withUnsafeMutableBufferPointer { pc in
          BLAS.gemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
            a: pa.baseAddress, b: pb.baseAddress, beta: beta, c: pc.baseAddress)
        }
      }
    }
  }
}
