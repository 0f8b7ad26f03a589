#pragma once
// What a sweep records per point, picked out of the simulator's report.json (docs/DESIGN.md §7) and
// the trainer's metrics. A figure the report does not have (e.g. energy before the memory model
// lands) becomes null and is listed under "missing", never an error.
#include <cstdint>
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

// Nominal and executed mini-batches of a finished training run, from the last row of its
// metrics.json ("iterations", "executed_iterations"). A row without "executed_iterations" comes
// from a trainer without mini-batch dropping, which executed every nominal iteration.
struct RunIterations {
  int64_t nominal = 0;
  int64_t executed = 0;
};
std::optional<RunIterations> read_run_iterations(const std::filesystem::path& train_out_dir);

// The whole-run figures of a point: "iterations_nominal", "iterations_executed" and
// "energy_pj_run_total" (the per-iteration "energy_pj_total" of `figures` times the executed
// iterations: every executed iteration is taken to cost what the traced one does). Each is null
// when unknown, and its name is appended to figures["missing"].
void add_run_figures(nlohmann::json& figures, const std::optional<RunIterations>& iterations);

}  // namespace eg::sweep
