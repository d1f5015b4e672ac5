/* The first n of a 256-bit vector's 8 floats stored, the memory past them untouched: in
   128-, 64- and 32-bit pieces. AVX2's masked store (`vmaskmovps` to memory) does the same but
   is microcoded on the AMD processors these kernels run on: the direct convolution's padding
   of strided inputs spent a third of its time in it. */

#ifndef SIGBOOK_FIRST_LANES_H
#define SIGBOOK_FIRST_LANES_H

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

static inline __attribute__((always_inline, target("avx2,fma"))) void sigbook_store_first(
    float *dst, __m256 v, int n) {
  __m128 part = _mm256_castps256_ps128(v);
  if (n >= 4) {
    _mm_storeu_ps(dst, part);
    part = _mm256_extractf128_ps(v, 1);
    if (n >= 8) {
      _mm_storeu_ps(dst + 4, part);
      return;
    }
    dst += 4;
    n -= 4;
  }
  if (n >= 2) {
    _mm_storel_pi((__m64 *)dst, part);
    part = _mm_movehl_ps(part, part);
    dst += 2;
    n -= 2;
  }
  if (n >= 1) _mm_store_ss(dst, part);
}
#endif

#endif
