/* One variant of the direct convolution, included once per vector width by
   DirectConvolution.c with these defined:
     VEC, LANES          the vector type and its number of floats
     LOADU, SET1, FMADD, STOREU   unaligned load, broadcast, a·b + c, unaligned store
     MAX                 the larger of a and b lane by lane, b where either is a NaN
     LOAD_N, STORE_N     the first n ≤ LANES floats (the others read as 0, or left alone)
     EVENS, ODDS         the even and the odd floats of two vectors side by side
     TARGET              the `target` attribute the functions are compiled for
     NAME(x)             x with the variant's suffix
     WIDE_NC, WIDE_NV    the register block (output channels × vectors) for long maps
     SHORT_NC, SHORT_NV  the block for maps of at most SHORT_NV vectors
   The blocks keep nc·nv accumulators, nv input vectors and a broadcast weight in registers.
   The file undefines these at its end, ready for the next variant. */

/* Output channels [0, nc) × pixels [0, nv·LANES) of one tile: `out[c·out_stride + p]` =
   bias[c] + Σ_ic Σ_t w[c·w_stride + ic·taps + t] · x[ic·plane + offsets[t] + p]. */
static inline __attribute__((always_inline, TARGET)) void NAME(tile)(
    const float *x, ptrdiff_t plane, int channels, const ptrdiff_t *offsets, int taps,
    const float *w, ptrdiff_t w_stride, const float *bias, float *out, ptrdiff_t out_stride,
    const int nc, const int nv) {
  VEC acc[SHORT_NC > WIDE_NC ? SHORT_NC : WIDE_NC][WIDE_NV > SHORT_NV ? WIDE_NV : SHORT_NV];
  for (int c = 0; c < nc; c++) {
    VEC b = SET1(bias ? bias[c] : 0.0f);
    for (int v = 0; v < nv; v++) acc[c][v] = b;
  }
  for (int ic = 0; ic < channels; ic++) {
    const float *xc = x + ic * plane;
    const float *wc = w + (ptrdiff_t)ic * taps;
    for (int t = 0; t < taps; t++) {
      const float *xt = xc + offsets[t];
      VEC xv[WIDE_NV > SHORT_NV ? WIDE_NV : SHORT_NV];
      for (int v = 0; v < nv; v++) xv[v] = LOADU(xt + v * LANES);
      for (int c = 0; c < nc; c++) {
        VEC wv = SET1(wc[c * w_stride + t]);
        for (int v = 0; v < nv; v++) acc[c][v] = FMADD(wv, xv[v], acc[c][v]);
      }
    }
  }
  for (int c = 0; c < nc; c++)
    for (int v = 0; v < nv; v++) STOREU(out + c * out_stride + v * LANES, acc[c][v]);
}

/* `tile` with its block sizes as constants, so that each case unrolls into registers. */
static __attribute__((noinline, TARGET)) void NAME(block)(
    const float *x, ptrdiff_t plane, int channels, const ptrdiff_t *offsets, int taps,
    const float *w, ptrdiff_t w_stride, const float *bias, float *out, ptrdiff_t out_stride,
    int nc, int nv) {
#define SIGBOOK_CASE(C, V)                                                                   \
  case (C) * 8 + (V):                                                                        \
    NAME(tile)(x, plane, channels, offsets, taps, w, w_stride, bias, out, out_stride, C, V); \
    return;
#define SIGBOOK_CASES(C)                                                                     \
  SIGBOOK_CASE(C, 1) SIGBOOK_CASE(C, 2) SIGBOOK_CASE(C, 3) SIGBOOK_CASE(C, 4)               \
  SIGBOOK_CASE(C, 5) SIGBOOK_CASE(C, 6)
  switch (nc * 8 + nv) {
    SIGBOOK_CASES(1) SIGBOOK_CASES(2) SIGBOOK_CASES(3) SIGBOOK_CASES(4) SIGBOOK_CASES(5)
    SIGBOOK_CASES(6)
    default: return;
  }
#undef SIGBOOK_CASES
#undef SIGBOOK_CASE
}

/* n floats from src to dst: whole vectors, then a masked one. Rows are 1 to a few dozen
   floats, too short for a call of memcpy to pay. */
static inline __attribute__((always_inline, TARGET)) void NAME(copy)(
    float *dst, const float *src, int n) {
  int i = 0;
  for (; i + LANES <= n; i += LANES) STOREU(dst + i, LOADU(src + i));
  if (i < n) STORE_N(dst + i, LOAD_N(src + i, n - i), n - i);
}

/* Writes one image into its phase planes. Every image writes the same positions, so the
   padding, zeroed once when the planes are allocated, stays zero. */
static __attribute__((TARGET)) void NAME(pad)(
    const struct sigbook_geometry *g, const float *image, float *planes) {
  const ptrdiff_t phase_size = (ptrdiff_t)g->plane_height * g->plane_width;
  const int sy = g->stride_y, sx = g->stride_x;
  for (int c = 0; c < g->channels; c++) {
    const float *source = image + (ptrdiff_t)c * g->height * g->width;
    /* Padded row y + pad_top is row i of the phase a = (y + pad_top) mod sy. */
    int a = g->pad_top % sy;
    ptrdiff_t i = g->pad_top / sy;
    for (int y = 0; y < g->height; y++) {
      float *row = planes + c * g->plane_size + a * sx * phase_size + i * g->plane_width;
      const float *line = source + (ptrdiff_t)y * g->width;
      /* The phases of this row that some tap reads. */
      const uint64_t read = sx * sy == 1 ? 1 : (g->phases >> (a * sx)) & ((1ull << sx) - 1);
      if (read == 0) {
        /* No tap reads this row's phases. */
      } else if (sx == 1 && sy == 1) {
        /* Whole vectors, the last one's lanes past the row zero (masked load): they land on
           the padding, or on rows written later (the planes have a vector's room at the end). */
        float *dst = row + g->pad_left;
        int x = 0;
        for (; x + LANES <= g->width; x += LANES) STOREU(dst + x, LOADU(line + x));
        if (x < g->width) STOREU(dst + x, LOAD_N(line + x, g->width - x));
      } else if (sx == 1) {
        NAME(copy)(row + g->pad_left, line, g->width);
      } else if (sx == 2) {
        /* Column x goes to phase (x + p) mod 2 at ⌊(x + p) / 2⌋: even columns from
           ⌊p / 2⌋ of phase p mod 2, odd ones from ⌈p / 2⌉ of phase 0 or ⌊p / 2⌋ of phase 1. */
        const int p = g->pad_left;
        float *even = row + (p % 2) * phase_size + p / 2;
        float *odd = p % 2 ? row + (p + 1) / 2 : row + phase_size + p / 2;
        const int evens = (int)(read >> (p % 2)) & 1, odds = (int)(read >> (1 - p % 2)) & 1;
        int x = 0;
        for (; x + 2 * LANES <= g->width; x += 2 * LANES) {
          const VEC lo = LOADU(line + x), hi = LOADU(line + x + LANES);
          if (evens) STOREU(even + x / 2, EVENS(lo, hi));
          if (odds) STOREU(odd + x / 2, ODDS(lo, hi));
        }
        const int n = g->width - x;
        if (n > 0) {
          const VEC lo = n >= LANES ? LOADU(line + x) : LOAD_N(line + x, n);
          const VEC hi = n > LANES ? LOAD_N(line + x + LANES, n - LANES) : SET1(0.0f);
          if (evens) STORE_N(even + x / 2, EVENS(lo, hi), (n + 1) / 2);
          if (odds) STORE_N(odd + x / 2, ODDS(lo, hi), n / 2);
        }
      } else {
        sigbook_gather(g, line, row, phase_size, 0);
      }
      if (++a == sy) {
        a = 0;
        i++;
      }
    }
  }
}

/* Row oy of channel c of the output is columns [0, out_width) of flat row oy of `wide`, plus the
   same value of `residual` (laid out as the output) when it is not NULL, then max(·, 0) when
   `relu` (MAX(x, 0) gives 0 for a NaN and for −0, as `!(x > 0) ? 0 : x`). The rows are written
   in order, each in whole vectors that may run past its end into rows written later (and read
   `residual` as far, inside its image); only the image's last few rows, whose overrun would
   leave the image, are masked. (`wide` has a vector's room past its end for the reads.) */
static inline __attribute__((always_inline, TARGET)) void NAME(compact_rows)(
    const struct sigbook_geometry *g, const float *wide, ptrdiff_t wide_stride, float *image,
    const float *residual, const int relu) {
  const int n = g->out_width, whole = (n + LANES - 1) / LANES * LANES;
  const float *end = image + (ptrdiff_t)g->out_channels * g->out_height * n;
  const VEC zero = SET1(0.0f);
  for (int c = 0; c < g->out_channels; c++)
    for (int y = 0; y < g->out_height; y++) {
      const ptrdiff_t at = ((ptrdiff_t)c * g->out_height + y) * n;
      float *dst = image + at;
      const float *src = wide + c * wide_stride + (ptrdiff_t)y * g->plane_width;
      const float *add = residual ? residual + at : NULL;
      if (end - dst >= whole) {
        for (int i = 0; i < n; i += LANES) {
          VEC v = LOADU(src + i);
          if (add) v = v + LOADU(add + i);
          STOREU(dst + i, relu ? MAX(v, zero) : v);
        }
      } else if (relu || add) {
        int i = 0;
        for (; i < n; i += LANES) {
          const int k = n - i < LANES ? n - i : LANES;
          VEC v = LOAD_N(src + i, k);
          if (add) v = v + LOAD_N(add + i, k);
          STORE_N(dst + i, relu ? MAX(v, zero) : v, k);
        }
      } else {
        NAME(copy)(dst, src, n);
      }
    }
}

/* `compact_rows` with `relu` and the presence of `residual` constants in each branch. */
static __attribute__((TARGET)) void NAME(compact)(
    const struct sigbook_geometry *g, const float *wide, ptrdiff_t wide_stride, float *image,
    const float *residual) {
  if (residual) {
    if (g->relu)
      NAME(compact_rows)(g, wide, wide_stride, image, residual, 1);
    else
      NAME(compact_rows)(g, wide, wide_stride, image, residual, 0);
  } else if (g->relu) {
    NAME(compact_rows)(g, wide, wide_stride, image, NULL, 1);
  } else {
    NAME(compact_rows)(g, wide, wide_stride, image, NULL, 0);
  }
}

/* The whole batch: see `sigbook_direct_convolution`. `planes` holds channels · plane_size
   floats, `wide` out_channels · vectors · LANES. */
static __attribute__((TARGET)) void NAME(convolve)(
    const struct sigbook_geometry *g, const float *input, const float *weight,
    const float *bias, const float *residual, float *output, float *planes, float *wide,
    const ptrdiff_t *offsets) {
  const int vectors = (g->flat + LANES - 1) / LANES;
  /* A short map is one tile, with more channels per block; a long one is cut into tiles of
     nearly equal counts of vectors (53 → 6 × 8 + 5, not 6 × 8 + 5 by leftovers of 1). */
  const int short_map = vectors <= SHORT_NV;
  const int block_nc = short_map ? SHORT_NC : WIDE_NC;
  const int tiles = short_map ? 1 : (vectors + WIDE_NV - 1) / WIDE_NV;
  /* The output channels in nearly equal blocks (16 → 6, 5, 5; not 6, 6, 4, nor 32 → 6 × 5 + 2,
     whose last block's few sums cannot cover the FMA's latency). */
  const int channel_blocks = (g->out_channels + block_nc - 1) / block_nc;
  const ptrdiff_t in_size = (ptrdiff_t)g->channels * g->height * g->width;
  const ptrdiff_t out_pixels = (ptrdiff_t)g->out_height * g->out_width;
  const ptrdiff_t wide_stride = (ptrdiff_t)vectors * LANES;
  const ptrdiff_t w_stride = (ptrdiff_t)g->channels * g->taps;
  for (int b = 0; b < g->batch; b++) {
    NAME(pad)(g, input + b * in_size, planes);
    for (int tile = 0, start = 0; tile < tiles; tile++) {
      /* Tile `tile` has ⌊vectors·(tile + 1) / tiles⌋ − start vectors. */
      const int end = (int)(((long)vectors * (tile + 1)) / tiles);
      const int nv = end - start;
      for (int k = 0, oc = 0; k < channel_blocks; k++) {
        const int next = (int)(((long)g->out_channels * (k + 1)) / channel_blocks);
        const int nc = next - oc;
        NAME(block)(
            planes + start * LANES, g->plane_size, g->channels, offsets, g->taps,
            weight + oc * w_stride, w_stride, bias ? bias + oc : NULL,
            wide + oc * wide_stride + start * LANES, wide_stride, nc, nv);
        oc = next;
      }
      start = end;
    }
    const ptrdiff_t at = b * g->out_channels * out_pixels;
    NAME(compact)(g, wide, wide_stride, output + at, residual ? residual + at : NULL);
  }
}

#undef VEC
#undef LANES
#undef LOADU
#undef SET1
#undef FMADD
#undef STOREU
#undef MAX
#undef LANE_MASK
#undef LOAD_N
#undef STORE_N
#undef EVENS
#undef ODDS
#undef TARGET
#undef NAME
#undef WIDE_NC
#undef WIDE_NV
#undef SHORT_NC
#undef SHORT_NV
