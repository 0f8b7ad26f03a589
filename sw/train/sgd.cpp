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
  momentum_step(params, s, lr, [](float g) { return g; });
}

}  // namespace eg::train
