#include "sw/train/gemm.hpp"

#include <cblas.h>

#include "sw/train/parallel.hpp"

namespace eg::train {

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float* c, int64_t ldc) {
  // Column blocks of at least 64 keep each call's kernel efficient.
  parallel_for(
      n,
      [&](int64_t j0, int64_t j1) {
        const float* bj = trans_b ? b + j0 * ldb : b + j0;
        cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                    trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m),
                    static_cast<int>(j1 - j0), static_cast<int>(k), 1.0f, a, static_cast<int>(lda),
                    bj, static_cast<int>(ldb), 0.0f, c + j0, static_cast<int>(ldc));
      },
      64);
}

}  // namespace eg::train
