#include "sw/train/conv2d.hpp"

#include <stdexcept>

#include "sw/train/gemm.hpp"
#include "sw/train/grad_filter.hpp"
#include "sw/train/layout.hpp"
#include "sw/train/parallel.hpp"

namespace eg::train {
namespace {

// Output positions fi with 0 <= fi·st − pad + s < W are [valid_begin(pad − s), valid_end(W − 1 +
// pad − s)), so the inner loops run without bounds checks.
int64_t valid_begin(int64_t lo, int64_t st) {
  return lo <= 0 ? 0 : (lo + st - 1) / st;
}
int64_t valid_end(int64_t hi, int64_t st, int64_t f) {
  return hi < 0 ? 0 : std::min(f, hi / st + 1);
}

}  // namespace

ConvBackend& conv_backend() {
  static ConvBackend backend = ConvBackend::Onednn;
  return backend;
}

Conv2d::Scratch& Conv2d::scratch() {
  static Scratch s;
  return s;
}

Conv2d::Conv2d(const ConvGeometry& g, uint64_t seed, uint64_t layer_id)
    : WeightedLayer(seed, layer_id, {g.out_channels, g.in_channels, g.kernel, g.kernel},
                    g.in_channels * g.kernel * g.kernel, /*kaiming_normal=*/true),
      g_(g) {}

void Conv2d::forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) {
  const Tensor& x = *in.at(0);
  if (x.shape.size() != 4 || x.dim(1) != g_.in_channels)
    throw std::logic_error("conv: input shape does not match the layer");
  const Tensor& operand = forward_operands(x);
  if (conv_backend() == ConvBackend::Onednn) {
    if (!onednn_) {
      onednn_ = std::make_unique<OnednnConv>(g_);
      onednn_->set_batch_buckets(buckets_);
    }
    onednn_->forward(operand, forward_weight(), out, training);
  } else {
    if (x.layout != Layout::Nchw) throw std::logic_error("conv: the im2col backend needs NCHW");
    forward_im2col(operand, out);
  }
}

void Conv2d::build_cols(const Tensor& x) {
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  const int64_t e = g_.out_size(h), f = g_.out_size(w), k = g_.kernel, st = g_.stride, pad = g_.pad;
  const int64_t kk = c * k * k, cols = n * e * f;
  cols_.ensure({kk, cols});
  // Each row (c, r, s) of the column matrix is independent.
  parallel_for(kk, [&](int64_t b, int64_t end) {
    for (int64_t row = b; row < end; ++row) {
      const int64_t ci = row / (k * k), r = (row / k) % k, s = row % k;
      const int64_t f_lo = valid_begin(pad - s, st), f_hi = valid_end(w - 1 + pad - s, st, f);
      float* dst = cols_.ptr() + row * cols;
      for (int64_t ni = 0; ni < n; ++ni) {
        const float* plane = x.ptr() + (ni * c + ci) * h * w;
        for (int64_t ei = 0; ei < e; ++ei) {
          const int64_t hi = ei * st - pad + r;
          float* d = dst + (ni * e + ei) * f;
          if (hi < 0 || hi >= h) {
            for (int64_t fi = 0; fi < f; ++fi) d[fi] = 0.0f;
            continue;
          }
          const float* src = plane + hi * w - pad + s;
          for (int64_t fi = 0; fi < f_lo; ++fi) d[fi] = 0.0f;
          if (st == 1)
            std::copy(src + f_lo, src + f_hi, d + f_lo);
          else
            for (int64_t fi = f_lo; fi < f_hi; ++fi) d[fi] = src[fi * st];
          for (int64_t fi = f_hi; fi < f; ++fi) d[fi] = 0.0f;
        }
      }
    }
  });
}

void Conv2d::forward_im2col(const Tensor& x, Tensor& out) {
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  const int64_t e = g_.out_size(h), f = g_.out_size(w), k = g_.kernel, m = g_.out_channels;
  const int64_t kk = c * k * k, cols = n * e * f;
  build_cols(x);
  Tensor& ymat_ = scratch().ymat;
  ymat_.ensure({m, cols});
  gemm(false, false, m, cols, kk, forward_weight().ptr(), kk, cols_.ptr(), cols, ymat_.ptr(), cols);
  out.ensure({n, m, e, f});
  const int64_t ef = e * f;
  parallel_for(n * m, [&](int64_t b, int64_t end) {
    for (int64_t idx = b; idx < end; ++idx) {
      const int64_t ni = idx / m, mi = idx % m;
      const float* src = ymat_.ptr() + mi * cols + ni * ef;
      std::copy(src, src + ef, out.ptr() + idx * ef);
    }
  });
}

void Conv2d::weight_gradient_of(const Tensor& x, const Tensor& gy, Tensor& gw) {
  if (conv_backend() == ConvBackend::Onednn) {
    if (!onednn_) throw std::logic_error("conv: backward before a training forward");
    onednn_->weight_gradient(x, gy, gw);
    return;
  }
  const int64_t n = x.dim(0), c = x.dim(1), k = g_.kernel, m = g_.out_channels;
  const int64_t ef = gy.dim(2) * gy.dim(3), kk = c * k * k, cols = n * ef;
  build_cols(x);
  Tensor& ymat_ = scratch().ymat;
  ymat_.ensure({m, cols});
  parallel_for(n * m, [&](int64_t b, int64_t end) {
    for (int64_t idx = b; idx < end; ++idx) {
      const int64_t ni = idx / m, mi = idx % m;
      const float* src = gy.ptr() + idx * ef;
      std::copy(src, src + ef, ymat_.ptr() + mi * cols + ni * ef);
    }
  });
  gemm(false, true, m, kk, cols, ymat_.ptr(), cols, cols_.ptr(), cols, gw.ptr(), kk);
}

void Conv2d::backward(const std::vector<const Tensor*>& in, const Tensor&, Tensor& dout,
                      const std::vector<Tensor*>& din, const BackwardContext& context) {
  // Under PSG the layer multiplied the quantised input, and its weight gradient is PSG's.
  const Tensor& x = psg_.on ? xq_ : *in.at(0);
  begin_backward(dout, context);
  BackwardContext ctx = context;
  if (psg_.on && ctx.param_grads) {
    psg_weight_gradient(x, dout);
    ctx.param_grads = false;
  }
  const bool own_dx = needs_own_dx(din, ctx);
  Tensor& dx_own_ = scratch().dx_own;
  if (filter_r_ > 0) {
    backward_filtered(x, dout, ctx, own_dx);
    if (!own_dx) return;
    end_backward(dx_own_, ctx);
    if (din[0]) write_from_nchw(dx_own_, *din[0], adds_to_din(ctx, 0));
    return;
  }
  if (conv_backend() == ConvBackend::Onednn) {
    if (!onednn_) throw std::logic_error("conv: backward before a training forward");
    // This layer's dx goes straight into the producer's gradient when nothing was there yet
    // and nothing needs it separately (statistics); otherwise via dx_own.
    const bool direct = din[0] && !adds_to_din(ctx, 0) && !ctx.record && !ctx.record_bp_reference;
    Tensor* dx = direct ? din[0] : own_dx ? &dx_own_ : nullptr;
    if (dx) dx->ensure(x.shape, x.layout);
    onednn_->backward(x, dout, feedback(), ctx.param_grads ? &w_.grad : nullptr, dx);
    if (direct) return;
  } else {
    backward_im2col(x, dout, ctx, own_dx);
  }
  if (!own_dx) return;
  end_backward(dx_own_, ctx);
  if (din[0]) store_gradient(dx_own_.ptr(), din[0]->ptr(), dx_own_.size(), adds_to_din(ctx, 0));
}

void Conv2d::backward_filtered(const Tensor& x_any, const Tensor& dout_any,
                               const BackwardContext& ctx, bool own_dx) {
  Tensor x_plain, dy_plain;  // the filter works on NCHW whatever order oneDNN keeps
  const Tensor& x = as_nchw(x_any, x_plain);
  const Tensor& dy = as_nchw(dout_any, dy_plain);
  FilterShape s;
  s.n = x.dim(0), s.c = x.dim(1), s.h = x.dim(2), s.w = x.dim(3);
  s.m = dy.dim(1), s.e = dy.dim(2), s.f = dy.dim(3);
  s.kernel = g_.kernel, s.stride = g_.stride, s.pad = g_.pad, s.r = filter_r_;
  Tensor g({s.n, s.m, s.ef(), s.ff()}), xs({s.n, s.c, s.ef(), s.ff()}), ws({s.m, s.c, 1, 1});
  filter_output_gradient(s, dy.ptr(), g.ptr());
  if (ctx.param_grads) {
    sum_pool_input(s, x.ptr(), xs.ptr());
    filtered_weight_gradient(s, g.ptr(), xs.ptr(), w_.grad.ptr());
  }
  sum_kernel(s, feedback().ptr(), ws.ptr());
  if (own_dx) {
    Tensor dxr({s.n, s.c, s.ef(), s.ff()});
    reduced_input_gradient(s, ws.ptr(), g.ptr(), dxr.ptr());
    Tensor& dx_own_ = scratch().dx_own;
    dx_own_.ensure(x.shape);
    broadcast_input_gradient(s, dxr.ptr(), dx_own_.ptr());
  }
  if (ctx.record) {
    if (!ctx.param_grads) sum_pool_input(s, x.ptr(), xs.ptr());
    rec_.gy_filtered = std::move(g);
    rec_.x_filtered = std::move(xs);
    rec_.w_summed = std::move(ws);
  }
}

void Conv2d::backward_im2col(const Tensor& x, const Tensor& dout, const BackwardContext& ctx,
                             bool own_dx) {
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  const int64_t e = dout.dim(2), f = dout.dim(3), k = g_.kernel, st = g_.stride, pad = g_.pad,
                m = g_.out_channels;
  const int64_t kk = c * k * k, cols = n * e * f, ef = e * f;
  Tensor& ymat_ = scratch().ymat;
  Tensor& dcols_ = scratch().dcols;
  Tensor& dx_own_ = scratch().dx_own;
  ymat_.ensure({m, cols});
  parallel_for(n * m, [&](int64_t b, int64_t end) {
    for (int64_t idx = b; idx < end; ++idx) {
      const int64_t ni = idx / m, mi = idx % m;
      const float* src = dout.ptr() + idx * ef;
      std::copy(src, src + ef, ymat_.ptr() + mi * cols + ni * ef);
    }
  });
  if (ctx.param_grads)
    gemm(false, true, m, kk, cols, ymat_.ptr(), cols, cols_.ptr(), cols, w_.grad.ptr(), kk);
  if (!own_dx) return;
  dcols_.ensure({kk, cols});
  gemm(true, false, kk, cols, m, feedback().ptr(), kk, ymat_.ptr(), cols, dcols_.ptr(), cols);
  dx_own_.ensure(x.shape);
  // col2im, one (n, c) plane per task: a fixed accumulation order per element.
  parallel_for(n * c, [&](int64_t b, int64_t end) {
    for (int64_t plane = b; plane < end; ++plane) {
      const int64_t ni = plane / c, ci = plane % c;
      float* dst = dx_own_.ptr() + plane * h * w;
      std::fill(dst, dst + h * w, 0.0f);
      for (int64_t r = 0; r < k; ++r)
        for (int64_t s = 0; s < k; ++s) {
          const int64_t f_lo = valid_begin(pad - s, st), f_hi = valid_end(w - 1 + pad - s, st, f);
          const float* src = dcols_.ptr() + ((ci * k + r) * k + s) * cols + ni * ef;
          for (int64_t ei = 0; ei < e; ++ei) {
            const int64_t hi = ei * st - pad + r;
            if (hi < 0 || hi >= h) continue;
            float* drow = dst + hi * w - pad + s;
            const float* srow = src + ei * f;
            if (st == 1)
              for (int64_t fi = f_lo; fi < f_hi; ++fi) drow[fi] += srow[fi];
            else
              for (int64_t fi = f_lo; fi < f_hi; ++fi) drow[fi * st] += srow[fi];
          }
        }
    }
  });
}

}  // namespace eg::train
