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

BatchNorm::Affine BatchNorm::channel_affine(int64_t ci, double sum, double sum_sq, float k,
                                            double count, bool training) {
  double mean, var;
  if (training) {
    const double ss = std::max(0.0, sum_sq - sum * sum / count);  // Σ(x − mean)²
    mean = k + sum / count;
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
  if (training || keep_for_backward_) {
    mean_[ci] = static_cast<float>(mean);
    inv_std_[ci] = static_cast<float>(inv);
  }
  // The statistics are summed in double; the per-element transform runs in float (as
  // PyTorch's does), folded into one multiply-add per element.
  const double g = gamma_.value.data[ci];
  return {static_cast<float>(g * inv), static_cast<float>(beta_.value.data[ci] - mean * g * inv)};
}

void BatchNorm::forward(const std::vector<const Tensor*>& in, Tensor& out, bool training_in) {
  // With frozen statistics a training forward normalises as evaluation does, but keeps the
  // statistics it used for backward.
  keep_for_backward_ = training_in && frozen_stats_;
  const bool training = training_in && !frozen_stats_;
  if (keep_for_backward_) {
    mean_.assign(static_cast<size_t>(channels_), 0.0f);
    inv_std_.assign(static_cast<size_t>(channels_), 0.0f);
  }
  const Tensor& x = *in.at(0);
  if (x.dim(1) != channels_) throw std::logic_error("bn: channel count does not match");
  const int64_t n = x.dim(0), c = channels_, hw = x.size() / (n * c);
  out.ensure(x.shape, x.layout);
  if (training) {
    mean_.assign(static_cast<size_t>(c), 0.0f);
    inv_std_.assign(static_cast<size_t>(c), 0.0f);
  }
  if (x.layout == Layout::NChw16c) {
    forward_blocked(x, out, training);
    return;
  }
  const float* xp = x.ptr();
  float* op = out.ptr();
  const double count = static_cast<double>(n * hw);
  // One channel per task: each channel's sums are sequential, so thread-count independent.
  parallel_for(c, [&, xp, op](int64_t b, int64_t e) {
    for (int64_t ci = b; ci < e; ++ci) {
      Sums t;
      const float k = xp[ci * hw];
      if (training)
        for (int64_t ni = 0; ni < n; ++ni) {
          const Sums p = shifted_sums(xp + (ni * c + ci) * hw, hw, k);
          t.a += p.a;
          t.b += p.b;
        }
      const Affine a = channel_affine(ci, t.a, t.b, k, count, training);
      for (int64_t ni = 0; ni < n; ++ni) {
        const float* p = xp + (ni * c + ci) * hw;
        float* o = op + (ni * c + ci) * hw;
        for (int64_t i = 0; i < hw; ++i) o[i] = p[i] * a.scale + a.shift;
      }
    }
  });
}

void BatchNorm::forward_blocked(const Tensor& x, Tensor& out, bool training) {
  constexpr int64_t L = kChannelBlock;
  const int64_t n = x.dim(0), c = channels_, cb = c / L, hw = x.dim(2) * x.dim(3);
  const float* xp = x.ptr();
  float* op = out.ptr();
  std::vector<float> k(static_cast<size_t>(c)), scale(k.size()), shift(k.size());
  if (training) {
    // Shift by each channel's first element (image 0, pixel 0).
    for (int64_t ci = 0; ci < c; ++ci) k[ci] = xp[(ci / L) * hw * L + ci % L];
    // Per (image, channel block): 16 float lanes over the block's pixels, then in double, in
    // image order. Blocks are independent tasks, so the sums do not depend on the threads.
    partial_.assign(static_cast<size_t>(n * c * 2), 0.0);
    double* part = partial_.data();
    const float* kp = k.data();
    parallel_for(n * cb, [=](int64_t b, int64_t e) {
      for (int64_t blk = b; blk < e; ++blk) {
        const float* p = xp + blk * hw * L;
        const float* kb = kp + (blk % cb) * L;
        float s[L] = {}, q[L] = {};
        for (int64_t px = 0; px < hw; ++px)
          for (int64_t l = 0; l < L; ++l) {
            const float d = p[px * L + l] - kb[l];
            s[l] += d;
            q[l] += d * d;
          }
        for (int64_t l = 0; l < L; ++l) {
          part[(blk * L + l) * 2] = s[l];
          part[(blk * L + l) * 2 + 1] = q[l];
        }
      }
    });
  }
  const double count = static_cast<double>(n * hw);
  for (int64_t ci = 0; ci < c; ++ci) {
    double sum = 0.0, sum_sq = 0.0;
    if (training)
      for (int64_t ni = 0; ni < n; ++ni) {
        // Block (ni, ci / L), lane ci % L: index ni·C + ci.
        sum += partial_[(ni * c + ci) * 2];
        sum_sq += partial_[(ni * c + ci) * 2 + 1];
      }
    const Affine a = channel_affine(ci, sum, sum_sq, k[ci], count, training);
    scale[ci] = a.scale;
    shift[ci] = a.shift;
  }
  const float* sp = scale.data();
  const float* hp = shift.data();
  parallel_for(n * cb, [=](int64_t b, int64_t e) {
    for (int64_t blk = b; blk < e; ++blk) {
      const float* p = xp + blk * hw * L;
      float* o = op + blk * hw * L;
      const float* sc = sp + (blk % cb) * L;
      const float* sh = hp + (blk % cb) * L;
      for (int64_t px = 0; px < hw; ++px)
        for (int64_t l = 0; l < L; ++l) o[px * L + l] = p[px * L + l] * sc[l] + sh[l];
    }
  });
}

void BatchNorm::backward_blocked(const Tensor& x, const Tensor& dout, float* dxp, bool add,
                                 bool param_grads) {
  constexpr int64_t L = kChannelBlock;
  const int64_t n = x.dim(0), c = channels_, cb = c / L, hw = x.dim(2) * x.dim(3);
  const float* xp = x.ptr();
  const float* dyp = dout.ptr();
  const float* mp = mean_.data();
  partial_.assign(static_cast<size_t>(n * c * 2), 0.0);
  double* part = partial_.data();
  parallel_for(n * cb, [=](int64_t b, int64_t e) {
    for (int64_t blk = b; blk < e; ++blk) {
      const float* dy = dyp + blk * hw * L;
      const float* xs = xp + blk * hw * L;
      const float* mb = mp + (blk % cb) * L;
      float s[L] = {}, q[L] = {};
      for (int64_t px = 0; px < hw; ++px)
        for (int64_t l = 0; l < L; ++l) {
          s[l] += dy[px * L + l];
          q[l] += dy[px * L + l] * (xs[px * L + l] - mb[l]);
        }
      for (int64_t l = 0; l < L; ++l) {
        part[(blk * L + l) * 2] = s[l];
        part[(blk * L + l) * 2 + 1] = q[l];
      }
    }
  });
  const double count = static_cast<double>(n * hw);
  std::vector<float> scale(static_cast<size_t>(c)), mean_dy(scale.size()), coef(scale.size());
  for (int64_t ci = 0; ci < c; ++ci) {
    double sum_dy = 0.0, sum_dy_xm = 0.0;
    for (int64_t ni = 0; ni < n; ++ni) {
      sum_dy += partial_[(ni * c + ci) * 2];
      sum_dy_xm += partial_[(ni * c + ci) * 2 + 1];
    }
    const double inv = inv_std_[ci], sum_dy_xhat = sum_dy_xm * inv;
    if (param_grads) {
      gamma_.grad.data[ci] = static_cast<float>(sum_dy_xhat);
      beta_.grad.data[ci] = static_cast<float>(sum_dy);
    }
    scale[ci] = static_cast<float>(gamma_.value.data[ci] * inv);
    // Frozen statistics: the mean and variance are constants, so no terms through them.
    mean_dy[ci] = frozen_stats_ ? 0.0f : static_cast<float>(sum_dy / count);
    coef[ci] = frozen_stats_ ? 0.0f : static_cast<float>(sum_dy_xhat / count * inv);
  }
  if (!dxp) return;
  const float* sp = scale.data();
  const float* mdp = mean_dy.data();
  const float* cp = coef.data();
  parallel_for(n * cb, [=](int64_t b, int64_t e) {
    for (int64_t blk = b; blk < e; ++blk) {
      const int64_t o = (blk % cb) * L;
      const float* dy = dyp + blk * hw * L;
      const float* xs = xp + blk * hw * L;
      float* dx = dxp + blk * hw * L;
      auto value = [&](int64_t px, int64_t l) {
        const int64_t i = px * L + l;
        return sp[o + l] * (dy[i] - mdp[o + l] - (xs[i] - mp[o + l]) * cp[o + l]);
      };
      if (add)
        for (int64_t px = 0; px < hw; ++px)
          for (int64_t l = 0; l < L; ++l) dx[px * L + l] += value(px, l);
      else
        for (int64_t px = 0; px < hw; ++px)
          for (int64_t l = 0; l < L; ++l) dx[px * L + l] = value(px, l);
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
  if (in.at(0)->layout == Layout::NChw16c) {
    backward_blocked(*in.at(0), dout, dxp, add, ctx.param_grads);
    return;
  }
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
      const float mean_dy = frozen_stats_ ? 0.0f : static_cast<float>(sum_dy / count);
      const float coef = frozen_stats_ ? 0.0f : static_cast<float>(sum_dy_xhat / count * inv);
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
