#pragma once
// Checked integer arithmetic for sizes read from files and flags: an overflow is a bad input,
// reported as eg::Error naming what was being computed, never a wrapped value that is simulated as
// 0 bytes.
#include <cstdint>
#include <limits>
#include <string>

#include "base/error.hpp"

namespace eg {

inline int64_t checked_mul(int64_t a, int64_t b, const std::string& what) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) throw Error(what + ": size overflows 64 bits");
  return r;
}

inline int64_t checked_add(int64_t a, int64_t b, const std::string& what) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) throw Error(what + ": size overflows 64 bits");
  return r;
}

inline uint64_t checked_mul(uint64_t a, uint64_t b, const std::string& what) {
  uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) throw Error(what + ": size overflows 64 bits");
  return r;
}

inline uint64_t checked_add(uint64_t a, uint64_t b, const std::string& what) {
  uint64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) throw Error(what + ": size overflows 64 bits");
  return r;
}

// Product of non-negative extents (a shape); throws for a negative extent or an overflow.
template <typename Range>
int64_t checked_product(const Range& extents, const std::string& what) {
  int64_t p = 1;
  for (auto e : extents) {
    if (e < 0) throw Error(what + ": negative extent " + std::to_string(e));
    p = checked_mul(p, static_cast<int64_t>(e), what);
  }
  return p;
}

}  // namespace eg
