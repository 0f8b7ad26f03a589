// DRAM config parsing (strict, errors name file and field), timings in cycles, address mapping.
#include <catch2/catch.hpp>

#include "base/error.hpp"
#include "models/dram/address_mapping.hpp"
#include "models/dram/dram_config.hpp"
#include "models/dram/dram_timing.hpp"
#include "models/json_fields.hpp"

using Catch::Matchers::Contains;

namespace {

const char* const kDefault = EGSIM_SOURCE_DIR "/configs/dram/lpddr4_3200_x32.json";

nlohmann::json default_json() {
  return eg::load_json_file(kDefault);
}

std::string error_of(const nlohmann::json& j) {
  try {
    eg::dram::parse_dram_config(j, "bad.json");
  } catch (const eg::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the default LPDDR4-3200 config loads with the JEDEC figures in clock cycles") {
  const auto c = eg::dram::load_dram_config(kDefault);
  CHECK(c.burst_bytes() == 64);
  CHECK(c.clock_mhz() == 1600);
  CHECK(c.peak_bandwidth_bytes_per_s() == Approx(12.8e9));
  const auto t = eg::dram::timing_in_cycles(c);
  CHECK(t.clock_period_ps == 625);
  // The same clock counts as DRAMSys's JEDEC_8Gb_LPDDR4-3200 memspec.
  CHECK(t.tRCD == 29);
  CHECK(t.tRP == 29);
  CHECK(t.tRAS == 68);
  CHECK(t.tCL == 28);
  CHECK(t.tWL == 14);
  CHECK(t.tWR == 29);
  CHECK(t.tRTP == 12);
  CHECK(t.tCCD == 8);
  CHECK(t.burst_cycles == 8);
  CHECK(t.tRPab == 34);  // 21 ns / 0.625 = 33.6, rounded up
  CHECK(t.tRRD == 16);
  CHECK(t.tFAW == 64);
  CHECK(t.tWTR == 16);
  CHECK(t.tRTW == 8);
  CHECK(t.tRFCab == 448);
  CHECK(t.tREFI == 6246);  // 3904 ns / 0.625 = 6246.4: a maximum interval, so rounded down
}

TEST_CASE("bad DRAM configs are rejected naming the file and field") {
  auto j = default_json();
  SECTION("a timing of zero") {
    j["timing_ns"]["tRCD"] = 0;
    CHECK_THAT(error_of(j), Contains("bad.json: /timing_ns/tRCD: must be > 0"));
  }
  SECTION("a negative width") {
    j["bus_width_bits"] = -32;
    CHECK_THAT(error_of(j), Contains("bad.json: /bus_width_bits: must be >= 1"));
  }
  SECTION("an unknown key") {
    j["timing_ns"]["tRFCpb"] = 140;
    CHECK_THAT(error_of(j), Contains("bad.json: /timing_ns/tRFCpb: unknown key"));
  }
  SECTION("a refresh interval that leaves no time between refreshes") {
    j["timing_ns"]["tREFI"] = 300;
    CHECK_THAT(error_of(j),
               Contains("bad.json: /timing_ns/tREFI: must be greater than tRPab + tRFCab"));
  }
  SECTION("a missing key") {
    j.erase("banks");
    CHECK_THAT(error_of(j), Contains("bad.json: /banks: missing"));
  }
  SECTION("a bank count that is not a power of two") {
    j["banks"] = 6;
    CHECK_THAT(error_of(j), Contains("/banks: must be a power of two"));
  }
  SECTION("a bad page policy") {
    j["page_policy"] = "adaptive";
    CHECK_THAT(error_of(j),
               Contains("/page_policy: is \"adaptive\", expected one of \"open\", \"closed\""));
  }
  SECTION("an address mapping naming a field twice") {
    j["address_mapping"] = {"row", "row", "column"};
    CHECK_THAT(error_of(j), Contains("/address_mapping"));
  }
}

TEST_CASE("address mapping follows the configured bit order") {
  auto j = default_json();
  const auto rbc = eg::dram::parse_dram_config(j, "t");
  eg::dram::AddressMapping m(rbc);
  // row/bank/column: 32 bursts fill a 2 KiB row, then the next bank.
  auto a = m.decode(31 * 64 + 5);
  CHECK(a.row == 0);
  CHECK(a.bank == 0);
  CHECK(a.column == 31);
  auto b = m.decode(32 * 64);
  CHECK(b.bank == 1);
  CHECK(b.column == 0);
  auto c = m.decode(8 * 2048);
  CHECK(c.row == 1);
  CHECK(c.bank == 0);

  j["address_mapping"] = {"bank", "row", "column"};
  eg::dram::AddressMapping m2(eg::dram::parse_dram_config(j, "t"));
  auto d = m2.decode(2048);
  CHECK(d.row == 1);
  CHECK(d.bank == 0);
  for (uint64_t addr : {uint64_t{0}, uint64_t{64}, uint64_t{123456} * 64, uint64_t{1} << 29}) {
    CHECK(m.encode(m.decode(addr)) == addr);
    CHECK(m2.encode(m2.decode(addr)) == addr);
  }
}
