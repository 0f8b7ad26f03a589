// The egsim binary on bad inputs: exit code 1, one line on stderr naming the file and field, no
// "internal error", no errno printed as "Success", and no output folder or file written.
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
const std::string kConfigs = std::string(EGSIM_SOURCE_DIR) + "/configs/";

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Outcome {
  int code = -1;
  std::string err;
};

// Runs egsim with `args` (shell words, already quoted where needed).
Outcome egsim(const std::string& args, const fs::path& dir) {
  const fs::path log = dir / "stderr.txt";
  const int status =
      std::system((kBin + "egsim " + args + " >/dev/null 2>" + log.string()).c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(log)};
}

// The contract for every bad input.
void check_clean_error(const Outcome& o, const std::string& expected) {
  CHECK(o.code == 1);
  CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);
  CHECK(o.err.find("internal error") == std::string::npos);
  CHECK(o.err.find("Success") == std::string::npos);
  CHECK_THAT(o.err, Catch::Contains(expected));
}

// A hardware config in `dir` that names the stock DRAM config and energy table by absolute path.
json hw_config() {
  json c = json::parse(slurp(kConfigs + "hw/efficientgrad.json"));
  c["offchip"]["dram_config"] = kConfigs + "dram/lpddr4_3200_x32.json";
  c["energy_table"] = kConfigs + "energy/horowitz45.json";
  return c;
}

}  // namespace

TEST_CASE("egsim reports bad traces and configs in one line and writes nothing") {
  eg::testing::TempDir dir("egsim-bad");
  const fs::path trace = dir / "trace";
  REQUIRE(std::system(
              (kBin + "egsim_make_trace " + trace.string() + " tiny 0.5 >/dev/null").c_str()) == 0);
  const std::string out = (dir / "out").string();
  const std::string good_hw = kConfigs + "hw/efficientgrad.json";

  SECTION("a conv stride of 2^63-1") {
    json m = json::parse(slurp(trace / "manifest.json"));
    for (json& l : m["layers"])
      if (l["type"] == "conv") {
        l["stride"] = INT64_MAX;
        break;
      }
    std::ofstream(trace / "manifest.json") << m.dump();
    check_clean_error(
        egsim("run --config " + good_hw + " --trace " + trace.string() + " --out " + out,
              dir.path()),
        "/stride: 9223372036854775807 is larger than the padded input");
  }
  SECTION("a hardware config nested 100000 levels deep") {
    std::ofstream(dir / "hw.json")
        << "{\"a\":" << std::string(100000, '[') << std::string(100000, ']') << "}";
    check_clean_error(egsim("run --config " + (dir / "hw.json").string() + " --trace " +
                                trace.string() + " --out " + out,
                            dir.path()),
                      (dir / "hw.json").string() + ": JSON nested deeper than 64 levels");
  }
  SECTION("an array of 64 x 64 clusters of 64 x 64 PEs") {
    json c = hw_config();
    c["array"] = {{"pc_rows", 64}, {"pc_cols", 64}, {"pe_rows", 64}, {"pe_cols", 64}};
    std::ofstream(dir / "hw.json") << c.dump();
    check_clean_error(egsim("run --config " + (dir / "hw.json").string() + " --trace " +
                                trace.string() + " --out " + out,
                            dir.path()),
                      "hw.json: /array: pc_rows x pc_cols x pe_rows x pe_cols = 16777216 PEs "
                      "exceeds the limit of 16384");
  }
  SECTION("DRAM banks 2^28 and tRCD 1e300") {
    json d = json::parse(slurp(kConfigs + "dram/lpddr4_3200_x32.json"));
    d["banks"] = 1 << 28;
    std::ofstream(dir / "dram.json") << d.dump();
    json c = hw_config();
    c["offchip"]["dram_config"] = (dir / "dram.json").string();
    std::ofstream(dir / "hw.json") << c.dump();
    const std::string run = "run --config " + (dir / "hw.json").string() + " --trace " +
                            trace.string() + " --out " + out;
    check_clean_error(egsim(run, dir.path()), "dram.json: /banks: must be <= 256");
    d["banks"] = 8;
    d["timing_ns"]["tRCD"] = 1e300;
    std::ofstream(dir / "dram.json") << d.dump();
    check_clean_error(egsim(run, dir.path()),
                      "dram.json: /timing_ns/tRCD: must be <= 100000.0 (got 1e+300)");
  }
  SECTION("a .npy header whose shape overflows") {
    const std::string dict =
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }\n";
    std::ofstream(trace / "fc.w.npy", std::ios::binary | std::ios::trunc)
        << std::string("\x93NUMPY\x01\x00", 8) << static_cast<char>(dict.size()) << '\0' << dict;
    check_clean_error(
        egsim("run --config " + good_hw + " --trace " + trace.string() + " --out " + out,
              dir.path()),
        "fc.w.npy: npy header: 'shape' [4294967296,4294967296,16]: size overflows "
        "64 bits");
  }
  SECTION("a negative --passes and a missing trace") {
    check_clean_error(
        egsim("map --config " + good_hw + " --trace " + trace.string() + " --layer fc --passes -1",
              dir.path()),
        "egsim map: --passes: must be >= 0 (got -1)");
    check_clean_error(
        egsim("run --config " + good_hw + " --trace " + (dir / "none").string() + " --out " + out,
              dir.path()),
        "none: trace directory does not exist or is not a directory");
  }
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("egsim compare on a deeply nested report is one line and writes nothing") {
  eg::testing::TempDir dir("egsim-bad");
  std::ofstream(dir / "a.json") << R"({"schema":"egsim-report","version":1,"totals":{}})";
  std::ofstream(dir / "b.json") << "{\"totals\":" << std::string(100000, '[')
                                << std::string(100000, ']') << "}";
  check_clean_error(
      egsim("compare " + (dir / "a.json").string() + " " + (dir / "b.json").string() + " --out " +
                (dir / "cmp.json").string(),
            dir.path()),
      "egsim compare: " + (dir / "b.json").string() + ": JSON nested deeper than 64 levels");
  CHECK_FALSE(fs::exists(dir / "cmp.json"));
}
