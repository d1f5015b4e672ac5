/* Winograd's minimal filtering F(2×2, 3×3) for the 3 × 3, stride-1 convolutions of inference.

   The direct kernel (DirectConvolution.c) does 9 multiply-adds per output, input channel and
   output channel, and runs at about the processor's FMA peak: a 3 × 3 convolution can only get
   faster by doing fewer of them. F(2×2, 3×3) computes a 2 × 2 block of outputs from a 4 × 4
   tile of the padded input with 16 multiply-adds per pair of channels instead of 36 (Lavin and
   Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):

     Y = Aᵀ [ Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B) ] A

   with g_c the 3 × 3 kernel of input channel c, d_c its 4 × 4 input tile (neighbouring tiles
   overlap by two rows or columns) and

     Bᵀ = | 1  0 −1  0 |    G = | 1    0    0  |    Aᵀ = | 1  1  1  0 |
          | 0  1  1  0 |        | ½    ½    ½  |         | 0  1 −1 −1 |
          | 0 −1  1  0 |        | ½   −½    ½  |
          | 0  1  0 −1 |        | 0    0    1  |

   The sum over channels is, for each of the 16 positions ξ of the transformed tile, a product
   of the transformed kernels U_ξ [channels × out_channels] and the transformed tiles V_ξ
   [channels × tiles]: 16 small matrix products, done here in registers (6 output channels × 2
   vectors of 8 tiles, as the direct kernel's block) over groups of tiles sized to stay in the
   second-level cache with their products M_ξ. The input transform is adds and subtracts only,
   the output transform too, and with F(2×2, 3×3)'s small constants the result is within a few
   float roundings of the direct sum (the larger tiles of F(4×4, 3×3) save more but lose about
   two more decimal digits).

   Tiles are numbered across the rows of tiles of the images of a call, consecutively, so that a
   vector of 8 tiles may span rows and images (the 7 × 7 maps of a ResNet's last stage have rows
   of 4 tiles): each tile's sums are its own, and where a tile falls in a vector does not change
   them. The result does not depend on how the batch is split into calls. */

#include "CKernels.h"
#include "FirstLanes.h"

#include <stdlib.h>
#include <string.h>

void sigbook_winograd_weights(
    const float *weight, int out_channels, int channels, float *transformed) {
  static const double g[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  for (int o = 0; o < out_channels; o++)
    for (int c = 0; c < channels; c++) {
      const float *k = weight + ((ptrdiff_t)o * channels + c) * 9;
      double left[4][3];
      for (int i = 0; i < 4; i++)
        for (int b = 0; b < 3; b++)
          left[i][b] = g[i][0] * k[b] + g[i][1] * k[3 + b] + g[i][2] * k[6 + b];
      for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
          const double u = left[i][0] * g[j][0] + left[i][1] * g[j][1] + left[i][2] * g[j][2];
          transformed[((ptrdiff_t)(i * 4 + j) * channels + c) * out_channels + o] = (float)u;
        }
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma")))

struct sigbook_winograd {
  int channels, height, width, out_channels, pad_top, pad_left, relu;
  int out_height, out_width, tiles_y, tiles_x;
  /* Each channel's padded image split by column parity into two phase planes of plane_rows
     rows of phase_width floats: padded column x is float x / 2 of phase x mod 2. */
  int plane_rows, phase_width;
  ptrdiff_t plane_size;
  /* Tiles per group (a multiple of 8), and the floats of one (ξ, channel) row of V or M: the
     group and a vector's room for the whole-vector stores of a group's last row. */
  int group;
  ptrdiff_t slab;
  /* Floats between two positions ξ of V and of M: the channels' slabs, rounded up to an odd
     number of 64-byte lines, so that the 16 positions of a tile, written or read together,
     fall in 16 different sets of a 64-set first-level cache (an even stride put them in as few
     as two: 64 channels of 56-tile slabs are 14 KB apart). */
  ptrdiff_t v_stride, m_stride;
};

static ptrdiff_t sigbook_odd_lines(ptrdiff_t floats) {
  ptrdiff_t lines = (floats + 15) / 16;
  return (lines % 2 ? lines : lines + 1) * 16;
}

/* A row of tiles of a group: its image, its tile row and its first tile's number. */
struct sigbook_tile_row {
  int image, y, at;
};

static inline TARGET __m256i sigbook_lanes_mask(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* The even and the odd floats of two vectors side by side: shuffle_ps picks within 128-bit
   lanes ([a0 a2 b0 b2 | a4 a6 b4 b6]), the 64-bit permute then orders the quarters. */
static inline TARGET __m256 sigbook_evens(__m256 lo, __m256 hi) {
  return _mm256_castpd_ps(_mm256_permute4x64_pd(
      _mm256_castps_pd(_mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0))),
      _MM_SHUFFLE(3, 1, 2, 0)));
}

static inline TARGET __m256 sigbook_odds(__m256 lo, __m256 hi) {
  return _mm256_castpd_ps(_mm256_permute4x64_pd(
      _mm256_castps_pd(_mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1))),
      _MM_SHUFFLE(3, 1, 2, 0)));
}

/* One image into its phase planes. Every image writes the same positions, so the padding,
   zeroed once when the planes are allocated, stays zero. */
static TARGET void sigbook_winograd_pad(
    const struct sigbook_winograd *w, const float *image, float *planes) {
  const ptrdiff_t phase = (ptrdiff_t)w->plane_rows * w->phase_width;
  const int p = w->pad_left;
  for (int c = 0; c < w->channels; c++)
    for (int y = 0; y < w->height; y++) {
      const float *line = image + ((ptrdiff_t)c * w->height + y) * w->width;
      float *row = planes + c * w->plane_size + (ptrdiff_t)(y + w->pad_top) * w->phase_width;
      /* Input column x is padded column x + p: the even columns go to phase p mod 2 from
         ⌊p / 2⌋, the odd ones to the other phase from ⌈p / 2⌉ (p odd) or ⌊p / 2⌋ (p even). */
      float *even = row + (p % 2) * phase + p / 2;
      float *odd = p % 2 ? row + (p + 1) / 2 : row + phase + p / 2;
      int x = 0;
      for (; x + 16 <= w->width; x += 16) {
        const __m256 lo = _mm256_loadu_ps(line + x), hi = _mm256_loadu_ps(line + x + 8);
        _mm256_storeu_ps(even + x / 2, sigbook_evens(lo, hi));
        _mm256_storeu_ps(odd + x / 2, sigbook_odds(lo, hi));
      }
      const int n = w->width - x;
      if (n > 0) {
        const __m256 lo = n >= 8 ? _mm256_loadu_ps(line + x)
                                 : _mm256_maskload_ps(line + x, sigbook_lanes_mask(n));
        const __m256 hi = n > 8 ? _mm256_maskload_ps(line + x + 8, sigbook_lanes_mask(n - 8))
                                : _mm256_setzero_ps();
        sigbook_store_first(even + x / 2, sigbook_evens(lo, hi), (n + 1) / 2);
        sigbook_store_first(odd + x / 2, sigbook_odds(lo, hi), n / 2);
      }
    }
}

/* Tile rows [first, end) of the image in `planes`, every channel, transformed (Bᵀ d B) into V
   from tile `at` on: channel by channel, so that the V rows a channel writes are filled before
   the next channel's (a tile row of 64 channels writes 32 KB of V, as much as the first-level
   cache holds). A vector's lanes past a row's last tile take whatever the planes hold there
   (zeros or values of the image: finite), and land on tiles the next row of the channel
   writes, or on the group's spare room. */
static TARGET void sigbook_winograd_input(
    const struct sigbook_winograd *w, const float *planes, int first, int end, float *v,
    int at) {
  const ptrdiff_t phase = (ptrdiff_t)w->plane_rows * w->phase_width;
  const ptrdiff_t pw = w->phase_width, xi_stride = w->v_stride;
  for (int c = 0; c < w->channels; c++)
    for (int y = first; y < end; y++) {
      const float *e = planes + c * w->plane_size + (ptrdiff_t)2 * y * pw, *o = e + phase;
      float *dst = v + c * w->slab + at + (y - first) * w->tiles_x;
      for (int j = 0; j < w->tiles_x; j += 8) {
        /* d B, row by row (tile column k of row r is float j + ⌊k / 2⌋ of phase k mod 2),
           then Bᵀ (d B), column by column: one column's four values at a time, so that
           the transform stays in registers. */
        for (int k = 0; k < 4; k++) {
          __m256 c[4];
          for (int r = 0; r < 4; r++) {
            const float *er = e + r * pw + j, *or = o + r * pw + j;
            switch (k) {
              case 0: c[r] = _mm256_sub_ps(_mm256_loadu_ps(er), _mm256_loadu_ps(er + 1)); break;
              case 1: c[r] = _mm256_add_ps(_mm256_loadu_ps(or), _mm256_loadu_ps(er + 1)); break;
              case 2: c[r] = _mm256_sub_ps(_mm256_loadu_ps(er + 1), _mm256_loadu_ps(or)); break;
              default: c[r] = _mm256_sub_ps(_mm256_loadu_ps(or), _mm256_loadu_ps(or + 1)); break;
            }
          }
          float *out = dst + (ptrdiff_t)k * xi_stride + j;
          _mm256_storeu_ps(out, _mm256_sub_ps(c[0], c[2]));
          _mm256_storeu_ps(out + 4 * xi_stride, _mm256_add_ps(c[1], c[2]));
          _mm256_storeu_ps(out + 8 * xi_stride, _mm256_sub_ps(c[2], c[1]));
          _mm256_storeu_ps(out + 12 * xi_stride, _mm256_sub_ps(c[1], c[3]));
        }
      }
    }
}

/* Output channels [0, nc) × tiles [0, 8·nv) of one position ξ: m[c·slab + t] =
   Σ_k u[k·out_channels + c] · v[k·slab + t], k over the input channels in order. */
static inline __attribute__((always_inline)) TARGET void sigbook_winograd_tile(
    const float *u, int out_channels, const float *v, ptrdiff_t slab, int channels, float *m,
    const int nc, const int nv) {
  __m256 acc[6][2];
  for (int c = 0; c < nc; c++)
    for (int t = 0; t < nv; t++) acc[c][t] = _mm256_setzero_ps();
  for (int k = 0; k < channels; k++) {
    __m256 x[2];
    for (int t = 0; t < nv; t++) x[t] = _mm256_loadu_ps(v + k * slab + t * 8);
    const float *uk = u + (ptrdiff_t)k * out_channels;
    for (int c = 0; c < nc; c++) {
      const __m256 b = _mm256_broadcast_ss(uk + c);
      for (int t = 0; t < nv; t++) acc[c][t] = _mm256_fmadd_ps(b, x[t], acc[c][t]);
    }
  }
  for (int c = 0; c < nc; c++)
    for (int t = 0; t < nv; t++) _mm256_storeu_ps(m + c * slab + t * 8, acc[c][t]);
}

/* `tile` with its block as constants, so that each case unrolls into registers. */
static __attribute__((noinline)) TARGET void sigbook_winograd_block(
    const float *u, int out_channels, const float *v, ptrdiff_t slab, int channels, float *m,
    int nc, int nv) {
#define SIGBOOK_CASE(C, V)                                                     \
  case (C) * 2 + (V) - 1:                                                      \
    sigbook_winograd_tile(u, out_channels, v, slab, channels, m, C, V); \
    return;
  switch (nc * 2 + nv - 1) {
    SIGBOOK_CASE(1, 1) SIGBOOK_CASE(1, 2) SIGBOOK_CASE(2, 1) SIGBOOK_CASE(2, 2)
    SIGBOOK_CASE(3, 1) SIGBOOK_CASE(3, 2) SIGBOOK_CASE(4, 1) SIGBOOK_CASE(4, 2)
    SIGBOOK_CASE(5, 1) SIGBOOK_CASE(5, 2) SIGBOOK_CASE(6, 1) SIGBOOK_CASE(6, 2)
    default: return;
  }
#undef SIGBOOK_CASE
}

/* The 16 products of a group of `count` tiles: M_ξ = U_ξᵀ V_ξ. */
static TARGET void sigbook_winograd_products(
    const struct sigbook_winograd *w, const float *u, const float *v, float *m, int count) {
  const int vectors = (count + 7) / 8;
  const int oc = w->out_channels, blocks = (oc + 5) / 6;
  for (int xi = 0; xi < 16; xi++) {
    const float *uxi = u + (ptrdiff_t)xi * w->channels * oc;
    const float *vxi = v + xi * w->v_stride;
    float *mxi = m + xi * w->m_stride;
    /* The output channels in nearly equal blocks, as the direct kernel's. */
    for (int k = 0, first = 0; k < blocks; k++) {
      const int next = (int)(((long)oc * (k + 1)) / blocks);
      for (int t = 0; t < vectors; t += 2)
        sigbook_winograd_block(
            uxi + first, oc, vxi + t * 8, w->slab, w->channels, mxi + first * w->slab + t * 8,
            next - first, vectors - t < 2 ? vectors - t : 2);
      first = next;
    }
  }
}

/* Up to 16 values of an output row from `dst` on: `n` of them where the row ends its channel's
   plane (masked, as the residual's reads), else 16 whole, the lanes past the row landing on
   rows written later (the caller writes each plane's rows in order). */
static inline __attribute__((always_inline)) TARGET void sigbook_winograd_store(
    float *dst, const float *plane_end, const float *add, __m256 lo, __m256 hi, int n,
    const int relu) {
  const __m256 zero = _mm256_setzero_ps();
  if (plane_end - dst >= 16) {
    if (add) {
      lo = _mm256_add_ps(lo, _mm256_loadu_ps(add));
      hi = _mm256_add_ps(hi, _mm256_loadu_ps(add + 8));
    }
    if (relu) {
      lo = _mm256_max_ps(lo, zero);
      hi = _mm256_max_ps(hi, zero);
    }
    _mm256_storeu_ps(dst, lo);
    _mm256_storeu_ps(dst + 8, hi);
    return;
  }
  const int a = n < 8 ? n : 8, b = n - a;
  if (add) {
    lo = _mm256_add_ps(lo, _mm256_maskload_ps(add, sigbook_lanes_mask(a)));
    if (b > 0) hi = _mm256_add_ps(hi, _mm256_maskload_ps(add + 8, sigbook_lanes_mask(b)));
  }
  if (relu) {
    lo = _mm256_max_ps(lo, zero);
    hi = _mm256_max_ps(hi, zero);
  }
  sigbook_store_first(dst, lo, a);
  sigbook_store_first(dst + 8, hi, b);
}

/* The outputs of a group's rows of tiles: Aᵀ m A + bias, + residual, then the ReLU. */
static inline __attribute__((always_inline)) TARGET void sigbook_winograd_output_rows(
    const struct sigbook_winograd *w, const float *m, const struct sigbook_tile_row *rows,
    int count, const float *bias, const float *residual, float *output, const int relu) {
  const int oc = w->out_channels, oh = w->out_height, ow = w->out_width;
  const ptrdiff_t xi_stride = w->m_stride, plane = (ptrdiff_t)oh * ow;
  for (int o = 0; o < oc; o++) {
    const __m256 b = _mm256_set1_ps(bias ? bias[o] : 0.0f);
    const float *mo = m + o * w->slab;
    for (int r = 0; r < count; r++) {
      const ptrdiff_t base = ((ptrdiff_t)rows[r].image * oc + o) * plane;
      float *out = output + base;
      const float *end = out + plane;
      const float *add = residual ? residual + base : NULL;
      const int y0 = 2 * rows[r].y;
      /* Row by row, so that a row's whole-vector stores past its end land on rows written
         later. */
      for (int i = 0; i < 2 && y0 + i < oh; i++)
        for (int j = 0; j < w->tiles_x; j += 8) {
          const float *p = mo + rows[r].at + j + (ptrdiff_t)(4 * i) * xi_stride;
          /* Row i of Aᵀ m: m₀ + m₁ + m₂, or m₁ − m₂ − m₃ (rows 1 to 3 of m from row i on). */
          __m256 t[4];
          for (int k = 0; k < 4; k++) {
            const __m256 a = _mm256_loadu_ps(p + k * xi_stride);
            const __m256 b = _mm256_loadu_ps(p + (4 + k) * xi_stride);
            const __m256 c = _mm256_loadu_ps(p + (8 + k) * xi_stride);
            t[k] = i == 0 ? _mm256_add_ps(_mm256_add_ps(a, b), c)
                          : _mm256_sub_ps(_mm256_sub_ps(a, b), c);
          }
          /* (Aᵀ m) A: columns, then the bias. */
          const __m256 left = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(t[0], t[1]), t[2]), b);
          const __m256 right = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(t[1], t[2]), t[3]), b);
          /* Tile k's two outputs side by side: columns 2(j + k) and 2(j + k) + 1. */
          const __m256 u = _mm256_unpacklo_ps(left, right), h = _mm256_unpackhi_ps(left, right);
          const __m256 lo = _mm256_permute2f128_ps(u, h, 0x20);
          const __m256 hi = _mm256_permute2f128_ps(u, h, 0x31);
          const int n = ow - 2 * j < 16 ? ow - 2 * j : 16;
          const ptrdiff_t at = (ptrdiff_t)(y0 + i) * ow + 2 * j;
          sigbook_winograd_store(out + at, end, add ? add + at : NULL, lo, hi, n, relu);
        }
    }
  }
}

static TARGET void sigbook_winograd_output(
    const struct sigbook_winograd *w, const float *m, const struct sigbook_tile_row *rows,
    int count, const float *bias, const float *residual, float *output) {
  if (w->relu)
    sigbook_winograd_output_rows(w, m, rows, count, bias, residual, output, 1);
  else
    sigbook_winograd_output_rows(w, m, rows, count, bias, residual, output, 0);
}

static TARGET void sigbook_winograd_run(
    const struct sigbook_winograd *w, int batch, const float *input, const float *u,
    const float *bias, const float *residual, float *output, float *planes, float *v, float *m,
    struct sigbook_tile_row *rows) {
  const ptrdiff_t image_size = (ptrdiff_t)w->channels * w->height * w->width;
  int count = 0, tiles = 0;
  for (int b = 0; b < batch; b++) {
    sigbook_winograd_pad(w, input + b * image_size, planes);
    for (int y = 0; y < w->tiles_y;) {
      if (tiles + w->tiles_x > w->group) {
        sigbook_winograd_products(w, u, v, m, tiles);
        sigbook_winograd_output(w, m, rows, count, bias, residual, output);
        count = tiles = 0;
      }
      /* As many of the image's rows as the group holds. */
      int end = y + (w->group - tiles) / w->tiles_x;
      if (end > w->tiles_y) end = w->tiles_y;
      sigbook_winograd_input(w, planes, y, end, v, tiles);
      for (; y < end; y++, tiles += w->tiles_x)
        rows[count++] = (struct sigbook_tile_row){b, y, tiles};
    }
  }
  if (count > 0) {
    sigbook_winograd_products(w, u, v, m, tiles);
    sigbook_winograd_output(w, m, rows, count, bias, residual, output);
  }
}

int sigbook_winograd_convolution(
    const float *input, int batch, int channels, int height, int width,
    const float *transformed, const float *bias, int out_channels, int pad_top, int pad_left,
    int pad_bottom, int pad_right, const float *residual, int relu, float *output) {
  if (!sigbook_vectors_supported(SIGBOOK_VECTORS_AVX2) || channels < 1 || out_channels < 1 ||
      pad_top < 0 || pad_left < 0 || pad_bottom < 0 || pad_right < 0)
    return -1;
  struct sigbook_winograd w = {
      .channels = channels, .height = height, .width = width, .out_channels = out_channels,
      .pad_top = pad_top, .pad_left = pad_left, .relu = relu != 0,
      .out_height = height + pad_top + pad_bottom - 2,
      .out_width = width + pad_left + pad_right - 2};
  if (w.out_height < 1 || w.out_width < 1) return -1;
  if (batch <= 0) return 0;
  w.tiles_y = (w.out_height + 1) / 2;
  w.tiles_x = (w.out_width + 1) / 2;
  w.plane_rows = 2 * w.tiles_y + 2;
  /* Tile j reads floats j and j + 1 of each phase row; a row's last vector reads 8 past its
     first tile, so up to float tiles_x + 8. */
  w.phase_width = w.tiles_x + 9;
  w.plane_size = (ptrdiff_t)2 * w.plane_rows * w.phase_width;
  /* V and M of a group in about 384 KB (the second-level cache of the processors this runs
     on is 512 KB to 2 MB), and at least a row of tiles. */
  int group = 98304 / (16 * (channels + out_channels)) / 8 * 8;
  if (group < 16) group = 16;
  if (group < (w.tiles_x + 7) / 8 * 8) group = (w.tiles_x + 7) / 8 * 8;
  w.group = group;
  w.slab = group + 8;
  w.v_stride = sigbook_odd_lines((ptrdiff_t)channels * w.slab);
  w.m_stride = sigbook_odd_lines((ptrdiff_t)out_channels * w.slab);
  float *planes = calloc((size_t)channels * (size_t)w.plane_size, sizeof(float));
  /* Zeroed: the tiles of a group's last vector past its last row are computed from whatever V
     holds there, which must be finite. */
  float *v = calloc((size_t)16 * (size_t)w.v_stride, sizeof(float));
  float *m = malloc(sizeof(float) * (size_t)16 * (size_t)w.m_stride);
  struct sigbook_tile_row *rows = malloc(sizeof(struct sigbook_tile_row) * (size_t)group);
  int status = -1;
  if (planes && v && m && rows) {
    sigbook_winograd_run(&w, batch, input, transformed, bias, residual, output, planes, v, m, rows);
    status = 0;
  }
  free(planes);
  free(v);
  free(m);
  free(rows);
  return status;
}

#else
int sigbook_winograd_convolution(
    const float *input, int batch, int channels, int height, int width,
    const float *transformed, const float *bias, int out_channels, int pad_top, int pad_left,
    int pad_bottom, int pad_right, const float *residual, int relu, float *output) {
  (void)input, (void)batch, (void)channels, (void)height, (void)width, (void)transformed;
  (void)bias, (void)out_channels, (void)pad_top, (void)pad_left, (void)pad_bottom;
  (void)pad_right, (void)residual, (void)relu, (void)output;
  return -1;
}
#endif
