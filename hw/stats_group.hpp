#pragma once
// A module's own statistics group: counters it keeps over the whole run, written into the report's
// "blocks" object under the module's hierarchical name (accelerator.pc3, accelerator.dram). Each
// counter is declared once, in its module; the collector only walks the hierarchy.
#include <nlohmann/json.hpp>

namespace eg::hw {

class StatsGroup {
 public:
  virtual ~StatsGroup() = default;
  virtual nlohmann::json statistics() const = 0;
};

// {"accelerator.pc0": {...}, ...} for every StatsGroup module of the current SystemC context, in
// hierarchy order. Call before the modules are destroyed.
nlohmann::json collect_statistics();

}  // namespace eg::hw
