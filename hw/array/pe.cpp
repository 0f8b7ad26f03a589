#include "hw/array/pe.hpp"

#include <algorithm>

#include "base/error.hpp"

namespace eg::hw::array {

using mapper::CanonicalProblem;
using mapper::DeltaOperand;
using mapper::PeTask;

Parameters Pe::parameters() const {
  if (!config_) return {};
  const arch::PeConfig& c = *config_;
  return {{"macs_per_cycle", std::to_string(c.macs_per_cycle)},
          {"spad_iact_entries", std::to_string(c.spad_iact_entries)},
          {"spad_weight_entries", std::to_string(c.spad_weight_entries)},
          {"spad_feedback_entries", std::to_string(c.spad_feedback_entries)},
          {"spad_psum_entries", std::to_string(c.spad_psum_entries)},
          {"mac_pipeline_depth", std::to_string(c.mac_pipeline_depth)},
          {"sparsity", arch::to_string(c.sparsity)}};
}

IactStream iact_stream(const CanonicalProblem& p, const PeTask& t) {
  IactStream s;
  const int64_t window = (t.taps - 1) * p.cols.tap_step + 1;
  s.first = t.channels * window;
  // Windows of neighbouring positions overlap by window - out_step entries; with a step larger
  // than the window the entries in between are never fetched.
  s.step = t.channels * std::min(p.cols.out_step, window);
  s.total = s.need(p.cols.out_len - 1);
  return s;
}

std::vector<float> lane_major_filter(const CanonicalProblem& p, const float* filter) {
  const int64_t taps = p.rows.taps * p.cols.taps;
  std::vector<float> out(static_cast<size_t>(p.b * p.k * taps));
  for (int64_t b = 0; b < p.b; ++b)
    for (int64_t k = 0; k < p.k; ++k)
      for (int64_t t = 0; t < taps; ++t)
        out[static_cast<size_t>((k * taps + t) * p.b + b)] = filter[(b * p.k + k) * taps + t];
  return out;
}

namespace {
void count_position(const PeContext& ctx, int64_t issued, int64_t skipped, int64_t zero_entries,
                    int64_t iact_reads, MacCounts& macs, ActionCounts& actions) {
  macs.issued += static_cast<uint64_t>(issued);
  macs.skipped += static_cast<uint64_t>(skipped);
  if (ctx.wide_mac)
    actions.mac_16x8 += static_cast<uint64_t>(issued);
  else
    actions.mac_8x8 += static_cast<uint64_t>(issued);
  actions.zero_skips += static_cast<uint64_t>(zero_entries);
  const uint64_t filter_read_bits = static_cast<uint64_t>(issued + zero_entries) * ctx.filter_bits;
  if (ctx.filter_in_feedback_spad)
    actions.spad_feedback_read_bits += filter_read_bits;
  else
    actions.spad_weight_read_bits += filter_read_bits;
  actions.spad_iact_read_bits += static_cast<uint64_t>(iact_reads) * ctx.iact_bits;
  // Each issued MAC reads and writes its lane's psum.
  actions.spad_psum_read_bits += static_cast<uint64_t>(issued) * ctx.psum_bits;
  actions.spad_psum_write_bits += static_cast<uint64_t>(issued) * ctx.psum_bits;
}

// Filter entry (lane l, channel k, tap tt) of task t, from whichever layout ctx has.
float filter_entry(const PeContext& ctx, const PeTask& t, int64_t l, int64_t k, int64_t tt) {
  const CanonicalProblem& p = *ctx.problem;
  const int64_t taps_r = p.rows.taps, taps_c = p.cols.taps;
  return ctx.filter[(((t.b0 + l) * p.k + k) * taps_r + t.filter_row) * taps_c + tt];
}

// Output position `o` of a task with a plan: only the non-zero filter entries, in MAC order.
// `acc`: t.lanes zeroed psum accumulators (see compute_position).
int64_t compute_planned(const PeContext& ctx, const PeTask& t, int64_t o, MacCounts& macs,
                        ActionCounts& actions, const FilterSkipPlan& plan, float* __restrict acc) {
  const CanonicalProblem& p = *ctx.problem;
  const int64_t in_r = p.rows.in_len, in_c = p.cols.in_len;
  const bool row_in = p.rows.in_range(t.in_row);
  const int64_t lanes = t.lanes;
  const float* plane = row_in ? ctx.input + (t.a * p.k * in_r + t.in_row) * in_c : nullptr;
  const int64_t channel_stride = in_r * in_c;
  for (const FilterSkipPlan::Entry& e : plan.nonzero) {
    const int64_t col = p.cols.input_index(o, e.tap);
    const bool in_range = row_in && col >= 0 && col < in_c;
    const float v = in_range ? plane[(t.k0 + e.channel) * channel_stride + col] : 0.0f;
    acc[e.lane] += v * e.weight;
  }
  const int64_t out_r = p.rows.out_len, out_c = p.cols.out_len;
  for (int64_t l = 0; l < lanes; ++l)
    ctx.output[((t.a * p.b + t.b0 + l) * out_r + t.out_row) * out_c + o] += acc[l];
  count_position(ctx, plan.issued, plan.skipped, plan.zero_entries, plan.iact_reads, macs, actions);
  return std::max<int64_t>(1, plan.cycles);
}
}  // namespace

void build_filter_skip_plan(const PeContext& ctx, const PeTask& t, FilterSkipPlan& plan) {
  plan.valid = false;
  plan.nonzero.clear();
  plan.cycles = plan.issued = plan.skipped = plan.zero_entries = plan.iact_reads = 0;
  const CanonicalProblem& p = *ctx.problem;
  if (!t.active || p.delta != DeltaOperand::Filter || !p.issue_padding) return;
  plan.valid = true;
  // The same walk as compute_position's filter-operand branch, which with padding issued visits
  // every (channel, tap) whatever the position.
  bool in_skip_run = false;
  for (int64_t kk = 0; kk < t.channels; ++kk) {
    for (int64_t tt = t.t0; tt < t.t0 + t.taps; ++tt) {
      ++plan.iact_reads;
      for (int64_t l0 = 0; l0 < t.lanes; l0 += ctx.simd_lanes) {
        const int64_t l1 = std::min<int64_t>(t.lanes, l0 + ctx.simd_lanes);
        bool any = false;
        for (int64_t l = l0; l < l1; ++l) {
          const float w = filter_entry(ctx, t, l, t.k0 + kk, tt);
          if (w == 0.0f) {
            ++plan.skipped;
            ++plan.zero_entries;
          } else {
            plan.nonzero.push_back({kk, tt, l, w});
            ++plan.issued;
            any = true;
          }
        }
        if (any) {
          ++plan.cycles;
          in_skip_run = false;
        } else {
          if (!in_skip_run) plan.cycles += ctx.zero_skip_cost_cycles;
          in_skip_run = true;
        }
      }
    }
  }
}

namespace {
// One position, MAC by MAC, for a problem whose skipped operand is `kDelta`.
// `acc`: t.lanes zeroed psum accumulators (see compute_position).
template <DeltaOperand kDelta>
int64_t walk_position(const PeContext& ctx, const PeTask& t, int64_t o, MacCounts& macs,
                      ActionCounts& actions, float* __restrict acc) {
  const CanonicalProblem& p = *ctx.problem;
  const int64_t in_r = p.rows.in_len, in_c = p.cols.in_len;
  const int64_t taps_r = p.rows.taps, taps_c = p.cols.taps;
  const bool row_in = p.rows.in_range(t.in_row);
  // Filter entry of lane l, tap tt in channel row `wrow`: wrow[l * lane_step + tt * tap_step].
  const bool lane_major = ctx.filter_lane_major != nullptr;
  const int64_t lane_step = lane_major ? 1 : p.k * taps_r * taps_c;
  const int64_t tap_step = lane_major ? p.b : 1;
  const int64_t lanes = t.lanes;
  const int64_t lane_cycles = (lanes + ctx.simd_lanes - 1) / ctx.simd_lanes;

  // Taps [lo, hi) read inside the row (the input column grows with the tap: tap_step >= 1); the
  // others read padding, which is either multiplied (issue_padding) or no MAC at all.
  if (p.cols.tap_step < 1) throw Error("array: canonical problem with tap_step < 1");
  const int64_t t_end = t.t0 + t.taps;
  int64_t lo = t_end, hi = t_end;
  if (row_in) {
    lo = t.t0;
    while (lo < t_end && p.cols.input_index(o, lo) < 0) ++lo;
    hi = lo;
    while (hi < t_end && p.cols.input_index(o, hi) < in_c) ++hi;
  }

  int64_t cycles = 0, issued = 0, skipped = 0, zero_entries = 0, iact_reads = 0;
  bool in_skip_run = false;
  auto skip_slot = [&]() {
    if (!in_skip_run) cycles += ctx.zero_skip_cost_cycles;
    in_skip_run = true;
  };
  auto visit = [&](const float* wrow, int64_t tt, bool in_range, float v) {
    ++iact_reads;
    if (kDelta == DeltaOperand::Input && in_range && v == 0.0f) {
      skipped += lanes;
      ++zero_entries;
      skip_slot();
      return;
    }
    if (kDelta == DeltaOperand::Filter) {
      // Lanes go in SIMD groups; a group whose filter entries are all zero is stepped over.
      for (int64_t l0 = 0; l0 < lanes; l0 += ctx.simd_lanes) {
        const int64_t l1 = std::min<int64_t>(lanes, l0 + ctx.simd_lanes);
        bool any = false;
        for (int64_t l = l0; l < l1; ++l) {
          const float w = wrow[l * lane_step + tt * tap_step];
          if (w == 0.0f) {
            ++skipped;
            ++zero_entries;
          } else {
            acc[l] += v * w;
            ++issued;
            any = true;
          }
        }
        if (any) {
          ++cycles;
          in_skip_run = false;
        } else {
          skip_slot();
        }
      }
      return;
    }
    const float* w = wrow + tt * tap_step;
    if (lane_major) {
      for (int64_t l = 0; l < lanes; ++l) acc[l] += v * w[l];
    } else {
      for (int64_t l = 0; l < lanes; ++l) acc[l] += v * w[l * lane_step];
    }
    issued += lanes;
    cycles += lane_cycles;
    in_skip_run = false;
  };
  for (int64_t kk = 0; kk < t.channels; ++kk) {
    const int64_t k = t.k0 + kk;
    const float* row = row_in ? ctx.input + ((t.a * p.k + k) * in_r + t.in_row) * in_c : nullptr;
    const float* wrow =
        lane_major ? ctx.filter_lane_major + ((k * taps_r + t.filter_row) * taps_c) * p.b + t.b0
                   : ctx.filter + ((t.b0 * p.k + k) * taps_r + t.filter_row) * taps_c;
    if (p.issue_padding)
      for (int64_t tt = t.t0; tt < lo; ++tt) visit(wrow, tt, false, 0.0f);
    for (int64_t tt = lo; tt < hi; ++tt) visit(wrow, tt, true, row[p.cols.input_index(o, tt)]);
    if (p.issue_padding)
      for (int64_t tt = hi; tt < t_end; ++tt) visit(wrow, tt, false, 0.0f);
  }
  const int64_t out_r = p.rows.out_len, out_c = p.cols.out_len;
  for (int64_t l = 0; l < lanes; ++l)
    ctx.output[((t.a * p.b + t.b0 + l) * out_r + t.out_row) * out_c + o] += acc[l];

  count_position(ctx, issued, skipped, zero_entries, iact_reads, macs, actions);
  return std::max<int64_t>(1, cycles);
}

int64_t compute_into(const PeContext& ctx, const PeTask& t, int64_t o, MacCounts& macs,
                     ActionCounts& actions, const FilterSkipPlan* plan, float* acc) {
  if (plan && plan->valid) return compute_planned(ctx, t, o, macs, actions, *plan, acc);
  switch (ctx.problem->delta) {
    case DeltaOperand::Input:
      return walk_position<DeltaOperand::Input>(ctx, t, o, macs, actions, acc);
    case DeltaOperand::Filter:
      return walk_position<DeltaOperand::Filter>(ctx, t, o, macs, actions, acc);
    case DeltaOperand::None:
      break;
  }
  return walk_position<DeltaOperand::None>(ctx, t, o, macs, actions, acc);
}
}  // namespace

int64_t compute_position(const PeContext& ctx, const PeTask& t, int64_t o, MacCounts& macs,
                         ActionCounts& actions, const FilterSkipPlan* plan) {
  // One psum accumulator per lane. A task's lanes are bounded only by the config (the mapper fits
  // them to the psum and filter spads), so any count must work: the usual counts (the shipped
  // configs allow at most 32) stay on the stack, larger ones go to the heap. kStackLanes is a
  // host-speed choice, not a hardware limit.
  constexpr int64_t kStackLanes = 256;
  const int64_t lanes = std::max<int64_t>(t.lanes, 0);
  if (lanes <= kStackLanes) {
    float acc[kStackLanes];
    std::fill(acc, acc + lanes, 0.0f);
    return compute_into(ctx, t, o, macs, actions, plan, acc);
  }
  std::vector<float> acc(static_cast<size_t>(lanes), 0.0f);
  return compute_into(ctx, t, o, macs, actions, plan, acc.data());
}

void PeCore::start(const PeContext& ctx, std::vector<PeTask> segments, int64_t psum_slots,
                   bool hold_psums) {
  ctx_ = &ctx;
  segments_ = std::move(segments);
  hold_psums_ = hold_psums;
  filter_sets_loaded_ = 0;
  psum_slots_ = std::max<int64_t>(1, psum_slots);
  positions_ = ctx.problem ? ctx.problem->cols.out_len : 0;
  next_ = done_in_seg_ = produced_ = released_ = cycles_left_ = base_ = stream_total_ = 0;
  last_active_ = -1;
  first_active_ = PeTask{};
  for (size_t q = 0; q < segments_.size(); ++q) {
    if (!segments_[q].active) continue;
    if (last_active_ < 0) first_active_ = segments_[q];
    last_active_ = static_cast<int64_t>(q);
    stream_total_ += iact_stream(*ctx.problem, segments_[q]).total;
  }
  active_ = last_active_ >= 0;
  enter_segment(0);
}

void PeCore::enter_segment(int64_t q) {
  const int64_t n = static_cast<int64_t>(segments_.size());
  while (q < n && !segments_[static_cast<size_t>(q)].active) ++q;
  seg_ = q;
  done_ = q >= n;
  next_ = done_in_seg_ = 0;
  if (!done_) {
    stream_ = iact_stream(*ctx_->problem, segments_[static_cast<size_t>(q)]);
    build_filter_skip_plan(*ctx_, segments_[static_cast<size_t>(q)], plan_);
  }
}

bool PeCore::begin_position() {
  int64_t cycles =
      compute_position(*ctx_, segments_[static_cast<size_t>(seg_)], next_, macs_, actions_, &plan_);
  if (next_ == 0) cycles += ctx_->pipeline_extra_cycles;
  ++next_;
  ++cycles_.busy;
  cycles_left_ = cycles - 1;
  if (cycles_left_ != 0) return false;
  finish_position();
  return true;
}

void PeCore::finish_position() {
  ++done_in_seg_;
  const bool last_segment = seg_ == last_active_;
  if (!hold_psums_ || last_segment) ++produced_;
  if (done_in_seg_ < positions_) {
    released_ = base_ + std::min(done_in_seg_ * stream_.step, stream_.total);
    return;
  }
  // Segment over: its whole input window slides out, the next segment's stream follows it.
  base_ += stream_.total;
  released_ = base_;
  enter_segment(seg_ + 1);
}

}  // namespace eg::hw::array
