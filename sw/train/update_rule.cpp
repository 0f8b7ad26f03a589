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
            const float sign_g = g[i] > 0.0f ? 1.0f : (g[i] < 0.0f ? -1.0f : 0.0f);
            v[i] = mu * v[i] + (sign_g + wd * w[i]);
            w[i] -= step * v[i];
          }
        },
        8192);
  }
}

void apply_update(UpdateRule rule, const std::vector<Param*>& params, const SgdSettings& s,
                  double lr) {
  if (rule == UpdateRule::Manhattan)
    manhattan_step(params, s, lr);
  else
    sgd_step(params, s, lr);
}

}  // namespace eg::train
