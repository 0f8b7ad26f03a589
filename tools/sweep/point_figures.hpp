#pragma once
// What a sweep records per point, picked out of the simulator's report.json (docs/DESIGN.md §7) and
// the trainer's metrics. A figure the report does not have (e.g. energy before the memory model
// lands) becomes null and is listed under "missing", never an error.
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace eg::sweep {

// (column name, JSON pointer into report.json), in summary column order.
const std::vector<std::pair<std::string, std::string>>& report_figure_columns();
const std::vector<std::string>& phase_names();  // forward, backward, weight_gradient, weight_update
const std::vector<std::string>& energy_components();  // total, mac, ..., ppu, leakage

// Flat object column -> number or null, plus "dram_bytes" (read + write) and "missing": [columns].
nlohmann::json figures_from_report(const nlohmann::json& report);

// Final test accuracy (fraction or percent, as the trainer wrote it) from the trainer's --out
// directory; nullopt if no known field holds it. `source` receives "<file>:<pointer>" when found.
std::optional<double> read_test_accuracy(const std::filesystem::path& train_out_dir,
                                         std::string* source = nullptr);

}  // namespace eg::sweep
