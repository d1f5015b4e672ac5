/* One chunk of rows of a multinomial logistic regression's loss and gradient (the linear
   probes' L-BFGS evaluation), in one pass over the rows while they are in the cache.

   The classes are few (10 for a probe of digits or clothes) and the features many (128–1,024):
   through sgemm, each evaluation's two products ([rows × d]·[d × k] and its transpose) have
   OpenBLAS pack all the features to serve k columns, and the packing cost as much as the
   multiply-adds. Here the rows are taken 32 at a time: their logits (eight rows' dot products
   with one class's weights at once, reduced into one vector, the eight rows' logits of that
   class), the softmax across the classes for eight rows per vector (a polynomial exp), the
   residuals p − y, and the residuals' products with the same 32 rows, added to the chunk's
   gradient held in registers a block of classes × 16 features at a time.

   Every sum has one order, fixed by the sizes (rows, d, k) alone: the result does not depend on
   how the caller splits its rows into chunks, as long as the chunks are the same. */

#include "CKernels.h"

#include <math.h>
#include <stdint.h>

/* Rows per block (a multiple of 8): 32 rows of 256 features are 32 KB, a core's L1 cache. */
#define SIGBOOK_BLOCK 32

size_t sigbook_softmax_regression_scratch(int k) {
  /* The block's logits, then residuals ([k, SIGBOOK_BLOCK]); each class's residual sums
     ([k, 8]); each row's label index and loss terms. */
  return (size_t)k * SIGBOOK_BLOCK + (size_t)k * 8 + 2 * SIGBOOK_BLOCK;
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma")))

/* The first n ≤ 8 lanes set. */
static inline TARGET __m256i lanes(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Lane r holds the sum of a[r]'s eight lanes (pairs, then quads, then the two halves). */
static inline TARGET __m256 reduce8(const __m256 a[8]) {
  const __m256 t0 = _mm256_hadd_ps(a[0], a[1]), t1 = _mm256_hadd_ps(a[2], a[3]);
  const __m256 t2 = _mm256_hadd_ps(a[4], a[5]), t3 = _mm256_hadd_ps(a[6], a[7]);
  const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
  return _mm256_add_ps(
      _mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

/* e^x for x ≤ 0 (Cephes' expf: x = n·ln 2 + r, |r| ≤ ln 2 / 2, a degree-6 polynomial in r,
   times 2^n; within 2 ulp). Below ln(FLT_MIN) it returns FLT_MIN instead of a smaller value:
   a probability of 1e-38 where the truth is smaller changes no sum it enters. */
static inline TARGET __m256 exp8(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.3365402f));
  const __m256 n = _mm256_round_ps(
      _mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 y = _mm256_add_ps(
      _mm256_fmadd_ps(p, _mm256_mul_ps(x, x), x), _mm256_set1_ps(1.0f));
  const __m256i scale = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(scale));
}

/* The logits of four rows for two classes: lane 4c + r = Σ_f rows[r][f]·w[c][f] (eight
   partial sums per product, one per lane, then `reduce8`). */
static inline TARGET __m256 dots4x2(
    const float *const rows[4], const float *w0, const float *w1, int d, __m256i tail) {
  __m256 a[8];
  for (int r = 0; r < 8; r++) a[r] = _mm256_setzero_ps();
  int f = 0;
  for (; f + 8 <= d; f += 8) {
    const __m256 v0 = _mm256_loadu_ps(w0 + f), v1 = _mm256_loadu_ps(w1 + f);
    for (int r = 0; r < 4; r++) {
      const __m256 xv = _mm256_loadu_ps(rows[r] + f);
      a[r] = _mm256_fmadd_ps(xv, v0, a[r]);
      a[4 + r] = _mm256_fmadd_ps(xv, v1, a[4 + r]);
    }
  }
  if (f < d) {
    const __m256 v0 = _mm256_maskload_ps(w0 + f, tail), v1 = _mm256_maskload_ps(w1 + f, tail);
    for (int r = 0; r < 4; r++) {
      const __m256 xv = _mm256_maskload_ps(rows[r] + f, tail);
      a[r] = _mm256_fmadd_ps(xv, v0, a[r]);
      a[4 + r] = _mm256_fmadd_ps(xv, v1, a[4 + r]);
    }
  }
  return reduce8(a);
}

/* g[j0 + c][f0 + 8v + ·] += Σ_i residual[c][i] · x[i][f0 + 8v + ·] for c < nc, v < nv, over
   `rows` rows (row i at x + i·d, residual[c][i] at r + c·SIGBOOK_BLOCK + i), the last vector
   masked by `tail` when `masked`; with `prefetch`, asks for the same features of the rows
   SIGBOOK_BLOCK further on. */
static inline __attribute__((always_inline)) TARGET void gradient_tile(
    const float *x, int d, int rows, const float *r, float *g, int nc, int nv, int masked,
    __m256i tail, int prefetch) {
  __m256 acc[6][2];
  for (int c = 0; c < nc; c++)
    for (int v = 0; v < nv; v++)
      acc[c][v] = masked && v == nv - 1 ? _mm256_maskload_ps(g + c * d + 8 * v, tail)
                                        : _mm256_loadu_ps(g + c * d + 8 * v);
  for (int i = 0; i < rows; i++) {
    const float *xi = x + (ptrdiff_t)i * d;
    /* The next block's rows, while this one's are being multiplied: the rows of a chunk come
       from memory (or L3) once per evaluation, and the logits' eight-row reads outrun the
       hardware prefetcher. */
    if (prefetch) _mm_prefetch((const char *)(xi + (ptrdiff_t)SIGBOOK_BLOCK * d), _MM_HINT_T0);
    __m256 xv[2];
    for (int v = 0; v < nv; v++)
      xv[v] = masked && v == nv - 1 ? _mm256_maskload_ps(xi + 8 * v, tail)
                                    : _mm256_loadu_ps(xi + 8 * v);
    for (int c = 0; c < nc; c++) {
      const __m256 rc = _mm256_broadcast_ss(r + c * SIGBOOK_BLOCK + i);
      for (int v = 0; v < nv; v++) acc[c][v] = _mm256_fmadd_ps(rc, xv[v], acc[c][v]);
    }
  }
  for (int c = 0; c < nc; c++)
    for (int v = 0; v < nv; v++) {
      if (masked && v == nv - 1)
        _mm256_maskstore_ps(g + c * d + 8 * v, tail, acc[c][v]);
      else
        _mm256_storeu_ps(g + c * d + 8 * v, acc[c][v]);
    }
}

/* `gradient_tile` with its sizes as constants, so that each case unrolls into registers. */
static __attribute__((noinline)) TARGET void gradient_block(
    const float *x, int d, int rows, const float *r, float *g, int nc, int nv, int masked,
    __m256i tail, int prefetch) {
#define SIGBOOK_CASE(C, V, M)                                 \
  case ((C) * 4 + (V)) * 2 + (M):                             \
    gradient_tile(x, d, rows, r, g, C, V, M, tail, prefetch);           \
    return;
#define SIGBOOK_CASES(C)                                                                  \
  SIGBOOK_CASE(C, 1, 0) SIGBOOK_CASE(C, 1, 1) SIGBOOK_CASE(C, 2, 0) SIGBOOK_CASE(C, 2, 1)
  switch ((nc * 4 + nv) * 2 + masked) {
    SIGBOOK_CASES(1) SIGBOOK_CASES(2) SIGBOOK_CASES(3) SIGBOOK_CASES(4) SIGBOOK_CASES(5)
    SIGBOOK_CASES(6)
    default: return;
  }
#undef SIGBOOK_CASES
#undef SIGBOOK_CASE
}

static TARGET void chunk_avx2(
    const float *x, int rows, int d, int k, const float *weights, const float *intercepts,
    const int32_t *labels, float *gradient, double *intercept_sums, double *loss,
    float *scratch) {
  float *z = scratch;                                   /* [k, SIGBOOK_BLOCK] */
  float *sums = z + (size_t)k * SIGBOOK_BLOCK;          /* [k, 8] */
  float *terms = sums + (size_t)k * 8;                  /* top − labelled, per row */
  float *totals = terms + SIGBOOK_BLOCK;                /* Σ e^(z − top), per row */
  const __m256i tail = lanes(d % 8);
  for (size_t i = 0; i < (size_t)k * d; i++) gradient[i] = 0;
  for (int i = 0; i < k * 8; i++) sums[i] = 0;
  double total = 0;
  for (int first = 0; first < rows; first += SIGBOOK_BLOCK) {
    const int m = rows - first < SIGBOOK_BLOCK ? rows - first : SIGBOOK_BLOCK;
    const float *xb = x + (ptrdiff_t)first * d;
    for (int g = 0; g < m; g += 8) {
      /* Rows past the last read the last row again; their residuals are set to 0 below. */
      const float *group[8];
      for (int r = 0; r < 8; r++) group[r] = xb + (ptrdiff_t)(g + r < m ? g + r : m - 1) * d;
      for (int h = 0; h < 8; h += 4)
        for (int j = 0; j < k; j += 2) {
          /* An odd last class is computed twice, in both halves. */
          const int j1 = j + 1 < k ? j + 1 : j;
          const __m256 both = _mm256_add_ps(
              dots4x2(group + h, weights + (ptrdiff_t)j * d, weights + (ptrdiff_t)j1 * d, d,
                      tail),
              _mm256_setr_m128(_mm_set1_ps(intercepts[j]), _mm_set1_ps(intercepts[j1])));
          _mm_storeu_ps(z + j * SIGBOOK_BLOCK + g + h, _mm256_castps256_ps128(both));
          _mm_storeu_ps(z + j1 * SIGBOOK_BLOCK + g + h, _mm256_extractf128_ps(both, 1));
        }
      const __m256i valid = lanes(m - g);
      int32_t label[8];
      for (int r = 0; r < 8; r++) label[r] = g + r < m ? labels[first + g + r] : -1;
      const __m256i y = _mm256_loadu_si256((const __m256i *)label);
      __m256 top = _mm256_set1_ps(-INFINITY), labelled = _mm256_setzero_ps();
      for (int j = 0; j < k; j++) {
        const __m256 zj = _mm256_loadu_ps(z + j * SIGBOOK_BLOCK + g);
        top = _mm256_max_ps(top, zj);
        labelled = _mm256_blendv_ps(
            labelled, zj, _mm256_castsi256_ps(_mm256_cmpeq_epi32(y, _mm256_set1_epi32(j))));
      }
      __m256 sum = _mm256_setzero_ps();
      for (int j = 0; j < k; j++) {
        const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(z + j * SIGBOOK_BLOCK + g), top));
        _mm256_storeu_ps(z + j * SIGBOOK_BLOCK + g, e);
        sum = _mm256_add_ps(sum, e);
      }
      const __m256 inverse = _mm256_div_ps(_mm256_set1_ps(1.0f), sum);
      const __m256 live = _mm256_castsi256_ps(valid);
      for (int j = 0; j < k; j++) {
        const __m256 hit = _mm256_and_ps(
            _mm256_castsi256_ps(_mm256_cmpeq_epi32(y, _mm256_set1_epi32(j))),
            _mm256_set1_ps(1.0f));
        const __m256 p = _mm256_mul_ps(_mm256_loadu_ps(z + j * SIGBOOK_BLOCK + g), inverse);
        const __m256 residual = _mm256_and_ps(_mm256_sub_ps(p, hit), live);
        _mm256_storeu_ps(z + j * SIGBOOK_BLOCK + g, residual);
        _mm256_storeu_ps(sums + j * 8, _mm256_add_ps(_mm256_loadu_ps(sums + j * 8), residual));
      }
      _mm256_storeu_ps(terms + g, _mm256_sub_ps(top, labelled));
      _mm256_storeu_ps(totals + g, sum);
    }
    for (int i = 0; i < m; i++) total += (double)terms[i] + log((double)totals[i]);
    /* Classes in blocks of at most 6 (as even as possible), features 16 at a time. */
    const int blocks = (k + 5) / 6;
    for (int b = 0, j0 = 0; b < blocks; b++) {
      const int nc = (k - j0) / (blocks - b);
      int f = 0;
      for (; f + 16 <= d; f += 16)
        gradient_block(xb + f, d, m, z + j0 * SIGBOOK_BLOCK, gradient + (ptrdiff_t)j0 * d + f,
                       nc, 2, 0, tail, b == 0);
      if (f + 8 <= d) {
        gradient_block(xb + f, d, m, z + j0 * SIGBOOK_BLOCK, gradient + (ptrdiff_t)j0 * d + f,
                       nc, 1, 0, tail, b == 0);
        f += 8;
      }
      if (f < d)
        gradient_block(xb + f, d, m, z + j0 * SIGBOOK_BLOCK, gradient + (ptrdiff_t)j0 * d + f,
                       nc, 1, 1, tail, b == 0);
      j0 += nc;
    }
  }
  for (int j = 0; j < k; j++) {
    double s = 0;
    for (int l = 0; l < 8; l++) s += sums[j * 8 + l];
    intercept_sums[j] = s;
  }
  *loss = total;
}
#endif

int sigbook_softmax_regression_chunk(
    int variant, const float *x, int rows, int d, int k, const float *weights,
    const float *intercepts, const int *labels, float *gradient, double *intercept_sums,
    double *loss, float *scratch) {
  if (variant != SIGBOOK_VECTORS_AVX2 || !sigbook_vectors_supported(variant)) return -1;
  if (rows < 0 || d < 1 || k < 1) return -1;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  chunk_avx2(x, rows, d, k, weights, intercepts, labels, gradient, intercept_sums, loss, scratch);
  return 0;
#else
  return -1;
#endif
}
