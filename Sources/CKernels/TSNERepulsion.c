/* t-SNE's repulsion (TSNE+BarnesHut.swift): the inner sums of every point of a group of the
   Barnes–Hut tree against the group's interaction list of cell summaries and single points.

   These sums were a third of t-SNE's time (2,000 points against lists of several hundred
   entries, a thousand times), and each term needs a division, which x86-64's baseline does four
   floats at a time; AVX2 does eight in the same time (measured: the sums took a third of the
   samples they took as four-lane Swift). The arithmetic is the
   same in every variant, in the same order: term e of a sum goes to lane e mod 8, every lane is
   summed in list order in single precision, and the lanes are added in double precision as
   ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)). No multiply-add is fused (the pragma
   below keeps the compiler from contracting the portable loops either), so the portable
   variant and the vector one give the same bits, on any processor. */

#include "CKernels.h"

#pragma STDC FP_CONTRACT OFF

#define SIGBOOK_LANES 8

/* The lanes' sums in double precision, in the fixed order above. */
static inline double sigbook_lane_total(const float *v) {
  return (((double)v[0] + (double)v[1]) + ((double)v[2] + (double)v[3])) +
         (((double)v[4] + (double)v[5]) + ((double)v[6] + (double)v[7]));
}

/* The portable repulsion sums: eight lanes in arrays, one term at a time. */
static void sigbook_tsne_sums_portable(
    const float *px, const float *py, int count, const float *lx, const float *ly,
    const float *lm, int length, double *z, double *fx, double *fy) {
  for (int i = 0; i < count; i++) {
    const float x = px[i], y = py[i];
    float zl[SIGBOOK_LANES] = {0}, fxl[SIGBOOK_LANES] = {0}, fyl[SIGBOOK_LANES] = {0};
    for (int e = 0; e < length; e += SIGBOOK_LANES) {
      for (int l = 0; l < SIGBOOK_LANES; l++) {
        const float dx = x - lx[e + l];
        const float dy = y - ly[e + l];
        const float dx2 = dx * dx;
        const float dy2 = dy * dy;
        const float q = (1.0f + dx2) + dy2;
        const float w = 1.0f / q;
        const float mw = lm[e + l] * w;
        const float mw2 = mw * w;
        const float tx = mw2 * dx;
        const float ty = mw2 * dy;
        zl[l] += mw;
        fxl[l] += tx;
        fyl[l] += ty;
      }
    }
    z[i] = sigbook_lane_total(zl);
    fx[i] = sigbook_lane_total(fxl);
    fy[i] = sigbook_lane_total(fyl);
  }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define SIGBOOK_AVX2 __attribute__((target("avx2")))

/* The vector's lanes' sum, as `sigbook_lane_total`. */
static inline SIGBOOK_AVX2 double sigbook_vector_total(__m256 v) {
  float lanes[SIGBOOK_LANES];
  _mm256_storeu_ps(lanes, v);
  return sigbook_lane_total(lanes);
}

/* The AVX2 repulsion sums: the same operations, one vector of eight entries at a time. */
static SIGBOOK_AVX2 void sigbook_tsne_sums_avx2(
    const float *px, const float *py, int count, const float *lx, const float *ly,
    const float *lm, int length, double *z, double *fx, double *fy) {
  const __m256 one = _mm256_set1_ps(1.0f);
  for (int i = 0; i < count; i++) {
    const __m256 x = _mm256_set1_ps(px[i]), y = _mm256_set1_ps(py[i]);
    __m256 zv = _mm256_setzero_ps(), fxv = _mm256_setzero_ps(), fyv = _mm256_setzero_ps();
    for (int e = 0; e < length; e += SIGBOOK_LANES) {
      const __m256 dx = _mm256_sub_ps(x, _mm256_loadu_ps(lx + e));
      const __m256 dy = _mm256_sub_ps(y, _mm256_loadu_ps(ly + e));
      const __m256 q =
          _mm256_add_ps(_mm256_add_ps(one, _mm256_mul_ps(dx, dx)), _mm256_mul_ps(dy, dy));
      const __m256 w = _mm256_div_ps(one, q);
      const __m256 mw = _mm256_mul_ps(_mm256_loadu_ps(lm + e), w);
      const __m256 mw2 = _mm256_mul_ps(mw, w);
      zv = _mm256_add_ps(zv, mw);
      fxv = _mm256_add_ps(fxv, _mm256_mul_ps(mw2, dx));
      fyv = _mm256_add_ps(fyv, _mm256_mul_ps(mw2, dy));
    }
    z[i] = sigbook_vector_total(zv);
    fx[i] = sigbook_vector_total(fxv);
    fy[i] = sigbook_vector_total(fyv);
  }
}

#endif

int sigbook_tsne_repulsion_sums(
    int variant, const float *px, const float *py, int count, const float *lx, const float *ly,
    const float *lm, int length, double *z, double *fx, double *fy) {
  if (variant != SIGBOOK_VECTORS_NONE &&
      (variant != SIGBOOK_VECTORS_AVX2 || !sigbook_vectors_supported(variant)))
    return -1;
  if (count < 0 || length < 0 || length % SIGBOOK_LANES != 0) return -1;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  if (variant == SIGBOOK_VECTORS_AVX2) {
    sigbook_tsne_sums_avx2(px, py, count, lx, ly, lm, length, z, fx, fy);
    return 0;
  }
#endif
  sigbook_tsne_sums_portable(px, py, count, lx, ly, lm, length, z, fx, fy);
  return 0;
}
