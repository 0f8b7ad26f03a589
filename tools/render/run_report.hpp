#pragma once
// report.html for one simulation (`egsim run --html`): totals, phases, per-layer tables, the
// energy, utilisation and DRAM charts, and the hardware config used, in one self-contained page.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace eg::render {

// The page for a report.html in `dir`; `written_with` names files (relative to `dir`) written
// together with the page, which it may link although they do not exist yet.
std::string run_html(const nlohmann::json& report, const std::filesystem::path& dir,
                     const nlohmann::json* baseline = nullptr,
                     const std::vector<std::string>& written_with = {});

// `baseline` (optional) is drawn next to `report` in the energy chart and tabulated with ratios.
// Figures missing from the report are reported as missing on the page, never invented. Written
// atomically; the folder must exist.
void write_run_html(const nlohmann::json& report, const std::filesystem::path& out_html,
                    const nlohmann::json* baseline = nullptr);

}  // namespace eg::render
