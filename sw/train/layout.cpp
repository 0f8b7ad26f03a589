#include "sw/train/layout.hpp"

#include <stdexcept>

#include "sw/train/layer.hpp"
#include "sw/train/parallel.hpp"

namespace eg::train {
namespace {

struct Dims {
  int64_t n, c, hw;
};

Dims blocked_dims(const Tensor& t) {
  if (t.shape.size() != 4 || t.dim(1) % kChannelBlock != 0)
    throw std::logic_error("layout: NChw16c needs a 4-D tensor with C a multiple of 16");
  return {t.dim(0), t.dim(1), t.dim(2) * t.dim(3)};
}

// Visits every (n, channel block) pair: plain points at channel 16·cb of image n (planes hw
// apart), blocked at the pair's hw×16 block.
template <typename F>
void for_each_block(const Dims& d, F f) {
  const int64_t cb = d.c / kChannelBlock;
  parallel_for(d.n * cb, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t ni = i / cb, bi = i % cb;
      f((ni * d.c + bi * kChannelBlock) * d.hw, i * d.hw * kChannelBlock);
    }
  });
}

}  // namespace

void convert_layout(const Tensor& src, Layout to, Tensor& dst) {
  dst.ensure(src.shape, to);
  if (src.layout == to) {
    std::copy(src.data.begin(), src.data.end(), dst.data.begin());
    return;
  }
  const Dims d = blocked_dims(src);
  const float* s = src.ptr();
  float* o = dst.ptr();
  const int64_t hw = d.hw;
  if (to == Layout::NChw16c)
    for_each_block(d, [=](int64_t plain, int64_t blocked) {
      for (int64_t p = 0; p < hw; ++p)
        for (int64_t l = 0; l < kChannelBlock; ++l)
          o[blocked + p * kChannelBlock + l] = s[plain + l * hw + p];
    });
  else
    for_each_block(d, [=](int64_t plain, int64_t blocked) {
      for (int64_t l = 0; l < kChannelBlock; ++l)
        for (int64_t p = 0; p < hw; ++p) o[plain + l * hw + p] = s[blocked + p * kChannelBlock + l];
    });
}

const Tensor& as_nchw(const Tensor& src, Tensor& scratch) {
  if (src.layout == Layout::Nchw) return src;
  convert_layout(src, Layout::Nchw, scratch);
  return scratch;
}

void write_from_nchw(const Tensor& src, Tensor& dst, bool add) {
  if (src.layout != Layout::Nchw || src.shape != dst.shape)
    throw std::logic_error("layout: write_from_nchw needs an NCHW source of the same shape");
  const float* s = src.ptr();
  float* o = dst.ptr();
  if (dst.layout == Layout::Nchw) {
    store_gradient(s, o, src.size(), add);
    return;
  }
  const Dims d = blocked_dims(dst);
  const int64_t hw = d.hw;
  for_each_block(d, [=](int64_t plain, int64_t blocked) {
    for (int64_t p = 0; p < hw; ++p)
      for (int64_t l = 0; l < kChannelBlock; ++l) {
        float& v = o[blocked + p * kChannelBlock + l];
        v = add ? v + s[plain + l * hw + p] : s[plain + l * hw + p];
      }
  });
}

}  // namespace eg::train
