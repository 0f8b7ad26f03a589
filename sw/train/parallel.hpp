#pragma once
// A small persistent thread pool for elementwise/im2col loops. Work is split into contiguous,
// independent index ranges; callers never reduce across ranges, so results do not depend on the
// thread count.
#include <cstdint>
#include <functional>

namespace eg::train {

// Sets the number of worker threads (including the caller) for parallel_for and gemm().
void set_thread_count(int threads);
int thread_count();

// Calls fn(begin, end) on disjoint ranges covering [0, n). Ranges are at least `grain` long.
void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain = 1);

}  // namespace eg::train
