// GLB energy entries follow the configured bank sizes: each entry states the bank capacity it is
// priced for, and loading a hw config rescales it by sqrt(configured / stated).
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include "base/error.hpp"
#include "models/arch/arch_config.hpp"
#include "models/energy/energy_breakdown.hpp"
#include "models/energy/energy_table.hpp"
#include "support/temp_dir.hpp"

using nlohmann::json;

namespace {

const std::string kConfigs = std::string(EGSIM_SOURCE_DIR) + "/configs/";

json load(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

std::string parse_error(const json& j) {
  try {
    eg::energy::parse_energy_table(j, "table.json");
  } catch (const eg::Error& e) {
    return e.what();
  }
  return "no error";
}

// The shipped EfficientGrad config with glb.grad_bank_bytes set to `bytes`, loaded from `dir` with
// its referenced files pointed back at the repository's.
eg::arch::ArchConfig config_with_grad_bank(const eg::testing::TempDir& dir, int64_t bytes) {
  json cfg = load(kConfigs + "hw/efficientgrad.json");
  cfg["offchip"]["dram_config"] =
      kConfigs + "hw/" + cfg["offchip"]["dram_config"].get<std::string>();
  cfg["energy_table"] = kConfigs + "hw/" + cfg["energy_table"].get<std::string>();
  cfg["glb"]["grad_bank_bytes"] = bytes;
  const auto path = dir / ("cfg_" + std::to_string(bytes) + ".json");
  std::ofstream(path) << cfg.dump();
  return eg::arch::load_arch_config(path);
}

}  // namespace

TEST_CASE("every GLB entry of the shipped tables states the bank size it is priced for",
          "[energy]") {
  for (const char* name : {"horowitz45.json", "horowitz45_horowitz_dram.json", "scaled14.json"}) {
    INFO(name);
    const auto t = eg::energy::load_energy_table(kConfigs + "energy/" + name);
    CHECK(t.glb_iact_bank_bytes == 1536);
    CHECK(t.glb_psum_bank_bytes == 1920);
    CHECK(t.glb_grad_bank_bytes == 8192);
  }
}

TEST_CASE(
    "a GLB entry without bank_bytes, or with one its bank's other entry contradicts, is "
    "rejected",
    "[energy]") {
  const json base = load(kConfigs + "energy/horowitz45.json");
  json missing = base;
  missing["entries"]["glb_grad_read_pj_per_bit"].erase("bank_bytes");
  CHECK(parse_error(missing) ==
        "table.json: /entries/glb_grad_read_pj_per_bit/bank_bytes: missing");
  json contradicting = base;
  contradicting["entries"]["glb_grad_write_pj_per_bit"]["bank_bytes"] = 4096;
  CHECK_THAT(parse_error(contradicting),
             Catch::Contains("/entries/glb_grad_write_pj_per_bit/bank_bytes: must equal the "
                             "bank_bytes of the other entry of the same bank (8192)"));
  json zero = base;
  zero["entries"]["glb_iact_read_pj_per_bit"]["bank_bytes"] = 0;
  CHECK(parse_error(zero) ==
        "table.json: /entries/glb_iact_read_pj_per_bit/bank_bytes: must be >= 1");
  json stray = base;
  stray["entries"]["mac_8x8_pj"]["bank_bytes"] = 4096;  // only GLB entries have a bank
  CHECK_THAT(parse_error(stray), Catch::Contains("/entries/mac_8x8_pj/bank_bytes"));
}

TEST_CASE(
    "rescaling to the configured banks multiplies each GLB entry by sqrt(configured / stated)",
    "[energy]") {
  const auto t = eg::energy::load_energy_table(kConfigs + "energy/horowitz45.json");
  const auto same = eg::energy::scale_glb_to_banks(t, {1536, 1920, 8192});
  CHECK(same.glb_iact_read_pj_per_bit == t.glb_iact_read_pj_per_bit);
  CHECK(same.glb_grad_write_pj_per_bit == t.glb_grad_write_pj_per_bit);
  const auto s = eg::energy::scale_glb_to_banks(t, {6144, 1920, 2048});
  CHECK(s.glb_iact_read_pj_per_bit == Approx(2 * t.glb_iact_read_pj_per_bit));
  CHECK(s.glb_iact_write_pj_per_bit == Approx(2 * t.glb_iact_write_pj_per_bit));
  CHECK(s.glb_psum_read_pj_per_bit == t.glb_psum_read_pj_per_bit);
  CHECK(s.glb_grad_read_pj_per_bit == Approx(0.5 * t.glb_grad_read_pj_per_bit));
  CHECK(s.glb_grad_write_pj_per_bit == Approx(0.5 * t.glb_grad_write_pj_per_bit));
  CHECK(s.glb_grad_bank_bytes == 2048);
  CHECK(s.mac_8x8_pj == t.mac_8x8_pj);
  CHECK(s.spad_psum_read_pj_per_bit == t.spad_psum_read_pj_per_bit);
}

TEST_CASE("the configured gradient bank size sets the price of gradient-bank accesses",
          "[energy]") {
  eg::testing::TempDir dir;
  const auto stock = eg::arch::load_arch_config(kConfigs + "hw/efficientgrad.json");
  REQUIRE(stock.glb.grad_bank_bytes == 4096);
  // The table prices the gradient bank at 8 KiB; the shipped config's 4 KiB bank costs 1/sqrt(2).
  const auto table = eg::energy::load_energy_table(kConfigs + "energy/horowitz45.json");
  CHECK(stock.energy->glb_grad_read_pj_per_bit ==
        Approx(table.glb_grad_read_pj_per_bit / std::sqrt(2.0)));
  CHECK(stock.energy->glb_iact_read_pj_per_bit == table.glb_iact_read_pj_per_bit);

  const auto small = config_with_grad_bank(dir, 4096);
  const auto large = config_with_grad_bank(dir, 16384);
  CHECK(large.energy->glb_grad_read_pj_per_bit ==
        Approx(2 * small.energy->glb_grad_read_pj_per_bit));
  CHECK(large.energy->glb_grad_write_pj_per_bit ==
        Approx(2 * small.energy->glb_grad_write_pj_per_bit));
  // The same gradient-bank traffic costs more in the larger bank; nothing else changes.
  eg::ActionCounts a;
  a.glb_grad_read_bits = 1000;
  a.glb_grad_write_bits = 500;
  a.mac_8x8 = 100;
  const auto e_small = eg::energy::price(a, {}, *small.energy);
  const auto e_large = eg::energy::price(a, {}, *large.energy);
  CHECK(e_large.glb == Approx(2 * e_small.glb));
  CHECK(e_large.mac == e_small.mac);
}
