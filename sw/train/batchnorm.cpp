#include "sw/train/batchnorm.hpp"

#include <cmath>
#include <stdexcept>

#include "sw/train/parallel.hpp"

namespace eg::train {

BatchNorm::BatchNorm(int64_t channels, double momentum, double eps)
    : channels_(channels), momentum_(momentum), eps_(eps) {
  gamma_.name = "gamma";
  beta_.name = "beta";
  for (Param* p : {&gamma_, &beta_}) {
    p->value.reset({channels});
    p->grad.reset({channels});
    p->momentum.reset({channels});
    p->weight_decay = false;
  }
  std::fill(gamma_.value.data.begin(), gamma_.value.data.end(), 1.0f);
  running_mean_.reset({channels}, 0.0f);
  running_var_.reset({channels}, 1.0f);
}

void BatchNorm::forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) {
  const Tensor& x = *in.at(0);
  if (x.dim(1) != channels_) throw std::logic_error("bn: channel count does not match");
  const int64_t n = x.dim(0), c = channels_, hw = x.size() / (n * c);
  out.ensure(x.shape);
  if (training) xhat_.ensure(x.shape);
  inv_std_.assign(static_cast<size_t>(c), 0.0);
  // One channel per task: each channel's sums are sequential, so thread-count independent.
  parallel_for(c, [&](int64_t b, int64_t e) {
    for (int64_t ci = b; ci < e; ++ci) {
      const float g = gamma_.value.data[ci], be = beta_.value.data[ci];
      double mean, var;
      if (training) {
        double s = 0.0, ss = 0.0;
        for (int64_t ni = 0; ni < n; ++ni) {
          const float* p = x.ptr() + (ni * c + ci) * hw;
          for (int64_t i = 0; i < hw; ++i) s += p[i];
        }
        const double count = static_cast<double>(n * hw);
        mean = s / count;
        for (int64_t ni = 0; ni < n; ++ni) {
          const float* p = x.ptr() + (ni * c + ci) * hw;
          for (int64_t i = 0; i < hw; ++i) ss += (p[i] - mean) * (p[i] - mean);
        }
        var = ss / count;
        const double unbiased = count > 1 ? ss / (count - 1) : var;
        running_mean_.data[ci] =
            static_cast<float>((1 - momentum_) * running_mean_.data[ci] + momentum_ * mean);
        running_var_.data[ci] =
            static_cast<float>((1 - momentum_) * running_var_.data[ci] + momentum_ * unbiased);
      } else {
        mean = running_mean_.data[ci];
        var = running_var_.data[ci];
      }
      const double inv = 1.0 / std::sqrt(var + eps_);
      inv_std_[ci] = inv;
      for (int64_t ni = 0; ni < n; ++ni) {
        const float* p = x.ptr() + (ni * c + ci) * hw;
        float* o = out.ptr() + (ni * c + ci) * hw;
        float* xh = training ? xhat_.ptr() + (ni * c + ci) * hw : nullptr;
        for (int64_t i = 0; i < hw; ++i) {
          const float v = static_cast<float>((p[i] - mean) * inv);
          if (xh) xh[i] = v;
          o[i] = g * v + be;
        }
      }
    }
  });
}

void BatchNorm::backward(const std::vector<const Tensor*>&, const Tensor&, Tensor& dout,
                         const std::vector<Tensor*>& din, const BackwardContext& ctx) {
  const int64_t n = dout.dim(0), c = channels_, hw = dout.size() / (n * c);
  const double count = static_cast<double>(n * hw);
  parallel_for(c, [&](int64_t b, int64_t e) {
    for (int64_t ci = b; ci < e; ++ci) {
      double sum_dy = 0.0, sum_dy_xhat = 0.0;
      for (int64_t ni = 0; ni < n; ++ni) {
        const float* dy = dout.ptr() + (ni * c + ci) * hw;
        const float* xh = xhat_.ptr() + (ni * c + ci) * hw;
        for (int64_t i = 0; i < hw; ++i) {
          sum_dy += dy[i];
          sum_dy_xhat += double(dy[i]) * xh[i];
        }
      }
      if (ctx.param_grads) {
        gamma_.grad.data[ci] = static_cast<float>(sum_dy_xhat);
        beta_.grad.data[ci] = static_cast<float>(sum_dy);
      }
      if (!din[0]) continue;
      const double scale = gamma_.value.data[ci] * inv_std_[ci];
      const double mean_dy = sum_dy / count, mean_dy_xhat = sum_dy_xhat / count;
      for (int64_t ni = 0; ni < n; ++ni) {
        const float* dy = dout.ptr() + (ni * c + ci) * hw;
        const float* xh = xhat_.ptr() + (ni * c + ci) * hw;
        float* dx = din[0]->ptr() + (ni * c + ci) * hw;
        for (int64_t i = 0; i < hw; ++i)
          dx[i] += static_cast<float>(scale * (dy[i] - mean_dy - xh[i] * mean_dy_xhat));
      }
    }
  });
}

}  // namespace eg::train
