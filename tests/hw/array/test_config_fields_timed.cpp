// Every numeric field of configs/hw/efficientgrad.json changes what a small trace costs. Each field
// is moved up and down (to the nearest value the config accepts); the run's per-layer, per-phase
// cycles and energy must change for at least one direction. A field that changes nothing is a
// defect (it is parsed, documented and shown, but the model ignores it), unless it is on the short
// list below of fields that are inert for this config by design.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "hw/array/accelerator.hpp"
#include "hw/array/report_writer.hpp"
#include "models/arch/arch_config.hpp"
#include "support/temp_dir.hpp"
#include "tests/hw/array/trace_builder.hpp"
#include "workloads/trace.hpp"

using namespace eg;
using nlohmann::json;

namespace {

const std::filesystem::path kConfigDir = std::filesystem::path(EGSIM_SOURCE_DIR) / "configs/hw";

// Fields with no effect on this config and trace, and why.
const std::set<std::string> kInert = {
    // Used only by offchip.model "ideal"; this config simulates LPDDR4.
    "/offchip/latency_cycles",
    "/offchip/bytes_per_cycle",
    // Tolerances of the functional check: they decide pass or fail, never time or energy.
    "/check/atol",
    "/check/rtol",
};

// Per layer and phase: cycles and total energy; the fingerprint of what a run costs.
std::map<std::string, std::pair<double, double>> costs(const arch::ArchConfig& cfg,
                                                       const trace::Trace& trace) {
  hw::array::RunOptions options;
  options.check = false;
  const json report = hw::array::report_json(hw::array::simulate(cfg, trace, options), cfg, trace);
  std::map<std::string, std::pair<double, double>> out;
  for (const json& layer : report["layers"])
    for (const auto& [phase, f] : layer["phases"].items())
      out[layer["name"].get<std::string>() + "/" + phase] = {f["cycles"].get<double>(),
                                                             f["energy_pj"]["total"].get<double>()};
  return out;
}

// Loads `j` as if it were configs/hw/efficientgrad.json; false when the config refuses it.
bool load(const json& j, arch::ArchConfig& cfg) {
  try {
    cfg = arch::arch_config_from_json(j, "perturbed.json");
    arch::load_referenced_files(cfg, "perturbed.json", kConfigDir);
    return true;
  } catch (const Error&) {
    return false;
  }
}

void numeric_fields(const json& j, const std::string& path, std::vector<std::string>& out) {
  if (j.is_object())
    for (const auto& [k, v] : j.items()) numeric_fields(v, path + "/" + k, out);
  else if (j.is_number())
    out.push_back(path);
}

// Candidate values above and below `v`, nearest first, as the field's own type.
std::vector<json> moves(const json& v) {
  if (v.is_number_integer()) {
    const int64_t x = v.get<int64_t>();
    return {x * 2, x + 1, x / 2, x - 1};
  }
  const double x = v.get<double>();
  return {x * 2, x * 1.25, x / 2, x * 0.8};
}

}  // namespace

TEST_CASE("every numeric field of the EfficientGrad config changes cycles or energy",
          "[config][fields]") {
  testing::TempDir dir;
  testing::write_tiny_resnet(dir / "trace", 0.5, 7);
  const trace::Trace trace = trace::Trace::open(dir / "trace");
  json base_json;
  std::ifstream(kConfigDir / "efficientgrad.json") >> base_json;
  // Without conv1's backward phase (off by default), glb.psum_buffers moves nothing on the tiny
  // trace: run it, so that every field has a problem it acts on.
  base_json["features"]["first_layer_input_gradient"] = true;
  arch::ArchConfig base;
  REQUIRE(load(base_json, base));
  const auto base_costs = costs(base, trace);

  std::vector<std::string> fields;
  numeric_fields(base_json, "", fields);
  REQUIRE(fields.size() > 30);
  for (const std::string& field : fields) {
    const json::json_pointer ptr(field);
    bool changed = false, tried = false;
    std::string tried_values;
    for (const json& value : moves(base_json[ptr])) {
      json j = base_json;
      j[ptr] = value;
      arch::ArchConfig cfg;
      if (!load(j, cfg)) continue;
      tried = true;
      tried_values += " " + value.dump();
      if (costs(cfg, trace) != base_costs) {
        changed = true;
        break;
      }
    }
    INFO(field << " (tried" << tried_values << ")");
    CHECK(tried);
    if (kInert.count(field))
      CHECK_FALSE(changed);  // the list stays honest: a field that starts to matter leaves it
    else
      CHECK(changed);
  }
}
