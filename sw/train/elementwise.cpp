#include "sw/train/elementwise.hpp"

#include <stdexcept>

#include "sw/train/parallel.hpp"

namespace eg::train {
namespace {
constexpr int64_t kGrain = 8192;
// The loop lambdas capture raw pointers by value: captured by reference, every access reloads
// the pointer through the closure and the loops do not vectorise.
}  // namespace

void Relu::forward(const std::vector<const Tensor*>& in, Tensor& out, bool) {
  const Tensor& x = *in.at(0);
  out.ensure(x.shape, x.layout);
  const float* xp = x.ptr();
  float* o = out.ptr();
  parallel_for(
      x.size(),
      [xp, o](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) o[i] = xp[i] > 0.0f ? xp[i] : 0.0f;
      },
      kGrain);
}

void Relu::backward(const std::vector<const Tensor*>&, const Tensor& out, Tensor& dout,
                    const std::vector<Tensor*>& din, const BackwardContext& ctx) {
  if (!din[0]) return;
  float* dx = din[0]->ptr();
  const float* o = out.ptr();
  const float* dy = dout.ptr();
  const bool add = adds_to_din(ctx, 0);
  // Adding 0 where the unit is off (instead of skipping the store) lets the loop vectorise;
  // x + 0 == x exactly, so the result is unchanged.
  parallel_for(
      out.size(),
      [dx, o, dy, add](int64_t b, int64_t e) {
        if (add)
          for (int64_t i = b; i < e; ++i) {
            const float g = dy[i];  // loaded unconditionally, so the select vectorises
            dx[i] += o[i] > 0.0f ? g : 0.0f;
          }
        else
          for (int64_t i = b; i < e; ++i) {
            const float g = dy[i];
            dx[i] = o[i] > 0.0f ? g : 0.0f;
          }
      },
      kGrain);
}

void Add::forward(const std::vector<const Tensor*>& in, Tensor& out, bool) {
  const Tensor& a = *in.at(0);
  const Tensor& b = *in.at(1);
  if (a.shape != b.shape) throw std::logic_error("add: input shapes differ");
  if (a.layout != b.layout) throw std::logic_error("add: input layouts differ");
  out.ensure(a.shape, a.layout);
  const float* ap = a.ptr();
  const float* bp = b.ptr();
  float* o = out.ptr();
  parallel_for(
      a.size(),
      [ap, bp, o](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) o[i] = ap[i] + bp[i];
      },
      kGrain);
}

void Add::backward(const std::vector<const Tensor*>&, const Tensor&, Tensor& dout,
                   const std::vector<Tensor*>& din, const BackwardContext& ctx) {
  for (size_t k = 0; k < din.size(); ++k)
    if (din[k]) store_gradient(dout.ptr(), din[k]->ptr(), dout.size(), adds_to_din(ctx, k));
}

}  // namespace eg::train
