#pragma once
// Charts drawn from egsim report.json documents (docs/DESIGN.md §7). Each returns nullopt when
// the report lacks the figures it needs (e.g. energy before the memory model lands), so callers
// can say so.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/render/charts.hpp"

namespace eg::render {

const std::vector<std::string>&
report_phases();  // forward, backward, weight_gradient, weight_update
const std::vector<std::string>& energy_parts();  // mac, spad, noc, glb, dram, ppu
std::optional<double> number_at(const nlohmann::json& doc, const std::string& pointer);

// Energy by component, stacked, one group per phase and one bar per report (e.g. baseline and
// EfficientGrad side by side). `names` labels the reports.
std::optional<StackedBarChart> energy_by_phase_chart(
    const std::vector<const nlohmann::json*>& reports, const std::vector<std::string>& names);
// Utilisation of every conv/fc layer, one bar per phase.
std::optional<StackedBarChart> layer_utilization_chart(const nlohmann::json& report);
// DRAM bytes read and written per layer (all phases).
std::optional<StackedBarChart> layer_dram_chart(const nlohmann::json& report);

}  // namespace eg::render
