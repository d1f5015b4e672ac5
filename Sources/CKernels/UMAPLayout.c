/* One epoch of UMAP's layout descent over one part's edges (UMAP+Layout.swift says what the
   parts are and what they read and write), in lanes walked in lockstep.

   The part's edges are cut into `lanes` contiguous ranges; each step takes the next due edge of
   every lane in turn and pulls its two ends together, then the negative samples of those edges,
   one of each lane in turn, until the lane with the most has drawn them all. Every move is read
   from and written to memory as it happens, lane 0 first: one sequential descent in a fixed
   order. The samples of one lane depend on each other through the moving point, whose update
   waits on a power, a division and a store: a latency of well over a hundred cycles per sample,
   which only the other lanes' independent samples hide.

   The AVX2 variant computes the lanes of a step together, 8 per vector, the power as `power`
   below computes it, operation by operation. When no lane of a step reads a
   vertex that an earlier lane of the same step writes (checked with `marks`), computing them
   together gives what computing them in turn gives, to the bit; a step where one does (about
   one in twenty with 8 lanes of 2,000 points) is computed lane by lane by the same scalar code
   as the portable variant. So both variants give the same bits on every x86-64 processor.

   No fused multiply-adds (contraction is off for this file): the portable variant runs where
   there is no FMA, and the layout must not depend on the processor. */

#pragma STDC FP_CONTRACT OFF

#include "CKernels.h"

#include <float.h>
#include <stdint.h>
#include <string.h>

/* x^b by 2^(b·log₂x), in single precision but for the integer part of b·log₂x, which is split
   off exactly; relative error within 4·10⁻⁷ for b in [0.3, 1.93] (UMAP's b lies in [0.79,
   1.93]) wherever x^b is a normal float. log₂x = k + log₂cᵢ + log₂(1 + r): x = z·2ᵏ with z in
   [0.75, 1.5) read from the bits, i the eighth of that interval z lies in (the top three bits of
   the fraction after subtracting 0.75's bits), r = z·(1/cᵢ) − 1 (|r| < 0.06), log₂(1 + r) to
   five terms of its series (both series by Estrin's scheme). Then 8·b·log₂x = 8b·k +
   8b·(log₂cᵢ + log₂(1 + r)), where 8b = high + low with `high` of 12 significant bits, so that
   high·k is exact and its integer part and fraction are taken exactly; the rest has magnitude
   below 6. With their sum n₈ + 8f (n₈
   an integer, |f| ≤ 1/16): x^b = 2^(n₈/8)·2^f = 2^⌊n₈/8⌋·2^((n₈ mod 8)/8)·2^f, the middle
   factor from a table of 8 and 2^f to five terms. x below the least normal float counts as it;
   a result below 2⁻¹²⁶ is 0, one within 2^(1/16) of the largest float or above it is ∞.

   A table of 8 entries is one register, so the vector variant looks them up by permutes, with no
   gather; and every operation is a float one there, 8 lanes to a vector. */

/* 1/cᵢ for cᵢ the centre of the i-th eighth of z's interval: 0.75 + (i + ½)/16 for i < 4,
   1 + (i − 4 + ½)/8 above (rounded to float). */
static const float power_reciprocals[8] = {
    1.2799999713897705f, 1.185185194015503f,  1.1034482717514038f, 1.0322580337524414f,
    0.9411764740943909f, 0.8421052694320679f, 0.761904776096344f,  0.695652186870575f,
};

/* −log₂ of those reciprocals (of the floats, so that z·(1/cᵢ)·cᵢ is z exactly). */
static const float power_logs[8] = {
    -0.3561437726020813f, -0.24511250853538513f, -0.14201900362968445f, -0.04580364748835564f,
    0.08746283501386642f, 0.2479275017976761f,   0.39231738448143005f,  0.523561954498291f,
};

/* 2^(j/8). */
static const float power_exp2[8] = {
    1.0f, 1.0905077457427979f, 1.1892070770263672f, 1.2968395948410034f,
    1.4142135381698608f, 1.5422108173370361f, 1.6817928552627563f, 1.8340080976486206f,
};

/* The series of log₂(1 + r) (1/ln 2, −1/(2 ln 2), …) and of 2^f (ln 2, (ln 2)²/2, …). */
#define LOG_1 1.4426950216293335f
#define LOG_2 -0.7213475108146667f
#define LOG_3 0.48089835047721863f
#define LOG_4 -0.3606737554073334f
#define LOG_5 0.28853902220726013f
#define EXP_1 0.6931471824645996f
#define EXP_2 0.24022650718688965f
#define EXP_3 0.05550410971045494f
#define EXP_4 0.009618128649890423f
/* 1.5·2²³: v + MAGIC rounds v (|v| < 2²²) to an integer, which the low bits then hold. */
#define MAGIC 12582912.0f
#define MAGIC_BITS 0x4B400000

/* 8b, and 8b split into 12 significant bits plus the rest. */
typedef struct {
  float b8, high, low;
} power_factor;

static inline power_factor power_factor_of(float b) {
  const float b8 = 8.0f * b;
  int32_t bits;
  memcpy(&bits, &b8, sizeof bits);
  bits &= (int32_t)0xFFFFF800;
  float high;
  memcpy(&high, &bits, sizeof high);
  const power_factor q = {b8, high, b8 - high};
  return q;
}

static inline float power(float x, power_factor q) {
  x = x > FLT_MIN ? x : FLT_MIN;
  int32_t bits;
  memcpy(&bits, &x, sizeof bits);
  const int32_t shifted = bits - 0x3F400000;
  const int i = (shifted >> 20) & 7;
  const int32_t z_bits = bits - (int32_t)((uint32_t)shifted & 0xFF800000u);
  float z;
  memcpy(&z, &z_bits, sizeof z);
  const float k = (float)(shifted >> 23);
  const float r = z * power_reciprocals[i] - 1.0f;
  /* Estrin's scheme rather than Horner's: a shorter chain of dependent operations. */
  const float r2 = r * r;
  const float m =
      power_logs[i] + r * ((LOG_1 + r * LOG_2) + r2 * ((LOG_3 + r * LOG_4) + r2 * LOG_5));
  const float uh = q.high * k;
  const float rh = uh + MAGIC;
  const float u = (q.low * k + q.b8 * m) + (uh - (rh - MAGIC));
  const float ru = u + MAGIC;
  const float f = (u - (ru - MAGIC)) * 0.125f;
  int32_t nh, nu;
  memcpy(&nh, &rh, sizeof nh);
  memcpy(&nu, &ru, sizeof nu);
  int32_t n8 = (nh - MAGIC_BITS) + (nu - MAGIC_BITS);
  n8 = n8 > -1016 ? n8 : -1016;
  n8 = n8 < 1024 ? n8 : 1024;
  const int32_t scale_bits = ((n8 >> 3) + 127) << 23;
  float scale;
  memcpy(&scale, &scale_bits, sizeof scale);
  const float f2 = f * f;
  const float series = (1.0f + f * EXP_1) + f2 * ((EXP_2 + f * EXP_3) + f2 * EXP_4);
  return (power_exp2[n8 & 7] * series) * scale;
}

float sigbook_umap_power(float x, float b) { return power(x, power_factor_of(b)); }

/* Swift's min(4, max(−4, v)): a NaN becomes −4. */
static inline float clip(float v) {
  const float w = v >= -4.0f ? v : -4.0f;
  return w < 4.0f ? w : 4.0f;
}

/* xoshiro256** (SeededGenerator.next). */
static inline uint64_t rotate(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t next_random(uint64_t *s) {
  const uint64_t result = rotate(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotate(s[3], 45);
  return result;
}

/* A uniform integer in [0, bound), Lemire's method with rejection (SeededGenerator.nextInt). */
static inline ptrdiff_t random_below(uint64_t *s, uint64_t bound) {
  unsigned __int128 product = (unsigned __int128)next_random(s) * bound;
  if ((uint64_t)product < bound) {
    const uint64_t threshold = (0 - bound) % bound;
    while ((uint64_t)product < threshold)
      product = (unsigned __int128)next_random(s) * bound;
  }
  return (ptrdiff_t)(product >> 64);
}

/* All ones when vertex v is another part's, zero when it is this part's. */
static inline ptrdiff_t outside(const sigbook_umap_epoch *p, ptrdiff_t v) {
  return ((v - p->first) | (p->end - 1 - v)) >> 63;
}

/* Where vertex v's x is read: live when it is the part's, else in the copy. */
static inline ptrdiff_t source(const sigbook_umap_epoch *p, ptrdiff_t v) {
  return 2 * v + (p->snapshot_offset & outside(p, v));
}

/* Where vertex v's moves go: its x when it is the part's, else the deferred buffer. */
static inline ptrdiff_t sink(const sigbook_umap_epoch *p, ptrdiff_t v) {
  return 2 * v + (p->deferred_offset & outside(p, v));
}

/* Pulls i (the part's) and j together: d^{2(b−1)} = d^{2b} / d², one power for both. */
static inline void attract(const sigbook_umap_epoch *p, ptrdiff_t i, ptrdiff_t j) {
  float *y = p->positions;
  const ptrdiff_t o = source(p, j);
  const float dx = y[2 * i] - y[o], dy = y[2 * i + 1] - y[o + 1];
  const float d2 = dx * dx + dy * dy;
  if (!(d2 > 0)) return;
  /* Held finite so that a far pair gets the limit 0 rather than ∞/∞. */
  float powered = power(d2, power_factor_of(p->b));
  powered = FLT_MAX < powered ? FLT_MAX : powered;
  const float coefficient = p->attraction * powered / (d2 * (p->a * powered + 1));
  const float gx = clip(coefficient * dx) * p->alpha, gy = clip(coefficient * dy) * p->alpha;
  y[2 * i] += gx;
  y[2 * i + 1] += gy;
  const ptrdiff_t s = sink(p, j);
  y[s] -= gx;
  y[s + 1] -= gy;
}

/* Pushes i (the part's) away from k (nothing when they coincide, k = i included). */
static inline void repel(const sigbook_umap_epoch *p, ptrdiff_t i, ptrdiff_t k) {
  float *y = p->positions;
  const ptrdiff_t o = source(p, k);
  const float dx = y[2 * i] - y[o], dy = y[2 * i + 1] - y[o + 1];
  const float d2 = dx * dx + dy * dy;
  if (!(d2 > 0)) return;
  const float powered = power(d2, power_factor_of(p->b));
  const float coefficient = p->repulsion / ((0.001f + d2) * (p->a * powered + 1));
  y[2 * i] += clip(coefficient * dx) * p->alpha;
  y[2 * i + 1] += clip(coefficient * dy) * p->alpha;
}

/* The lanes' state: the next edge to look at, the end of the lane, the edge of this step, its
   head and far end, and its negative samples this epoch. */
typedef struct {
  int lanes;
  ptrdiff_t cursor[SIGBOOK_UMAP_MAX_LANES];
  ptrdiff_t end[SIGBOOK_UMAP_MAX_LANES];
  ptrdiff_t head[SIGBOOK_UMAP_MAX_LANES];
  ptrdiff_t other[SIGBOOK_UMAP_MAX_LANES];
  ptrdiff_t negatives[SIGBOOK_UMAP_MAX_LANES];
} lane_state;

static void start_lanes(const sigbook_umap_epoch *p, lane_state *s) {
  const ptrdiff_t start = p->edge_start, count = p->edge_end - p->edge_start;
  s->lanes = p->lanes;
  for (int l = 0; l < p->lanes; l++) {
    s->cursor[l] = start + l * count / p->lanes;
    s->end[l] = l + 1 == p->lanes ? p->edge_end : start + (l + 1) * count / p->lanes;
  }
}

/* Moves lane l to its next due edge and schedules that edge's next samples; sets its head (−1
   when the lane is done), far end and negative count. Touches no position. */
static inline void advance(const sigbook_umap_epoch *p, lane_state *s, int l) {
  ptrdiff_t e = s->cursor[l];
  const ptrdiff_t end = s->end[l];
  while (e < end && p->next_sample[e] > p->now) e++;
  s->cursor[l] = e + 1;
  if (e >= end) {
    s->head[l] = -1;
    s->negatives[l] = 0;
    return;
  }
  s->head[l] = p->heads[e];
  s->other[l] = p->tails[e];
  p->next_sample[e] += p->per_sample[e];
  const double due = (p->now - p->next_negative_sample[e]) / p->per_negative_sample[e];
  /* Swift's max(0, Int(due)), a NaN (no negative samples at all) counting as 0. */
  const ptrdiff_t negatives = due > 0 ? (ptrdiff_t)due : 0;
  s->negatives[l] = negatives;
  p->next_negative_sample[e] += (double)negatives * p->per_negative_sample[e];
}

static int portable_epoch(const sigbook_umap_epoch *p) {
  lane_state s;
  start_lanes(p, &s);
  const uint64_t n = (uint64_t)p->vertices;
  for (;;) {
    int any = 0;
    ptrdiff_t most = 0;
    for (int l = 0; l < s.lanes; l++) {
      advance(p, &s, l);
      if (s.head[l] >= 0) {
        any = 1;
        attract(p, s.head[l], s.other[l]);
      }
      most = s.negatives[l] > most ? s.negatives[l] : most;
    }
    if (!any) break;
    for (ptrdiff_t m = 0; m < most; m++)
      for (int l = 0; l < s.lanes; l++)
        if (m < s.negatives[l]) repel(p, s.head[l], random_below(p->generator, n));
  }
  return 0;
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2")))

/* `power` of 8 floats, operation by operation. */
static inline AVX2 __m256 power8(__m256 x, power_factor q) {
  const __m256i bits = _mm256_castps_si256(_mm256_max_ps(x, _mm256_set1_ps(FLT_MIN)));
  const __m256i shifted = _mm256_sub_epi32(bits, _mm256_set1_epi32(0x3F400000));
  const __m256i i = _mm256_and_si256(_mm256_srli_epi32(shifted, 20), _mm256_set1_epi32(7));
  const __m256 z = _mm256_castsi256_ps(_mm256_sub_epi32(
      bits, _mm256_and_si256(shifted, _mm256_set1_epi32((int32_t)0xFF800000u))));
  const __m256 k = _mm256_cvtepi32_ps(_mm256_srai_epi32(shifted, 23));
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 r = _mm256_sub_ps(
      _mm256_mul_ps(z, _mm256_permutevar8x32_ps(_mm256_loadu_ps(power_reciprocals), i)), one);
  const __m256 r2 = _mm256_mul_ps(r, r);
  const __m256 low = _mm256_add_ps(_mm256_set1_ps(LOG_1), _mm256_mul_ps(r, _mm256_set1_ps(LOG_2)));
  const __m256 high = _mm256_add_ps(
      _mm256_add_ps(_mm256_set1_ps(LOG_3), _mm256_mul_ps(r, _mm256_set1_ps(LOG_4))),
      _mm256_mul_ps(r2, _mm256_set1_ps(LOG_5)));
  const __m256 m = _mm256_add_ps(
      _mm256_permutevar8x32_ps(_mm256_loadu_ps(power_logs), i),
      _mm256_mul_ps(r, _mm256_add_ps(low, _mm256_mul_ps(r2, high))));
  const __m256 magic = _mm256_set1_ps(MAGIC);
  const __m256 uh = _mm256_mul_ps(_mm256_set1_ps(q.high), k);
  const __m256 rh = _mm256_add_ps(uh, magic);
  const __m256 u = _mm256_add_ps(
      _mm256_add_ps(
          _mm256_mul_ps(_mm256_set1_ps(q.low), k), _mm256_mul_ps(_mm256_set1_ps(q.b8), m)),
      _mm256_sub_ps(uh, _mm256_sub_ps(rh, magic)));
  const __m256 ru = _mm256_add_ps(u, magic);
  const __m256 f =
      _mm256_mul_ps(_mm256_sub_ps(u, _mm256_sub_ps(ru, magic)), _mm256_set1_ps(0.125f));
  const __m256i magic_bits = _mm256_set1_epi32(MAGIC_BITS);
  __m256i n8 = _mm256_add_epi32(
      _mm256_sub_epi32(_mm256_castps_si256(rh), magic_bits),
      _mm256_sub_epi32(_mm256_castps_si256(ru), magic_bits));
  n8 = _mm256_min_epi32(_mm256_max_epi32(n8, _mm256_set1_epi32(-1016)), _mm256_set1_epi32(1024));
  const __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(
      _mm256_add_epi32(_mm256_srai_epi32(n8, 3), _mm256_set1_epi32(127)), 23));
  const __m256 f2 = _mm256_mul_ps(f, f);
  const __m256 e = _mm256_add_ps(
      _mm256_add_ps(one, _mm256_mul_ps(f, _mm256_set1_ps(EXP_1))),
      _mm256_mul_ps(
          f2, _mm256_add_ps(
                  _mm256_add_ps(_mm256_set1_ps(EXP_2), _mm256_mul_ps(f, _mm256_set1_ps(EXP_3))),
                  _mm256_mul_ps(f2, _mm256_set1_ps(EXP_4)))));
  const __m256 entry = _mm256_permutevar8x32_ps(
      _mm256_loadu_ps(power_exp2), _mm256_and_si256(n8, _mm256_set1_epi32(7)));
  return _mm256_mul_ps(_mm256_mul_ps(entry, e), scale);
}

/* The (x, y) pairs at offsets o[0..7] of y, two to a 128-bit half: q[h] holds vertices 2h and
   2h + 1. */
static inline AVX2 void load_pairs(const float *y, const ptrdiff_t *o, __m128d q[4]) {
  for (int h = 0; h < 4; h++)
    q[h] = _mm_loadh_pd(
        _mm_load_sd((const double *)(y + o[2 * h])), (const double *)(y + o[2 * h + 1]));
}

/* The (x, y) of 8 vertices at offsets o[0..7] of y: xs and ys. */
static inline AVX2 void load8(const float *y, const ptrdiff_t *o, __m256 *xs, __m256 *ys) {
  __m128d q[4];
  load_pairs(y, o, q);
  const __m256 a = _mm256_castpd_ps(_mm256_set_m128d(q[2], q[0])); /* x0 y0 x1 y1 | x4 y4 x5 y5 */
  const __m256 c = _mm256_castpd_ps(_mm256_set_m128d(q[3], q[1])); /* x2 y2 x3 y3 | x6 y6 x7 y7 */
  *xs = _mm256_shuffle_ps(a, c, _MM_SHUFFLE(2, 0, 2, 0));
  *ys = _mm256_shuffle_ps(a, c, _MM_SHUFFLE(3, 1, 3, 1));
}

/* Lanes [from, from + 8) of a step, computed together: every active lane's head i and far end
   o (j for an attraction, k for a repulsion). The caller has checked that no lane reads what an
   earlier one writes, so the reads may all come first. */
static inline AVX2 void step8(
    const sigbook_umap_epoch *p, const ptrdiff_t *head, const ptrdiff_t *other, int active,
    int attraction) {
  float *y = p->positions;
  ptrdiff_t hi[8], oi[8];
  for (int l = 0; l < 8; l++) {
    /* An idle lane reads vertex 0 and writes nothing. */
    const ptrdiff_t i = (active >> l) & 1 ? head[l] : 0, o = (active >> l) & 1 ? other[l] : 0;
    hi[l] = 2 * i;
    oi[l] = source(p, o);
  }
  __m256 hx, hy, ox, oy;
  load8(y, hi, &hx, &hy);
  load8(y, oi, &ox, &oy);
  const __m256 dx = _mm256_sub_ps(hx, ox), dy = _mm256_sub_ps(hy, oy);
  const __m256 d2 = _mm256_add_ps(_mm256_mul_ps(dx, dx), _mm256_mul_ps(dy, dy));
  const __m256 positive = _mm256_cmp_ps(d2, _mm256_setzero_ps(), _CMP_GT_OQ);
  const int moving = _mm256_movemask_ps(positive) & active;
  if (!moving) return;
  const __m256 one = _mm256_set1_ps(1);
  const __m256 powered = power8(_mm256_blendv_ps(one, d2, positive), power_factor_of(p->b));
  const __m256 a = _mm256_set1_ps(p->a);
  __m256 coefficient;
  if (attraction) {
    const __m256 held = _mm256_min_ps(powered, _mm256_set1_ps(FLT_MAX));
    coefficient = _mm256_div_ps(
        _mm256_mul_ps(_mm256_set1_ps(p->attraction), held),
        _mm256_mul_ps(d2, _mm256_add_ps(_mm256_mul_ps(a, held), one)));
  } else {
    coefficient = _mm256_div_ps(
        _mm256_set1_ps(p->repulsion),
        _mm256_mul_ps(
            _mm256_add_ps(_mm256_set1_ps(0.001f), d2),
            _mm256_add_ps(_mm256_mul_ps(a, powered), one)));
  }
  const __m256 low = _mm256_set1_ps(-4.0f), high = _mm256_set1_ps(4.0f);
  const __m256 alpha = _mm256_set1_ps(p->alpha);
  /* min(max(v, −4), 4) is Swift's min(4, max(−4, v)), NaN included. */
  const __m256 gx = _mm256_mul_ps(
      _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(coefficient, dx), low), high), alpha);
  const __m256 gy = _mm256_mul_ps(
      _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(coefficient, dy), low), high), alpha);
  float nx[8], ny[8], mx[8], my[8];
  _mm256_storeu_ps(nx, _mm256_add_ps(hx, gx));
  _mm256_storeu_ps(ny, _mm256_add_ps(hy, gy));
  _mm256_storeu_ps(mx, gx);
  _mm256_storeu_ps(my, gy);
  for (int l = 0; l < 8; l++) {
    if (!((moving >> l) & 1)) continue;
    y[hi[l]] = nx[l];
    y[hi[l] + 1] = ny[l];
    if (attraction) {
      const ptrdiff_t s = sink(p, other[l]);
      y[s] -= mx[l];
      y[s + 1] -= my[l];
    }
  }
}

/* One step of all lanes: together where no lane reads a vertex an earlier lane writes, else one
   lane after the other. Marks hold, per vertex, the last step that wrote it. */
static inline AVX2 void step(
    const sigbook_umap_epoch *p, const lane_state *s, const ptrdiff_t *other, int active,
    int attraction, uint32_t *marks, uint32_t mark) {
  int clash = 0;
  for (int l = 0; l < s->lanes; l++) {
    if (!((active >> l) & 1)) continue;
    const ptrdiff_t i = s->head[l], o = other[l];
    clash |= (marks[i] == mark) | (marks[o] == mark);
    marks[i] = mark;
    /* A far end moved by an attraction: in place when the part's, into the deferred buffer
       (an addition in lane order) when not; marked either way, which is only cautious. */
    if (attraction) marks[o] = mark;
  }
  if (clash) {
    for (int l = 0; l < s->lanes; l++) {
      if (!((active >> l) & 1)) continue;
      if (attraction)
        attract(p, s->head[l], other[l]);
      else
        repel(p, s->head[l], other[l]);
    }
    return;
  }
  for (int from = 0; from < s->lanes; from += 8) {
    const int group = (active >> from) & 0xFF;
    if (group) step8(p, s->head + from, other + from, group, attraction);
  }
}

/* The (x, y) at offsets o[0..7] of y as xs and ys with their lanes in the order 0 1 4 5 2 3 6
   7, "gather order" (`load8` with the halves paired differently). */
static inline AVX2 void gather8(const float *y, const ptrdiff_t *o, __m256 *xs, __m256 *ys) {
  __m128d q[4];
  load_pairs(y, o, q);
  const __m256 a = _mm256_castpd_ps(_mm256_set_m128d(q[1], q[0])); /* x0 y0 x1 y1 | x2 y2 x3 y3 */
  const __m256 c = _mm256_castpd_ps(_mm256_set_m128d(q[3], q[2])); /* x4 y4 x5 y5 | x6 y6 x7 y7 */
  *xs = _mm256_shuffle_ps(a, c, _MM_SHUFFLE(2, 0, 2, 0));
  *ys = _mm256_shuffle_ps(a, c, _MM_SHUFFLE(3, 1, 3, 1));
}

/* 8 lane-ordered numbers in gather order. */
static inline AVX2 __m256i gather_order(const int32_t *lanes) {
  return _mm256_permutevar8x32_epi32(
      _mm256_loadu_si256((const __m256i *)lanes), _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7));
}

/* Writes the heads held in registers (gather order) back, for the lanes in `lanes`. */
static inline AVX2 void store_heads(
    float *y, const ptrdiff_t *head, const __m256 *hx, const __m256 *hy, int groups,
    int lanes) {
  double pairs[16];
  for (int g = 0; g < groups; g++) {
    _mm256_storeu_pd(pairs + 8 * g, _mm256_castps_pd(_mm256_unpacklo_ps(hx[g], hy[g])));
    _mm256_storeu_pd(pairs + 8 * g + 4, _mm256_castps_pd(_mm256_unpackhi_ps(hx[g], hy[g])));
  }
  for (int l = 0; l < 8 * groups; l++)
    if ((lanes >> l) & 1) memcpy(y + 2 * head[l], pairs + l, sizeof(double));
}

static inline AVX2 void load_heads(
    const float *y, const ptrdiff_t *head_offsets, __m256 *hx, __m256 *hy, int groups) {
  for (int g = 0; g < groups; g++) gather8(y, head_offsets + 8 * g, hx + g, hy + g);
}

/* The negative samples of a step's edges, `most` rounds. A lane's head moves only by its own
   repulsions in these rounds, so the heads stay in registers; a round where some lane draws a
   vertex that is a repelling head (whose value in memory is then stale) writes them back and is
   computed lane by lane. Heads shared by two repelling lanes (at a lane's end) make the whole
   phase lane by lane. `flags` is zero on entry and on return. */
static AVX2 void repel_phase(
    const sigbook_umap_epoch *p, const lane_state *s, ptrdiff_t most, uint32_t *flags) {
  const uint64_t n = (uint64_t)p->vertices;
  float *y = p->positions;
  const int lanes = s->lanes, groups = (lanes + 7) / 8;
  int repelling = 0;
  uint32_t shared = 0;
  for (int l = 0; l < lanes; l++) {
    if (s->negatives[l] <= 0) continue;
    repelling |= 1 << l;
    shared |= flags[s->head[l]];
    flags[s->head[l]] = 1;
  }
  if (shared) {
    for (ptrdiff_t m = 0; m < most; m++)
      for (int l = 0; l < lanes; l++)
        if (m < s->negatives[l]) repel(p, s->head[l], random_below(p->generator, n));
  } else {
    ptrdiff_t head_offsets[16] = {0};
    int32_t negatives[16] = {0};
    for (int l = 0; l < lanes; l++) {
      if (!((repelling >> l) & 1)) continue;
      head_offsets[l] = 2 * s->head[l];
      negatives[l] = (int32_t)s->negatives[l];
    }
    __m256 hx[2], hy[2];
    __m256i counts[2];
    load_heads(y, head_offsets, hx, hy, groups);
    for (int g = 0; g < groups; g++) counts[g] = gather_order(negatives + 8 * g);
    const __m256 one = _mm256_set1_ps(1), a = _mm256_set1_ps(p->a);
    const __m256 repulsion = _mm256_set1_ps(p->repulsion), alpha = _mm256_set1_ps(p->alpha);
    const __m256 low = _mm256_set1_ps(-4.0f), high = _mm256_set1_ps(4.0f);
    const __m256 floor = _mm256_set1_ps(0.001f);
    const power_factor b = power_factor_of(p->b);
    /* Round m + 1's vertices are drawn, and those not in a clash read, while round m is
       computed: they are none of the heads, so nothing in between moves them, and their loads
       wait on nothing of round m. */
    ptrdiff_t drawn[2][16], offsets[2][16];
    uint32_t clash[2];
    __m256 ox[2][2], oy[2][2];
    for (ptrdiff_t m = -1; m < most; m++) {
      const int next = (int)((m + 1) & 1), now = next ^ 1;
      if (m + 1 < most) {
        clash[next] = 0;
        for (int l = 0; l < 8 * groups; l++) {
          drawn[next][l] = 0;
          offsets[next][l] = 0;
          if (l >= lanes || m + 1 >= s->negatives[l]) continue;
          const ptrdiff_t k = random_below(p->generator, n);
          drawn[next][l] = k;
          offsets[next][l] = source(p, k);
          clash[next] |= flags[k];
        }
        if (!clash[next])
          for (int g = 0; g < groups; g++)
            gather8(y, offsets[next] + 8 * g, &ox[next][g], &oy[next][g]);
      }
      if (m < 0) continue;
      if (clash[now]) {
        store_heads(y, s->head, hx, hy, groups, repelling);
        for (int l = 0; l < lanes; l++)
          if (m < s->negatives[l]) repel(p, s->head[l], drawn[now][l]);
        load_heads(y, head_offsets, hx, hy, groups);
        continue;
      }
      const __m256i round = _mm256_set1_epi32((int32_t)m);
      for (int g = 0; g < groups; g++) {
        const __m256 dx = _mm256_sub_ps(hx[g], ox[now][g]);
        const __m256 dy = _mm256_sub_ps(hy[g], oy[now][g]);
        const __m256 d2 = _mm256_add_ps(_mm256_mul_ps(dx, dx), _mm256_mul_ps(dy, dy));
        const __m256 moving = _mm256_and_ps(
            _mm256_castsi256_ps(_mm256_cmpgt_epi32(counts[g], round)),
            _mm256_cmp_ps(d2, _mm256_setzero_ps(), _CMP_GT_OQ));
        if (!_mm256_movemask_ps(moving)) continue;
        const __m256 powered = power8(_mm256_blendv_ps(one, d2, moving), b);
        const __m256 coefficient = _mm256_div_ps(
            repulsion,
            _mm256_mul_ps(
                _mm256_add_ps(floor, d2), _mm256_add_ps(_mm256_mul_ps(a, powered), one)));
        const __m256 gx = _mm256_mul_ps(
            _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(coefficient, dx), low), high), alpha);
        const __m256 gy = _mm256_mul_ps(
            _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(coefficient, dy), low), high), alpha);
        hx[g] = _mm256_blendv_ps(hx[g], _mm256_add_ps(hx[g], gx), moving);
        hy[g] = _mm256_blendv_ps(hy[g], _mm256_add_ps(hy[g], gy), moving);
      }
    }
    store_heads(y, s->head, hx, hy, groups, repelling);
  }
  for (int l = 0; l < lanes; l++)
    if ((repelling >> l) & 1) flags[s->head[l]] = 0;
}

static AVX2 int avx2_epoch(const sigbook_umap_epoch *p) {
  lane_state s;
  start_lanes(p, &s);
  uint32_t *marks = p->marks, *flags = p->marks + p->vertices;
  memset(marks, 0, 2 * (size_t)p->vertices * sizeof *marks);
  uint32_t mark = 0;
  for (;;) {
    int active = 0;
    ptrdiff_t most = 0;
    for (int l = 0; l < s.lanes; l++) {
      advance(p, &s, l);
      if (s.head[l] >= 0) active |= 1 << l;
      most = s.negatives[l] > most ? s.negatives[l] : most;
    }
    if (!active) break;
    step(p, &s, s.other, active, 1, marks, ++mark);
    if (most > 0) repel_phase(p, &s, most, flags);
  }
  return 0;
}

#endif

int sigbook_umap_run_epoch(int variant, const sigbook_umap_epoch *p) {
  if (variant != SIGBOOK_VECTORS_NONE &&
      (variant != SIGBOOK_VECTORS_AVX2 || !sigbook_vectors_supported(variant)))
    return -1;
  if (p->lanes < 1 ||
      p->lanes > SIGBOOK_UMAP_MAX_LANES || p->vertices < 1 || p->edge_start < 0 ||
      p->edge_end < p->edge_start)
    return -1;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  if (variant == SIGBOOK_VECTORS_AVX2) return avx2_epoch(p);
#endif
  return portable_epoch(p);
}
