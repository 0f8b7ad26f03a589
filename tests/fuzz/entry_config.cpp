// The three hardware-model configs, parsed from memory as their loaders do after reading the file
// (eg::parse_json, then the strict parser). A hardware config that parses also loads the files it
// names, relative to a folder holding the stock DRAM config and energy table under the names the
// seeds use (dram.json, energy.json).
#include <filesystem>

#include "base/error.hpp"
#include "base/json_io.hpp"
#include "models/arch/arch_config.hpp"
#include "models/dram/address_mapping.hpp"
#include "models/dram/dram_config.hpp"
#include "models/dram/dram_timing.hpp"
#include "models/energy/energy_table.hpp"
#include "tests/fuzz/fuzz_entries.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace eg::fuzz {

namespace fs = std::filesystem;

namespace {

const fs::path& hw_config_dir() {
  static const fs::path dir = [] {
    const fs::path d = fresh_subdir("hw");
    const fs::path configs = fs::path(EGSIM_SOURCE_DIR) / "configs";
    fs::copy_file(configs / "dram" / "lpddr4_3200_x32.json", d / "dram.json");
    fs::copy_file(configs / "energy" / "horowitz45.json", d / "energy.json");
    return d;
  }();
  return dir;
}

}  // namespace

bool hw_config_one(const uint8_t* data, std::size_t size) {
  const fs::path& dir = hw_config_dir();
  const std::string file = (dir / "hw.json").string();
  try {
    arch::ArchConfig c = arch::arch_config_from_json(parse_json(as_text(data, size), file), file);
    arch::load_referenced_files(c, file, dir);
    return true;
  } catch (const eg::Error&) {
    return false;
  }
}

bool dram_config_one(const uint8_t* data, std::size_t size) {
  const std::string file = "dram.json";
  try {
    const dram::DramConfig c = dram::parse_dram_config(parse_json(as_text(data, size), file), file);
    // What the simulator derives from a config at start-up.
    dram::timing_in_cycles(c);
    dram::AddressMapping mapping(c);
    return true;
  } catch (const eg::Error&) {
    return false;
  }
}

bool energy_one(const uint8_t* data, std::size_t size) {
  const std::string file = "energy.json";
  try {
    energy::parse_energy_table(parse_json(as_text(data, size), file), file);
    return true;
  } catch (const eg::Error&) {
    return false;
  }
}

}  // namespace eg::fuzz
