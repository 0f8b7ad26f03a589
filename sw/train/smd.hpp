#pragma once
// Stochastic mini-batch dropping (SMD, E²-Train's data-level saving: Wang et al., NeurIPS 2019,
// §3.1): each mini-batch of the nominal schedule is skipped with probability p. A skipped
// mini-batch costs nothing: no forward, backward or update, and it does not advance momentum or
// weight decay. Everything else keeps its nominal schedule: epochs, the data order, the learning
// rate (a function of the nominal iteration), the pruning draws (keyed by the nominal iteration)
// and the trace iteration (see trace_iteration_at).
//
// The draws come from their own counter-based stream (seed, Stream::MiniBatchDrop) indexed by the
// 1-based nominal iteration, so they consume nothing from the other streams: p = 0 drops nothing
// and the run is the run without SMD, bit for bit; and whether iteration i is dropped is known
// before the run, so checks and counts need no state.
#include <cstdint>

#include "sw/train/random.hpp"

namespace eg::train {

class MiniBatchDropper {
 public:
  MiniBatchDropper(uint64_t seed, double drop_prob)
      : rng_(stream_key({seed, uint64_t(Stream::MiniBatchDrop)})), drop_prob_(drop_prob) {}

  double drop_prob() const { return drop_prob_; }

  // True when nominal iteration `iteration` (1-based) is skipped. The draw is uniform in [0, 1)
  // with 53 bits, so a probability is resolved to 2^-53, far finer than any run can observe.
  bool dropped(int64_t iteration) const {
    if (drop_prob_ <= 0.0) return false;
    const double u = static_cast<double>(rng_.bits(uint64_t(iteration)) >> 11) * 0x1.0p-53;
    return u < drop_prob_;
  }

  // Mini-batches executed among nominal iterations from + 1 .. to. Linear in the span when
  // dropping (two hashes, a few nanoseconds, per iteration: nothing next to training one).
  int64_t executed_between(int64_t from, int64_t to) const {
    if (to <= from) return 0;
    if (drop_prob_ <= 0.0) return to - from;
    int64_t executed = 0;
    for (int64_t i = from + 1; i <= to; ++i) executed += dropped(i) ? 0 : 1;
    return executed;
  }

  // Mini-batches executed among nominal iterations 1..n.
  int64_t executed_through(int64_t n) const { return executed_between(0, n); }

  // The nominal iteration whose step a trace requested at nominal iteration `requested` is taken
  // at: the last executed one at or before it (0 if all of 1..requested are dropped). "At or
  // before" keeps the common "trace the last iteration" request valid under SMD.
  int64_t trace_iteration_at(int64_t requested) const {
    for (int64_t i = requested; i >= 1; --i)
      if (!dropped(i)) return i;
    return 0;
  }

 private:
  CounterRng rng_;
  double drop_prob_;
};

}  // namespace eg::train
