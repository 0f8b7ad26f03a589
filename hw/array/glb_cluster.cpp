#include "hw/array/glb_cluster.hpp"

namespace eg::hw::array {

GlbPartition::GlbPartition(sc_core::sc_module_name name, const arch::GlbConfig& config)
    : sc_module(name),
      target("target"),
      config_(config),
      iact_(config.iact_banks, config.ports_per_bank, true),
      psum_(config.psum_banks, config.ports_per_bank, true),
      grad_(config.grad_banks, config.ports_per_bank, true) {
  target.bind(*this);
}

Parameters GlbPartition::parameters() const {
  const arch::GlbConfig& c = config_;
  return {{"iact_banks", std::to_string(c.iact_banks)},
          {"iact_bank_bytes", std::to_string(c.iact_bank_bytes)},
          {"psum_banks", std::to_string(c.psum_banks)},
          {"psum_bank_bytes", std::to_string(c.psum_bank_bytes)},
          {"grad_banks", std::to_string(c.grad_banks)},
          {"grad_bank_bytes", std::to_string(c.grad_bank_bytes)},
          {"bank_width_bits", std::to_string(c.bank_width_bits)},
          {"ports_per_bank", std::to_string(c.ports_per_bank)},
          {"iact_buffers", std::to_string(c.iact_buffers)},
          {"psum_buffers", std::to_string(c.psum_buffers)}};
}

GlbCluster::GlbCluster(sc_core::sc_module_name name, const arch::GlbConfig& config, int clusters)
    : sc_module(name), config_(config) {
  for (int i = 0; i < clusters; ++i)
    partitions_.push_back(
        std::make_unique<GlbPartition>(("pc" + std::to_string(i)).c_str(), config));
}

Parameters GlbCluster::parameters() const {
  return {{"partitions", std::to_string(partitions_.size())}};
}

}  // namespace eg::hw::array
