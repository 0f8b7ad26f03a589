#include "sw/train/sgd.hpp"

#include <cmath>
#include <stdexcept>

#include "sw/train/parallel.hpp"

namespace eg::train {

LrSchedule lr_schedule_from_string(const std::string& text) {
  if (text == "constant") return LrSchedule::Constant;
  if (text == "step") return LrSchedule::Step;
  if (text == "cosine") return LrSchedule::Cosine;
  throw std::invalid_argument("unknown schedule '" + text + "' (expected constant, step, cosine)");
}

double learning_rate(const SgdSettings& s, int64_t epoch, int64_t iteration,
                     int64_t total_iterations) {
  switch (s.schedule) {
    case LrSchedule::Constant:
      return s.lr;
    case LrSchedule::Step:
      return s.lr *
             std::pow(s.gamma, static_cast<double>(epoch / std::max<int64_t>(1, s.step_epochs)));
    case LrSchedule::Cosine: {
      const double t = total_iterations > 0 ? double(iteration) / double(total_iterations) : 0.0;
      return 0.5 * s.lr * (1.0 + std::cos(M_PI * std::min(1.0, t)));
    }
  }
  return s.lr;
}

void sgd_step(const std::vector<Param*>& params, const SgdSettings& s, double lr) {
  for (Param* p : params) {
    const float mu = static_cast<float>(s.momentum), step = static_cast<float>(lr);
    const float wd = p->weight_decay ? static_cast<float>(s.weight_decay) : 0.0f;
    float* w = p->value.ptr();
    float* v = p->momentum.ptr();
    const float* g = p->grad.ptr();
    parallel_for(
        p->value.size(),
        [w, v, g, mu, wd, step](int64_t b, int64_t e) {  // by value: vectorisable loop
          for (int64_t i = b; i < e; ++i) {
            v[i] = mu * v[i] + (g[i] + wd * w[i]);
            w[i] -= step * v[i];
          }
        },
        8192);
  }
}

}  // namespace eg::train
