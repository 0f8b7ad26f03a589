#include "sw/train/feedback.hpp"

#include <cmath>
#include <stdexcept>

namespace eg::train {
namespace {

float sign_of(float v) {
  return v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f);
}

}  // namespace

const std::vector<std::string>& mode_names() {
  static const std::vector<std::string> names{"bp",      "fa", "sign", "ssfa", "efficientgrad",
                                              "bp-prune"};
  return names;
}

Mode mode_from_string(const std::string& text) {
  const auto& names = mode_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == text) return static_cast<Mode>(i);
  throw std::invalid_argument("unknown mode '" + text +
                              "' (expected bp, fa, sign, ssfa, efficientgrad or bp-prune)");
}

std::string to_string(Mode mode) {
  return mode_names().at(static_cast<size_t>(mode));
}

bool mode_prunes(Mode mode) {
  return mode == Mode::EfficientGrad || mode == Mode::BpPrune;
}

bool mode_uses_random_b(Mode mode) {
  return mode == Mode::Fa || mode == Mode::Ssfa || mode == Mode::EfficientGrad;
}

void make_feedback(Mode mode, const Tensor& w, const Tensor& b, Tensor& feedback) {
  if (mode_uses_random_b(mode) && b.shape != w.shape)
    throw std::logic_error("feedback matrix B missing or of the wrong shape");
  feedback.ensure(w.shape);
  const int64_t n = w.size();
  float* f = feedback.ptr();
  switch (mode) {
    case Mode::Bp:
    case Mode::BpPrune:
      for (int64_t i = 0; i < n; ++i) f[i] = w.data[i];
      break;
    case Mode::Fa:
      for (int64_t i = 0; i < n; ++i) f[i] = b.data[i];
      break;
    case Mode::Sign:
      for (int64_t i = 0; i < n; ++i) f[i] = sign_of(w.data[i]);
      break;
    case Mode::Ssfa:
    case Mode::EfficientGrad:
      for (int64_t i = 0; i < n; ++i) f[i] = sign_of(w.data[i]) * std::fabs(b.data[i]);
      break;
  }
}

}  // namespace eg::train
