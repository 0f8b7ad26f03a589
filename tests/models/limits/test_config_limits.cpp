// Config values that would exhaust memory, overflow a size or convert to a wrong number of cycles
// are rejected naming the file and the JSON pointer; values at the documented limits still load.
#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>

#include "base/error.hpp"
#include "models/arch/arch_config.hpp"
#include "models/dram/dram_config.hpp"
#include "models/dram/dram_timing.hpp"
#include "models/energy/energy_table.hpp"
#include "models/json_fields.hpp"
#include "support/temp_dir.hpp"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kConfigs = std::string(EGSIM_SOURCE_DIR) + "/configs/";

json stock(const std::string& file) {
  return eg::load_json_file(kConfigs + file);
}

template <typename Parse>
std::string error_of(Parse parse) {
  try {
    parse();
  } catch (const eg::Error& e) {
    return e.what();
  }
  return "accepted";
}

std::string hw_error(const json& j) {
  return error_of([&] { (void)eg::arch::arch_config_from_json(j, "hw.json"); });
}
std::string dram_error(const json& j) {
  return error_of([&] { (void)eg::dram::parse_dram_config(j, "dram.json"); });
}

}  // namespace

TEST_CASE("an array of 64 x 64 clusters of 64 x 64 PEs is refused, 128 x 128 PEs is not") {
  json j = stock("hw/efficientgrad.json");
  j["array"] = {{"pc_rows", 64}, {"pc_cols", 64}, {"pe_rows", 64}, {"pe_cols", 64}};
  CHECK(hw_error(j) ==
        "hw.json: /array: pc_rows x pc_cols x pe_rows x pe_cols = 16777216 PEs "
        "exceeds the limit of 16384");
  // 2 x 2 clusters of 64 x 64 PEs = 16384 (rows and columns share the routers the config has).
  j["array"] = {{"pc_rows", 2}, {"pc_cols", 2}, {"pe_rows", 64}, {"pe_cols", 64}};
  CHECK(hw_error(j) == "accepted");
}

TEST_CASE("hardware config sizes beyond their limits are refused naming the field") {
  json j = stock("hw/efficientgrad.json");
  SECTION("a scratchpad of 2^40 entries") {
    j["pe"]["spad_weight_entries"] = int64_t{1} << 40;
    CHECK(hw_error(j) == "hw.json: /pe/spad_weight_entries: must be <= 65536");
  }
  SECTION("a GLB bank of 2^64-1 bytes, which used to wrap to -1") {
    j["glb"]["iact_bank_bytes"] = UINT64_MAX;
    CHECK(hw_error(j) == "hw.json: /glb/iact_bank_bytes: must be <= 1073741824");
  }
  SECTION("a clock of 1 kHz") {
    j["clock_mhz"] = 1e-3;
    CHECK(hw_error(j) == "hw.json: /clock_mhz: must be >= 1.0");
  }
  SECTION("an unknown key holding a newline") {
    j["pe"]["a\nb"] = 1;
    CHECK(hw_error(j) == "hw.json: /pe/a\\x0ab: unknown key");
  }
  SECTION("a choice holding a newline") {
    j["features"]["feedback_source"] = "x\ny";
    CHECK(hw_error(j) ==
          "hw.json: /features/feedback_source: is \"x\\ny\", expected one of "
          "\"pe_spad\", \"transposed_dram\", \"transposed_read\"");
  }
}

TEST_CASE("a deeply nested hardware config is a one-line error, not a crash") {
  eg::testing::TempDir dir("eglimits");
  // The nesting sits under an unknown key: keys are checked before anything is copied, and the
  // reader refuses the depth before either.
  std::ofstream(dir / "hw.json") << R"({"name": "x", "deep": )" << std::string(100000, '[')
                                 << std::string(100000, ']') << "}";
  CHECK(error_of([&] { (void)eg::arch::load_arch_config(dir / "hw.json"); }) ==
        (dir / "hw.json").string() + ": JSON nested deeper than 64 levels");
  // Within the depth limit, an unknown nested key is reported, and nothing was copied.
  json j = stock("hw/efficientgrad.json");
  j["deep"] = json::parse(std::string(60, '[') + std::string(60, ']'));
  CHECK(hw_error(j) == "hw.json: /deep: unknown key");
}

TEST_CASE("DRAM banks 2^28 and other oversized geometry are refused") {
  json j = stock("dram/lpddr4_3200_x32.json");
  SECTION("banks") {
    j["banks"] = 1 << 28;
    CHECK(dram_error(j) == "dram.json: /banks: must be <= 256");
    j["banks"] = 256;
    CHECK(dram_error(j) == "accepted");
  }
  SECTION("rows per bank") {
    j["rows_per_bank"] = int64_t{1} << 40;
    CHECK(dram_error(j) == "dram.json: /rows_per_bank: must be <= 16777216");
  }
  SECTION("row bytes") {
    j["row_bytes"] = int64_t{1} << 40;
    CHECK(dram_error(j) == "dram.json: /row_bytes: must be <= 65536");
  }
  SECTION("queue depth") {
    j["request_queue_depth"] = int64_t{1} << 40;
    CHECK(dram_error(j) == "dram.json: /request_queue_depth: must be <= 4096");
  }
  SECTION("a data rate whose clock period is below the 1 ps time base") {
    j["data_rate_mtps"] = 2000000000000;
    CHECK(dram_error(j) == "dram.json: /data_rate_mtps: must be <= 100000");
    j["data_rate_mtps"] = 3;
    CHECK(dram_error(j) ==
          "dram.json: /data_rate_mtps: clock period 2e6/3 ps is not a whole "
          "number of picoseconds");
  }
  SECTION("an address mapping entry of the wrong type") {
    j["address_mapping"] = {"row", "bank", {{"x", 1}}};
    CHECK(dram_error(j) ==
          "dram.json: /address_mapping/2: must list \"row\", \"bank\" and "
          "\"column\" once each, most significant first (got object)");
  }
}

TEST_CASE("tRCD = 1e300 is refused instead of becoming 0 cycles") {
  json j = stock("dram/lpddr4_3200_x32.json");
  j["timing_ns"]["tRCD"] = 1e300;
  CHECK(dram_error(j) == "dram.json: /timing_ns/tRCD: must be <= 100000.0 (got 1e+300)");
  // A config built in code is checked again where times become cycles.
  eg::dram::DramConfig c = eg::dram::parse_dram_config(stock("dram/lpddr4_3200_x32.json"), "d");
  c.timing_ns.tRCD = 1e300;
  CHECK_THROWS_WITH(eg::dram::timing_in_cycles(c),
                    Catch::StartsWith("DRAM config: /timing_ns/tRCD: "));
  // A tiny positive time still takes one whole clock (JEDEC nCK = ceil(t / tCK) >= 1).
  c.timing_ns.tRCD = 1e-300;
  CHECK(eg::dram::timing_in_cycles(c).tRCD == 1);
  // The largest allowed time converts exactly: 1e5 ns at 0.625 ns per clock.
  c.timing_ns.tRCD = eg::dram::kMaxTimingNs;
  CHECK(eg::dram::timing_in_cycles(c).tRCD == 160000);
}

TEST_CASE("energy values must be finite and at most 1e6") {
  json j = stock("energy/horowitz45.json");
  j["entries"]["mac_8x8_pj"]["value"] = 1e300;
  CHECK(error_of([&] { (void)eg::energy::parse_energy_table(j, "e.json"); }) ==
        "e.json: /entries/mac_8x8_pj/value: must be <= 1000000.0");
}
