#pragma once
// A dense float32 tensor in row-major (NCHW for activations, OIHW for conv weights) order.
#include <cstdint>
#include <string>
#include <vector>

#include "sw/train/aligned_allocator.hpp"

namespace eg::train {

using FloatBuffer = std::vector<float, AlignedAllocator<float>>;

struct Tensor {
  std::vector<int64_t> shape;
  // 64-byte aligned: whole cache lines for the vector loops, and oneDNN's convolutions are
  // run-to-run reproducible only on 64-byte aligned buffers.
  FloatBuffer data;

  Tensor() = default;
  explicit Tensor(std::vector<int64_t> s, float fill = 0.0f) { reset(std::move(s), fill); }

  void reset(std::vector<int64_t> s, float fill = 0.0f) {
    shape = std::move(s);
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    data.assign(static_cast<size_t>(n), fill);
  }
  // Gives the tensor shape `s` keeping its allocation (contents unspecified): for outputs and
  // scratch buffers that are fully overwritten, so shape changes never reallocate or page-fault.
  void ensure(const std::vector<int64_t>& s) {
    if (s == shape) return;
    shape = s;
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    data.resize(static_cast<size_t>(n));
  }
  int64_t size() const { return static_cast<int64_t>(data.size()); }
  int64_t dim(size_t i) const { return shape.at(i); }
  float* ptr() { return data.data(); }
  const float* ptr() const { return data.data(); }
  void zero() { std::fill(data.begin(), data.end(), 0.0f); }
};

}  // namespace eg::train
