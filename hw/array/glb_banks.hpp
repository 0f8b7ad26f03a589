#pragma once
// A set of GLB SRAM banks with a number of ports each: a bank serves at most `ports_per_bank`
// accesses per cycle; a further request in the same cycle conflicts and its requester stalls.
//
// The DMA writes fills into the banks and reads drains out of them through the same ports, with
// lower priority than the array (docs/DESIGN.md §5.4): a partition's banks record how many ports
// the array used in each cycle (as runs of cycles with the same count), and dma_access() places a
// DMA transfer's accesses in the port cycles the array left free.
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
  // `record`: keep the array's port use for dma_access() (the GLB partitions' banks; not the
  // router links, which share this arbitration).
  GlbBanks(int banks, int ports_per_bank, bool record = false)
      : ports_(ports_per_bank),
        record_(record),
        pending_(static_cast<size_t>(banks)),
        runs_(record ? static_cast<size_t>(banks) : 0),
        dma_free_(record ? static_cast<size_t>(banks) : 0, 0) {}

  int banks() const { return static_cast<int>(pending_.size()); }
  int ports() const { return ports_; }
  // Claims a port of `bank` for `cycle`; false (and a counted conflict) when all are taken.
  bool acquire(int bank, uint64_t cycle) {
    Run& p = pending_[static_cast<size_t>(bank)];
    // (A pending run of skipped cycles never starts at a cycle that is ticked.)
    if (p.start != cycle) {
      if (record_) flush(bank);
      p = {cycle, cycle + 1, 0};
    }
    if (p.used >= ports_) {
      ++conflicts;
      return false;
    }
    ++p.used;
    ++accesses;
    return true;
  }

  // Accesses granted in cycles that were skipped (no other requester wanted the bank's ports).
  void count_granted(uint64_t n) { accesses += n; }
  // One requester used a port of `bank` in each of the `n` skipped cycles from `first` (several
  // requesters of the same bank in the same skipped cycles call it once each).
  void record_skipped(int bank, uint64_t first, uint64_t n) {
    if (!record_ || n == 0) return;
    Run& p = pending_[static_cast<size_t>(bank)];
    if (p.start != first || p.end != first + n) flush(bank), p = {first, first + n, 0};
    ++p.used;
  }

  // --- The DMA's side. Cycles recorded by acquire() and record_skipped() are the array's tick
  // stamps; `offset` (array cycle minus stamp, constant within a pass) turns them into array
  // cycles when they are stored, so call flush_all() at each pass end and set the next pass's
  // offset before it ticks.
  void set_offset(uint64_t offset) { offset_ = offset; }
  void flush_all() {
    for (int b = 0; b < banks(); ++b) flush(b);
  }
  // Forgets the recorded use and the DMA's bookkeeping (each problem starts with the array idle
  // and no transfer in the banks).
  void reset_history() {
    for (auto& r : runs_) r.clear();
    for (Run& p : pending_) p = Run{};
    for (uint64_t& f : dma_free_) f = 0;
    offset_ = 0;
  }
  // Drops the use recorded before array cycle `cycle` (no DMA access is placed before it again).
  void forget_before(uint64_t cycle) {
    for (auto& runs : runs_) {
      size_t keep = 0;
      while (keep < runs.size() && runs[keep].end <= cycle) ++keep;
      if (keep > 0) runs.erase(runs.begin(), runs.begin() + static_cast<std::ptrdiff_t>(keep));
    }
  }
  // The DMA needs `accesses` port cycles of `bank` from array cycle `from` on: it takes every port
  // the array left free in each cycle (all of them in cycles after the recorded use), one DMA
  // transfer at a time per bank. Returns the cycle after its last access, and books the bank for
  // the DMA until then.
  uint64_t dma_access(int bank, uint64_t from, uint64_t accesses);

  uint64_t accesses = 0, conflicts = 0;

 private:
  static constexpr uint64_t kNone = UINT64_MAX;
  // Cycles [start, end) in each of which the array used `used` ports of a bank.
  struct Run {
    uint64_t start = kNone, end = kNone;
    int used = 0;
  };
  void flush(int bank) {
    Run& p = pending_[static_cast<size_t>(bank)];
    if (p.start == kNone || p.used == 0) return;
    std::vector<Run>& runs = runs_[static_cast<size_t>(bank)];
    const Run r{p.start + offset_, p.end + offset_, p.used};
    if (!runs.empty() && runs.back().end == r.start && runs.back().used == r.used)
      runs.back().end = r.end;
    else
      runs.push_back(r);
    p.used = 0;
  }

  int ports_;
  bool record_;
  uint64_t offset_ = 0;
  std::vector<Run> pending_;            // per bank: the use not yet stored (the current cycle's)
  std::vector<std::vector<Run>> runs_;  // per bank, in cycle order, array cycles
  std::vector<uint64_t> dma_free_;      // per bank: the cycle after the DMA's last booked access
};

inline uint64_t GlbBanks::dma_access(int bank, uint64_t from, uint64_t accesses) {
  uint64_t& free = dma_free_[static_cast<size_t>(bank)];
  uint64_t t = from > free ? from : free;
  if (accesses == 0) return t;
  const uint64_t ports = static_cast<uint64_t>(ports_);
  uint64_t need = accesses;
  auto take = [&](uint64_t cycles, uint64_t per_cycle) {
    // Uses up to `cycles` cycles at `per_cycle` accesses each; true when the need is met.
    if (per_cycle == 0) return t += cycles, false;
    if (need <= cycles * per_cycle) return t += (need + per_cycle - 1) / per_cycle, need = 0, true;
    need -= cycles * per_cycle;
    t += cycles;
    return false;
  };
  for (const Run& r : runs_[static_cast<size_t>(bank)]) {
    if (r.end <= t) continue;
    if (r.start > t && take(r.start - t, ports)) return free = t;
    if (take(r.end - t, ports - static_cast<uint64_t>(r.used))) return free = t;
  }
  take(UINT64_MAX / 2 - t, ports);  // after the recorded use every port is free
  return free = t;
}

}  // namespace eg::hw::array
