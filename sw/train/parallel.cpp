#include "sw/train/parallel.hpp"

#include <cblas.h>
#include <omp.h>
#include <xmmintrin.h>

#include <algorithm>

namespace eg::train {
namespace {

// Flush-to-zero and denormals-are-zero: in deep feedback-alignment backward passes error
// gradients can shrink into the float denormal range, where each multiply costs ~100 cycles.
// Values below 1.2e-38 are numerically irrelevant here; the flags are set identically in every
// thread, so results stay deterministic.
void enable_flush_to_zero() {
  _mm_setcsr(_mm_getcsr() | 0x8040);
}

// Until set_thread_count is called (tests), everything runs on the calling thread, which also
// gets the flags; OpenMP's own default would be one thread per core for oneDNN's kernels.
int initial_threads() {
  enable_flush_to_zero();
  omp_set_num_threads(1);
  return 1;
}

int& configured_threads() {
  static int threads = initial_threads();
  return threads;
}

}  // namespace

// One thread pool for everything: OpenMP's, which oneDNN's convolutions also run on. A second
// pool of our own would have its idle workers compete with OpenMP's spinning ones for the cores.
void set_thread_count(int threads) {
  threads = std::max(1, threads);
  configured_threads() = threads;
  omp_set_dynamic(0);
  omp_set_num_threads(threads);
  // OpenBLAS stays single-threaded: gemm.cpp splits GEMMs across this pool instead.
  openblas_set_num_threads(1);
#pragma omp parallel num_threads(threads)
  enable_flush_to_zero();
}

int thread_count() {
  return configured_threads();
}

void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain) {
  const int64_t parts = std::min<int64_t>(configured_threads(),
                                          std::max<int64_t>(1, n / std::max<int64_t>(1, grain)));
  if (parts <= 1) {
    if (n > 0) fn(0, n);
    return;
  }
  // Part t always covers the same range for a given n and thread count, and callers never reduce
  // across parts, so results do not depend on which thread runs which part.
#pragma omp parallel for schedule(static, 1) num_threads(static_cast <int>(parts))
  for (int64_t part = 0; part < parts; ++part) {
    const int64_t begin = n * part / parts, end = n * (part + 1) / parts;
    if (begin < end) fn(begin, end);
  }
}

}  // namespace eg::train
