#include "sw/train/batchnorm.hpp"

#include <cmath>
#include <stdexcept>

#include "sw/train/parallel.hpp"

namespace eg::train {
namespace {

// Per-channel sums: each (n, c) plane is summed in 16 float lanes (a loop the compiler
// vectorises), the planes in double and in order, so the result does not depend on the thread
// count. Values are shifted by a per-channel constant k (the channel's first element) before
// squaring, which keeps Σ(x−k)² − (Σ(x−k))²/n accurate when |mean| is large against the spread.
constexpr int kLanes = 16;

struct Sums {
  double a = 0.0, b = 0.0;
};

// Σ (p − k) and Σ (p − k)² over one plane.
Sums shifted_sums(const float* p, int64_t len, float k) {
  float s[kLanes] = {}, q[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= len; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const float d = p[i + l] - k;
      s[l] += d;
      q[l] += d * d;
    }
  Sums r;
  for (; i < len; ++i) {
    const double d = double(p[i]) - k;
    r.a += d;
    r.b += d * d;
  }
  for (int l = 0; l < kLanes; ++l) {
    r.a += s[l];
    r.b += q[l];
  }
  return r;
}

// Σ dy and Σ dy·(x − mean) over one plane.
Sums gradient_sums(const float* dy, const float* x, int64_t len, float mean) {
  float s[kLanes] = {}, q[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= len; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      s[l] += dy[i + l];
      q[l] += dy[i + l] * (x[i + l] - mean);
    }
  Sums r;
  for (; i < len; ++i) {
    r.a += dy[i];
    r.b += double(dy[i]) * (x[i] - mean);
  }
  for (int l = 0; l < kLanes; ++l) {
    r.a += s[l];
    r.b += q[l];
  }
  return r;
}

}  // namespace

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
  if (training) {
    mean_.assign(static_cast<size_t>(c), 0.0f);
    inv_std_.assign(static_cast<size_t>(c), 0.0f);
  }
  const float* xp = x.ptr();
  float* op = out.ptr();
  // One channel per task: each channel's sums are sequential, so thread-count independent.
  parallel_for(c, [&, xp, op](int64_t b, int64_t e) {
    for (int64_t ci = b; ci < e; ++ci) {
      double mean, var;
      if (training) {
        const float k = xp[ci * hw];
        Sums t;
        for (int64_t ni = 0; ni < n; ++ni) {
          const Sums p = shifted_sums(xp + (ni * c + ci) * hw, hw, k);
          t.a += p.a;
          t.b += p.b;
        }
        const double count = static_cast<double>(n * hw);
        const double ss = std::max(0.0, t.b - t.a * t.a / count);  // Σ(x − mean)²
        mean = k + t.a / count;
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
      if (training) {
        mean_[ci] = static_cast<float>(mean);
        inv_std_[ci] = static_cast<float>(inv);
      }
      // The statistics are summed in double; the per-element transform runs in float (as
      // PyTorch's does), folded into one multiply-add per element.
      const double g = gamma_.value.data[ci];
      const float scale = static_cast<float>(g * inv);
      const float shift = static_cast<float>(beta_.value.data[ci] - mean * g * inv);
      for (int64_t ni = 0; ni < n; ++ni) {
        const float* p = xp + (ni * c + ci) * hw;
        float* o = op + (ni * c + ci) * hw;
        for (int64_t i = 0; i < hw; ++i) o[i] = p[i] * scale + shift;
      }
    }
  });
}

void BatchNorm::backward(const std::vector<const Tensor*>& in, const Tensor&, Tensor& dout,
                         const std::vector<Tensor*>& din, const BackwardContext& ctx) {
  const int64_t n = dout.dim(0), c = channels_, hw = dout.size() / (n * c);
  if (static_cast<int64_t>(mean_.size()) != c)
    throw std::logic_error("bn: backward without a training forward");
  const double count = static_cast<double>(n * hw);
  const float* xp = in.at(0)->ptr();
  const float* dyp = dout.ptr();
  float* dxp = din[0] ? din[0]->ptr() : nullptr;
  const bool add = adds_to_din(ctx, 0);
  parallel_for(c, [&, xp, dyp, dxp, add](int64_t b, int64_t e) {
    for (int64_t ci = b; ci < e; ++ci) {
      const float mean = mean_[ci], inv = inv_std_[ci];
      Sums t;  // Σ dy, Σ dy·(x − mean)
      for (int64_t ni = 0; ni < n; ++ni) {
        const int64_t off = (ni * c + ci) * hw;
        const Sums p = gradient_sums(dyp + off, xp + off, hw, mean);
        t.a += p.a;
        t.b += p.b;
      }
      const double sum_dy = t.a, sum_dy_xhat = t.b * inv;
      if (ctx.param_grads) {
        gamma_.grad.data[ci] = static_cast<float>(sum_dy_xhat);
        beta_.grad.data[ci] = static_cast<float>(sum_dy);
      }
      if (!dxp) continue;
      // dx = γ·inv·(dy − mean(dy) − x̂·mean(dy·x̂)), with x̂ = (x − mean)·inv folded into one
      // coefficient on (x − mean).
      const float scale = static_cast<float>(gamma_.value.data[ci] * inv);
      const float mean_dy = static_cast<float>(sum_dy / count);
      const float coef = static_cast<float>(sum_dy_xhat / count * inv);
      for (int64_t ni = 0; ni < n; ++ni) {
        const int64_t off = (ni * c + ci) * hw;
        const float* dy = dyp + off;
        const float* x = xp + off;
        float* dx = dxp + off;
        if (add)
          for (int64_t i = 0; i < hw; ++i)
            dx[i] += scale * (dy[i] - mean_dy - (x[i] - mean) * coef);
        else
          for (int64_t i = 0; i < hw; ++i) dx[i] = scale * (dy[i] - mean_dy - (x[i] - mean) * coef);
      }
    }
  });
}

}  // namespace eg::train
