#include "sw/train/grad_filter.hpp"

#include <algorithm>

#include "sw/train/parallel.hpp"

namespace eg::train {

void filter_output_gradient(const FilterShape& s, const float* gy, float* out) {
  const int64_t ep = s.ef(), fp = s.ff(), planes = s.n * s.m;
  // One (n, m) plane per task: each patch mean is summed in a fixed order.
  parallel_for(planes, [&](int64_t b, int64_t end) {
    for (int64_t plane = b; plane < end; ++plane) {
      const float* src = gy + plane * s.e * s.f;
      float* dst = out + plane * ep * fp;
      for (int64_t I = 0; I < ep; ++I)
        for (int64_t J = 0; J < fp; ++J) {
          const int64_t i1 = std::min(s.e, (I + 1) * s.r), j1 = std::min(s.f, (J + 1) * s.r);
          double sum = 0.0;
          for (int64_t i = I * s.r; i < i1; ++i)
            for (int64_t j = J * s.r; j < j1; ++j) sum += src[i * s.f + j];
          // Border patches are cut by the map: the mean is over the positions inside it.
          dst[I * fp + J] = static_cast<float>(sum / double((i1 - I * s.r) * (j1 - J * s.r)));
        }
    }
  });
}

void sum_pool_input(const FilterShape& s, const float* x, float* out) {
  const int64_t ep = s.ef(), fp = s.ff(), planes = s.n * s.c, kc = (s.kernel - 1) / 2;
  parallel_for(planes, [&](int64_t b, int64_t end) {
    for (int64_t plane = b; plane < end; ++plane) {
      const float* src = x + plane * s.h * s.w;
      float* dst = out + plane * ep * fp;
      for (int64_t I = 0; I < ep; ++I)
        for (int64_t J = 0; J < fp; ++J) {
          const int64_t i1 = std::min(s.e, (I + 1) * s.r), j1 = std::min(s.f, (J + 1) * s.r);
          double sum = 0.0;
          for (int64_t i = I * s.r; i < i1; ++i) {
            const int64_t a = i * s.stride + kc - s.pad;
            if (a < 0 || a >= s.h) continue;
            for (int64_t j = J * s.r; j < j1; ++j) {
              const int64_t bb = j * s.stride + kc - s.pad;
              if (bb >= 0 && bb < s.w) sum += src[a * s.w + bb];
            }
          }
          dst[I * fp + J] = static_cast<float>(sum);
        }
    }
  });
}

void sum_kernel(const FilterShape& s, const float* w, float* out) {
  const int64_t kk = s.kernel * s.kernel;
  for (int64_t i = 0; i < s.m * s.c; ++i) {
    double sum = 0.0;
    for (int64_t t = 0; t < kk; ++t) sum += w[i * kk + t];
    out[i] = static_cast<float>(sum);
  }
}

void filtered_weight_gradient(const FilterShape& s, const float* g, const float* xs, float* dw) {
  const int64_t p = s.ef() * s.ff(), kk = s.kernel * s.kernel;
  parallel_for(s.m * s.c, [&](int64_t b, int64_t end) {
    for (int64_t mc = b; mc < end; ++mc) {
      const int64_t mi = mc / s.c, ci = mc % s.c;
      double sum = 0.0;
      for (int64_t ni = 0; ni < s.n; ++ni) {
        const float* gp = g + (ni * s.m + mi) * p;
        const float* xp = xs + (ni * s.c + ci) * p;
        for (int64_t q = 0; q < p; ++q) sum += double(gp[q]) * xp[q];
      }
      std::fill(dw + mc * kk, dw + (mc + 1) * kk, static_cast<float>(sum));
    }
  });
}

void reduced_input_gradient(const FilterShape& s, const float* ws, const float* g, float* dxr) {
  const int64_t p = s.ef() * s.ff();
  parallel_for(s.n * s.c, [&](int64_t b, int64_t end) {
    std::vector<double> acc(static_cast<size_t>(p));
    for (int64_t nc = b; nc < end; ++nc) {
      const int64_t ni = nc / s.c, ci = nc % s.c;
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t mi = 0; mi < s.m; ++mi) {
        const double wv = ws[mi * s.c + ci];
        const float* gp = g + (ni * s.m + mi) * p;
        for (int64_t q = 0; q < p; ++q) acc[q] += wv * gp[q];
      }
      for (int64_t q = 0; q < p; ++q) dxr[nc * p + q] = static_cast<float>(acc[q]);
    }
  });
}

void broadcast_input_gradient(const FilterShape& s, const float* dxr, float* dx) {
  const int64_t ep = s.ef(), fp = s.ff(), span = s.r * s.stride;
  const float scale = 1.0f / static_cast<float>(s.stride * s.stride);
  parallel_for(s.n * s.c, [&](int64_t b, int64_t end) {
    for (int64_t plane = b; plane < end; ++plane) {
      const float* src = dxr + plane * ep * fp;
      float* dst = dx + plane * s.h * s.w;
      for (int64_t a = 0; a < s.h; ++a) {
        const int64_t I = std::min(a / span, ep - 1);
        for (int64_t bb = 0; bb < s.w; ++bb)
          dst[a * s.w + bb] = src[I * fp + std::min(bb / span, fp - 1)] * scale;
      }
    }
  });
}

int64_t stored_activation_bytes(const FilterShape& s, bool filtered, int64_t bytes_per_value) {
  const int64_t per_sample = filtered ? s.c * s.ef() * s.ff() : s.c * s.h * s.w;
  return s.n * per_sample * bytes_per_value;
}

BackwardCost backward_cost(const FilterShape& s, bool filtered) {
  BackwardCost c;
  if (!filtered) {
    c.dx_macs = c.dw_macs = s.n * s.m * s.c * s.kernel * s.kernel * s.e * s.f;
    return c;
  }
  const int64_t p = s.ef() * s.ff();
  c.dx_macs = c.dw_macs = s.n * s.m * s.c * p;
  // Patch means of g_y (one add per element), sum-pooling of x (one per output position), the
  // kernel sum (one per tap); the broadcast only copies.
  c.filter_adds = s.n * s.m * s.e * s.f + s.n * s.c * s.e * s.f + s.m * s.c * s.kernel * s.kernel;
  return c;
}

}  // namespace eg::train
