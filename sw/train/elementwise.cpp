#include "sw/train/elementwise.hpp"

#include <stdexcept>

#include "sw/train/parallel.hpp"

namespace eg::train {
namespace {
constexpr int64_t kGrain = 8192;
}

void Relu::forward(const std::vector<const Tensor*>& in, Tensor& out, bool) {
  const Tensor& x = *in.at(0);
  out.ensure(x.shape);
  parallel_for(
      x.size(),
      [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) out.data[i] = x.data[i] > 0.0f ? x.data[i] : 0.0f;
      },
      kGrain);
}

void Relu::backward(const std::vector<const Tensor*>&, const Tensor& out, Tensor& dout,
                    const std::vector<Tensor*>& din, const BackwardContext&) {
  if (!din[0]) return;
  float* dx = din[0]->ptr();
  parallel_for(
      out.size(),
      [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i)
          if (out.data[i] > 0.0f) dx[i] += dout.data[i];
      },
      kGrain);
}

void Add::forward(const std::vector<const Tensor*>& in, Tensor& out, bool) {
  const Tensor& a = *in.at(0);
  const Tensor& b = *in.at(1);
  if (a.shape != b.shape) throw std::logic_error("add: input shapes differ");
  out.ensure(a.shape);
  parallel_for(
      a.size(),
      [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) out.data[i] = a.data[i] + b.data[i];
      },
      kGrain);
}

void Add::backward(const std::vector<const Tensor*>&, const Tensor&, Tensor& dout,
                   const std::vector<Tensor*>& din, const BackwardContext&) {
  for (Tensor* d : din) {
    if (!d) continue;
    parallel_for(
        dout.size(),
        [&](int64_t s, int64_t e) {
          for (int64_t i = s; i < e; ++i) d->data[i] += dout.data[i];
        },
        kGrain);
  }
}

}  // namespace eg::train
