#pragma once
// One processing element (Eyeriss-style, docs/DESIGN.md §5.2): a row task keeps `lanes` filter rows
// of `channels` channels (taps t0..t0+taps) in its filter scratchpad and slides one input row
// through its iact scratchpad, producing one psum per lane and output position. A SIMD MAC serves
// `simd_lanes` filters per iact per cycle. A position starts only when its input window has
// arrived and a psum slot is free. Zero operands (of the operands the phase exploits) are handled
// per pe.sparsity (docs/DESIGN.md §5.2): "csc" processes compressed operands as Eyeriss v2 does (a
// zero input entry takes no cycle; a non-zero one takes ceil(non-zero filter entries of its lanes /
// simd_lanes) cycles, or empty_column_cycles for an empty column), "zero_gating" keeps the dense
// cycles but issues no MAC with a zero operand, "none" issues everything. Values are computed for
// real.
#include <cstdint>
#include <vector>

#include <systemc>

#include "hw/array/onchip_csc.hpp"
#include "hw/array/pe_stats.hpp"
#include "hw/described.hpp"
#include "models/action_counts.hpp"
#include "models/arch/arch_config.hpp"
#include "sw/mapper/schedule.hpp"

namespace eg::hw::array {

// What every PE of a problem shares: the operands and the costs.
struct PeContext {
  const mapper::CanonicalProblem* problem = nullptr;
  const float* input = nullptr;   // canonical I
  const float* filter = nullptr;  // canonical W
  // Optional copy of W with the b axis innermost ([k][r][t][b]), so a PE's lanes read adjacent
  // entries; filled by ArrayEngine::execute (host speed only: the values are the same).
  const float* filter_lane_major = nullptr;
  float* output = nullptr;  // canonical O, accumulated
  int simd_lanes = 2;
  // How zeros are treated (pe.sparsity), and whether this problem's input and filter zeros are
  // exploited (features.sparse_operands for its phase; both false under Sparsity::None).
  arch::Sparsity sparsity = arch::Sparsity::None;
  bool input_sparse = false, filter_sparse = false;
  arch::CscConfig csc;            // format widths and overheads, used under Sparsity::Csc
  int pipeline_extra_cycles = 1;  // mac_pipeline_depth - 1: fill and drain once per row task
  int iact_bits = 8, filter_bits = 8, psum_bits = 24;
  int output_bits = 8;  // width a finished output is stored with off-chip
  bool filter_in_feedback_spad = false;
  bool wide_mac = false;       // 16x8 (an error-gradient operand) instead of 8x8
  bool predictor_mac = false;  // PSG's 10x4 predictor MAC (overrides wide_mac)
  // PSG's completion pass: one flag per canonical output ([a][b][rows.out_len][cols.out_len], the
  // weight-gradient phase's weights). When set, a position multiplies only for the lanes whose
  // output is flagged; the others issue no MAC, read no filter entry and take no cycle, and a
  // position with no flagged lane reads no input entry (it still takes its hand-off cycle).
  const uint8_t* output_mask = nullptr;
  OnchipCompression onchip;  // operands moved on chip in CSC form (default: none)
};

// Input entries a task streams: window for position 0, then `step` new entries per position.
struct IactStream {
  int64_t first = 0, step = 0, total = 0;
  int64_t need(int64_t position) const { return first + position * step; }
};
IactStream iact_stream(const mapper::CanonicalProblem& problem, const mapper::PeTask& task);

// W of `problem` re-laid out for PeContext::filter_lane_major.
std::vector<float> lane_major_filter(const mapper::CanonicalProblem& problem, const float* filter);

// When the filter's zeros are exploited (weight gradient: δ̂ rows are the filter), a task's
// filter entries do not change from position to position: the plan records, once per task, each
// (channel, tap) column's non-zero entries in MAC order and what the column costs, so a position
// only looks at its input entries. Used whenever ctx.filter_sparse.
struct FilterSkipPlan {
  struct Entry {
    int64_t lane;
    float weight;
  };
  struct Column {
    int64_t channel, tap;
    int64_t begin, end;  // its non-zero entries: nonzero[begin, end)
    int64_t csc_cycles;  // ceil(non-zeros / simd_lanes), or empty_column_cycles when none
  };
  bool valid = false;
  std::vector<Entry> nonzero;
  std::vector<Column> columns;
};
// Fills `plan` for `task` (invalid when the task does not qualify); reuses its storage.
void build_filter_skip_plan(const PeContext& ctx, const mapper::PeTask& task, FilterSkipPlan& plan);

// Computes output position `o` of `task` (adding into ctx.output) and returns the MAC cycles it
// takes, at least 1 (the cycle that hands its psums on, even when every input entry was a skipped
// zero); counts MACs and scratchpad actions. `plan` (built for this task,
// or null) only makes it faster.
int64_t compute_position(const PeContext& ctx, const mapper::PeTask& task, int64_t o,
                         MacCounts& macs, ActionCounts& actions,
                         const FilterSkipPlan* plan = nullptr);

// A PE runs a sequence of row tasks ("segments", one per fold of its pass); segment q may start
// once the q-th filter set is in its filter spad. Inactive segments are stepped over. With
// `hold_psums`, psums stay in the psum spad across segments (the mapper checked they fit) and only
// the last active segment's positions count as produced; otherwise a position's psums leave
// through the column and the PE may run `psum_slots` positions ahead of the drain.
//
// PeCore is the PE's state and behaviour as plain C++: a cluster keeps its PEs' cores in one
// contiguous array and steps them in its own process (one SystemC process per array,
// docs/DESIGN.md §5), so the per-cycle loop walks adjacent memory. The Pe sc_module below is the
// PE's place in the hierarchy (its name, its parameters), a view of its core.
class PeCore {
 public:
  // Single row task (or idle when !task.active).
  void start(const PeContext& ctx, const mapper::PeTask& task, int64_t psum_slots) {
    start(ctx, std::vector<mapper::PeTask>{task}, psum_slots, false);
  }
  void start(const PeContext& ctx, std::vector<mapper::PeTask> segments, int64_t psum_slots,
             bool hold_psums);
  // Filter sets 0..count-1 are in the spad (the weight router's announcement).
  void set_filter_sets_loaded(int64_t count) { filter_sets_loaded_ = count; }
  void weights_loaded() { filter_sets_loaded_ = INT64_MAX; }

  // One clock cycle. `iact_arrived`: entries of this PE's input stream (all segments, in order)
  // in its scratchpad so far; `psums_drained`: positions its column has sent to the GLB. Returns
  // true when the PE finished a position this cycle (produced() or released() may have moved),
  // so its column and multicast group need only look at it then.
  bool tick(int64_t iact_arrived, int64_t psums_drained) {
    if (done_) {
      ++cycles_.idle;
      return false;
    }
    if (cycles_left_ > 0) {
      ++cycles_.busy;
      if (--cycles_left_ == 0) {
        finish_position();
        return true;
      }
      return false;
    }
    if (waits_input(iact_arrived)) {
      ++cycles_.wait_input;
      return false;
    }
    if (waits_output(psums_drained)) {
      ++cycles_.wait_output;
      return false;
    }
    return begin_position();
  }

  // Cycle skipping (the cluster jumps over cycles where nothing but counters changes): how many
  // of the next ticks only count a cycle, provided `iact_arrived` and `psums_drained` stay as
  // they are; 0 when the next tick starts or finishes a position.
  static constexpr int64_t kQuietForever = INT64_MAX / 4;
  int64_t quiet_ticks(int64_t iact_arrived, int64_t psums_drained) const {
    if (done_) return kQuietForever;
    if (cycles_left_ > 0) return cycles_left_ - 1;
    return waits_input(iact_arrived) || waits_output(psums_drained) ? kQuietForever : 0;
  }
  // Accounts `ticks` such ticks at once (ticks <= quiet_ticks(...) with the same inputs).
  // The input stall class wins over the output one, as in tick().
  void skip_quiet(int64_t ticks, int64_t iact_arrived) {
    const uint64_t n = static_cast<uint64_t>(ticks);
    if (done_) {
      cycles_.idle += n;
    } else if (cycles_left_ > 0) {
      cycles_.busy += n;
      cycles_left_ -= ticks;
    } else if (waits_input(iact_arrived)) {
      cycles_.wait_input += n;
    } else {
      cycles_.wait_output += n;
    }
  }

  bool active() const { return active_; }
  bool finished() const { return done_; }
  // In the middle of a position: the next tick() reads neither of its arguments.
  bool computing() const { return cycles_left_ > 0; }
  int64_t produced() const { return produced_; }
  int64_t positions() const { return positions_; }
  // Input entries this PE no longer needs (slid out of its window, or of a finished segment).
  int64_t released() const { return released_; }
  // Segments (of all, active or not) this PE has completed: filter sets it no longer reads.
  int64_t segments_done() const { return done_ ? static_cast<int64_t>(segments_.size()) : seg_; }
  // Input entries its whole segment sequence streams.
  int64_t stream_total() const { return stream_total_; }
  const mapper::PeTask& task() const { return first_active_; }
  const std::vector<mapper::PeTask>& segments() const { return segments_; }

  // Hot state first: what tick() reads every cycle shares a cache line or two.
  PeCycleClasses cycles_;

 private:
  bool waits_input(int64_t iact_arrived) const {
    return filter_sets_loaded_ <= seg_ || iact_arrived < base_ + stream_.need(next_);
  }
  bool waits_output(int64_t psums_drained) const {
    return !hold_psums_ && next_ - psums_drained >= psum_slots_;
  }
  bool begin_position();  // true when the position also finished in this cycle
  void finish_position();
  void enter_segment(int64_t q);  // moves to the first active segment >= q (or done)

  bool active_ = false, done_ = true, hold_psums_ = false;
  int64_t cycles_left_ = 0, psum_slots_ = 1;
  int64_t filter_sets_loaded_ = 0;
  int64_t seg_ = 0, base_ = 0, next_ = 0;
  IactStream stream_;
  int64_t positions_ = 0, done_in_seg_ = 0, produced_ = 0, released_ = 0;
  int64_t last_active_ = -1, stream_total_ = 0;
  const PeContext* ctx_ = nullptr;

 public:
  MacCounts macs_;
  ActionCounts actions_;

 private:
  std::vector<mapper::PeTask> segments_;
  mapper::PeTask first_active_;
  FilterSkipPlan plan_;  // of the current segment
};

// A PE in the hierarchy (accelerator.pc3.pe7): an sc_module with no process of its own, showing
// its config in the elaborated hierarchy (egsim describe); its state is the PeCore it views,
// which its cluster owns and steps.
class Pe : public sc_core::sc_module, public Described {
 public:
  // `config` (null in test benches that set every cost through PeContext) is shown by describe.
  Pe(sc_core::sc_module_name name, PeCore& core, const arch::PeConfig* config = nullptr)
      : sc_module(name), core_(&core), config_(config) {}
  const char* kind() const override { return "Pe"; }
  Parameters parameters() const override;
  PeCore& core() { return *core_; }
  const PeCore& core() const { return *core_; }

 private:
  PeCore* core_;
  const arch::PeConfig* config_;
};

}  // namespace eg::hw::array
