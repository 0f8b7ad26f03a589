#include "sw/train/layer.hpp"

#include <algorithm>

#include "sw/train/parallel.hpp"

namespace eg::train {

void store_gradient(const float* src, float* dst, int64_t n, bool add) {
  // Pointers captured by value: by reference they are reloaded per element (no vectorising).
  parallel_for(
      n,
      [src, dst, add](int64_t b, int64_t e) {
        if (add)
          for (int64_t i = b; i < e; ++i) dst[i] += src[i];
        else
          std::copy(src + b, src + e, dst + b);
      },
      8192);
}

}  // namespace eg::train
