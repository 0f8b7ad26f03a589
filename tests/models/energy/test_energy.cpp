// Energy tables (strict parsing, every entry sourced) and pricing by component.
#include <catch2/catch.hpp>

#include "base/error.hpp"
#include "models/energy/energy_breakdown.hpp"
#include "models/energy/energy_table.hpp"
#include "models/json_fields.hpp"

using Catch::Matchers::Contains;
using eg::energy::Component;

namespace {

const char* const kTables[] = {"horowitz45.json", "horowitz45_horowitz_dram.json", "scaled14.json"};

std::string table_path(const std::string& name) {
  return std::string(EGSIM_SOURCE_DIR) + "/configs/energy/" + name;
}

// Every action counted a different, non-zero number of times.
eg::ActionCounts some_actions() {
  eg::ActionCounts a;
  uint64_t n = 1000;
  for (const auto& e : eg::energy::energy_entries())
    if (e.count) a.*(e.count) = (n += 137);
  return a;
}

// A chip with every leaking block present in a different number.
eg::energy::LeakageInventory some_blocks() {
  eg::energy::LeakageInventory n;
  n.mac_lanes = 144;
  n.spad_bits = 175104;
  n.glb_kib = 96;
  n.noc_link_bits = 1824;
  n.ppu_lanes = 24;
  return n;
}

eg::dram::DramCounts some_dram() {
  eg::dram::DramCounts d;
  d.read_bytes = 64 * 1000;
  d.write_bytes = 64 * 300;
  d.activates = 40;
  return d;
}

std::string error_of(const nlohmann::json& j) {
  try {
    eg::energy::parse_energy_table(j, "bad.json");
  } catch (const eg::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("every shipped energy table loads, and every entry has a source") {
  for (const char* name : kTables) {
    INFO(name);
    const auto table = eg::energy::load_energy_table(table_path(name));
    const auto j = eg::load_json_file(table_path(name));
    CHECK(j["entries"].size() == eg::energy::energy_entries().size());
    CHECK(table.mac_8x8_pj > 0);
    CHECK(table.mac_16x8_pj > table.mac_8x8_pj);
    CHECK(table.dram_read_pj_per_bit > table.glb_iact_read_pj_per_bit);
  }
}

TEST_CASE("the price of an action count is the count times its table entry") {
  const auto table = eg::energy::load_energy_table(table_path("horowitz45.json"));
  eg::ActionCounts a;
  a.mac_8x8 = 1000;
  eg::dram::DramCounts d;
  d.read_bytes = 64;
  d.activates = 1;
  const auto e = eg::energy::price(a, d, table);
  CHECK(e.mac == Approx(1000 * 0.275));
  CHECK(e.dram == Approx(64 * 8 * 8.0 + table.dram_activate_pj));
  CHECK(e.spad == 0);
  CHECK(e.total == Approx(e.mac + e.dram));
}

TEST_CASE("total energy equals the sum of its components") {
  for (const char* name : kTables) {
    const auto table = eg::energy::load_energy_table(table_path(name));
    eg::energy::PricingOptions options;
    options.elapsed_seconds = 1e-3;
    options.leakage_mw = eg::energy::leakage_mw(table, some_blocks());
    const auto e = eg::energy::price(some_actions(), some_dram(), table, options);
    CHECK(e.total ==
          Approx(e.mac + e.spad + e.noc + e.glb + e.dram + e.ppu + e.leakage).epsilon(1e-12));
    CHECK(e.chip() == Approx(e.total - e.dram));
    for (int c = 0; c < eg::energy::kComponentCount; ++c)
      CHECK(e.component(static_cast<Component>(c)) > 0);
  }
}

TEST_CASE("doubling one table entry changes exactly its component") {
  const auto base_json = eg::load_json_file(table_path("horowitz45.json"));
  const auto base_table = eg::energy::parse_energy_table(base_json, "base");
  eg::energy::PricingOptions options{true, 1e-3};  // background on, so its entry counts too
  options.leakage_mw = eg::energy::leakage_mw(base_table, some_blocks());
  const auto base = eg::energy::price(some_actions(), some_dram(), base_table, options);
  for (const auto& entry : eg::energy::energy_entries()) {
    INFO(entry.key);
    auto j = base_json;
    double v = j["entries"][entry.key]["value"].get<double>();
    if (v == 0) continue;
    j["entries"][entry.key]["value"] = 2 * v;
    const auto table = eg::energy::parse_energy_table(j, "x");
    options.leakage_mw = eg::energy::leakage_mw(table, some_blocks());
    const auto e = eg::energy::price(some_actions(), some_dram(), table, options);
    for (int c = 0; c < eg::energy::kComponentCount; ++c) {
      const auto comp = static_cast<Component>(c);
      if (comp == entry.component)
        CHECK(e.component(comp) > base.component(comp));
      else
        CHECK(e.component(comp) == base.component(comp));
    }
    CHECK(e.total - base.total ==
          Approx(e.component(entry.component) - base.component(entry.component)));
  }
}

TEST_CASE("DRAM background power counts only when enabled") {
  const auto table = eg::energy::load_energy_table(table_path("horowitz45.json"));
  const auto off = eg::energy::price({}, {}, table, {false, 1.0});
  const auto on = eg::energy::price({}, {}, table, {true, 1.0});
  CHECK(off.dram == 0);
  CHECK(on.dram == Approx(table.dram_background_mw * 1e9));  // mW x 1 s = 1e9 pJ per mW
}

TEST_CASE("leakage energy is each block's leakage power times the elapsed time") {
  const auto table = eg::energy::load_energy_table(table_path("horowitz45.json"));
  eg::energy::LeakageInventory one_glb_kib;
  one_glb_kib.glb_kib = 1;
  CHECK(eg::energy::leakage_mw(table, one_glb_kib) == table.leak_glb_mw_per_kib);
  const double mw = 144 * table.leak_mac_lane_mw + 175104 * table.leak_spad_mw_per_bit +
                    96 * table.leak_glb_mw_per_kib + 1824 * table.leak_noc_mw_per_link_bit +
                    24 * table.leak_ppu_lane_mw;
  CHECK(eg::energy::leakage_mw(table, some_blocks()) == Approx(mw).epsilon(1e-12));
  eg::energy::PricingOptions options;
  options.elapsed_seconds = 2000 / 500e6;  // 2000 cycles at 500 MHz
  options.leakage_mw = mw;
  const auto e = eg::energy::price({}, {}, table, options);
  CHECK(e.leakage == Approx(mw * 1e-3 * 4e-6 * 1e12));  // mW x s -> pJ
  CHECK(e.total == e.leakage);
  CHECK(e.chip() == e.leakage);  // leakage is on-chip energy
  CHECK(e.dram == 0);
}

TEST_CASE("bad energy tables are rejected naming the file and entry") {
  auto j = eg::load_json_file(table_path("horowitz45.json"));
  SECTION("a missing entry") {
    j["entries"].erase("noc_psum_pj_per_bit_hop");
    CHECK_THAT(error_of(j), Contains("bad.json: /entries/noc_psum_pj_per_bit_hop: missing"));
  }
  SECTION("a negative value") {
    j["entries"]["mac_8x8_pj"]["value"] = -0.1;
    CHECK_THAT(error_of(j), Contains("bad.json: /entries/mac_8x8_pj/value: must be >= 0"));
  }
  SECTION("an unknown entry") {
    j["entries"]["mac_4x4_pj"] = {{"value", 0.1}, {"source", "x"}};
    CHECK_THAT(error_of(j), Contains("bad.json: /entries/mac_4x4_pj: unknown key"));
  }
  SECTION("a table from before leakage was priced") {
    for (const char* k : {"leak_mac_lane_mw", "leak_spad_mw_per_bit", "leak_glb_mw_per_kib",
                          "leak_noc_mw_per_link_bit", "leak_ppu_lane_mw"})
      j["entries"].erase(k);
    CHECK(error_of(j) == "bad.json: /entries/leak_mac_lane_mw: missing");
  }
  SECTION("an entry without a source") {
    j["entries"]["ppu_op_pj"].erase("source");
    CHECK_THAT(error_of(j), Contains("bad.json: /entries/ppu_op_pj/source: missing"));
  }
}

TEST_CASE("energy figures in report form add up") {
  const auto table = eg::energy::load_energy_table(table_path("horowitz45.json"));
  const auto j =
      eg::energy::energy_figures_json(eg::energy::price(some_actions(), some_dram(), table));
  double sum = 0;
  for (const char* k : {"mac", "spad", "noc", "glb", "dram", "ppu", "leakage"})
    sum += j[k].get<double>();
  CHECK(j["total"].get<double>() == Approx(sum));
}
