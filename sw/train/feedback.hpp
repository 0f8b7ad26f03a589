#pragma once
// The six feedback modes of docs/DESIGN.md §1.3: which matrix the error-propagation phase
// multiplies with, and whether the output gradient is stochastically pruned first.
#include <string>
#include <vector>

#include "sw/train/tensor.hpp"

namespace eg::train {

enum class Mode { Bp, Fa, Sign, Ssfa, EfficientGrad, BpPrune };
Mode mode_from_string(const std::string& text);  // throws std::invalid_argument
std::string to_string(Mode mode);
const std::vector<std::string>& mode_names();

bool mode_prunes(Mode mode);         // efficientgrad, bp-prune
bool mode_uses_random_b(Mode mode);  // fa, ssfa, efficientgrad

// feedback = W (bp, bp-prune), B (fa), sign(W) (sign), sign(W)·|B| (ssfa, efficientgrad).
// sign(0) = 0. `b` may be empty for modes that do not use it.
void make_feedback(Mode mode, const Tensor& w, const Tensor& b, Tensor& feedback);

}  // namespace eg::train
