#pragma once
// A PE column's partial sums: the PEs of a column add their psums vertically, so a position's
// psum set (one per lane) is complete when every active PE of the column has produced it; the
// column's psum router then moves it to a psum GLB bank, `psums_per_transfer` per link transfer,
// each transfer needing one bank access (two when it accumulates onto an earlier fold: read and
// write). PEs may run ahead by their psum slots; beyond that they stall on output.
//
// The vertical accumulation takes time: a PE's psums travel `hops` PE-to-PE links (hop_cycles
// each) to the column's psum router, each PE adding its own on the way, so a position's sum
// reaches the router at max over PEs of (cycle the PE produced it + its hops x hop_cycles).
// Columns may share a psum router (fewer psum routers than PE columns): `links` then grants one
// column per router and cycle.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <vector>

#include "hw/array/glb_banks.hpp"
#include "hw/array/pe.hpp"

namespace eg::hw::array {

class PsumColumn {
 public:
  // `hops[i]`: links between member i and the psum router (empty: all 0); `link`: the router.
  void start(std::vector<const PeCore*> members, int64_t positions, int64_t lanes,
             int psums_per_transfer, bool accumulate, int bank, int link = 0,
             std::vector<int> hops = {}, int hop_cycles = 0) {
    members_ = std::move(members);
    hops_ = std::move(hops);
    hops_.resize(members_.size(), 0);
    hop_cycles_ = static_cast<uint64_t>(hop_cycles);
    link_ = link;
    seen_.assign(members_.size(), 0);
    min_seen_ = 0;
    due_.clear();
    started_ = 0;
    positions_ = members_.empty() ? 0 : positions;
    transfers_per_position_ = (lanes + psums_per_transfer - 1) / psums_per_transfer;
    psums_per_transfer_ = psums_per_transfer;
    lanes_ = lanes;
    accesses_per_transfer_ = accumulate ? 2 : 1;
    bank_ = bank;
    sent_ = 0;
    transfers_left_ = accesses_left_ = 0;
  }

  void tick(uint64_t cycle, GlbBanks& banks, GlbBanks* links = nullptr) {
    step(cycle, banks, links, true);
  }
  // tick() for a caller that knows whether a member finished a position this cycle
  // (`members_produced`): only then can a member's produced() have moved, so only then is there
  // anything to observe (the cluster's per-cycle path).
  // Returns true when a position's last transfer completed (sent() moved).
  bool step(uint64_t cycle, GlbBanks& banks, GlbBanks* links, bool members_produced) {
    if (members_produced) observe(cycle);
    if (transfers_left_ == 0) {
      if (sent_ == positions_ || !next_arrived(cycle)) return false;
      due_.pop_front();
      ++started_;
      transfers_left_ = transfers_per_position_;
      accesses_left_ = accesses_per_transfer_;
      // Vertical accumulation: every PE but the top one passes its psums one hop up.
      vertical_psum_hops += static_cast<uint64_t>(lanes_) * (members_.size() - 1);
    }
    if (links && !links->acquire(link_, cycle)) return false;
    if (!banks.acquire(bank_, cycle)) return false;
    ++glb_accesses;
    if (--accesses_left_ > 0) return false;
    move_transfer();
    if (transfers_left_ != 0) return false;
    ++sent_;
    return true;
  }

  // Cycle skipping: true while the column moves a position's psums (it needs a bank port every
  // cycle); false while it waits for its PEs.
  bool transferring() const { return transfers_left_ > 0; }
  int bank() const { return bank_; }
  int link() const { return link_; }
  // How many of the next ticks change nothing but transfer counters, provided every port request
  // is granted and the PEs produce nothing new: 0 when the next tick starts or completes a
  // position.
  int64_t quiet_ticks(uint64_t now) const {
    if (transfers_left_ == 0) {
      if (sent_ == positions_ || !all_produced_next()) return PeCore::kQuietForever;
      // The next position's sum is on its way up the column: quiet until it reaches the router.
      return due_.front() <= now + 1 ? 0 : static_cast<int64_t>(due_.front() - now - 1);
    }
    return (transfers_left_ - 1) * accesses_per_transfer_ + accesses_left_ - 1;
  }
  // Accounts `ticks` <= quiet_ticks() ticks from cycle `first` at once, each granted a port of
  // its bank.
  void skip_quiet(int64_t ticks, GlbBanks& banks, GlbBanks* links = nullptr, uint64_t first = 0) {
    if (transfers_left_ == 0) return;
    banks.count_granted(static_cast<uint64_t>(ticks));
    banks.record_skipped(bank_, first, static_cast<uint64_t>(ticks));
    if (links) links->count_granted(static_cast<uint64_t>(ticks));
    glb_accesses += static_cast<uint64_t>(ticks);
    for (int64_t i = 0; i < ticks; ++i) {
      if (--accesses_left_ > 0) continue;
      move_transfer();
    }
  }

  int64_t ready() const {
    int64_t r = INT64_MAX;
    for (const PeCore* pe : members_) r = std::min(r, pe->produced());
    return members_.empty() ? 0 : r;
  }
  int64_t sent() const { return sent_; }
  bool drained() const { return sent_ == positions_; }

  uint64_t psums_moved = 0, psums_accumulated = 0, glb_accesses = 0, vertical_psum_hops = 0;

 private:
  // A transfer's last access done: its psums have moved.
  void move_transfer() {
    const int64_t moved = std::min<int64_t>(
        psums_per_transfer_,
        lanes_ - (transfers_per_position_ - transfers_left_) * psums_per_transfer_);
    psums_moved += static_cast<uint64_t>(moved);
    if (accesses_per_transfer_ == 2) psums_accumulated += static_cast<uint64_t>(moved);
    accesses_left_ = accesses_per_transfer_;
    --transfers_left_;
  }

  // Records, for positions members produced since the last call, when their psums reach the
  // router. Members only produce in simulated cycles, and the column ticks after its PEs in each.
  void observe(uint64_t cycle) {
    for (size_t m = 0; m < members_.size(); ++m) {
      const int64_t produced = members_[m]->produced();
      for (; seen_[m] < produced; ++seen_[m]) {
        const size_t at = static_cast<size_t>(seen_[m] - started_);
        if (at >= due_.size()) due_.resize(at + 1, 0);
        due_[at] = std::max(due_[at], cycle + static_cast<uint64_t>(hops_[m]) * hop_cycles_);
      }
    }
    min_seen_ = members_.empty() ? 0 : *std::min_element(seen_.begin(), seen_.end());
  }
  // Every member has produced position started_ (seen_ only moves in observe()).
  bool all_produced_next() const { return !members_.empty() && min_seen_ > started_; }
  bool next_arrived(uint64_t cycle) const { return all_produced_next() && due_.front() <= cycle; }

  std::vector<const PeCore*> members_;
  std::vector<int> hops_;
  std::vector<int64_t> seen_;  // per member: positions recorded by observe()
  int64_t min_seen_ = 0;       // the least of seen_
  std::deque<uint64_t> due_;   // from position started_ on: cycle its sum reaches the router
  int64_t started_ = 0;        // positions whose transfer has started
  uint64_t hop_cycles_ = 0;
  int link_ = 0;
  int64_t positions_ = 0, lanes_ = 0, sent_ = 0;
  int64_t transfers_per_position_ = 0, transfers_left_ = 0;
  int psums_per_transfer_ = 1, accesses_per_transfer_ = 1, accesses_left_ = 0;
  int bank_ = 0;
};

}  // namespace eg::hw::array
