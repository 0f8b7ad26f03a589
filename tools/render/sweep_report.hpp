#pragma once
// The sweep's plots (plots/*.svg) and report.html: the summary table, cycles / energy / DRAM
// traffic / accuracy against pruning rate, energy by component per phase for every point, and the
// configs used; plus each point's own run page (points/<id>/sim/report.html) linked from the table.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace eg::render {

// `summary` is summary.json (egsweep-summary), `sweep` is sweep.json; both as written by egsweep.
// Returns the plot files written (relative to out_dir).
std::vector<std::string> write_sweep_report(const nlohmann::json& summary,
                                            const nlohmann::json& sweep,
                                            const std::filesystem::path& out_dir);

}  // namespace eg::render
