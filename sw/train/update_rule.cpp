#include "sw/train/update_rule.hpp"

#include <stdexcept>

#include "sw/train/parallel.hpp"

namespace eg::train {

UpdateRule update_rule_from_string(const std::string& text) {
  if (text == "sgd") return UpdateRule::Sgd;
  if (text == "manhattan") return UpdateRule::Manhattan;
  throw std::invalid_argument("unknown update rule '" + text + "' (expected sgd, manhattan)");
}

std::string to_string(UpdateRule rule) {
  return rule == UpdateRule::Manhattan ? "manhattan" : "sgd";
}

UpdateRule default_update_rule(Mode mode) {
  return mode == Mode::Sign ? UpdateRule::Manhattan : UpdateRule::Sgd;
}

void manhattan_step(const std::vector<Param*>& params, const SgdSettings& s, double lr) {
  momentum_step(params, s, lr, [](float g) { return g > 0.0f ? 1.0f : (g < 0.0f ? -1.0f : 0.0f); });
}

void apply_update(UpdateRule rule, const std::vector<Param*>& params, const SgdSettings& s,
                  double lr) {
  if (rule == UpdateRule::Manhattan)
    manhattan_step(params, s, lr);
  else
    sgd_step(params, s, lr);
}

}  // namespace eg::train
