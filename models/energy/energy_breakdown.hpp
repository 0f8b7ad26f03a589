#pragma once
// Energy = action counts x per-action energy (docs/DESIGN.md §6), split by component as the
// report's "energy_pj" object (docs/DESIGN.md §7).
#include "models/action_counts.hpp"
#include "models/dram/dram_stats.hpp"
#include "models/energy/energy_table.hpp"

namespace eg::energy {

struct EnergyBreakdown {
  double mac = 0, spad = 0, noc = 0, glb = 0, dram = 0, ppu = 0, leakage = 0;
  double total = 0;  // = sum of the components

  // On-chip energy: every component but the DRAM's (dynamic plus leakage).
  double chip() const { return total - dram; }

  double& component(Component c);
  double component(Component c) const;
  EnergyBreakdown& operator+=(const EnergyBreakdown& o);
};

struct PricingOptions {
  // DRAM background (standby) power x elapsed time is added to the dram component only when
  // enabled: an option, because per-access figures such as Horowitz's already fold standby in.
  bool dram_background = false;
  double elapsed_seconds = 0;
  // The chip's leakage power (energy::leakage_mw), charged for elapsed_seconds to `leakage`.
  double leakage_mw = 0;
};

EnergyBreakdown price(const ActionCounts& actions, const dram::DramCounts& dram,
                      const EnergyTable& table, const PricingOptions& options = {});

}  // namespace eg::energy

#include <nlohmann/json.hpp>

namespace eg::energy {

// The report's "energy_pj" object: {"total", "mac", "spad", "noc", "glb", "dram", "ppu",
// "leakage"}.
nlohmann::json energy_figures_json(const EnergyBreakdown& energy);

}  // namespace eg::energy
