#pragma once
// The LPDDR4 activation limits of one channel: ACTs to different banks at least tRRD apart, and at
// most four ACTs in any tFAW window (JESD209-4). The channel prepares a bank from its request's
// arrival, so a new ACT may fall before ACTs already placed for other banks; the placed ACTs are
// therefore kept sorted and a new one is fitted into the first gap where both limits hold.
#include <cstddef>
#include <cstdint>
#include <set>

namespace eg::dram {

class ActivationWindow {
 public:
  ActivationWindow(uint64_t tRRD, uint64_t tFAW) : rrd_(tRRD), faw_(tFAW) {}

  // The earliest cycle >= candidate at which an ACT keeps both limits with every placed ACT.
  uint64_t earliest(uint64_t candidate) const;
  void place(uint64_t cycle) { placed_.insert(cycle); }
  // Drops ACTs that can no longer constrain: every later candidate is >= `lowest_candidate`, and
  // an ACT max(tFAW, tRRD) or more before it limits nothing.
  void forget_before(uint64_t lowest_candidate);
  std::size_t size() const { return placed_.size(); }

 private:
  uint64_t rrd_, faw_;
  std::multiset<uint64_t> placed_;
};

}  // namespace eg::dram
