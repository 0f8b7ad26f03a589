#pragma once
// report.json (schema "egsim-report" version 1, docs/DESIGN.md §7) and report.csv with the same
// layer x phase rows. Every FIGURES object carries energy by component (the config's energy table
// pricing the action counts and DRAM counters), average power, throughput and DRAM counters;
// FiguresExtensions may add more keys.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hw/array/controller.hpp"
#include "models/energy/energy_breakdown.hpp"

namespace eg::hw::array {

using FiguresExtension = std::function<void(const PhaseFigures&, nlohmann::json& figures)>;

// The blocks of `config`'s chip that leak, counted in the units of the energy table's leak_*
// entries (configs/energy/README.md).
energy::LeakageInventory leakage_inventory(const arch::ArchConfig& config);

// Energy of one layer x phase (or a sum of them: pricing is linear in the counts and the time).
energy::EnergyBreakdown energy_of(const PhaseFigures& f, const arch::ArchConfig& config);

nlohmann::json figures_json(const PhaseFigures& f, const arch::ArchConfig& config,
                            const std::vector<FiguresExtension>& extensions = {});
nlohmann::json report_json(const RunResult& run, const arch::ArchConfig& config,
                           const trace::Trace& trace,
                           const std::vector<FiguresExtension>& extensions = {});
// One row per layer x phase and the totals; every text field is quoted per RFC 4180, so a crafted
// layer name cannot add rows or columns.
std::string report_csv(const nlohmann::json& report);

// The files of a report, by name: report.json and report.csv, for one all-or-nothing write.
std::vector<std::pair<std::string, std::string>> report_files(const nlohmann::json& report);

}  // namespace eg::hw::array
