/* A direct convolution for inference (one group, any kernel, stride, dilation and pads),
   vectorised across the flattened output of zero-padded planes.

   OpenBLAS has no convolution, and im2col + GEMM is memory-bound for the small channel counts
   of the networks sigbook trains (16–64): each unfolded value is written, packed again by the
   GEMM and then used for only 16–64 multiply-adds. Here each image is copied once into planes of
   width Wq; in the flat coordinate q = oy·Wq + ox every tap (ky, kx) reads the contiguous run
   starting at q + its offset, so one vector load serves 16 output pixels and is multiplied by
   several output channels' broadcast weights held in registers. The Wq − out_width columns of
   each row past the output are computed and dropped when the result is compacted into
   [out_channels, out_height, out_width].

   Stride 1: one plane per channel, the padded image, Wq = W + pad_left + pad_right, and tap
   (ky, kx) at offset ky·dy·Wq + kx·dx. Stride (sy, sx): the padded image is split into sy·sx
   phase planes, phase (a, b) holding padded rows a, a + sy, … and columns b, b + sx, …; output
   (oy, ox) reads padded row sy·oy + ky·dy, which is row oy + ⌊ky·dy / sy⌋ of phase
   (ky·dy mod sy), so every tap again reads one contiguous run of one phase plane. */

#include "CKernels.h"
#include "FirstLanes.h"

#include <stdlib.h>
#include <string.h>

struct sigbook_geometry {
  int batch, channels, height, width, out_channels, taps;
  int stride_y, stride_x, pad_top, pad_left;
  /* Nonzero: max(·, 0) applied to every output value as it is stored. */
  int relu;
  /* Bit a·stride_x + b: some tap reads phase plane (a, b) (all set when there are more than
     64 phases). The padding copies only the phases read: a 1 × 1 convolution of stride 2
     reads one plane in four. */
  uint64_t phases;
  /* Each phase plane is plane_height × plane_width (the padded image when the stride is 1). */
  int plane_height, plane_width, out_height, out_width;
  /* Flat outputs per plane (out_height · plane_width). */
  int flat;
  /* Floats between two channels' planes (stride_y · stride_x phase planes). */
  ptrdiff_t plane_size;
};

/* Columns [from, width) of one input row into the phase planes of a horizontal stride above 1:
   column x goes to phase (x + pad_left) mod sx, position ⌊(x + pad_left) / sx⌋, counted
   without a division per value (the rows are short, and divisions would cost as much as the
   copy). */
static void sigbook_gather(
    const struct sigbook_geometry *g, const float *line, float *row, ptrdiff_t phase_size,
    int from) {
  int b = (g->pad_left + from) % g->stride_x;
  ptrdiff_t j = (g->pad_left + from) / g->stride_x;
  for (int x = from; x < g->width; x++) {
    row[b * phase_size + j] = line[x];
    if (++b == g->stride_x) {
      b = 0;
      j++;
    }
  }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define VEC __m512
#define LANES 16
#define LOADU(p) _mm512_loadu_ps(p)
#define SET1(x) _mm512_set1_ps(x)
#define FMADD(a, b, c) _mm512_fmadd_ps(a, b, c)
#define STOREU(p, v) _mm512_storeu_ps(p, v)
#define MAX(a, b) _mm512_max_ps(a, b)
#define LOAD_N(p, n) _mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1), p)
#define STORE_N(p, v, n) _mm512_mask_storeu_ps(p, (__mmask16)((1u << (n)) - 1), v)
#define EVENS(lo, hi)                                                                          \
  _mm512_permutex2var_ps(                                                                      \
      lo, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), hi)
#define ODDS(lo, hi)                                                                           \
  _mm512_permutex2var_ps(                                                                      \
      lo, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), hi)
#define TARGET target("avx512f,fma")
#define NAME(x) x##_avx512
#define WIDE_NC 4
#define WIDE_NV 6
#define SHORT_NC 6
#define SHORT_NV 4
#include "ConvolutionVariant.h"

#define VEC __m256
#define LANES 8
#define LOADU(p) _mm256_loadu_ps(p)
#define SET1(x) _mm256_set1_ps(x)
#define FMADD(a, b, c) _mm256_fmadd_ps(a, b, c)
#define STOREU(p, v) _mm256_storeu_ps(p, v)
#define MAX(a, b) _mm256_max_ps(a, b)
#define LANE_MASK(n) \
  _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define LOAD_N(p, n) _mm256_maskload_ps(p, LANE_MASK(n))
#define STORE_N(p, v, n) sigbook_store_first(p, v, n)
/* shuffle_ps picks within 128-bit lanes ([a0 a2 b0 b2 | a4 a6 b4 b6]); the 64-bit permute then
   orders the quarters. */
#define EVENS(lo, hi)                                                                 \
  _mm256_castpd_ps(_mm256_permute4x64_pd(                                             \
      _mm256_castps_pd(_mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0))), _MM_SHUFFLE(3, 1, 2, 0)))
#define ODDS(lo, hi)                                                                  \
  _mm256_castpd_ps(_mm256_permute4x64_pd(                                             \
      _mm256_castps_pd(_mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1))), _MM_SHUFFLE(3, 1, 2, 0)))
#define TARGET target("avx2,fma")
#define NAME(x) x##_avx2
/* 6 channels × 2 vectors: 12 accumulators, 2 input vectors and a broadcast weight in the 16
   registers, as OpenBLAS's 6 × 16 sgemm kernel for Haswell and Zen. Enough independent sums to
   cover the FMA's latency on both pipes, 8 loads for 12 FMAs; 3 × 3 (9 accumulators) measured
   3–4% slower on 16–64-channel 3 × 3 convolutions, 4 × 3 (12 accumulators and 3 input vectors:
   the compiler spills) 40% slower. */
#define WIDE_NC 6
#define WIDE_NV 2
#define SHORT_NC 6
#define SHORT_NV 2
#include "ConvolutionVariant.h"

#endif

int sigbook_direct_convolution(
    int variant, const float *input, int batch, int channels, int height, int width,
    const float *weight, const float *bias, int out_channels, int kernel_height,
    int kernel_width, int stride_y, int stride_x, int dilation_y, int dilation_x, int pad_top,
    int pad_left, int pad_bottom, int pad_right, const float *residual, int relu,
    float *output) {
  if ((variant != SIGBOOK_VECTORS_AVX2 && variant != SIGBOOK_VECTORS_AVX512) ||
      !sigbook_vectors_supported(variant) || stride_y < 1 || stride_x < 1 ||
      dilation_y < 1 || dilation_x < 1)
    return -1;
  const int padded_height = height + pad_top + pad_bottom;
  const int padded_width = width + pad_left + pad_right;
  const int reach_y = dilation_y * (kernel_height - 1), reach_x = dilation_x * (kernel_width - 1);
  if (batch <= 0) return 0;
  if (padded_height <= reach_y || padded_width <= reach_x) return -1;
  struct sigbook_geometry g = {
      .batch = batch, .channels = channels, .height = height, .width = width,
      .out_channels = out_channels, .taps = kernel_height * kernel_width,
      .stride_y = stride_y, .stride_x = stride_x, .pad_top = pad_top, .pad_left = pad_left,
      .relu = relu != 0,
      .plane_height = (padded_height + stride_y - 1) / stride_y,
      .plane_width = (padded_width + stride_x - 1) / stride_x,
      .out_height = (padded_height - reach_y - 1) / stride_y + 1,
      .out_width = (padded_width - reach_x - 1) / stride_x + 1};
  g.flat = g.out_height * g.plane_width;
  const ptrdiff_t phase_size = (ptrdiff_t)g.plane_height * g.plane_width;
  g.plane_size = (ptrdiff_t)stride_y * stride_x * phase_size;
  /* A tile of the last channel reads up to the largest offset plus all the vectors of the
     flat outputs (of 16 floats at most) past the start of its planes. */
  const int vectors = (g.flat + 15) / 16;
  ptrdiff_t *offsets = malloc(sizeof(ptrdiff_t) * (size_t)g.taps);
  float *wide = malloc(sizeof(float) * ((size_t)out_channels * (size_t)vectors * 16 + 16));
  float *planes = NULL;
  int status = -1;
  if (offsets && wide) {
    ptrdiff_t reach = 0;
    g.phases = (long)stride_y * stride_x > 64 ? ~(uint64_t)0 : 0;
    for (int ky = 0; ky < kernel_height; ky++)
      for (int kx = 0; kx < kernel_width; kx++) {
        const int y = ky * dilation_y, x = kx * dilation_x;
        if ((long)stride_y * stride_x <= 64)
          g.phases |= (uint64_t)1 << ((y % stride_y) * stride_x + x % stride_x);
        const ptrdiff_t offset = ((y % stride_y) * stride_x + x % stride_x) * phase_size +
                                 (ptrdiff_t)(y / stride_y) * g.plane_width + x / stride_x;
        offsets[ky * kernel_width + kx] = offset;
        if (offset > reach) reach = offset;
      }
    const ptrdiff_t last = reach + (ptrdiff_t)vectors * 16;
    const ptrdiff_t size = (ptrdiff_t)(channels - 1) * g.plane_size +
                           (last > g.plane_size ? last : g.plane_size) + 16;
    planes = malloc(sizeof(float) * (size_t)size);
    if (planes) {
      /* The padding, and the reads past the last plane, which land in junk outputs only: zeros
         keep them finite. 16 more floats take the overrun of the last row's whole-vector copy. */
      memset(planes, 0, sizeof(float) * (size_t)size);
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
      if (variant == SIGBOOK_VECTORS_AVX512)
        convolve_avx512(&g, input, weight, bias, residual, output, planes, wide, offsets);
      else
        convolve_avx2(&g, input, weight, bias, residual, output, planes, wide, offsets);
      status = 0;
#endif
    }
  }
  free(offsets);
  free(planes);
  free(wide);
  return status;
}
