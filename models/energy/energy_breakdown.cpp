#include "models/energy/energy_breakdown.hpp"

namespace eg::energy {

double& EnergyBreakdown::component(Component c) {
  switch (c) {
    case Component::Mac:
      return mac;
    case Component::Spad:
      return spad;
    case Component::Noc:
      return noc;
    case Component::Glb:
      return glb;
    case Component::Dram:
      return dram;
    case Component::Ppu:
      return ppu;
    case Component::Leakage:
      return leakage;
  }
  return total;
}

double EnergyBreakdown::component(Component c) const {
  return const_cast<EnergyBreakdown*>(this)->component(c);
}

EnergyBreakdown& EnergyBreakdown::operator+=(const EnergyBreakdown& o) {
  mac += o.mac;
  spad += o.spad;
  noc += o.noc;
  glb += o.glb;
  dram += o.dram;
  ppu += o.ppu;
  leakage += o.leakage;
  total += o.total;
  return *this;
}

EnergyBreakdown price(const ActionCounts& actions, const dram::DramCounts& dram,
                      const EnergyTable& table, const PricingOptions& options) {
  EnergyBreakdown e;
  for (const auto& entry : energy_entries()) {
    if (entry.count == nullptr) continue;  // DRAM entries are priced from the DRAM counters below
    e.component(entry.component) +=
        static_cast<double>(actions.*(entry.count)) * (table.*(entry.value));
  }
  e.dram = 8.0 * static_cast<double>(dram.read_bytes) * table.dram_read_pj_per_bit +
           8.0 * static_cast<double>(dram.write_bytes) * table.dram_write_pj_per_bit +
           static_cast<double>(dram.activates) * table.dram_activate_pj;
  if (options.dram_background) {
    e.dram += table.dram_background_mw * 1e-3 * options.elapsed_seconds * 1e12;  // mW x s -> pJ
  }
  e.leakage = options.leakage_mw * 1e-3 * options.elapsed_seconds * 1e12;  // mW x s -> pJ
  e.total = e.mac + e.spad + e.noc + e.glb + e.dram + e.ppu + e.leakage;
  return e;
}

}  // namespace eg::energy

namespace eg::energy {

nlohmann::json energy_figures_json(const EnergyBreakdown& e) {
  return {{"total", e.total}, {"mac", e.mac},   {"spad", e.spad}, {"noc", e.noc},
          {"glb", e.glb},     {"dram", e.dram}, {"ppu", e.ppu},   {"leakage", e.leakage}};
}

}  // namespace eg::energy
