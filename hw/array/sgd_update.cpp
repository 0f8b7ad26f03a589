#include "hw/array/sgd_update.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace eg::hw::array {

namespace {
// binary32: 1 sign, 8 exponent and 23 mantissa bits.
constexpr int kFloatBits = 32, kFloatMantissa = 23, kSignAndExponent = 9;

int mantissa_bits(int bits) {
  return std::clamp(bits - kSignAndExponent, 0, kFloatMantissa);
}
// Levels of the symmetric linear copy on each side of zero (at least one: a 1-bit copy is ±scale).
double linear_levels(int bits) {
  return std::max(1.0, std::ldexp(1.0, std::min(bits, 62) - 1) - 1.0);
}
}  // namespace

float round_to_float_bits(float x, int bits) {
  if (bits >= kFloatBits || !std::isfinite(x)) return x;
  const int drop = kFloatMantissa - mantissa_bits(bits);
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  // Round to nearest, ties to even, on the bit pattern: a carry out of the mantissa moves to the
  // next binade (or to infinity), as the format requires.
  const uint32_t half = (1u << (drop - 1)) - 1u + ((u >> drop) & 1u);
  u = (u + half) & ~((1u << drop) - 1u);
  float out;
  std::memcpy(&out, &u, sizeof out);
  return out;
}

double float_rounding(int bits) {
  return bits >= kFloatBits ? 0.0 : std::ldexp(1.0, -(mantissa_bits(bits) + 1));
}

double linear_rounding(int bits) {
  return 0.5 / linear_levels(bits);
}

SgdResult sgd_update(const std::vector<float>& w, const std::vector<float>& v,
                     const std::vector<float>& g, const SgdHyper& h, const arch::Widths& widths) {
  if (v.size() != w.size() || g.size() != w.size())
    throw std::logic_error("sgd_update: w, momentum and dw differ in size");
  SgdResult r;
  r.master_w.resize(w.size());
  r.momentum.resize(w.size());
  r.w_copy.resize(w.size());
  std::vector<float> full(w.size());  // W' in the datapath, before it is rounded for storage
  float max_w = 0.0f;
  for (size_t i = 0; i < w.size(); ++i) {
    const float vn = h.momentum * v[i] + (g[i] + h.weight_decay * w[i]);
    full[i] = w[i] - h.lr * vn;
    r.momentum[i] = round_to_float_bits(vn, widths.momentum);
    r.master_w[i] = round_to_float_bits(full[i], widths.master_weight);
    max_w = std::max(max_w, std::fabs(full[i]));
  }
  // The copy is taken from the full-precision W'.
  const double levels = linear_levels(widths.weight);
  const double scale = max_w > 0.0f ? static_cast<double>(max_w) / levels : 1.0;
  for (size_t i = 0; i < w.size(); ++i) {
    const double q =
        std::clamp(std::nearbyint(static_cast<double>(full[i]) / scale), -levels, levels);
    r.w_copy[i] = static_cast<float>(q * scale);
  }
  return r;
}

}  // namespace eg::hw::array
