#pragma once
// Shipped hardware configs with JSON edits (their referenced files made absolute, so an edited
// config can live anywhere), a tiny-trace run, and sums over a report's layers.
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "hw/array/accelerator.hpp"
#include "hw/array/report_writer.hpp"
#include "models/arch/arch_config.hpp"

namespace eg::testing {

inline const std::filesystem::path kHwConfigs =
    std::filesystem::path(EGSIM_SOURCE_DIR) / "configs/hw";

inline nlohmann::json shipped_config_json(const std::string& name) {
  std::ifstream in(kHwConfigs / name);
  nlohmann::json j = nlohmann::json::parse(in);
  j["offchip"]["dram_config"] =
      (kHwConfigs / j["offchip"]["dram_config"].get<std::string>()).lexically_normal().string();
  j["energy_table"] =
      (kHwConfigs / j["energy_table"].get<std::string>()).lexically_normal().string();
  return j;
}

inline arch::ArchConfig config_from(const nlohmann::json& j) {
  arch::ArchConfig c = arch::arch_config_from_json(j, "cfg.json");
  arch::load_referenced_files(c, "cfg.json", kHwConfigs);
  return c;
}

inline arch::ArchConfig shipped_config(const std::string& name,
                                       const std::function<void(nlohmann::json&)>& edit = {}) {
  nlohmann::json j = shipped_config_json(name);
  if (edit) edit(j);
  return config_from(j);
}

struct Run {
  hw::array::RunResult result;
  nlohmann::json report;
};

inline Run run_trace(const arch::ArchConfig& cfg, const std::filesystem::path& trace_dir) {
  const trace::Trace t = trace::Trace::open(trace_dir);
  Run r;
  r.result = hw::array::simulate(cfg, t, {});
  r.report = hw::array::report_json(r.result, cfg, t);
  return r;
}

inline double number(const nlohmann::json& j) {
  return j.get<double>();
}

}  // namespace eg::testing
