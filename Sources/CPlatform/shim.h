#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdio.h>

/* Flushes standard output (Swift 6 cannot name the C global `stdout` safely). */
static inline void sigbook_flush_stdout(void) { fflush(stdout); }

/* Keeps large blocks in the heap instead of mapping and unmapping them for every batch. */
static inline void sigbook_tune_malloc(int mmap_threshold, int trim_threshold) {
  mallopt(M_MMAP_THRESHOLD, mmap_threshold);
  mallopt(M_TRIM_THRESHOLD, trim_threshold);
}

/* The widest vector extension this processor supports: 2 for AVX-512F, 1 for AVX2 with FMA,
   0 otherwise. */
static inline int sigbook_cpu_vector_level(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return 2;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
  return 0;
}

#include <malloc.h>

/// Returns the free pages at the top of malloc's heaps to the system (glibc's malloc_trim):
/// memory a crowd of event streams held does not stay in the server once they are gone.
static inline void sigbook_release_free_memory(void) { malloc_trim(0); }

/// Caps the number of malloc's arenas: a server whose threads wait on sockets gains nothing
/// from one arena per thread, and each arena keeps its own fragments when connections leave.
static inline void sigbook_limit_malloc_arenas(int count) { mallopt(M_ARENA_MAX, count); }
