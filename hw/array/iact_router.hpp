#pragma once
// Input-activation delivery: a router moves `entries_per_cycle` entries (link bits / operand bits)
// per cycle from a GLB bank to one multicast group (every PE that needs the same input row gets
// the same transfer), choosing among its groups round-robin; data reaches the PEs `hop_cycles`
// later. A group is served only when every member has scratchpad space, and only when its bank
// grants a port this cycle. A group whose stream is held in CSC form (features.onchip_compression)
// takes, per segment, the transfers its compressed size gives instead (set_compressed()).
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "hw/array/glb_banks.hpp"
#include "hw/array/pe.hpp"

namespace eg::hw::array {

class MulticastGroup {
 public:
  static constexpr int kMaxHop = 64;
  MulticastGroup(std::vector<const PeCore*> members, int64_t total, int bank)
      : MulticastGroup(std::move(members), std::vector<int64_t>{total}, std::vector<int>{bank}) {}
  // A stream of several segments: segment i ends at entry `segment_ends[i]` and is read from
  // `banks[i]` (its input row's bank; -1 for a padding row).
  MulticastGroup(std::vector<const PeCore*> members, std::vector<int64_t> segment_ends,
                 std::vector<int> banks)
      : total_(segment_ends.empty() ? 0 : segment_ends.back()),
        segment_end_(segment_ends.empty() ? 0 : segment_ends.front()),
        bank_(banks.empty() ? -1 : banks.front()),
        members_(std::move(members)),
        segment_ends_(std::move(segment_ends)),
        banks_(std::move(banks)) {
    refresh_space();
  }
  // Compressed segments (features.onchip_compression): segment i takes `cycles[i]` link transfers
  // (CscSize::link_cycles) and carries `bits[i]` bits. Its entries arrive spread evenly over its
  // transfers (a per-segment average: the exact position of each non-zero within the segment is
  // not modelled, its transfer count and bits are); a transfer may complete no entry.
  void set_compressed(std::vector<int64_t> cycles, std::vector<uint64_t> bits) {
    seg_cycles_ = std::move(cycles);
    seg_bits_ = std::move(bits);
    seg_start_ = 0, progress_ = 0;
  }
  bool compressed() const { return !seg_cycles_.empty(); }
  // Compressed: entries the next transfer of the current segment completes when at most `space`
  // more may be delivered (call bank() first). Progress runs in units where a transfer moves E
  // (the segment's entries) of E x L (L: its transfers), entry j being complete at (j + 1) x L.
  int64_t compressed_amount(int64_t space) {
    const int64_t e = segment_end_ - seg_start_, l = seg_cycles_[segment_];
    const int64_t d = delivered_ - seg_start_;
    int64_t q = std::min(progress_ + e, e * l);
    if (d + space < e) q = std::min(q, (d + space + 1) * l - 1);
    next_progress_ = q;
    return q / l - d;
  }
  // Commits the transfer compressed_amount() sized (before send()); returns the bits it carried.
  uint64_t commit_compressed() {
    const uint64_t total =
        static_cast<uint64_t>((segment_end_ - seg_start_) * seg_cycles_[segment_]);
    const uint64_t bits = seg_bits_[segment_];
    const uint64_t before = bits * static_cast<uint64_t>(progress_) / total;
    progress_ = next_progress_;
    return bits * static_cast<uint64_t>(progress_) / total - before;
  }

  // Applies arrivals due at `cycle`; call once per cycle before the PEs tick.
  void advance(uint64_t cycle) {
    if (in_flight_total_ == 0) return;
    int64_t& slot = in_flight_[cycle % kMaxHop];
    arrived_ += slot;
    in_flight_total_ -= slot;
    slot = 0;
  }
  // Returns true when the group had nothing in flight before and has now (see in_flight()).
  bool send(uint64_t cycle, int hop, int64_t entries) {
    delivered_ += entries;
    if (hop == 0) {
      arrived_ += entries;
      return false;
    }
    in_flight_[(cycle + static_cast<uint64_t>(hop)) % kMaxHop] += entries;
    const bool was_empty = in_flight_total_ == 0;
    in_flight_total_ += entries;
    return was_empty;
  }
  // Entries sent and not yet arrived.
  bool in_flight() const { return in_flight_total_ != 0; }
  // Ticks after `now` before the first one that applies an arrival (cycle skipping).
  int64_t ticks_before_arrival(uint64_t now) const {
    if (in_flight_total_ == 0) return PeCore::kQuietForever;
    for (int64_t d = 1; d < kMaxHop; ++d)
      if (in_flight_[(now + static_cast<uint64_t>(d)) % kMaxHop] != 0) return d - 1;
    return 0;
  }
  int64_t pending() const { return total_ - delivered_; }
  // Entries every member can still take.
  int64_t space(int64_t capacity) const { return capacity - (delivered_ - min_released_); }
  // A member's released() moves only when it finishes a position: whoever steps the members calls
  // this then (the cluster, in the cycle it happens), so space() need not visit every member each
  // cycle. Members' state at construction is read here.
  void refresh_space() {
    int64_t min_released = INT64_MAX;
    for (const PeCore* pe : members_) min_released = std::min(min_released, pe->released());
    min_released_ = members_.empty() ? 0 : min_released;
  }
  int64_t arrived() const { return arrived_; }
  // Bank of the next entry to send; -1: a padding row, generated as zeros without a GLB read.
  int bank() {
    while (segment_ + 1 < segment_ends_.size() && delivered_ >= segment_end_) {
      seg_start_ = segment_end_, progress_ = 0;
      ++segment_;
      segment_end_ = segment_ends_[segment_];
      bank_ = banks_[segment_];
    }
    return bank_;
  }
  // Entries that may go in one transfer: a transfer does not cross into the next row.
  int64_t segment_left() const { return segment_end_ - delivered_; }
  size_t fanout() const { return members_.size(); }

 private:
  // What a router reads every cycle first, in one cache line (host speed only).
  int64_t total_ = 0, delivered_ = 0, arrived_ = 0, in_flight_total_ = 0, min_released_ = 0;
  int64_t segment_end_ = 0;  // segment_ends_[segment_]
  size_t segment_ = 0;
  int bank_ = -1;  // banks_[segment_]
  std::vector<const PeCore*> members_;
  std::vector<int64_t> segment_ends_;
  std::vector<int> banks_;
  // Compressed segments only: transfers and bits per segment, the current segment's first entry
  // and progress (compressed_amount()).
  std::vector<int64_t> seg_cycles_;
  std::vector<uint64_t> seg_bits_;
  int64_t seg_start_ = 0, progress_ = 0, next_progress_ = 0;
  std::array<int64_t, kMaxHop> in_flight_{};
};

struct RouterTraffic {
  uint64_t entries = 0;         // entries moved (once per multicast)
  uint64_t entry_hops = 0;      // entries x destinations reached
  uint64_t glb_reads = 0;       // entries read from GLB banks
  uint64_t bits = 0;            // bits moved (compressed: values, counts and pointers)
  uint64_t bit_hops = 0;        // bits x destinations reached
  uint64_t glb_read_bits = 0;   // bits read from GLB banks
  uint64_t busy_cycles = 0;     // cycles the link carried data
  uint64_t blocked_cycles = 0;  // cycles lost to a bank conflict
  RouterTraffic& operator+=(const RouterTraffic& o) {
    entries += o.entries, entry_hops += o.entry_hops, glb_reads += o.glb_reads;
    bits += o.bits, bit_hops += o.bit_hops, glb_read_bits += o.glb_read_bits;
    busy_cycles += o.busy_cycles, blocked_cycles += o.blocked_cycles;
    return *this;
  }
};

class IactRouter {
 public:
  // `entry_bits`: width of a dense entry (the bits a dense transfer's entries carry).
  IactRouter(int entries_per_cycle, int hop_cycles, int entry_bits = 0)
      : per_cycle_(entries_per_cycle), hop_(hop_cycles), entry_bits_(entry_bits) {}
  void clear() { groups_.clear(), next_ = 0; }
  void add(MulticastGroup* g) { groups_.push_back(g); }

  // Returns the group it sent to when that group had nothing in flight before (its owner then
  // lists it for advance()), else null.
  MulticastGroup* tick(uint64_t cycle, GlbBanks& banks, int64_t spad_capacity) {
    const size_t n = groups_.size();
    for (size_t i = 0, at = next_; i < n; ++i, at = at + 1 == n ? 0 : at + 1) {
      MulticastGroup* g = groups_[at];
      if (g->pending() == 0) continue;
      // A group with entries left always has some in its current segment: only a member's full
      // scratchpad can keep it from being served.
      const int64_t space = g->space(spad_capacity);
      if (space <= 0) continue;
      const int bank = g->bank();
      if (g->compressed()) {
        const int64_t amount = g->compressed_amount(space);
        if (bank >= 0 && !banks.acquire(bank, cycle)) {
          ++traffic.blocked_cycles;
          return nullptr;
        }
        const uint64_t bits = g->commit_compressed();
        const bool now_in_flight = amount > 0 && g->send(cycle, hop_, amount);
        count(g, amount, bits, bank >= 0);
        next_ = at + 1 == n ? 0 : at + 1;
        return now_in_flight ? g : nullptr;
      }
      const int64_t amount =
          std::min({int64_t{per_cycle_}, g->pending(), g->segment_left(), space});
      if (amount <= 0) continue;
      if (bank >= 0 && !banks.acquire(bank, cycle)) {
        ++traffic.blocked_cycles;
        return nullptr;  // the chosen group keeps its turn; the link idles this cycle
      }
      const bool now_in_flight = g->send(cycle, hop_, amount);
      count(g, amount, static_cast<uint64_t>(amount) * static_cast<uint64_t>(entry_bits_),
            bank >= 0);
      next_ = at + 1 == n ? 0 : at + 1;
      return now_in_flight ? g : nullptr;
    }
    return nullptr;
  }

  // True when tick() would do nothing until a member PE releases space: every group with entries
  // left has a member whose scratchpad is full (cycle skipping).
  bool quiet(int64_t spad_capacity) const {
    for (const MulticastGroup* g : groups_)
      if (g->pending() > 0 && g->space(spad_capacity) > 0) return false;
    return true;
  }

  RouterTraffic traffic;

 private:
  // One transfer of `entries` entries in `bits` bits to group g (read from a bank or not).
  void count(const MulticastGroup* g, int64_t entries, uint64_t bits, bool from_bank) {
    const uint64_t n = static_cast<uint64_t>(entries), fanout = g->fanout();
    traffic.entries += n;
    traffic.entry_hops += n * fanout;
    traffic.bits += bits;
    traffic.bit_hops += bits * fanout;
    if (from_bank) traffic.glb_reads += n, traffic.glb_read_bits += bits;
    ++traffic.busy_cycles;
  }

  int per_cycle_, hop_, entry_bits_;
  std::vector<MulticastGroup*> groups_;
  size_t next_ = 0;
};

}  // namespace eg::hw::array
