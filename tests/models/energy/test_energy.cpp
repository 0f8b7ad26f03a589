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
    const auto e = eg::energy::price(some_actions(), some_dram(), table);
    CHECK(e.total == Approx(e.mac + e.spad + e.noc + e.glb + e.dram + e.ppu).epsilon(1e-12));
    for (int c = 0; c < eg::energy::kComponentCount; ++c)
      CHECK(e.component(static_cast<Component>(c)) > 0);
  }
}

TEST_CASE("doubling one table entry changes exactly its component") {
  const auto base_json = eg::load_json_file(table_path("horowitz45.json"));
  const auto base_table = eg::energy::parse_energy_table(base_json, "base");
  eg::energy::PricingOptions options{true, 1e-3};  // background on, so its entry counts too
  const auto base = eg::energy::price(some_actions(), some_dram(), base_table, options);
  for (const auto& entry : eg::energy::energy_entries()) {
    INFO(entry.key);
    auto j = base_json;
    double v = j["entries"][entry.key]["value"].get<double>();
    if (v == 0) continue;
    j["entries"][entry.key]["value"] = 2 * v;
    const auto e = eg::energy::price(some_actions(), some_dram(),
                                     eg::energy::parse_energy_table(j, "x"), options);
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
  for (const char* k : {"mac", "spad", "noc", "glb", "dram", "ppu"}) sum += j[k].get<double>();
  CHECK(j["total"].get<double>() == Approx(sum));
}
