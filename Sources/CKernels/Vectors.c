/* Which vector variant of the kernels this processor runs: one check for every kernel. */

#include "CKernels.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
int sigbook_vectors_supported(int variant) {
  __builtin_cpu_init();
  switch (variant) {
    case SIGBOOK_VECTORS_AVX512: return __builtin_cpu_supports("avx512f");
    case SIGBOOK_VECTORS_AVX2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default: return 0;
  }
}
#else
int sigbook_vectors_supported(int variant) {
  (void)variant;
  return 0;
}
#endif

int sigbook_vectors_best(void) {
  if (sigbook_vectors_supported(SIGBOOK_VECTORS_AVX512)) return SIGBOOK_VECTORS_AVX512;
  if (sigbook_vectors_supported(SIGBOOK_VECTORS_AVX2)) return SIGBOOK_VECTORS_AVX2;
  return SIGBOOK_VECTORS_NONE;
}
