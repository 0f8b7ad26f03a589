#pragma once
// Filter delivery to one PE row: the row's filter rows (identical for all its PEs) stream from
// off-chip memory through the router at `entries_per_cycle` and are multicast to the row; the PEs
// may start `hop_cycles` after the last entry.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "hw/array/pe.hpp"

namespace eg::hw::array {

class WeightRouter {
 public:
  WeightRouter(int entries_per_cycle, int hop_cycles)
      : per_cycle_(entries_per_cycle), hop_(hop_cycles) {}

  void start(std::vector<Pe*> row, int64_t entries) {
    row_ = std::move(row);
    remaining_ = entries;
    countdown_ = row_.empty() ? -1 : hop_;
    if (remaining_ == 0) release_if_done();
  }
  void tick() {
    if (remaining_ > 0) {
      const int64_t n = std::min<int64_t>(per_cycle_, remaining_);
      remaining_ -= n;
      entries_moved += static_cast<uint64_t>(n);
      entry_hops += static_cast<uint64_t>(n) * row_.size();
      return;
    }
    release_if_done();
  }
  bool loaded() const { return countdown_ < 0; }

  uint64_t entries_moved = 0, entry_hops = 0;

 private:
  void release_if_done() {
    if (countdown_ < 0) return;
    if (countdown_-- > 0) return;
    for (Pe* pe : row_) pe->weights_loaded();
    countdown_ = -1;
  }
  int per_cycle_, hop_;
  std::vector<Pe*> row_;
  int64_t remaining_ = 0;
  int countdown_ = -1;
};

}  // namespace eg::hw::array
