/* Training's elementwise passes — binary cross-entropy on logits, Adam's step, tanh — on
   256-bit vectors.

   The package builds for the x86-64 baseline, where Swift's eight-lane vectors (`Kernels`)
   become pairs of 128-bit SSE instructions: a division or a square root then costs two
   instructions for eight values, and these passes (one exp, one log and two divisions per
   output of an autoencoder; two divisions and a square root per parameter for Adam) took a
   fifth of an Adam-trained autoencoder's epoch. Here the same operations run in 256-bit AVX
   registers.

   Each function performs exactly the operations of its Swift counterpart in `Kernels`, in the
   same order — separate multiplies and adds (no fused multiply-add), the same constants, the
   same handling of the last, partial vector — so the two give the same bits, and a model trains
   to the same weights on a processor with AVX2 and on one without. */

#include "CKernels.h"

#include <stdint.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

/* AVX2 alone: without "fma" the compiler cannot fuse a multiply and an add. */
#define TARGET __attribute__((target("avx2")))

#define SET1 _mm256_set1_ps
#define ADD _mm256_add_ps
#define SUB _mm256_sub_ps
#define MUL _mm256_mul_ps
#define DIV _mm256_div_ps

static inline TARGET __m256 magnitude(__m256 x) {
  return _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)));
}

/* `a` where `mask` is clear, `b` where it is set. */
static inline TARGET __m256 replacing(__m256 a, __m256 b, __m256 mask) {
  return _mm256_blendv_ps(a, b, mask);
}

/* `Kernels.exp`: eˣ for x clamped to [−87.33654, 88], Cephes expf's polynomial. */
static inline TARGET __m256 exp8(__m256 x) {
  const __m256 low = SET1(-87.33654f), high = SET1(88.0f);
  x = replacing(x, low, _mm256_cmp_ps(x, low, _CMP_LT_OQ));
  x = replacing(x, high, _mm256_cmp_ps(x, high, _CMP_GT_OQ));
  const __m256 magic = SET1(12582912.0f);
  const __m256 t = ADD(MUL(x, SET1(1.44269504f)), magic);
  const __m256 n = SUB(t, magic);
  const __m256 r = SUB(SUB(x, MUL(n, SET1(0.693359375f))), MUL(n, SET1(-2.1219444e-4f)));
  __m256 p = SET1(1.98756915e-4f);
  p = ADD(MUL(p, r), SET1(1.39819995e-3f));
  p = ADD(MUL(p, r), SET1(8.3334519e-3f));
  p = ADD(MUL(p, r), SET1(4.16657959e-2f));
  p = ADD(MUL(p, r), SET1(1.66666655e-1f));
  p = ADD(MUL(p, r), SET1(5.00000012e-1f));
  const __m256 y = ADD(ADD(MUL(p, MUL(r, r)), r), SET1(1.0f));
  const __m256i integer = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(0x4B400000));
  const __m256 scale = _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_add_epi32(integer, _mm256_set1_epi32(127)), 23));
  return MUL(y, scale);
}

/* `Kernels.log1pUnit`: log(1 + e) for e in [0, 1] as 2·atanh(e / (2 + e)). */
static inline TARGET __m256 log1p_unit8(__m256 e) {
  const __m256 s = DIV(e, ADD(e, SET1(2.0f)));
  const __m256 z = MUL(s, s);
  __m256 p = SET1(1.0f / 15.0f);
  p = ADD(MUL(p, z), SET1(1.0f / 13.0f));
  p = ADD(MUL(p, z), SET1(1.0f / 11.0f));
  p = ADD(MUL(p, z), SET1(1.0f / 9.0f));
  p = ADD(MUL(p, z), SET1(1.0f / 7.0f));
  p = ADD(MUL(p, z), SET1(1.0f / 5.0f));
  p = ADD(MUL(p, z), SET1(1.0f / 3.0f));
  p = ADD(MUL(p, z), SET1(1.0f));
  return MUL(MUL(SET1(2.0f), s), p);
}

/* `Kernels.tanh`: an odd polynomial below |x| = 0.625, 1 − 2 / (e^{2|x|} + 1) with x's sign
   above. */
static inline TARGET __m256 tanh8(__m256 x) {
  const __m256 a = magnitude(x);
  const __m256 z = MUL(x, x);
  __m256 p = SET1(-5.70498872745e-3f);
  p = ADD(MUL(p, z), SET1(2.06390887954e-2f));
  p = SUB(MUL(p, z), SET1(5.37397155531e-2f));
  p = ADD(MUL(p, z), SET1(1.33314422036e-1f));
  p = SUB(MUL(p, z), SET1(3.33332819422e-1f));
  const __m256 small = ADD(MUL(MUL(p, z), x), x);
  const __m256 large =
      SUB(SET1(1.0f), DIV(SET1(2.0f), ADD(exp8(ADD(a, a)), SET1(1.0f))));
  const __m256 sign = _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000)));
  const __m256 signed_large = _mm256_or_ps(large, sign);
  return replacing(small, signed_large, _mm256_cmp_ps(a, SET1(0.625f), _CMP_GT_OQ));
}

/* The eight lanes added in lane order (`Kernels.laneSum`). */
static inline TARGET float lane_sum(__m256 v) {
  float lanes[8];
  _mm256_storeu_ps(lanes, v);
  float s = 0;
  for (int l = 0; l < 8; l++) s += lanes[l];
  return s;
}

/* One vector of BCE: the loss terms and the gradient, as `Kernels.binaryCrossEntropyWithLogits`
   computes them. */
static inline TARGET void bce8(__m256 x, __m256 y, __m256 scale, __m256 *loss, __m256 *grad) {
  const __m256 zero = _mm256_setzero_ps(), one = SET1(1.0f);
  const __m256 e = exp8(SUB(zero, magnitude(x)));
  const __m256 r = DIV(one, ADD(one, e));
  const __m256 negative = _mm256_cmp_ps(x, zero, _CMP_LT_OQ);
  const __m256 sigma = replacing(r, MUL(e, r), negative);
  const __m256 positive = replacing(x, zero, negative);
  *loss = ADD(SUB(positive, MUL(x, y)), log1p_unit8(e));
  *grad = MUL(SUB(sigma, y), scale);
}

static TARGET double bce_avx2(
    const float *z, const float *t, float *g, ptrdiff_t count, float scale) {
  const __m256 vscale = SET1(scale);
  double total = 0;
  __m256 run = _mm256_setzero_ps();
  int in_run = 0;
  ptrdiff_t i = 0;
  for (; i + 8 <= count; i += 8) {
    __m256 loss, grad;
    bce8(_mm256_loadu_ps(z + i), _mm256_loadu_ps(t + i), vscale, &loss, &grad);
    _mm256_storeu_ps(g + i, grad);
    run = ADD(run, loss);
    if (++in_run == 128) {
      total += (double)lane_sum(run);
      run = _mm256_setzero_ps();
      in_run = 0;
    }
  }
  if (i < count) {
    float x[8] = {0}, y[8] = {0}, gs[8], ls[8];
    const int rest = (int)(count - i);
    for (int j = 0; j < rest; j++) {
      x[j] = z[i + j];
      y[j] = t[i + j];
    }
    __m256 loss, grad;
    bce8(_mm256_loadu_ps(x), _mm256_loadu_ps(y), vscale, &loss, &grad);
    _mm256_storeu_ps(gs, grad);
    _mm256_storeu_ps(ls, loss);
    for (int j = 0; j < 8; j++) {
      if (j < rest) g[i + j] = gs[j];
      else ls[j] = 0;
    }
    run = ADD(run, _mm256_loadu_ps(ls));
  }
  return total + (double)lane_sum(run);
}

static TARGET void adam_avx2(
    float *p, const float *g, float *m, float *v, ptrdiff_t count, float beta1, float beta2,
    float step_size, float c2_root, float epsilon) {
  const __m256 b1 = SET1(beta1), b2 = SET1(beta2), a1 = SET1(1 - beta1), a2 = SET1(1 - beta2);
  const __m256 step = SET1(step_size), root = SET1(c2_root), eps = SET1(epsilon);
  ptrdiff_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256 gv = _mm256_loadu_ps(g + i);
    const __m256 mv = ADD(MUL(b1, _mm256_loadu_ps(m + i)), MUL(a1, gv));
    const __m256 vv = ADD(MUL(b2, _mm256_loadu_ps(v + i)), MUL(MUL(a2, gv), gv));
    _mm256_storeu_ps(m + i, mv);
    _mm256_storeu_ps(v + i, vv);
    const __m256 update = DIV(MUL(step, mv), ADD(DIV(_mm256_sqrt_ps(vv), root), eps));
    _mm256_storeu_ps(p + i, SUB(_mm256_loadu_ps(p + i), update));
  }
  for (; i < count; i++) {
    m[i] = beta1 * m[i] + (1 - beta1) * g[i];
    v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
    p[i] -= step_size * m[i] / (__builtin_sqrtf(v[i]) / c2_root + epsilon);
  }
}

static TARGET void tanh_avx2(float *x, ptrdiff_t count) {
  ptrdiff_t i = 0;
  for (; i + 8 <= count; i += 8) _mm256_storeu_ps(x + i, tanh8(_mm256_loadu_ps(x + i)));
  if (i < count) {
    float lanes[8] = {0};
    const int rest = (int)(count - i);
    for (int j = 0; j < rest; j++) lanes[j] = x[i + j];
    _mm256_storeu_ps(lanes, tanh8(_mm256_loadu_ps(lanes)));
    for (int j = 0; j < rest; j++) x[i + j] = lanes[j];
  }
}
#endif

/* Whether the elementwise kernels run `variant` here: AVX2 only (also on AVX-512 processors). */
static int elementwise_runs(int variant) {
  return variant == SIGBOOK_VECTORS_AVX2 && sigbook_vectors_supported(variant);
}

int sigbook_bce_logits(
    int variant, const float *z, const float *t, float *gradient, ptrdiff_t count, float scale,
    double *loss) {
  if (!elementwise_runs(variant) || count < 0) return -1;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  *loss = bce_avx2(z, t, gradient, count, scale);
  return 0;
#else
  (void)z; (void)t; (void)gradient; (void)scale; (void)loss;
  return -1;
#endif
}

int sigbook_adam(
    int variant, float *p, const float *g, float *m, float *v, ptrdiff_t count, float beta1,
    float beta2, float step_size, float c2_root, float epsilon) {
  if (!elementwise_runs(variant) || count < 0) return -1;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  adam_avx2(p, g, m, v, count, beta1, beta2, step_size, c2_root, epsilon);
  return 0;
#else
  (void)p; (void)g; (void)m; (void)v; (void)beta1; (void)beta2; (void)step_size; (void)c2_root;
  (void)epsilon;
  return -1;
#endif
}

int sigbook_tanh(int variant, float *x, ptrdiff_t count) {
  if (!elementwise_runs(variant) || count < 0) return -1;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  tanh_avx2(x, count);
  return 0;
#else
  (void)x;
  return -1;
#endif
}
