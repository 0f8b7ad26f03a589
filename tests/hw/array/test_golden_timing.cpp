// Golden timing: per layer and phase, the cycles, PE-cycle classes, MACs, energy by component and
// DRAM traffic of a fixed small trace on both shipped configs, frozen in tests/golden/. Any change
// to the timing or energy model shows up here as a reviewed diff; `scripts/update_golden.sh`
// rewrites the files (run it, read `git diff tests/golden`, and explain the change in the commit).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kBin = std::string(EGSIM_BINARY_DIR) + "/bin/";
const fs::path kSource = EGSIM_SOURCE_DIR;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The figures a timing change can move, without the config echo, host speed or derived rates.
json timing_view(const json& figures) {
  json v;
  for (const char* key : {"cycles", "macs_issued", "macs_skipped", "busy_pe_cycles"})
    if (figures.contains(key)) v[key] = figures[key];
  if (figures.contains("stalls")) v["stalls"] = figures["stalls"];
  if (figures.contains("energy_pj")) v["energy_pj"] = figures["energy_pj"];
  if (figures.contains("dram")) {
    const json& d = figures["dram"];
    for (const char* key :
         {"read_bytes", "write_bytes", "bursts", "activates", "row_hits", "row_misses"})
      if (d.contains(key)) v["dram"][key] = d[key];
  }
  return v;
}

json golden_view(const json& report) {
  json g;
  g["totals"] = timing_view(report["totals"]);
  for (const auto& [phase, figures] : report["phases"].items())
    g["phases"][phase] = timing_view(figures);
  for (const json& layer : report["layers"])
    for (const auto& [phase, figures] : layer["phases"].items())
      g["layers"][layer["name"].get<std::string>()][phase] = timing_view(figures);
  return g;
}

// Names every leaf that differs, so a failure reads as the diff it is.
void diff(const json& want, const json& got, const std::string& path, std::ostringstream& out,
          int& count) {
  if (want.is_object() && got.is_object()) {
    for (const auto& [k, v] : want.items())
      diff(v, got.contains(k) ? got[k] : json(), path + "/" + k, out, count);
    for (const auto& [k, v] : got.items())
      if (!want.contains(k)) diff(json(), v, path + "/" + k, out, count);
    return;
  }
  if (want != got && count++ < 40) out << path << ": golden " << want << ", now " << got << "\n";
}

void check_golden(const std::string& config) {
  eg::testing::TempDir dir;
  REQUIRE(std::system((kBin + "egsim_make_trace " + (dir / "trace").string() + " tiny 0.5 7 >" +
                       (dir / "gen.log").string() + " 2>&1")
                          .c_str()) == 0);
  const std::string cmd = kBin + "egsim run --config " +
                          (kSource / "configs/hw" / config).string() + ".json --trace " +
                          (dir / "trace").string() + " --out " + (dir / "out").string() + " >" +
                          (dir / "run.log").string() + " 2>&1";
  INFO(slurp(dir / "run.log"));
  REQUIRE(std::system(cmd.c_str()) == 0);
  const json got = golden_view(json::parse(slurp(dir / "out" / "report.json")));
  const fs::path golden = kSource / "tests/golden" / ("tiny_" + config + ".json");
  if (std::getenv("EGSIM_UPDATE_GOLDEN")) {
    std::ofstream(golden) << got.dump(1) << "\n";
    WARN("rewrote " << golden.string());
    return;
  }
  REQUIRE(fs::exists(golden));
  const json want = json::parse(slurp(golden));
  std::ostringstream out;
  int count = 0;
  diff(want, got, "", out, count);
  INFO(count << " figures differ from " << golden.string()
             << " (scripts/update_golden.sh rewrites it):\n"
             << out.str());
  CHECK(count == 0);
}

}  // namespace

TEST_CASE("The tiny trace's timing and energy on the EfficientGrad config match the golden file",
          "[golden]") {
  check_golden("efficientgrad");
}

TEST_CASE("The tiny trace's timing and energy on the baseline config match the golden file",
          "[golden]") {
  check_golden("eyeriss_v2_bp");
}
