#pragma once
// A PE column's partial sums: the PEs of a column add their psums vertically, so a position's
// psum set (one per lane) is complete when every active PE of the column has produced it; the
// column's psum router then moves it to a psum GLB bank, `psums_per_transfer` per link transfer,
// each transfer needing one bank access (two when it accumulates onto an earlier fold: read and
// write). PEs may run ahead by their psum slots; beyond that they stall on output.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "hw/array/glb_banks.hpp"
#include "hw/array/pe.hpp"

namespace eg::hw::array {

class PsumColumn {
 public:
  void start(std::vector<const Pe*> members, int64_t positions, int64_t lanes,
             int psums_per_transfer, bool accumulate, int bank) {
    members_ = std::move(members);
    positions_ = members_.empty() ? 0 : positions;
    transfers_per_position_ = (lanes + psums_per_transfer - 1) / psums_per_transfer;
    psums_per_transfer_ = psums_per_transfer;
    lanes_ = lanes;
    accesses_per_transfer_ = accumulate ? 2 : 1;
    bank_ = bank;
    sent_ = 0;
    transfers_left_ = accesses_left_ = 0;
  }

  void tick(uint64_t cycle, GlbBanks& banks) {
    if (transfers_left_ == 0) {
      if (sent_ == positions_ || ready() <= sent_) return;
      transfers_left_ = transfers_per_position_;
      accesses_left_ = accesses_per_transfer_;
      // Vertical accumulation: every PE but the top one passes its psums one hop up.
      vertical_psum_hops += static_cast<uint64_t>(lanes_) * (members_.size() - 1);
    }
    if (!banks.acquire(bank_, cycle)) return;
    ++glb_accesses;
    if (--accesses_left_ > 0) return;
    move_transfer();
    if (transfers_left_ == 0) ++sent_;
  }

  // Cycle skipping: true while the column moves a position's psums (it needs a bank port every
  // cycle); false while it waits for its PEs.
  bool transferring() const { return transfers_left_ > 0; }
  int bank() const { return bank_; }
  // How many of the next ticks change nothing but transfer counters, provided every port request
  // is granted and the PEs produce nothing new: 0 when the next tick starts or completes a
  // position.
  int64_t quiet_ticks() const {
    if (transfers_left_ == 0)
      return sent_ == positions_ || ready() <= sent_ ? Pe::kQuietForever : 0;
    return (transfers_left_ - 1) * accesses_per_transfer_ + accesses_left_ - 1;
  }
  // Accounts `ticks` <= quiet_ticks() ticks at once, each granted a port of its bank.
  void skip_quiet(int64_t ticks, GlbBanks& banks) {
    if (transfers_left_ == 0) return;
    banks.count_granted(static_cast<uint64_t>(ticks));
    glb_accesses += static_cast<uint64_t>(ticks);
    for (int64_t i = 0; i < ticks; ++i) {
      if (--accesses_left_ > 0) continue;
      move_transfer();
    }
  }

  int64_t ready() const {
    int64_t r = INT64_MAX;
    for (const Pe* pe : members_) r = std::min(r, pe->produced());
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

  std::vector<const Pe*> members_;
  int64_t positions_ = 0, lanes_ = 0, sent_ = 0;
  int64_t transfers_per_position_ = 0, transfers_left_ = 0;
  int psums_per_transfer_ = 1, accesses_per_transfer_ = 1, accesses_left_ = 0;
  int bank_ = 0;
};

}  // namespace eg::hw::array
