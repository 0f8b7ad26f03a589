#include "tools/sweep/summary.hpp"

#include <map>

#include "base/csv.hpp"
#include "base/error.hpp"
#include "base/files.hpp"
#include "tools/render/sweep_report.hpp"
#include "tools/sweep/json_file.hpp"
#include "tools/sweep/point_figures.hpp"
#include "tools/sweep/point_runner.hpp"

namespace eg::sweep {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string>& summary_columns() {
  static const std::vector<std::string> columns = [] {
    std::vector<std::string> c{"index",
                               "id",
                               "label",
                               "network",
                               "dataset",
                               "mode",
                               "pruning_rate",
                               "smd_drop_prob",
                               "weight_gradient",
                               "slu_target_skip",
                               "trainable_last",
                               "grad_filter",
                               "init_from",
                               "train_range",
                               "lr",
                               "seed",
                               "hw_config",
                               "backward_schedule",
                               "hw_config_hash",
                               "trace_key",
                               "test_accuracy",
                               "iterations_nominal",
                               "iterations_executed"};
    // The whole run's energy sits next to the per-iteration total it is derived from.
    for (const auto& col : report_figure_columns()) {
      c.push_back(col.first);
      if (col.first == "energy_pj_total") c.push_back("energy_pj_run_total");
    }
    c.push_back("dram_bytes");
    c.push_back("report");
    return c;
  }();
  return columns;
}

json build_summary(const fs::path& out) {
  const fs::path sweep_file = out / "sweep.json";
  if (!fs::exists(sweep_file))
    throw Error(sweep_file.string() + ": missing (not a sweep output directory?)");
  const json sweep = read_json_file(sweep_file);
  if (!sweep.contains("points") || !sweep["points"].is_array())
    throw Error(sweep_file.string() + ": /points: missing or not an array");

  std::map<int, json> rows;  // by index: deterministic order whatever order points finished in
  json missing_points = json::array();
  std::map<std::string, int> missing_figures;
  for (const auto& p : sweep["points"]) {
    const std::string id = p.at("id").get<std::string>();
    const int index = p.at("index").get<int>();
    // A missing or corrupt result.json is a point still to do (the next run redoes it).
    std::optional<json> found = finished_row(out / "points" / id / "result.json", id, index);
    if (!found) {
      missing_points.push_back(id);
      continue;
    }
    json row = std::move(*found);
    // A result from before an axis existed is of a run at that axis's default: nothing dropped,
    // exact weight gradients, no SLU, every layer trained unfiltered, the separate schedule (the
    // only one there was), no checkpoint, the whole training set.
    const json defaults{
        {"smd_drop_prob", 0.0}, {"weight_gradient", "exact"}, {"slu_target_skip", 0.0},
        {"trainable_last", 0},  {"grad_filter", 0},           {"backward_schedule", "separate"},
        {"init_from", nullptr}, {"train_range", nullptr},     {"lr", nullptr}};
    for (const auto& item : defaults.items())
      if (!row.contains(item.key())) row[item.key()] = item.value();
    for (const auto& column : summary_columns())
      if (!row.contains(column)) row[column] = nullptr;
    for (const auto& m : row.value("missing", json::array()))
      ++missing_figures[m.get<std::string>()];
    rows[index] = row;
  }
  json row_list = json::array();
  for (auto& [index, row] : rows) row_list.push_back(std::move(row));
  return json{{"schema", "egsweep-summary"},
              {"version", 1},
              {"name", sweep.value("name", "")},
              {"description", sweep.value("description", "")},
              {"points_total", sweep["points"].size()},
              {"points_done", row_list.size()},
              {"missing_points", missing_points},
              {"missing_figures", missing_figures},
              {"columns", summary_columns()},
              {"rows", row_list}};
}

namespace {

std::string csv_cell(const json& value) {
  if (value.is_null()) return "";
  return csv_field(value.is_string() ? value.get<std::string>() : value.dump());
}

}  // namespace

std::string summary_csv(const json& summary) {
  std::string text;
  const auto& columns = summary_columns();
  for (size_t i = 0; i < columns.size(); ++i) text += (i ? "," : "") + columns[i];
  text += "\n";
  for (const auto& row : summary.at("rows")) {
    for (size_t i = 0; i < columns.size(); ++i)
      text += (i ? "," : "") + csv_cell(row.value(columns[i], json(nullptr)));
    text += "\n";
  }
  return text;
}

void write_summary(const fs::path& out) {
  const json summary = build_summary(out);
  write_files_atomic(
      {{out / "summary.json", json_text(summary)}, {out / "summary.csv", summary_csv(summary)}});
  render::write_sweep_report(summary, read_json_file(out / "sweep.json"), out);
}

}  // namespace eg::sweep
