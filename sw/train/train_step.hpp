#pragma once
// One training iteration up to (not including) the SGD update: forward, loss, an optional extra
// plain-BP backward (the reference for angle_to_bp_deg), and the mode's backward.
#include <cstdint>
#include <vector>

#include "sw/train/cross_entropy.hpp"
#include "sw/train/network.hpp"

namespace eg::train {

struct StepSettings {
  Mode mode = Mode::Bp;
  double pruning_rate = 0.0;
  SigmaEstimator sigma_estimator = SigmaEstimator::MeanAbs;
  uint64_t seed = 0;
};

// `iteration` (1-based) keys the pruning draws. With `record` the weighted layers keep dy, dx,
// feedback, pruning stats, the dy histogram and the angle to the BP dx of this mini-batch.
LossResult forward_backward(Network& net, const Tensor& x, const std::vector<int>& labels,
                            const StepSettings& settings, int64_t iteration, bool record);

}  // namespace eg::train
