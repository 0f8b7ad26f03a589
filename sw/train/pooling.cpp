#include "sw/train/pooling.hpp"

#include <limits>

#include "sw/train/layout.hpp"
#include "sw/train/parallel.hpp"

namespace eg::train {
const Tensor& PoolLayer::plain_input(const Tensor& x) {
  return as_nchw(x, plain_x_);
}

Tensor& PoolLayer::backward_target(Tensor& din, bool add) {
  if (din.layout == Layout::Nchw) {
    if (!add) din.zero();
    return din;
  }
  plain_dx_.ensure(din.shape);
  plain_dx_.zero();
  return plain_dx_;
}

void PoolLayer::finish_backward(const Tensor& target, Tensor& din, bool add) {
  if (&target != &din) write_from_nchw(target, din, add);
}

void AvgPool::forward(const std::vector<const Tensor*>& in, Tensor& out, bool) {
  const Tensor& x = plain_input(*in.at(0));
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  const int64_t e = g_.out_h(h), f = g_.out_w(w), kr = g_.kernel_h, ks = g_.kernel_w;
  const float inv = 1.0f / static_cast<float>(kr * ks);
  out.ensure({n, c, e, f});
  parallel_for(n * c, [&](int64_t b, int64_t end) {
    for (int64_t p = b; p < end; ++p) {
      const float* src = x.ptr() + p * h * w;
      float* dst = out.ptr() + p * e * f;
      for (int64_t ei = 0; ei < e; ++ei)
        for (int64_t fi = 0; fi < f; ++fi) {
          float s = 0.0f;
          for (int64_t r = 0; r < kr; ++r) {
            const int64_t hi = ei * g_.stride - g_.pad + r;
            if (hi < 0 || hi >= h) continue;
            for (int64_t q = 0; q < ks; ++q) {
              const int64_t wi = fi * g_.stride - g_.pad + q;
              if (wi >= 0 && wi < w) s += src[hi * w + wi];
            }
          }
          dst[ei * f + fi] = s * inv;
        }
    }
  });
}

void AvgPool::backward(const std::vector<const Tensor*>& in, const Tensor&, Tensor& dout,
                       const std::vector<Tensor*>& din, const BackwardContext& ctx) {
  if (!din[0]) return;
  Tensor* dx = &backward_target(*din[0], adds_to_din(ctx, 0));
  const Tensor& x = *in.at(0);
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  const int64_t e = dout.dim(2), f = dout.dim(3), kr = g_.kernel_h, ks = g_.kernel_w;
  const float inv = 1.0f / static_cast<float>(kr * ks);
  parallel_for(n * c, [&](int64_t b, int64_t end) {
    for (int64_t p = b; p < end; ++p) {
      const float* src = dout.ptr() + p * e * f;
      float* dst = dx->ptr() + p * h * w;
      for (int64_t ei = 0; ei < e; ++ei)
        for (int64_t fi = 0; fi < f; ++fi) {
          const float g = src[ei * f + fi] * inv;
          for (int64_t r = 0; r < kr; ++r) {
            const int64_t hi = ei * g_.stride - g_.pad + r;
            if (hi < 0 || hi >= h) continue;
            for (int64_t q = 0; q < ks; ++q) {
              const int64_t wi = fi * g_.stride - g_.pad + q;
              if (wi >= 0 && wi < w) dst[hi * w + wi] += g;
            }
          }
        }
    }
  });
  finish_backward(*dx, *din[0], adds_to_din(ctx, 0));
}

void MaxPool::forward(const std::vector<const Tensor*>& in, Tensor& out, bool) {
  const Tensor& x = plain_input(*in.at(0));
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  const int64_t e = g_.out_h(h), f = g_.out_w(w), kr = g_.kernel_h, ks = g_.kernel_w;
  out.ensure({n, c, e, f});
  argmax_.assign(static_cast<size_t>(out.size()), -1);
  parallel_for(n * c, [&](int64_t b, int64_t end) {
    for (int64_t p = b; p < end; ++p) {
      const float* src = x.ptr() + p * h * w;
      for (int64_t ei = 0; ei < e; ++ei)
        for (int64_t fi = 0; fi < f; ++fi) {
          float best = -std::numeric_limits<float>::infinity();
          int64_t arg = -1;
          for (int64_t r = 0; r < kr; ++r) {
            const int64_t hi = ei * g_.stride - g_.pad + r;
            if (hi < 0 || hi >= h) continue;
            for (int64_t q = 0; q < ks; ++q) {
              const int64_t wi = fi * g_.stride - g_.pad + q;
              if (wi < 0 || wi >= w) continue;
              if (arg < 0 || src[hi * w + wi] > best) {
                best = src[hi * w + wi];
                arg = hi * w + wi;
              }
            }
          }
          const int64_t o = p * e * f + ei * f + fi;
          out.data[o] = arg < 0 ? 0.0f : best;
          argmax_[o] = arg;
        }
    }
  });
}

void MaxPool::backward(const std::vector<const Tensor*>& in, const Tensor&, Tensor& dout,
                       const std::vector<Tensor*>& din, const BackwardContext& ctx) {
  if (!din[0]) return;
  Tensor* dx = &backward_target(*din[0], adds_to_din(ctx, 0));
  const Tensor& x = *in.at(0);
  const int64_t n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
  const int64_t ef = dout.dim(2) * dout.dim(3);
  parallel_for(n * c, [&](int64_t b, int64_t end) {
    for (int64_t p = b; p < end; ++p)
      for (int64_t o = p * ef; o < (p + 1) * ef; ++o)
        if (argmax_[o] >= 0) dx->data[p * hw + argmax_[o]] += dout.data[o];
  });
  finish_backward(*dx, *din[0], adds_to_din(ctx, 0));
}

}  // namespace eg::train
