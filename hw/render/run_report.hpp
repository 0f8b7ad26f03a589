#pragma once
// report.html for one simulation (`egsim run --html`): totals, phases, per-layer tables, the
// energy, utilisation and DRAM charts, and the hardware config used, in one self-contained page.
#include <filesystem>

#include <nlohmann/json.hpp>

namespace eg::render {

// `baseline` (optional) is drawn next to `report` in the energy chart and tabulated with ratios.
// Figures missing from the report are reported as missing on the page, never invented.
void write_run_html(const nlohmann::json& report, const std::filesystem::path& out_html,
                    const nlohmann::json* baseline = nullptr);

}  // namespace eg::render
