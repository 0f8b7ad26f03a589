// The egsim binary: run writes both reports; bad configs and failing checks write nothing.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
const std::string kBin = std::string(EGSIM_BINARY_DIR) + "/bin/";
const std::string kConfigs = std::string(EGSIM_SOURCE_DIR) + "/configs/hw/";

int sh(const std::string& cmd, const fs::path& log) {
  return std::system((cmd + " >" + log.string() + " 2>&1").c_str());
}
std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
}  // namespace

TEST_CASE("egsim run writes report.json and report.csv, bad configs write nothing",
          "[array][cli]") {
  eg::testing::TempDir dir;
  REQUIRE(sh(kBin + "egsim_make_trace " + (dir / "trace").string() + " tiny 0.5",
             dir / "gen.log") == 0);
  const std::string run = kBin + "egsim run --trace " + (dir / "trace").string();
  REQUIRE(sh(run + " --config " + kConfigs + "efficientgrad.json --out " + (dir / "ok").string(),
             dir / "ok.log") == 0);
  const json r = json::parse(slurp(dir / "ok" / "report.json"));
  CHECK(r["schema"] == "egsim-report");
  CHECK(r["version"] == 1);
  CHECK(r["layers"].size() == 8);
  CHECK(r["phases"].contains("weight_update"));
  CHECK(r["totals"]["utilization"].get<double>() > 0);
  CHECK(slurp(dir / "ok" / "report.csv").find("conv2,conv,backward,") != std::string::npos);

  json cfg = json::parse(slurp(kConfigs + "efficientgrad.json"));
  // The edited copies live in the temp dir: point their referenced files back at the repo's.
  cfg["offchip"]["dram_config"] = kConfigs + cfg["offchip"]["dram_config"].get<std::string>();
  cfg["energy_table"] = kConfigs + cfg["energy_table"].get<std::string>();
  struct Bad {
    std::string pointer, message;
    std::function<void(json&)> edit;
  };
  const std::vector<Bad> bads{
      {"/pe/spad_psum_entries", "must be >= 1", [](json& j) { j["pe"]["spad_psum_entries"] = 0; }},
      {"/array/pc_rows", "must be >= 1", [](json& j) { j["array"]["pc_rows"] = 0; }},
      {"/noc/bogus", "unknown key", [](json& j) { j["noc"]["bogus"] = 1; }},
      {"/features/sparse_operands/backward_input", "must be true or false",
       [](json& j) { j["features"]["sparse_operands"]["backward_input"] = "yes"; }},
      {"/glb/iact_banks", "missing", [](json& j) { j["glb"].erase("iact_banks"); }},
  };
  for (const Bad& b : bads) {
    INFO(b.pointer);
    json bad = cfg;
    b.edit(bad);
    std::ofstream(dir / "bad.json") << bad.dump();
    const fs::path out = dir / "bad_out";
    CHECK(sh(run + " --config " + (dir / "bad.json").string() + " --out " + out.string(),
             dir / "bad.log") != 0);
    const std::string err = slurp(dir / "bad.log");
    CHECK(err.find(b.pointer + ": " + b.message) != std::string::npos);
    CHECK(err.find((dir / "bad.json").string()) != std::string::npos);
    CHECK(!fs::exists(out / "report.json"));
  }
  // A scratchpad too small for the smallest GLB-fitting mapping: iact GLB cannot hold one row.
  json tiny_glb = cfg;
  tiny_glb["glb"]["iact_bank_bytes"] = 2;
  std::ofstream(dir / "glb.json") << tiny_glb.dump();
  CHECK(sh(run + " --config " + (dir / "glb.json").string() + " --out " + (dir / "g").string(),
           dir / "glb.log") != 0);
  CHECK(slurp(dir / "glb.log").find("iact GLB") != std::string::npos);
  CHECK(!fs::exists(dir / "g" / "report.json"));
}

TEST_CASE("egsim run fails on a corrupted trace tensor and writes no report", "[array][cli]") {
  eg::testing::TempDir dir;
  REQUIRE(sh(kBin + "egsim_make_trace " + (dir / "trace").string() + " tiny 0.5",
             dir / "gen.log") == 0);
  // Flip bytes of fc's dw payload (the header stays valid): the weight-gradient check must fail.
  const fs::path dw = dir / "trace" / "fc.dw.npy";
  REQUIRE(fs::exists(dw));
  {
    std::fstream f(dw, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-4, std::ios::end);
    const float big = 1000.0f;
    f.write(reinterpret_cast<const char*>(&big), 4);
  }
  const std::string run = kBin + "egsim run --config " + kConfigs + "efficientgrad.json --trace " +
                          (dir / "trace").string() + " --out " + (dir / "out").string();
  CHECK(sh(run, dir / "run.log") != 0);
  const std::string err = slurp(dir / "run.log");
  CHECK(err.find("layer 'fc' weight_gradient") != std::string::npos);
  CHECK(!fs::exists(dir / "out" / "report.json"));
  CHECK(sh(run + " --no-check", dir / "run2.log") == 0);
  CHECK(fs::exists(dir / "out" / "report.json"));
}
