/* Products of many points with a few centres (k-means: 2,000 × 128 points against 2 to 16
   centres), and the nearest centre of each point, without OpenBLAS.

   Through sgemm these products are tiny on one side: OpenBLAS copies (packs) both operands for
   every call, and on the Zen kernels the packing took a third as long as the product itself.
   Here the points are packed once, by the caller, into panels of 16 points stored feature by
   feature (`panels[(p·d + f)·16 + i]` is feature f of point 16·p + i), so one vector load holds
   one feature of 8 or 16 points; a tile of up to MAX_NC centres keeps an accumulator per centre
   and vector of points in registers and reads each centre value as a broadcast. The nearest
   centre is then found lane by lane, with no horizontal sums.

   Every product is the sum over features in order, one fused multiply-add per feature, from
   0: the order does not depend on the variant, the tiling or the number of points, so the
   variants agree to the bit. */

#include "CKernels.h"

#define SIGBOOK_PANEL 16

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define VEC __m512
#define LANES 16
#define LOADU(p) _mm512_loadu_ps(p)
#define SET1(x) _mm512_set1_ps(x)
#define FMADD(a, b, c) _mm512_fmadd_ps(a, b, c)
#define STOREU(p, v) _mm512_storeu_ps(p, v)
#define ZERO _mm512_setzero_ps()
#define MASK __mmask16
#define LESS(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ)
#define BLEND(a, b, mask) _mm512_mask_blend_ps(mask, a, b)
#define TARGET target("avx512f,fma")
#define NAME(x) centre_##x##_avx512
#define MAX_NC 12
#define PAIR_NC 6
#include "CentreProductsVariant.h"

#define VEC __m256
#define LANES 8
#define LOADU(p) _mm256_loadu_ps(p)
#define SET1(x) _mm256_set1_ps(x)
#define FMADD(a, b, c) _mm256_fmadd_ps(a, b, c)
#define STOREU(p, v) _mm256_storeu_ps(p, v)
#define ZERO _mm256_setzero_ps()
#define MASK __m256
#define LESS(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ)
#define BLEND(a, b, mask) _mm256_blendv_ps(a, b, mask)
#define TARGET target("avx2,fma")
#define NAME(x) centre_##x##_avx2
/* 2 vectors of points × 6 centres: 12 accumulators, 2 point vectors and a broadcast fill the
   16 registers; two panels (4 vectors) for 1 or 2 centres (with 3, measured, the registers
   spill and the pair is slower than one panel). */
#define MAX_NC 6
#define PAIR_NC 2
#include "CentreProductsVariant.h"

#endif

/* The checks both entry points share: 0 when the call can run. */
static int sigbook_centre_check(int variant, int d, int start, int count, int k) {
  if (variant != SIGBOOK_VECTORS_AVX2 && variant != SIGBOOK_VECTORS_AVX512) return -1;
  if (!sigbook_vectors_supported(variant)) return -1;
  if (d < 1 || start < 0 || count < 0) return -1;
  if (k < 1 || k > SIGBOOK_MAX_CENTRES) return -1;
  return 0;
}

int sigbook_centre_products(
    int variant, const float *panels, int d, int start, int count, const float *centres, int k,
    float *out, ptrdiff_t out_stride) {
  if (sigbook_centre_check(variant, d, start, count, k) != 0 || out_stride < count) return -1;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  if (variant == SIGBOOK_VECTORS_AVX512)
    centre_products_avx512(panels, d, start, count, centres, k, out, out_stride);
  else
    centre_products_avx2(panels, d, start, count, centres, k, out, out_stride);
  return 0;
#else
  (void)panels; (void)centres; (void)out;
  return -1;
#endif
}

int sigbook_nearest_centres(
    int variant, const float *panels, int d, int start, int count, const float *norms,
    const float *centres, const float *centre_norms, int k, ptrdiff_t *labels,
    float *distances) {
  if (sigbook_centre_check(variant, d, start, count, k) != 0) return -1;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  if (variant == SIGBOOK_VECTORS_AVX512)
    centre_nearest_avx512(
        panels, d, start, count, norms, centres, centre_norms, k, labels, distances);
  else
    centre_nearest_avx2(
        panels, d, start, count, norms, centres, centre_norms, k, labels, distances);
  return 0;
#else
  (void)panels; (void)norms; (void)centres; (void)centre_norms; (void)labels; (void)distances;
  return -1;
#endif
}
