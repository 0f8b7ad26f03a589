#include "sw/train/batchnorm.hpp"

#include <cmath>
#include <stdexcept>

#include "sw/train/parallel.hpp"

namespace eg::train {
namespace {

// Per-channel sums in double with four independent accumulators: a fixed summation order (so
// results do not depend on the thread count) that does not serialise on one add's latency.
constexpr int kLanes = 4;

double lane_sum(const float* p, int64_t len) {
  double acc[kLanes] = {0.0, 0.0, 0.0, 0.0};
  int64_t i = 0;
  for (; i + kLanes <= len; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += p[i + l];
  for (; i < len; ++i) acc[0] += p[i];
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

double lane_sum_sq_dev(const float* p, int64_t len, double mean) {
  double acc[kLanes] = {0.0, 0.0, 0.0, 0.0};
  int64_t i = 0;
  for (; i + kLanes <= len; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const double d = p[i + l] - mean;
      acc[l] += d * d;
    }
  for (; i < len; ++i) acc[0] += (p[i] - mean) * (p[i] - mean);
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

double lane_dot(const float* a, const float* b, int64_t len) {
  double acc[kLanes] = {0.0, 0.0, 0.0, 0.0};
  int64_t i = 0;
  for (; i + kLanes <= len; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += double(a[i + l]) * b[i + l];
  for (; i < len; ++i) acc[0] += double(a[i]) * b[i];
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
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
  if (training) xhat_.ensure(x.shape);
  inv_std_.assign(static_cast<size_t>(c), 0.0);
  // One channel per task: each channel's sums are sequential, so thread-count independent.
  parallel_for(c, [&](int64_t b, int64_t e) {
    for (int64_t ci = b; ci < e; ++ci) {
      double mean, var;
      if (training) {
        double s = 0.0, ss = 0.0;
        for (int64_t ni = 0; ni < n; ++ni) s += lane_sum(x.ptr() + (ni * c + ci) * hw, hw);
        const double count = static_cast<double>(n * hw);
        mean = s / count;
        for (int64_t ni = 0; ni < n; ++ni)
          ss += lane_sum_sq_dev(x.ptr() + (ni * c + ci) * hw, hw, mean);
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
      // The statistics are summed in double; the per-element transform runs in float (as
      // PyTorch's does), which keeps the loop vectorised and memory-bound.
      const float meanf = static_cast<float>(mean), invf = static_cast<float>(inv);
      const float g = gamma_.value.data[ci], be = beta_.value.data[ci];
      for (int64_t ni = 0; ni < n; ++ni) {
        const float* p = x.ptr() + (ni * c + ci) * hw;
        float* o = out.ptr() + (ni * c + ci) * hw;
        if (training) {
          float* xh = xhat_.ptr() + (ni * c + ci) * hw;
          for (int64_t i = 0; i < hw; ++i) {
            const float v = (p[i] - meanf) * invf;
            xh[i] = v;
            o[i] = g * v + be;
          }
        } else {
          for (int64_t i = 0; i < hw; ++i) o[i] = g * ((p[i] - meanf) * invf) + be;
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
        const int64_t off = (ni * c + ci) * hw;
        sum_dy += lane_sum(dout.ptr() + off, hw);
        sum_dy_xhat += lane_dot(dout.ptr() + off, xhat_.ptr() + off, hw);
      }
      if (ctx.param_grads) {
        gamma_.grad.data[ci] = static_cast<float>(sum_dy_xhat);
        beta_.grad.data[ci] = static_cast<float>(sum_dy);
      }
      if (!din[0]) continue;
      const float scale = static_cast<float>(gamma_.value.data[ci] * inv_std_[ci]);
      const float mean_dy = static_cast<float>(sum_dy / count);
      const float mean_dy_xhat = static_cast<float>(sum_dy_xhat / count);
      for (int64_t ni = 0; ni < n; ++ni) {
        const float* dy = dout.ptr() + (ni * c + ci) * hw;
        const float* xh = xhat_.ptr() + (ni * c + ci) * hw;
        float* dx = din[0]->ptr() + (ni * c + ci) * hw;
        for (int64_t i = 0; i < hw; ++i) dx[i] += scale * (dy[i] - mean_dy - xh[i] * mean_dy_xhat);
      }
    }
  });
}

}  // namespace eg::train
