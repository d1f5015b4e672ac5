/* One variant of the centre products, included once per vector width by CentreProducts.c with
   these defined:
     VEC, LANES          the vector type and its number of floats (LANES divides 16)
     LOADU, SET1, FMADD, STOREU, ZERO   unaligned load, broadcast, a·b + c, store, zero vector
     MASK, LESS, BLEND   a lane mask, the mask of a < b, b where the mask is set else a
     TARGET              the `target` attribute the functions are compiled for
     NAME(x)             x with the variant's suffix
     MAX_NC              the centres of one tile: 16 / LANES · MAX_NC accumulators, the vectors
                         of one panel and a broadcast centre value stay in registers
     PAIR_NC             the most centres for which a tile takes two panels (at most MAX_NC / 2)
   The file undefines these at its end, ready for the next variant. */

#define SIGBOOK_VPP (SIGBOOK_PANEL / LANES)
/* The floats of one panel's products with the most centres. */
#define SIGBOOK_SPAN (SIGBOOK_MAX_CENTRES * SIGBOOK_PANEL)

/* The products of the 16·np points of np consecutive panels (np = 1 or 2) with centres
   [0, nc): out[q·SIGBOOK_SPAN + j·16 + p] = Σ_f panel[q·d·16 + f·16 + p] · c[j·d + f] for
   point p of panel q, summed in f order, one fused multiply-add per term, starting from 0. */
static inline __attribute__((always_inline, TARGET)) void NAME(tile)(
    const float *panel, int d, const float *c, float *out, const int nc, const int np) {
  VEC acc[MAX_NC][2 * SIGBOOK_VPP];
  const int nv = np * SIGBOOK_VPP;
  for (int j = 0; j < nc; j++)
    for (int u = 0; u < nv; u++) acc[j][u] = ZERO;
  for (int f = 0; f < d; f++) {
    VEC x[2 * SIGBOOK_VPP];
    for (int q = 0; q < np; q++)
      for (int v = 0; v < SIGBOOK_VPP; v++)
        x[q * SIGBOOK_VPP + v] =
            LOADU(panel + ((ptrdiff_t)q * d + f) * SIGBOOK_PANEL + v * LANES);
    for (int j = 0; j < nc; j++) {
      const VEC cj = SET1(c[(ptrdiff_t)j * d + f]);
      for (int u = 0; u < nv; u++) acc[j][u] = FMADD(x[u], cj, acc[j][u]);
    }
  }
  for (int q = 0; q < np; q++)
    for (int j = 0; j < nc; j++)
      for (int v = 0; v < SIGBOOK_VPP; v++)
        STOREU(out + q * SIGBOOK_SPAN + j * SIGBOOK_PANEL + v * LANES, acc[j][q * SIGBOOK_VPP + v]);
}

/* `tile` with its numbers of centres and panels constants in each case, so that it unrolls
   into registers. */
static __attribute__((noinline, TARGET)) void NAME(block)(
    const float *panel, int d, const float *c, float *out, int nc, int np) {
#define SIGBOOK_CASE(C, P)                 \
  case (C) * 4 + (P):                      \
    NAME(tile)(panel, d, c, out, C, P);    \
    return;
  switch (nc * 4 + np) {
    SIGBOOK_CASE(1, 1) SIGBOOK_CASE(2, 1) SIGBOOK_CASE(3, 1) SIGBOOK_CASE(4, 1)
    SIGBOOK_CASE(5, 1) SIGBOOK_CASE(6, 1)
    SIGBOOK_CASE(1, 2) SIGBOOK_CASE(2, 2) SIGBOOK_CASE(3, 2)
#if MAX_NC > 6
    SIGBOOK_CASE(7, 1) SIGBOOK_CASE(8, 1) SIGBOOK_CASE(9, 1) SIGBOOK_CASE(10, 1)
    SIGBOOK_CASE(11, 1) SIGBOOK_CASE(12, 1)
    SIGBOOK_CASE(4, 2) SIGBOOK_CASE(5, 2) SIGBOOK_CASE(6, 2)
#endif
    default: return;
  }
#undef SIGBOOK_CASE
}

/* The products of np panels' points with all k centres, out[q·SIGBOOK_SPAN + j·16 + p]: two
   panels at once when k ≤ PAIR_NC (too few centres for one panel's accumulators to hide the
   latency of the multiply-adds), else one by one, in tiles of nearly equal numbers of centres
   (10 → 5 + 5, not 6 + 4). */
static inline __attribute__((always_inline, TARGET)) void NAME(panel_products)(
    const float *panel, int d, const float *centres, int k, float *out, int np) {
  if (np == 2) {
    NAME(block)(panel, d, centres, out, k, 2);
    return;
  }
  const int tiles = (k + MAX_NC - 1) / MAX_NC;
  for (int t = 0, start = 0; t < tiles; t++) {
    const int end = k * (t + 1) / tiles;
    NAME(block)(
        panel, d, centres + (ptrdiff_t)start * d, out + start * SIGBOOK_PANEL, end - start, 1);
    start = end;
  }
}

/* See `sigbook_centre_products`. */
static __attribute__((TARGET)) void NAME(products)(
    const float *panels, int d, int start, int count, const float *centres, int k, float *out,
    ptrdiff_t out_stride) {
  float buffer[2 * SIGBOOK_SPAN];
  for (int first = start / SIGBOOK_PANEL * SIGBOOK_PANEL, np; first < start + count;
       first += np * SIGBOOK_PANEL) {
    np = k <= PAIR_NC && first + SIGBOOK_PANEL < start + count ? 2 : 1;
    NAME(panel_products)(panels + (ptrdiff_t)first * d, d, centres, k, buffer, np);
    for (int q = 0; q < np; q++) {
      /* Lanes [lo, hi) of the panel from point `from` on are points asked for. */
      const int from = first + q * SIGBOOK_PANEL;
      const int lo = start > from ? start - from : 0;
      const int hi = start + count - from < SIGBOOK_PANEL ? start + count - from : SIGBOOK_PANEL;
      const float *products = buffer + q * SIGBOOK_SPAN;
      float *target = out + from - start;
      for (int j = 0; j < k; j++)
        for (int p = lo; p < hi; p++)
          target[j * out_stride + p] = -2.0f * products[j * SIGBOOK_PANEL + p];
    }
  }
}

/* See `sigbook_nearest_centres`. */
static __attribute__((TARGET)) void NAME(nearest)(
    const float *panels, int d, int start, int count, const float *norms, const float *centres,
    const float *centre_norms, int k, ptrdiff_t *labels, float *distances) {
  float buffer[2 * SIGBOOK_SPAN];
  float best_values[SIGBOOK_PANEL], best_labels[SIGBOOK_PANEL];
  const VEC minus_two = SET1(-2.0f);
  for (int first = start / SIGBOOK_PANEL * SIGBOOK_PANEL, np; first < start + count;
       first += np * SIGBOOK_PANEL) {
    np = k <= PAIR_NC && first + SIGBOOK_PANEL < start + count ? 2 : 1;
    NAME(panel_products)(panels + (ptrdiff_t)first * d, d, centres, k, buffer, np);
    for (int q = 0; q < np; q++) {
      const int from = first + q * SIGBOOK_PANEL;
      const int lo = start > from ? start - from : 0;
      const int hi = start + count - from < SIGBOOK_PANEL ? start + count - from : SIGBOOK_PANEL;
      const float *products = buffer + q * SIGBOOK_SPAN;
      for (int v = 0; v < SIGBOOK_VPP; v++) {
        /* value_j = ‖c_j‖² + (−2 · x·c_j) (the product by −2 is exact); the first least wins. */
        VEC best = FMADD(LOADU(products + v * LANES), minus_two, SET1(centre_norms[0]));
        VEC label = ZERO;
        for (int j = 1; j < k; j++) {
          const VEC value = FMADD(
              LOADU(products + j * SIGBOOK_PANEL + v * LANES), minus_two, SET1(centre_norms[j]));
          const MASK less = LESS(value, best);
          best = BLEND(best, value, less);
          label = BLEND(label, SET1((float)j), less);
        }
        STOREU(best_values + v * LANES, best);
        STOREU(best_labels + v * LANES, label);
      }
      const int offset = from - start;
      for (int p = lo; p < hi; p++) {
        labels[offset + p] = (ptrdiff_t)best_labels[p];
        const float distance = norms[offset + p] + best_values[p];
        distances[offset + p] = distance >= 0 ? distance : 0;
      }
    }
  }
}

#undef SIGBOOK_VPP
#undef SIGBOOK_SPAN
#undef PAIR_NC
#undef VEC
#undef LANES
#undef LOADU
#undef SET1
#undef FMADD
#undef STOREU
#undef ZERO
#undef MASK
#undef LESS
#undef BLEND
#undef TARGET
#undef NAME
#undef MAX_NC
