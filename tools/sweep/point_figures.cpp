#include "tools/sweep/point_figures.hpp"

#include "tools/sweep/json_file.hpp"

namespace eg::sweep {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string>& phase_names() {
  static const std::vector<std::string> names{"forward", "backward", "weight_gradient",
                                              "weight_update"};
  return names;
}

const std::vector<std::string>& energy_components() {
  static const std::vector<std::string> names{"total", "mac",  "spad", "noc",
                                              "glb",   "dram", "ppu",  "leakage"};
  return names;
}

const std::vector<std::pair<std::string, std::string>>& report_figure_columns() {
  static const std::vector<std::pair<std::string, std::string>> columns = [] {
    std::vector<std::pair<std::string, std::string>> c{{"cycles_total", "/totals/cycles"}};
    for (const auto& phase : phase_names())
      c.emplace_back("cycles_" + phase, "/phases/" + phase + "/cycles");
    c.insert(c.end(), {{"seconds", "/totals/seconds"},
                       {"macs_issued", "/totals/macs_issued"},
                       {"macs_skipped", "/totals/macs_skipped"},
                       {"utilization", "/totals/utilization"},
                       {"power_mw", "/totals/power_mw"},
                       {"chip_power_mw", "/totals/chip_power_mw"},
                       {"dram_power_mw", "/totals/dram_power_mw"}});
    for (const auto& comp : energy_components())
      c.emplace_back("energy_pj_" + comp, "/totals/energy_pj/" + comp);
    c.insert(c.end(), {{"dram_read_bytes", "/totals/dram/read_bytes"},
                       {"dram_write_bytes", "/totals/dram/write_bytes"}});
    for (const auto& phase : phase_names())
      for (const auto& comp : energy_components())
        c.emplace_back("energy_pj_" + phase + "_" + comp,
                       "/phases/" + phase + "/energy_pj/" + comp);
    return c;
  }();
  return columns;
}

namespace {

json number_or_null(const json& doc, const std::string& pointer) {
  const json::json_pointer ptr(pointer);
  if (!doc.contains(ptr)) return nullptr;
  const json& v = doc.at(ptr);
  return v.is_number() ? v : json(nullptr);
}

}  // namespace

json figures_from_report(const json& report) {
  json figures = json::object();
  json missing = json::array();
  for (const auto& [column, pointer] : report_figure_columns()) {
    figures[column] = number_or_null(report, pointer);
    if (figures[column].is_null()) missing.push_back(column);
  }
  const json& r = figures["dram_read_bytes"];
  const json& w = figures["dram_write_bytes"];
  figures["dram_bytes"] =
      (r.is_null() || w.is_null()) ? json(nullptr) : json(r.get<double>() + w.get<double>());
  if (figures["dram_bytes"].is_null()) missing.push_back("dram_bytes");
  figures["missing"] = missing;
  return figures;
}

std::optional<double> read_test_accuracy(const fs::path& train_out_dir, std::string* source) {
  const fs::path file = train_out_dir / "metrics.json";
  if (!fs::exists(file)) return std::nullopt;
  const json metrics = read_json_file(file);
  // The trainer's metrics schema (sw/train): final figures first, then the last epoch's row.
  const std::vector<std::string> pointers{"/final/test_accuracy", "/final/test_acc",
                                          "/test_accuracy", "/test_acc"};
  for (const auto& p : pointers) {
    const json v = number_or_null(metrics, p);
    if (!v.is_null()) {
      if (source) *source = file.string() + ":" + p;
      return v.get<double>();
    }
  }
  if (metrics.contains("epochs") && metrics["epochs"].is_array() && !metrics["epochs"].empty()) {
    const json& last = metrics["epochs"].back();
    for (const char* key : {"test_accuracy", "test_acc"}) {
      if (last.contains(key) && last[key].is_number()) {
        if (source)
          *source = file.string() + ":/epochs/" + std::to_string(metrics["epochs"].size() - 1) +
                    "/" + key;
        return last[key].get<double>();
      }
    }
  }
  return std::nullopt;
}

std::optional<RunIterations> read_run_iterations(const fs::path& train_out_dir) {
  const fs::path file = train_out_dir / "metrics.json";
  if (!fs::exists(file)) return std::nullopt;
  const json metrics = read_json_file(file);
  if (!metrics.contains("epochs") || !metrics["epochs"].is_array() || metrics["epochs"].empty())
    return std::nullopt;
  const json& last = metrics["epochs"].back();
  const auto count = [&](const char* key) -> std::optional<int64_t> {
    if (!last.is_object() || !last.contains(key) || !last[key].is_number_integer() ||
        last[key].get<int64_t>() < 0)
      return std::nullopt;
    return last[key].get<int64_t>();
  };
  const auto nominal = count("iterations");
  if (!nominal) return std::nullopt;
  const auto executed = last.is_object() && last.contains("executed_iterations")
                            ? count("executed_iterations")
                            : nominal;
  if (!executed || *executed > *nominal) return std::nullopt;
  return RunIterations{*nominal, *executed};
}

void add_run_figures(json& figures, const std::optional<RunIterations>& iterations) {
  json& missing = figures["missing"];
  if (!missing.is_array()) missing = json::array();
  figures["iterations_nominal"] = iterations ? json(iterations->nominal) : json(nullptr);
  figures["iterations_executed"] = iterations ? json(iterations->executed) : json(nullptr);
  const json per_iteration = figures.value("energy_pj_total", json(nullptr));
  figures["energy_pj_run_total"] =
      iterations && per_iteration.is_number()
          ? json(per_iteration.get<double>() * static_cast<double>(iterations->executed))
          : json(nullptr);
  for (const char* column : {"iterations_nominal", "iterations_executed", "energy_pj_run_total"})
    if (figures[column].is_null()) missing.push_back(column);
}

}  // namespace eg::sweep
