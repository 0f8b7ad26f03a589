#pragma once
// Filter delivery to one PE row: for each segment (fold) of the pass, the row's filter set
// (identical for all its PEs) streams from off-chip memory through the router at
// `entries_per_cycle` and is multicast to the row; the PEs may use it `hop_cycles` after its last
// entry left the router. The filter spad holds `buffers` sets: set q may only be written once
// every PE of the row has finished set q - buffers, so with two buffers the next set loads while
// the current one computes, and with one every load is exposed. A set no PE of the row uses
// (0 entries) is announced at once. Rows may share a router (fewer weight routers than PE rows):
// `links` then grants one row per router and cycle, the others wait. A set also waits for its
// DRAM transfer: only the first `released` sets (release()) may start; the array engine releases
// each when its DMA transfer has completed (docs/DESIGN.md §5.6). A set in CSC form
// (features.onchip_compression) takes the transfers its compressed size gives (docs/DESIGN.md
// §5.3).
#include <algorithm>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "hw/array/glb_banks.hpp"
#include "hw/array/pe.hpp"

namespace eg::hw::array {

class WeightRouter {
 public:
  // `link`: the router (of the cluster's weight routers) this row's filters go through;
  // `entry_bits`: a dense entry's width.
  WeightRouter(int entries_per_cycle, int hop_cycles, int link = 0, int entry_bits = 0)
      : per_cycle_(entries_per_cycle), hop_(hop_cycles), link_(link), entry_bits_(entry_bits) {}

  // `entries[q]`: the row's filter entries of segment q. Dense, a set moves entries_per_cycle
  // entries per transfer; compressed (features.onchip_compression), set q takes `cycles[q]`
  // transfers carrying `bits[q]` bits (CscSize; both empty: dense).
  void start(std::vector<PeCore*> row, std::vector<int64_t> entries, int buffers,
             std::vector<int64_t> cycles = {}, std::vector<uint64_t> bits = {}) {
    row_ = std::move(row);
    entries_ = std::move(entries);
    cycles_ = std::move(cycles);
    bits_ = std::move(bits);
    if (cycles_.size() != entries_.size() || bits_.size() != entries_.size()) {
      cycles_.resize(entries_.size()), bits_.resize(entries_.size());
      for (size_t q = 0; q < entries_.size(); ++q)
        cycles_[q] = (entries_[q] + per_cycle_ - 1) / per_cycle_,
        bits_[q] = static_cast<uint64_t>(entries_[q]) * static_cast<uint64_t>(entry_bits_);
    }
    buffers_ = std::max(1, buffers);
    next_ = 0;
    remaining_ = -1;
    loaded_ = 0;
    released_ = INT64_MAX;
    in_flight_.clear();
    if (row_.empty()) next_ = static_cast<int64_t>(entries_.size());
  }
  void start(std::vector<PeCore*> row, int64_t entries) { start(std::move(row), {entries}, 1); }

  // `links` (null: the row has its router to itself) arbitrates routers shared by several rows.
  void tick(uint64_t cycle, GlbBanks* links = nullptr) {
    tick_arrivals(cycle);
    if (remaining_ < 0 && !begin_next(cycle)) return;
    if (links && !links->acquire(link_, cycle)) {
      ++blocked_cycles;
      return;
    }
    --remaining_;
    ++busy_cycles;
    if (remaining_ > 0) return;
    remaining_ = -1;
    // Readable `hop` cycles after the last entry; the link is free for the next set next cycle.
    in_flight_.emplace_back(next_++, cycle + 1 + static_cast<uint64_t>(hop_));
  }
  bool loaded() const { return loaded_ == static_cast<int64_t>(entries_.size()); }
  // Every set has been sent and announced: tick() can change nothing any more in this pass.
  bool idle() const {
    return remaining_ < 0 && next_ == static_cast<int64_t>(entries_.size()) && in_flight_.empty();
  }
  // Sets [0, n) have arrived from off-chip and may start (all may, until the first call).
  void release(int64_t n) { released_ = n; }
  // The router would start its next set now but for its DRAM transfer.
  bool waits_for_dram() const {
    return remaining_ < 0 && next_ < static_cast<int64_t>(entries_.size()) && next_ >= released_ &&
           entries_[static_cast<size_t>(next_)] > 0 && !buffer_blocked();
  }
  // Moving a set (needs its router every cycle).
  bool sending() const { return remaining_ > 0; }
  int link() const { return link_; }

  // Cycle skipping: how many of the ticks after `now` only move the set in transit (not its last
  // transfer) or wait for a buffer, as long as the row's PEs finish no segment.
  int64_t quiet_ticks(uint64_t now) const {
    int64_t ticks = PeCore::kQuietForever;
    if (!in_flight_.empty()) ticks = static_cast<int64_t>(in_flight_.front().second - now) - 1;
    if (remaining_ > 0) return std::min(ticks, remaining_ - 1);
    if (next_ < static_cast<int64_t>(entries_.size()) && !buffer_blocked() &&
        (next_ < released_ || entries_[static_cast<size_t>(next_)] == 0))
      return 0;
    return ticks;  // blocked on a buffer or on DRAM (the engine wakes the cluster on release)
  }
  // Accounts `ticks` <= quiet_ticks(now) ticks at once, each granted its router.
  void skip_quiet(int64_t ticks, GlbBanks* links = nullptr) {
    if (remaining_ <= 0) return;
    if (links) links->count_granted(static_cast<uint64_t>(ticks));
    remaining_ -= ticks;
    busy_cycles += static_cast<uint64_t>(ticks);
  }

  // A set's entries and bits count when it starts (every set started completes in its pass).
  uint64_t entries_moved = 0, entry_hops = 0, bits_moved = 0, bit_hops = 0, busy_cycles = 0,
           blocked_cycles = 0;

 private:
  // Starts the next set if its buffer is free; sets with no entries complete immediately.
  bool begin_next(uint64_t cycle) {
    while (next_ < static_cast<int64_t>(entries_.size())) {
      if (buffer_blocked()) return false;
      const int64_t n = entries_[static_cast<size_t>(next_)];
      if (n > 0) {
        if (next_ >= released_) return false;
        // remaining_: transfers left of the set in transit.
        const size_t q = static_cast<size_t>(next_);
        remaining_ = std::max<int64_t>(1, cycles_[q]);
        entries_moved += static_cast<uint64_t>(n);
        entry_hops += static_cast<uint64_t>(n) * row_.size();
        bits_moved += bits_[q];
        bit_hops += bits_[q] * row_.size();
        return true;
      }
      in_flight_.emplace_back(next_++, cycle);
      tick_arrivals(cycle);
    }
    return false;
  }
  // Set next_ needs the buffer of set next_ - buffers, which a PE of the row still reads.
  bool buffer_blocked() const {
    if (next_ < buffers_) return false;
    for (const PeCore* pe : row_)
      if (pe->segments_done() < next_ - buffers_ + 1) return true;
    return false;
  }
  void tick_arrivals(uint64_t cycle) {
    while (!in_flight_.empty() && in_flight_.front().second <= cycle) {
      loaded_ = in_flight_.front().first + 1;
      in_flight_.pop_front();
      announce();
    }
  }
  void announce() {
    for (PeCore* pe : row_) pe->set_filter_sets_loaded(loaded_);
  }

  int per_cycle_, hop_, link_, entry_bits_;
  std::vector<PeCore*> row_;
  std::vector<int64_t> entries_, cycles_;
  std::vector<uint64_t> bits_;
  int buffers_ = 1;
  int64_t next_ = 0, remaining_ = -1, loaded_ = 0, released_ = INT64_MAX;
  std::deque<std::pair<int64_t, uint64_t>> in_flight_;  // (set, cycle it becomes readable)
};

}  // namespace eg::hw::array
