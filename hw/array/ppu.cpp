#include "hw/array/ppu.hpp"

#include <string>

namespace eg::hw::array {

Ppu::Ppu(sc_core::sc_module_name name, const arch::PpuConfig& config, int clusters)
    : sc_module(name),
      config_(config),
      elements_per_cycle_(static_cast<uint64_t>(config.elements_per_cycle) *
                          static_cast<uint64_t>(clusters)) {}

Parameters Ppu::parameters() const {
  return {{"elements_per_cycle", std::to_string(config_.elements_per_cycle)},
          {"sgd_ops_per_weight", std::to_string(config_.sgd_ops_per_weight)}};
}

uint64_t Ppu::cycles_for(uint64_t ops) {
  const uint64_t cycles = (ops + elements_per_cycle_ - 1) / elements_per_cycle_;
  ops_ += ops;
  busy_cycles_ += cycles;
  return cycles;
}

nlohmann::json Ppu::statistics() const {
  return {{"ops", ops_}, {"busy_cycles", busy_cycles_}};
}

uint64_t Ppu::update_ops(uint64_t weights) const {
  return weights * static_cast<uint64_t>(config_.sgd_ops_per_weight);
}

}  // namespace eg::hw::array
