#pragma once
// SGD with momentum and decoupled-from-BN weight decay (PyTorch's update: v = μ·v + (g + λ·w),
// w −= lr·v), and the learning-rate schedules.
#include <cstdint>
#include <string>
#include <vector>

#include "sw/train/layer.hpp"
#include "sw/train/parallel.hpp"

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

// The momentum step both update rules share: v = mu v + (term(g) + lambda w), w -= lr v, with
// term(g) = g for SGD and sign(g) for Batch Manhattan (update_rule.hpp). `term` is taken by
// value into the loop so that it stays vectorisable.
template <typename GradientTerm>
void momentum_step(const std::vector<Param*>& params, const SgdSettings& s, double lr,
                   GradientTerm term) {
  for (Param* p : params) {
    const float mu = static_cast<float>(s.momentum), step = static_cast<float>(lr);
    const float wd = p->weight_decay ? static_cast<float>(s.weight_decay) : 0.0f;
    float* w = p->value.ptr();
    float* v = p->momentum.ptr();
    const float* g = p->grad.ptr();
    parallel_for(
        p->value.size(),
        [w, v, g, mu, wd, step, term](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) {
            v[i] = mu * v[i] + (term(g[i]) + wd * w[i]);
            w[i] -= step * v[i];
          }
        },
        8192);
  }
}

}  // namespace eg::train
