#pragma once
// A set of GLB SRAM banks with a number of ports each: a bank serves at most `ports_per_bank`
// accesses per cycle; a further request in the same cycle conflicts and its requester stalls.
#include <cstdint>
#include <vector>

namespace eg::hw::array {

// Entries of `entry_bits` one link transfer moves to or from a GLB bank: a bank access delivers
// `bank_width_bits`, so the narrower of link and bank bounds it (at least one entry: the config
// checks both carry one).
inline int link_entries(int link_bits, int bank_width_bits, int entry_bits) {
  const int bits = link_bits < bank_width_bits ? link_bits : bank_width_bits;
  return bits / entry_bits > 0 ? bits / entry_bits : 1;
}

class GlbBanks {
 public:
  GlbBanks(int banks, int ports_per_bank)
      : ports_(ports_per_bank),
        cycle_(static_cast<size_t>(banks), UINT64_MAX),
        used_(static_cast<size_t>(banks), 0) {}

  int banks() const { return static_cast<int>(cycle_.size()); }
  int ports() const { return ports_; }
  // Claims a port of `bank` for `cycle`; false (and a counted conflict) when all are taken.
  bool acquire(int bank, uint64_t cycle) {
    const size_t b = static_cast<size_t>(bank);
    if (cycle_[b] != cycle) cycle_[b] = cycle, used_[b] = 0;
    if (used_[b] >= ports_) {
      ++conflicts;
      return false;
    }
    ++used_[b];
    ++accesses;
    return true;
  }

  // Accesses granted in cycles that were skipped (no other requester wanted the bank's ports).
  void count_granted(uint64_t n) { accesses += n; }

  uint64_t accesses = 0, conflicts = 0;

 private:
  int ports_;
  std::vector<uint64_t> cycle_;
  std::vector<int> used_;
};

}  // namespace eg::hw::array
