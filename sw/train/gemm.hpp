#pragma once
// Row-major sgemm, C[M,N] = op(A)[M,K] · op(B)[K,N], split by output columns across the
// trainer's thread pool, each block a single-threaded OpenBLAS call. Keeping OpenBLAS itself
// single-threaded avoids its spinning workers competing with the pool's loops, and no output
// element is summed by more than one thread.
#include <cstdint>

namespace eg::train {

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float* c, int64_t ldc);

}  // namespace eg::train
