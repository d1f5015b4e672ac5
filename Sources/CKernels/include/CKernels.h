#ifndef SIGBOOK_CKERNELS_H
#define SIGBOOK_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

/* The vector variants of the kernels below, one set for all of them. */
enum {
  /* No vector variant on this processor: callers keep their portable path. */
  SIGBOOK_VECTORS_NONE = 0,
  /* 256-bit vectors (AVX2 with FMA). */
  SIGBOOK_VECTORS_AVX2 = 1,
  /* 512-bit vectors (AVX-512F). */
  SIGBOOK_VECTORS_AVX512 = 2,
};

/* The widest variant this processor runs (checked with `__builtin_cpu_supports`). */
int sigbook_vectors_best(void);

/* Whether this processor runs `variant`. */
int sigbook_vectors_supported(int variant);

/* The direct convolution runs SIGBOOK_VECTORS_AVX2 (6 output channels × 2 vectors of pixels at
   a time) and SIGBOOK_VECTORS_AVX512 (4 channels × 6 vectors, or 6 × 4 for small maps).

   A convolution of `batch` images `[channels, height, width]` (row-major, images consecutive)
   by `weight` `[out_channels, channels, kernel_height, kernel_width]` (one group), plus `bias`
   `[out_channels]` (NULL: none), plus `residual` `[batch, out_channels, out_height,
   out_width]` (NULL: none; a float addition of the stored sum, as a separate add would do),
   then, when `relu` is nonzero, max(·, 0) (a NaN to 0, as `Kernels.relu`), written to
   `output` `[batch, out_channels, out_height, out_width]`. Output (oy, ox) reads input row oy·stride_y − pad_top + ky·dilation_y and column
   ox·stride_x − pad_left + kx·dilation_x for tap (ky, kx), 0 outside the image; out_height =
   ⌊(height + pad_top + pad_bottom − dilation_y·(kernel_height − 1) − 1) / stride_y⌋ + 1,
   likewise the width, and both must be positive.

   Each image is copied once into zero-padded planes; every output value is then its bias plus
   the sum over input channels, then taps in row-major order, of weight × input (the ReLU,
   exact, applied as the value is stored): one order,
   whatever the variant's blocking, so the result does not depend on the variant or on how the
   batch is split. Single-threaded. Returns 0, or −1 for an unsupported variant, a size out of
   range or memory that ran out (the output is then untouched). */
int sigbook_direct_convolution(
    int variant, const float *input, int batch, int channels, int height, int width,
    const float *weight, const float *bias, int out_channels, int kernel_height,
    int kernel_width, int stride_y, int stride_x, int dilation_y, int dilation_x, int pad_top,
    int pad_left, int pad_bottom, int pad_right, const float *residual, int relu,
    float *output);

/* Winograd's F(2×2, 3×3) for a 3 × 3 convolution with stride 1 and dilation 1 (one group):
   `sigbook_winograd_weights` transforms `weight` `[out_channels, channels, 3, 3]` into
   `transformed` (16 · channels · out_channels floats, G g Gᵀ for each pair of channels, in
   Double and rounded once), and `sigbook_winograd_convolution` computes what
   `sigbook_direct_convolution` does for that geometry (bias, residual, ReLU at the store;
   out_height = height + pad_top + pad_bottom − 2, likewise the width, both positive) from it,
   with 16 multiply-adds per 2 × 2 outputs and pair of channels instead of 36. Each output is
   Aᵀ [Σ_c U_c ⊙ V_c] A + bias, channels summed in order, then + residual, then the ReLU: the
   direct sum within a few float roundings, the same bits however the batch is split.
   Single-threaded, 256-bit vectors. Returns 0, or −1 without AVX2 and FMA, for a size out of
   range or memory that ran out (the output is then untouched). */
void sigbook_winograd_weights(
    const float *weight, int out_channels, int channels, float *transformed);

int sigbook_winograd_convolution(
    const float *input, int batch, int channels, int height, int width,
    const float *transformed, const float *bias, int out_channels, int pad_top, int pad_left,
    int pad_bottom, int pad_right, const float *residual, int relu, float *output);

/* The most centres one call of the centre products takes. */
#define SIGBOOK_MAX_CENTRES 64

/* The centre products run SIGBOOK_VECTORS_AVX2 and SIGBOOK_VECTORS_AVX512.

   out[j·out_stride + i] = −2 · Σ_f x[start + i][f] · centres[j·d + f] for i in [0, count) and
   j in [0, k): the cross terms of ‖x − c‖² = ‖x‖² − 2·x·c + ‖c‖².

   The points come packed in panels of 16, feature by feature: feature f of point p is
   `panels[(⌊p / 16⌋·d + f)·16 + p mod 16]`, the last panel padded (with zeros, say) to 16
   points. Each sum runs over the features in order, one fused multiply-add per feature,
   starting from 0: the same in every variant, whatever `start`, `count` and k. Single-threaded.
   Returns 0, or −1 (and writes nothing) for an unsupported variant, d < 1, a negative `start`
   or `count`, k outside [1, SIGBOOK_MAX_CENTRES] or `out_stride` < `count`. */
int sigbook_centre_products(
    int variant, const float *panels, int d, int start, int count, const float *centres, int k,
    float *out, ptrdiff_t out_stride);

/* The nearest centre of each of the points [start, start + count) of `panels` (packed as for
   `sigbook_centre_products`): `labels[i]` is the first j of least ‖c_j‖² + (−2·x·c_j), the
   products summed as `sigbook_centre_products` sums them, and `distances[i]` is
   `norms[i] + that least value`, or 0 where that is negative. `norms` and the outputs are
   indexed from the first point of the range. Returns 0, or −1 (writing nothing) as
   `sigbook_centre_products` does. */
int sigbook_nearest_centres(
    int variant, const float *panels, int d, int start, int count, const float *norms,
    const float *centres, const float *centre_norms, int k, ptrdiff_t *labels,
    float *distances);

/* The floats of scratch memory `sigbook_softmax_regression_chunk` needs for `k` classes. */
size_t sigbook_softmax_regression_scratch(int k);

/* One chunk of a multinomial logistic regression: for the `rows` rows of `x` (`[rows, d]`,
   row-major), their logits zᵢ = W·xᵢ + b (`weights` W `[k, d]` row-major, `intercepts` b `[k]`),
   the softmax pᵢ and the residuals rᵢ = pᵢ − onehot(labels[i]) (each label in [0, k)). Writes
   `gradient` (`[k, d]`) = Σᵢ rᵢ·xᵢᵀ, `intercept_sums` (`[k]`) = Σᵢ rᵢ and `*loss` =
   Σᵢ −log pᵢ[labels[i]]; `scratch` holds `sigbook_softmax_regression_scratch(k)` floats.

   Single precision but for the loss (each row's log in double, the rows' sum in double) and
   the intercept sums' last additions; the exponential is a polynomial within 2 ulp. Each sum
   has one order, fixed by `rows`, `d` and `k`, so equal inputs give equal bits. Single-threaded.
   Runs SIGBOOK_VECTORS_AVX2 (also on a processor with AVX-512). Returns 0, or −1 for another
   variant, one this processor does not run, or a size out of range (nothing written). */
int sigbook_softmax_regression_chunk(
    int variant, const float *x, int rows, int d, int k, const float *weights,
    const float *intercepts, const int *labels, float *gradient, double *intercept_sums,
    double *loss, float *scratch);

/* Training's elementwise passes on 256-bit vectors (Elementwise.c): each performs exactly the
   operations of its Swift counterpart in `Kernels`, in the same order and without fused
   multiply-adds, so the two give the same bits. They run SIGBOOK_VECTORS_AVX2 (also on a
   processor with AVX-512); each returns 0, or −1 (writing nothing) for another variant, one this
   processor does not run, or a negative count. Single-threaded. */

/* Binary cross-entropy on logits z against targets t (`count` each): gradient =
   (σ(z) − t) · scale, and *loss = Σ [max(z, 0) − z·t + log(1 + e^−|z|)], summed in eight float
   lanes over runs of 1,024 values, each run's lanes added in lane order into a double. */
int sigbook_bce_logits(
    int variant, const float *z, const float *t, float *gradient, ptrdiff_t count, float scale,
    double *loss);

/* Adam's step on `count` parameters p with gradient g and moments m, v: m ← β₁m + (1 − β₁)g,
   v ← β₂v + (1 − β₂)g², p ← p − step_size·m / (√v / c2_root + ε). */
int sigbook_adam(
    int variant, float *p, const float *g, float *m, float *v, ptrdiff_t count, float beta1,
    float beta2, float step_size, float c2_root, float epsilon);

/* x ← tanh x for `count` values. */
int sigbook_tanh(int variant, float *x, ptrdiff_t count);

/* t-SNE's repulsion sums (TSNERepulsion.c), in SIGBOOK_VECTORS_NONE (plain C at the processor's
   baseline, which runs everywhere) and SIGBOOK_VECTORS_AVX2 (256-bit vectors, also on a
   processor with AVX-512).

   For each of the `count` points (px[i], py[i]), its sums over an interaction list of `length`
   entries (lx[e], ly[e]) of mass lm[e], with dx = px[i] − lx[e], dy = py[i] − ly[e] and
   w = 1 / ((1 + dx·dx) + dy·dy): z[i] = Σ lm[e]·w, fx[i] = Σ ((lm[e]·w)·w)·dx and
   fy[i] = Σ ((lm[e]·w)·w)·dy. `length` is a multiple of 8 (pad with entries of mass 0).

   Single precision, no fused multiply-add; entry e goes to lane e mod 8, each lane is summed in
   list order and the lanes are added in double precision as ((l0 + l1) + (l2 + l3)) +
   ((l4 + l5) + (l6 + l7)): the same bits in every variant. Single-threaded. Returns 0, or −1
   (writing nothing) for another variant, one this processor does not run, a negative `count` or
   a `length` that is negative or not a multiple of 8. */
int sigbook_tsne_repulsion_sums(
    int variant, const float *px, const float *py, int count, const float *lx, const float *ly,
    const float *lm, int length, double *z, double *fx, double *fy);

/* UMAP's layout descent (UMAPLayout.c). */

/* The most lanes one part's edges are walked in. */
#define SIGBOOK_UMAP_MAX_LANES 16

/* What one epoch of one part of UMAP's layout descent reads and writes (UMAP+Layout.swift). */
typedef struct {
  /* The edges' heads and far ends, sorted by head; the epochs between an edge's samples and
     between its negative samples; the epochs its next ones are due (updated). */
  const ptrdiff_t *heads;
  const ptrdiff_t *tails;
  const double *per_sample;
  const double *per_negative_sample;
  double *next_sample;
  double *next_negative_sample;
  /* The part's edges [edge_start, edge_end) and vertices [first, end). */
  ptrdiff_t edge_start;
  ptrdiff_t edge_end;
  ptrdiff_t first;
  ptrdiff_t end;
  /* All `vertices` points, (x, y) interleaved; the copy of other parts' points at
     positions + snapshot_offset, the part's moves of them at positions + deferred_offset. */
  float *positions;
  ptrdiff_t snapshot_offset;
  ptrdiff_t deferred_offset;
  ptrdiff_t vertices;
  /* The curve 1 / (1 + a·d^{2b}), −2ab, 2γb and the step; the epoch's number. */
  float a;
  float b;
  float attraction;
  float repulsion;
  float alpha;
  double now;
  /* How many lanes the part's edges are cut into, 1 to SIGBOOK_UMAP_MAX_LANES. */
  int lanes;
  /* The part's xoshiro256** state (updated), and scratch for 2 · `vertices` marks. */
  uint64_t *generator;
  uint32_t *marks;
} sigbook_umap_epoch;

/* x^b for x > 0 as the layout computes it (UMAPLayout.c says how): relative error within
   4·10⁻⁷ for b in [0.3, 1.93] where x^b is a normal float. */
float sigbook_umap_power(float x, float b);

/* One epoch of one part (UMAPLayout.c says in what order): every edge due at `now` is sampled,
   pulling its ends together, then its negative samples push its head away from vertices drawn
   from `generator`. Runs SIGBOOK_VECTORS_NONE (scalar C, any processor) and
   SIGBOOK_VECTORS_AVX2 (a step's lanes 8 at a time in 256-bit vectors, no FMA; also on a
   processor with AVX-512). Single-threaded; the same bits in every variant. Returns 0, or −1
   (nothing done) for another variant, one this processor does not run, or `lanes` out of
   range. */
int sigbook_umap_run_epoch(int variant, const sigbook_umap_epoch *epoch);

#endif
