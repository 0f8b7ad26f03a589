#pragma once
// One processing element (Eyeriss-style, DESIGN.md §5): a row task keeps `lanes` filter rows of
// `channels` channels (taps t0..t0+taps) in its filter scratchpad and slides one input row through
// its iact scratchpad, producing one psum per lane and output position. A SIMD MAC serves
// `simd_lanes` filters per iact per cycle. A position starts only when its input window has
// arrived and a psum slot is free; a zero error-gradient operand is skipped when enabled, costing
// `zero_skip_cost_cycles` per run of consecutive skips. Values are computed for real.
#include <cstdint>

#include "hw/array/pe_stats.hpp"
#include "models/action_counts.hpp"
#include "sw/mapper/schedule.hpp"

namespace eg::hw::array {

// What every PE of a problem shares: the operands and the costs.
struct PeContext {
  const mapper::CanonicalProblem* problem = nullptr;
  const float* input = nullptr;   // canonical I
  const float* filter = nullptr;  // canonical W
  float* output = nullptr;        // canonical O, accumulated
  int simd_lanes = 2;
  int zero_skip_cost_cycles = 1;
  int pipeline_extra_cycles = 1;  // mac_pipeline_depth - 1: fill and drain once per row task
  int iact_bits = 8, filter_bits = 8, psum_bits = 24;
  int output_bits = 8;  // width a finished output is stored with off-chip
  bool filter_in_feedback_spad = false;
  bool wide_mac = false;  // 16x8 (an error-gradient operand) instead of 8x8
};

// Input entries a task streams: window for position 0, then `step` new entries per position.
struct IactStream {
  int64_t first = 0, step = 0, total = 0;
  int64_t need(int64_t position) const { return first + position * step; }
};
IactStream iact_stream(const mapper::CanonicalProblem& problem, const mapper::PeTask& task);

// Computes output position `o` of `task` (adding into ctx.output) and returns the MAC cycles it
// takes (>= 1); counts MACs and scratchpad actions.
int64_t compute_position(const PeContext& ctx, const mapper::PeTask& task, int64_t o,
                         MacCounts& macs, ActionCounts& actions);

class Pe {
 public:
  // Makes the PE run `task` (or idle when !task.active) with `psum_slots` positions in flight.
  void start(const PeContext& ctx, const mapper::PeTask& task, int64_t psum_slots);
  void weights_loaded() { weights_ready_ = true; }

  // One clock cycle. `iact_arrived`: entries of this PE's input stream in its scratchpad so far;
  // `psums_drained`: positions its column has sent to the GLB.
  void tick(int64_t iact_arrived, int64_t psums_drained) {
    if (!active_ || (next_ == positions_ && cycles_left_ == 0)) {
      ++cycles_.idle;
      return;
    }
    if (cycles_left_ > 0) {
      ++cycles_.busy;
      if (--cycles_left_ == 0) finish_position();
      return;
    }
    if (!weights_ready_ || iact_arrived < stream_.need(next_)) {
      ++cycles_.wait_input;
      return;
    }
    if (next_ - psums_drained >= psum_slots_) {
      ++cycles_.wait_output;
      return;
    }
    begin_position();
  }

  bool active() const { return active_; }
  bool finished() const { return !active_ || produced_ == positions_; }
  int64_t produced() const { return produced_; }
  int64_t positions() const { return positions_; }
  // Input entries this PE no longer needs (slid out of its window).
  int64_t released() const { return produced_ * stream_.step; }
  const IactStream& stream() const { return stream_; }
  const mapper::PeTask& task() const { return task_; }

  PeCycleClasses cycles_;
  MacCounts macs_;
  ActionCounts actions_;

 private:
  void begin_position();
  void finish_position() { ++produced_; }

  const PeContext* ctx_ = nullptr;
  mapper::PeTask task_;
  IactStream stream_;
  bool active_ = false, weights_ready_ = false;
  int64_t positions_ = 0, next_ = 0, produced_ = 0, cycles_left_ = 0, psum_slots_ = 1;
};

}  // namespace eg::hw::array
