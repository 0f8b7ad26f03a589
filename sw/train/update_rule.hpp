#pragma once
// How a mini-batch's gradient moves the parameters: plain SGD with momentum (sgd.hpp), or the
// "Batch Manhattan" rule of sign-symmetric feedback's source (Liao, Leibo & Poggio, AAAI 2016),
// which keeps only the sign of each parameter's mini-batch gradient (docs/DESIGN.md §1.3).
#include <string>
#include <vector>

#include "sw/train/feedback.hpp"
#include "sw/train/sgd.hpp"

namespace eg::train {

enum class UpdateRule { Sgd, Manhattan };

// "sgd" | "manhattan"; throws std::invalid_argument otherwise.
UpdateRule update_rule_from_string(const std::string& text);
std::string to_string(UpdateRule rule);

// The rule "auto" stands for: Batch Manhattan for `sign`, whose feedback sign(W) leaves δ's
// magnitude unrelated to the loss's true gradient (see manhattan_step), SGD for every other mode.
UpdateRule default_update_rule(Mode mode);

// Batch Manhattan with the same momentum and weight decay as sgd_step, applied to the sign of the
// gradient: v = μ·v + (sign(g) + λ·w), w −= lr·v, sign(0) = 0. With μ = 0 and λ = 0 every
// parameter moves by exactly lr (or not at all). The order (sign first, then decay and momentum)
// is the published sign-symmetry code's (Xiao, Chen, Liao & Poggio, ICLR 2019, which extends
// PyTorch's SGD this way). Only the sign is used, so the step does not depend on the gradient's
// scale, which under `sign` feedback grows by about 1/mean|W| per conv layer.
void manhattan_step(const std::vector<Param*>& params, const SgdSettings& s, double lr);

// sgd_step or manhattan_step.
void apply_update(UpdateRule rule, const std::vector<Param*>& params, const SgdSettings& s,
                  double lr);

}  // namespace eg::train
