#pragma once
// The arithmetic of E²-Train's predictive sign gradient (PSG; Wang et al., NeurIPS 2019, §3.3),
// shared by the trainer (which applies it) and the simulator (which checks a trace against it), so
// that both quantise, truncate and decide in exactly the same way.
//
// Fake quantisation to b bits, per tensor, symmetric: the scale is s = max|t| / (2^(b-1) - 1) and
// each value becomes the sign-magnitude integer q = sign(t)·min(round(|t|/s), 2^(b-1) - 1), stored
// back as q·s. So b bits are one sign bit and b - 1 magnitude bits, and the largest magnitude maps
// to the largest code.
//
// MSB truncation of such a value to m of its b bits keeps the sign and the top m - 1 magnitude
// bits and zeroes the rest, as hardware does when it reads only the upper bit lines of an operand:
// |q_m| = floor(|q| / 2^(b-m)) · 2^(b-m), value sign(q)·|q_m|·s (same scale s). Truncation rounds
// toward zero, so a magnitude below 2^(b-m) codes becomes 0. For x at 8 bits and m = 4 that keeps
// codes that are multiples of 16 (0, 16, ..., 112); for g_y at 16 bits and m = 10, multiples of 64.
//
// The decision rule per layer: τ̃ = β·max|g_w^msb|; a weight's sign comes from the predictor g_w^msb
// where g_w^msb != 0 and |g_w^msb| >= τ̃, and from the full-precision g_w (8-bit x with 16-bit g_y)
// elsewhere (the psg_mask is 1 there). A zero predictor carries no sign, so it never decides, even
// at β = 0 or when every predictor entry is zero.
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace eg::psg {

// The widths E²-Train uses (§3.3 and its Fig. 3): x and w at 8 bits, g_y at 16; the predictor
// takes the 4 MSBs of x and the 10 MSBs of g_y.
inline constexpr int kBitsX = 8, kBitsW = 8, kBitsGy = 16, kBitsXMsb = 4, kBitsGyMsb = 10;

// Largest magnitude code of a b-bit sign-magnitude integer.
inline int64_t max_code(int bits) {
  return (int64_t{1} << (bits - 1)) - 1;
}

// s = max|v| / (2^(bits-1) - 1); 0 when every value is 0 (then every code is 0).
inline float scale_of(const float* v, int64_t n, int bits) {
  float m = 0.0f;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(v[i]));
  return m / static_cast<float>(max_code(bits));
}

// One value quantised to `bits` at scale s, keeping its top `keep_bits` bits (keep_bits == bits:
// plain fake quantisation).
inline float quantize(float v, float scale, int bits, int keep_bits) {
  if (!(scale > 0.0f)) return 0.0f;
  const double code = std::min<double>(std::nearbyint(std::fabs(double(v)) / double(scale)),
                                       double(max_code(bits)));
  const int64_t drop = int64_t{1} << (bits - keep_bits);
  const int64_t kept = static_cast<int64_t>(code) / drop * drop;
  const float magnitude = static_cast<float>(double(kept) * double(scale));
  return v < 0.0f ? -magnitude : magnitude;
}

inline void quantize(const float* in, float* out, int64_t n, float scale, int bits, int keep_bits) {
  for (int64_t i = 0; i < n; ++i) out[i] = quantize(in[i], scale, bits, keep_bits);
}

inline float sign_of(float v) {
  return v > 0.0f ? 1.0f : v < 0.0f ? -1.0f : 0.0f;
}

struct Decision {
  double tau = 0.0;
  int64_t full_precision = 0;  // weights whose sign came from the full-precision gradient
  int64_t count = 0;
  double full_precision_fraction() const { return count ? double(full_precision) / count : 0.0; }
};

// τ̃ = beta·max|predictor|.
inline double threshold(const float* predictor, int64_t n, double beta) {
  float m = 0.0f;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(predictor[i]));
  return beta * double(m);
}

inline bool predictor_decides(float predictor, double tau) {
  return predictor != 0.0f && double(std::fabs(predictor)) >= tau;
}

// dw_sign[i] = sign of the predictor where it decides, of `full` elsewhere; mask[i] (if given) =
// 1 where `full` decided. `dw_sign` may alias `full`.
inline Decision decide(const float* predictor, const float* full, int64_t n, double beta,
                       float* dw_sign, float* mask) {
  Decision d;
  d.tau = threshold(predictor, n, beta);
  d.count = n;
  for (int64_t i = 0; i < n; ++i) {
    const bool by_predictor = predictor_decides(predictor[i], d.tau);
    d.full_precision += by_predictor ? 0 : 1;
    dw_sign[i] = sign_of(by_predictor ? predictor[i] : full[i]);
    if (mask) mask[i] = by_predictor ? 0.0f : 1.0f;
  }
  return d;
}

}  // namespace eg::psg
