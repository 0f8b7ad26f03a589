#pragma once
// Naive reference layers (plain loops, double accumulation) the array is checked against:
// conv forward, its transposed conv (dx from dy and the feedback weights) and the weight gradient.
// NCHW activations, MCRS weights.
#include <cstdint>
#include <vector>

namespace eg::testing {

struct ConvShape {
  int64_t n, c, h, w, m, r, s, stride, pad;
  int64_t e() const { return (h + 2 * pad - r) / stride + 1; }
  int64_t f() const { return (w + 2 * pad - s) / stride + 1; }
};

inline std::vector<float> conv_forward(const ConvShape& g, const std::vector<float>& x,
                                       const std::vector<float>& w) {
  const int64_t E = g.e(), F = g.f();
  std::vector<float> y(static_cast<size_t>(g.n * g.m * E * F));
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t m = 0; m < g.m; ++m)
      for (int64_t e = 0; e < E; ++e)
        for (int64_t f = 0; f < F; ++f) {
          double acc = 0;
          for (int64_t c = 0; c < g.c; ++c)
            for (int64_t r = 0; r < g.r; ++r)
              for (int64_t s = 0; s < g.s; ++s) {
                const int64_t h = e * g.stride + r - g.pad, ww = f * g.stride + s - g.pad;
                if (h < 0 || h >= g.h || ww < 0 || ww >= g.w) continue;
                acc += double(x[((n * g.c + c) * g.h + h) * g.w + ww]) *
                       w[((m * g.c + c) * g.r + r) * g.s + s];
              }
          y[((n * g.m + m) * E + e) * F + f] = static_cast<float>(acc);
        }
  return y;
}

// dx = transposed conv of dy with `fb` (the feedback matrix, MCRS like w).
inline std::vector<float> conv_backward(const ConvShape& g, const std::vector<float>& dy,
                                        const std::vector<float>& fb) {
  const int64_t E = g.e(), F = g.f();
  std::vector<double> dx(static_cast<size_t>(g.n * g.c * g.h * g.w), 0.0);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t m = 0; m < g.m; ++m)
      for (int64_t e = 0; e < E; ++e)
        for (int64_t f = 0; f < F; ++f) {
          const double d = dy[((n * g.m + m) * E + e) * F + f];
          for (int64_t c = 0; c < g.c; ++c)
            for (int64_t r = 0; r < g.r; ++r)
              for (int64_t s = 0; s < g.s; ++s) {
                const int64_t h = e * g.stride + r - g.pad, ww = f * g.stride + s - g.pad;
                if (h < 0 || h >= g.h || ww < 0 || ww >= g.w) continue;
                dx[((n * g.c + c) * g.h + h) * g.w + ww] +=
                    d * fb[((m * g.c + c) * g.r + r) * g.s + s];
              }
        }
  return std::vector<float>(dx.begin(), dx.end());
}

inline std::vector<float> conv_weight_gradient(const ConvShape& g, const std::vector<float>& x,
                                               const std::vector<float>& dy) {
  const int64_t E = g.e(), F = g.f();
  std::vector<float> dw(static_cast<size_t>(g.m * g.c * g.r * g.s));
  for (int64_t m = 0; m < g.m; ++m)
    for (int64_t c = 0; c < g.c; ++c)
      for (int64_t r = 0; r < g.r; ++r)
        for (int64_t s = 0; s < g.s; ++s) {
          double acc = 0;
          for (int64_t n = 0; n < g.n; ++n)
            for (int64_t e = 0; e < E; ++e)
              for (int64_t f = 0; f < F; ++f) {
                const int64_t h = e * g.stride + r - g.pad, ww = f * g.stride + s - g.pad;
                if (h < 0 || h >= g.h || ww < 0 || ww >= g.w) continue;
                acc += double(dy[((n * g.m + m) * E + e) * F + f]) *
                       x[((n * g.c + c) * g.h + h) * g.w + ww];
              }
          dw[((m * g.c + c) * g.r + r) * g.s + s] = static_cast<float>(acc);
        }
  return dw;
}

// FC as the 1x1 conv of a 1x1 image: x [N,C], w [M,C], y [N,M].
inline ConvShape fc_shape(int64_t n, int64_t c, int64_t m) {
  return {n, c, 1, 1, m, 1, 1, 1, 0};
}

}  // namespace eg::testing
