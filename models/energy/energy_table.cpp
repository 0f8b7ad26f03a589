#include "models/energy/energy_table.hpp"

#include <cmath>
#include <limits>
#include <set>

#include "base/error.hpp"
#include "models/json_fields.hpp"

namespace eg::energy {

const char* to_string(Component c) {
  switch (c) {
    case Component::Mac:
      return "mac";
    case Component::Spad:
      return "spad";
    case Component::Noc:
      return "noc";
    case Component::Glb:
      return "glb";
    case Component::Dram:
      return "dram";
    case Component::Ppu:
      return "ppu";
    case Component::Leakage:
      return "leakage";
  }
  return "?";
}

const std::vector<EntryInfo>& energy_entries() {
  using T = EnergyTable;
  using A = ActionCounts;
  static const std::vector<EntryInfo> entries = {
      {"mac_8x8_pj", Component::Mac, &T::mac_8x8_pj, &A::mac_8x8},
      {"mac_16x8_pj", Component::Mac, &T::mac_16x8_pj, &A::mac_16x8},
      {"mac_10x4_pj", Component::Mac, &T::mac_10x4_pj, &A::mac_10x4},
      {"zero_skip_pj", Component::Mac, &T::zero_skip_pj, &A::zero_skips},
      {"spad_iact_read_pj_per_bit", Component::Spad, &T::spad_iact_read_pj_per_bit,
       &A::spad_iact_read_bits},
      {"spad_iact_write_pj_per_bit", Component::Spad, &T::spad_iact_write_pj_per_bit,
       &A::spad_iact_write_bits},
      {"spad_weight_read_pj_per_bit", Component::Spad, &T::spad_weight_read_pj_per_bit,
       &A::spad_weight_read_bits},
      {"spad_weight_write_pj_per_bit", Component::Spad, &T::spad_weight_write_pj_per_bit,
       &A::spad_weight_write_bits},
      {"spad_feedback_read_pj_per_bit", Component::Spad, &T::spad_feedback_read_pj_per_bit,
       &A::spad_feedback_read_bits},
      {"spad_feedback_write_pj_per_bit", Component::Spad, &T::spad_feedback_write_pj_per_bit,
       &A::spad_feedback_write_bits},
      {"spad_psum_read_pj_per_bit", Component::Spad, &T::spad_psum_read_pj_per_bit,
       &A::spad_psum_read_bits},
      {"spad_psum_write_pj_per_bit", Component::Spad, &T::spad_psum_write_pj_per_bit,
       &A::spad_psum_write_bits},
      {"noc_iact_pj_per_bit_hop", Component::Noc, &T::noc_iact_pj_per_bit_hop,
       &A::noc_iact_bit_hops},
      {"noc_weight_pj_per_bit_hop", Component::Noc, &T::noc_weight_pj_per_bit_hop,
       &A::noc_weight_bit_hops},
      {"noc_psum_pj_per_bit_hop", Component::Noc, &T::noc_psum_pj_per_bit_hop,
       &A::noc_psum_bit_hops},
      {"glb_iact_read_pj_per_bit", Component::Glb, &T::glb_iact_read_pj_per_bit,
       &A::glb_iact_read_bits, &T::glb_iact_bank_bytes},
      {"glb_iact_write_pj_per_bit", Component::Glb, &T::glb_iact_write_pj_per_bit,
       &A::glb_iact_write_bits, &T::glb_iact_bank_bytes},
      {"glb_psum_read_pj_per_bit", Component::Glb, &T::glb_psum_read_pj_per_bit,
       &A::glb_psum_read_bits, &T::glb_psum_bank_bytes},
      {"glb_psum_write_pj_per_bit", Component::Glb, &T::glb_psum_write_pj_per_bit,
       &A::glb_psum_write_bits, &T::glb_psum_bank_bytes},
      {"glb_grad_read_pj_per_bit", Component::Glb, &T::glb_grad_read_pj_per_bit,
       &A::glb_grad_read_bits, &T::glb_grad_bank_bytes},
      {"glb_grad_write_pj_per_bit", Component::Glb, &T::glb_grad_write_pj_per_bit,
       &A::glb_grad_write_bits, &T::glb_grad_bank_bytes},
      {"ppu_op_pj", Component::Ppu, &T::ppu_op_pj, &A::ppu_ops},
      {"dram_read_pj_per_bit", Component::Dram, &T::dram_read_pj_per_bit, nullptr},
      {"dram_write_pj_per_bit", Component::Dram, &T::dram_write_pj_per_bit, nullptr},
      {"dram_activate_pj", Component::Dram, &T::dram_activate_pj, nullptr},
      {"dram_background_mw", Component::Dram, &T::dram_background_mw, nullptr},
      {"leak_mac_lane_mw", Component::Leakage, &T::leak_mac_lane_mw, nullptr},
      {"leak_spad_mw_per_bit", Component::Leakage, &T::leak_spad_mw_per_bit, nullptr},
      {"leak_glb_mw_per_kib", Component::Leakage, &T::leak_glb_mw_per_kib, nullptr},
      {"leak_noc_mw_per_link_bit", Component::Leakage, &T::leak_noc_mw_per_link_bit, nullptr},
      {"leak_ppu_lane_mw", Component::Leakage, &T::leak_ppu_lane_mw, nullptr},
  };
  return entries;
}

EnergyTable parse_energy_table(const nlohmann::json& j, const std::string& file) {
  JsonFields root(j, file, "");
  EnergyTable table;
  table.name = root.string("name");
  root.string("description");
  JsonFields entries = root.object("entries");
  for (const auto& e : energy_entries()) {
    JsonFields entry = entries.object(e.key);
    table.*(e.value) = entry.number("value", 0.0, kMaxEnergyValue);
    if (entry.string("source").empty()) entry.fail("source", "must say where the value comes from");
    if (e.bank_bytes) {
      // The read and the write entry of a bank price the same SRAM: one capacity.
      // Bounded like the hardware config's GLB banks (1 GiB): the rescaling factor
      // sqrt(configured / stated) then stays below 2^15.
      const int64_t bytes = entry.integer("bank_bytes", 1, int64_t{1} << 30);
      if (table.*(e.bank_bytes) != 0 && table.*(e.bank_bytes) != bytes)
        entry.fail("bank_bytes", "must equal the bank_bytes of the other entry of the same bank (" +
                                     std::to_string(table.*(e.bank_bytes)) + ")");
      table.*(e.bank_bytes) = bytes;
    }
    entry.finish();
  }
  entries.finish();
  root.finish();
  return table;
}

EnergyTable scale_glb_to_banks(EnergyTable table, const GlbBankBytes& banks) {
  for (const auto& e : energy_entries()) {
    if (!e.bank_bytes) continue;
    const int64_t configured = e.bank_bytes == &EnergyTable::glb_iact_bank_bytes   ? banks.iact
                               : e.bank_bytes == &EnergyTable::glb_psum_bank_bytes ? banks.psum
                                                                                   : banks.grad;
    const int64_t stated = table.*(e.bank_bytes);
    if (configured < 1 || stated < 1)
      throw Error(table.name + ": " + e.key + ": GLB bank capacities must be >= 1 byte");
    table.*(e.value) *= std::sqrt(static_cast<double>(configured) / static_cast<double>(stated));
  }
  table.glb_iact_bank_bytes = banks.iact;
  table.glb_psum_bank_bytes = banks.psum;
  table.glb_grad_bank_bytes = banks.grad;
  return table;
}

double leakage_mw(const EnergyTable& t, const LeakageInventory& n) {
  return n.mac_lanes * t.leak_mac_lane_mw + n.spad_bits * t.leak_spad_mw_per_bit +
         n.glb_kib * t.leak_glb_mw_per_kib + n.noc_link_bits * t.leak_noc_mw_per_link_bit +
         n.ppu_lanes * t.leak_ppu_lane_mw;
}

EnergyTable load_energy_table(const std::string& path) {
  return parse_energy_table(load_json_file(path), path);
}

}  // namespace eg::energy
