#pragma once
// The post-processing unit: element-wise work that does not map onto the PE array (BN, ReLU,
// residual add, pooling, and the SGD weight update), `elements_per_cycle` elements per cycle in
// each processing cluster's slice (configs/hw/README.md, "ppu"). An sc_module without a process:
// the controller's thread asks it how long a piece of work takes and waits that long.
#include <cstdint>

#include <systemc>

#include "hw/described.hpp"
#include "hw/stats_group.hpp"
#include "models/arch/arch_config.hpp"

namespace eg::hw::array {

class Ppu : public sc_core::sc_module, public Described, public StatsGroup {
 public:
  Ppu(sc_core::sc_module_name name, const arch::PpuConfig& config, int clusters);
  const char* kind() const override { return "Ppu"; }
  Parameters parameters() const override;
  nlohmann::json statistics() const override;

  // Cycles for `ops` element operations spread over every cluster's slice (counted as its work).
  uint64_t cycles_for(uint64_t ops);
  // Element operations of one SGD-with-momentum weight update of `weights` weights.
  uint64_t update_ops(uint64_t weights) const;

 private:
  const arch::PpuConfig& config_;
  uint64_t elements_per_cycle_;  // whole PPU
  uint64_t ops_ = 0, busy_cycles_ = 0;
};

}  // namespace eg::hw::array
