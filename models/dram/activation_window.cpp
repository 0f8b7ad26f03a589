#include "models/dram/activation_window.hpp"

#include <algorithm>
#include <iterator>

namespace eg::dram {

uint64_t ActivationWindow::earliest(uint64_t candidate) const {
  uint64_t t = candidate;
  // Every retry moves t later, either to satisfy a limit against an ACT before it or past the next
  // placed ACT; there are finitely many placed ACTs, so the loop ends.
  for (;;) {
    const auto after_t = placed_.upper_bound(t);
    if (after_t != placed_.begin() && t < *std::prev(after_t) + rrd_) {
      t = *std::prev(after_t) + rrd_;
      continue;
    }
    if (after_t != placed_.end() && *after_t < t + rrd_) {
      t = *after_t + rrd_;
      continue;
    }
    // Any five consecutive ACTs must span at least tFAW. Only runs of five that include t are new;
    // they are made of up to four placed ACTs on each side of t (nearest first here).
    uint64_t before[4], after[4];
    int n_before = 0, n_after = 0;
    for (auto it = after_t; n_before < 4 && it != placed_.begin();) before[n_before++] = *--it;
    for (auto it = after_t; n_after < 4 && it != placed_.end(); ++it) after[n_after++] = *it;
    bool moved = false;
    for (int k = 0; k <= 4 && !moved; ++k) {  // the run: 4 - k ACTs before t, t, k ACTs after t
      if (4 - k > n_before || k > n_after) continue;
      const uint64_t first = k == 4 ? t : before[3 - k];
      const uint64_t last = k == 0 ? t : after[k - 1];
      if (last - first >= faw_) continue;
      // With no ACT after t in the run, a later t widens it; otherwise no t before the next placed
      // ACT fits, so the search continues after it.
      t = k == 0 ? first + faw_ : after[0] + rrd_;
      moved = true;
    }
    if (!moved) return t;
  }
}

void ActivationWindow::forget_before(uint64_t lowest_candidate) {
  const uint64_t horizon = std::max(faw_, rrd_);
  while (!placed_.empty() && *placed_.begin() + horizon <= lowest_candidate)
    placed_.erase(placed_.begin());
}

}  // namespace eg::dram
