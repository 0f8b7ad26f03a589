#pragma once
// A dense float32 tensor: row-major (NCHW for activations, OIHW for conv weights), or for 4-D
// activations optionally channel-blocked (see Layout).
#include <cstdint>
#include <string>
#include <vector>

#include "sw/train/aligned_allocator.hpp"

namespace eg::train {

using FloatBuffer = std::vector<float, AlignedAllocator<float>>;

// Memory order of a 4-D activation; `shape` is always the logical [N, C, H, W].
// NChw16c keeps blocks of 16 channels innermost: element (n, c, h, w) is at
// ((n·C/16 + c/16)·H·W + h·W + w)·16 + c%16. It is the order oneDNN's AVX-512 convolution
// kernels read and write, so a chain of convolutions (with batch norm, ReLU and residual adds in
// between, which work in either order) exchanges activations without reordering. Only for
// C % 16 == 0.
enum class Layout : uint8_t { Nchw, NChw16c };
constexpr int64_t kChannelBlock = 16;

struct Tensor {
  std::vector<int64_t> shape;
  // 64-byte aligned: whole cache lines for the vector loops, and oneDNN's convolutions are
  // run-to-run reproducible only on 64-byte aligned buffers.
  FloatBuffer data;
  Layout layout = Layout::Nchw;

  Tensor() = default;
  explicit Tensor(std::vector<int64_t> s, float fill = 0.0f) { reset(std::move(s), fill); }

  void reset(std::vector<int64_t> s, float fill = 0.0f) {
    shape = std::move(s);
    layout = Layout::Nchw;
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    data.assign(static_cast<size_t>(n), fill);
  }
  // Gives the tensor shape `s` keeping its allocation (contents unspecified): for outputs and
  // scratch buffers that are fully overwritten, so shape changes never reallocate or page-fault.
  void ensure(const std::vector<int64_t>& s, Layout l = Layout::Nchw) {
    layout = l;
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
