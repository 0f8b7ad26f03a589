#pragma once
// SGD with momentum and decoupled-from-BN weight decay (PyTorch's update: v = μ·v + (g + λ·w),
// w −= lr·v), and the learning-rate schedules.
#include <cstdint>
#include <string>
#include <vector>

#include "sw/train/layer.hpp"

namespace eg::train {

enum class LrSchedule { Constant, Step, Cosine };
LrSchedule lr_schedule_from_string(const std::string& text);  // throws std::invalid_argument

struct SgdSettings {
  double lr = 0.1, momentum = 0.9, weight_decay = 5e-4;
  LrSchedule schedule = LrSchedule::Cosine;
  int64_t step_epochs = 30;  // step: multiply by gamma every step_epochs epochs
  double gamma = 0.1;
};

// Learning rate for mini-batch `iteration` (0-based) of epoch `epoch` (0-based); cosine anneals
// per iteration over `total_iterations`.
double learning_rate(const SgdSettings& s, int64_t epoch, int64_t iteration,
                     int64_t total_iterations);

void sgd_step(const std::vector<Param*>& params, const SgdSettings& s, double lr);

}  // namespace eg::train
