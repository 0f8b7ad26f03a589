#pragma once
// Per-action energies (docs/DESIGN.md §6): one entry per countable action of eg::ActionCounts plus
// the DRAM's per-bit, per-activate and background figures. Loaded from configs/energy/*.json, where
// every entry is {"value": number >= 0, "source": "where the number comes from"}.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "models/action_counts.hpp"

namespace eg::energy {

// Largest value of any entry (pJ per action or bit, or mW): a DRAM activation costs ~2.4 nJ
// (2385 pJ) and background power tens of mW; 1e6 is a microjoule per action or a kilowatt, far
// above any real figure, and keeps every count x value product (counts < 2^64) finite.
inline constexpr double kMaxEnergyValue = 1e6;

// Leakage is the on-chip static energy: each block's leakage power x the time it is powered.
enum class Component { Mac, Spad, Noc, Glb, Dram, Ppu, Leakage };
inline constexpr int kComponentCount = 7;
const char* to_string(Component c);

struct EnergyTable {
  std::string name;
  double mac_8x8_pj = 0, mac_16x8_pj = 0, zero_skip_pj = 0;
  double mac_10x4_pj = 0;  // PSG's predictor MAC
  double spad_iact_read_pj_per_bit = 0, spad_iact_write_pj_per_bit = 0;
  double spad_weight_read_pj_per_bit = 0, spad_weight_write_pj_per_bit = 0;
  double spad_feedback_read_pj_per_bit = 0, spad_feedback_write_pj_per_bit = 0;
  double spad_psum_read_pj_per_bit = 0, spad_psum_write_pj_per_bit = 0;
  double noc_iact_pj_per_bit_hop = 0, noc_weight_pj_per_bit_hop = 0, noc_psum_pj_per_bit_hop = 0;
  double glb_iact_read_pj_per_bit = 0, glb_iact_write_pj_per_bit = 0;
  double glb_psum_read_pj_per_bit = 0, glb_psum_write_pj_per_bit = 0;
  double glb_grad_read_pj_per_bit = 0, glb_grad_write_pj_per_bit = 0;
  // Bank capacity (bytes) the glb_<bank>_* entries above are priced for: each GLB entry states it
  // as "bank_bytes", and scale_glb_to_banks() rescales the entries to the configured banks.
  int64_t glb_iact_bank_bytes = 0, glb_psum_bank_bytes = 0, glb_grad_bank_bytes = 0;
  double ppu_op_pj = 0;
  double dram_read_pj_per_bit = 0, dram_write_pj_per_bit = 0, dram_activate_pj = 0;
  double dram_background_mw = 0;
  // Leakage power per block instance or unit of capacity, mW (configs/energy/README.md): one MAC
  // lane (multiplier, psum adder, pipeline registers), one bit of PE scratchpad, one KiB of GLB
  // SRAM, one link bit of a NoC router, one PPU element lane.
  double leak_mac_lane_mw = 0, leak_spad_mw_per_bit = 0, leak_glb_mw_per_kib = 0;
  double leak_noc_mw_per_link_bit = 0, leak_ppu_lane_mw = 0;
};

// One table entry: its JSON key, the component it is charged to, the member holding its value and,
// for on-chip actions, the ActionCounts member it prices (nullptr for the DRAM and leakage entries,
// which are priced per second). GLB
// entries also name the member holding the bank capacity they are priced for (nullptr otherwise).
struct EntryInfo {
  const char* key;
  Component component;
  double EnergyTable::*value;
  uint64_t ActionCounts::*count;
  int64_t EnergyTable::*bank_bytes = nullptr;
};
const std::vector<EntryInfo>& energy_entries();

EnergyTable parse_energy_table(const nlohmann::json& json, const std::string& file);
EnergyTable load_energy_table(const std::string& path);

// The configured GLB bank capacities, in bytes.
struct GlbBankBytes {
  int64_t iact = 0, psum = 0, grad = 0;
};
// `table` with every GLB entry rescaled from the bank capacity it states to the configured one:
// energy per access x sqrt(configured / stated). Square-root scaling is the rule the shipped
// tables' GLB entries were derived with (Horowitz ISSCC 2014: a 64-bit SRAM read costs 10 pJ at
// 8 KB and 20 pJ at 32 KB; configs/energy/generate_tables.py), so a table priced for one bank size
// stays right when a config changes it. Capacities must be >= 1.
EnergyTable scale_glb_to_banks(EnergyTable table, const GlbBankBytes& banks);

// What leaks on the chip: the number of each block the leakage entries are priced per. Every
// block is powered whenever the chip runs (no power gating is modelled), so leakage energy is
// leakage_mw() x elapsed time.
struct LeakageInventory {
  double mac_lanes = 0;      // PEs x SIMD lanes
  double spad_bits = 0;      // every PE scratchpad's capacity, bits
  double glb_kib = 0;        // every GLB bank's capacity, KiB
  double noc_link_bits = 0;  // every router's link width, bits, summed over routers
  double ppu_lanes = 0;      // PPU elements per cycle, whole chip
};
// The chip's leakage power, mW: each inventory count x its table entry.
double leakage_mw(const EnergyTable& table, const LeakageInventory& inventory);

}  // namespace eg::energy
