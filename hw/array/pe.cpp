#include "hw/array/pe.hpp"

#include <algorithm>

#include "base/error.hpp"

namespace eg::hw::array {

using mapper::CanonicalProblem;
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
          {"sparsity", arch::to_string(c.sparsity)},
          {"csc.count_bits", std::to_string(c.csc.count_bits)},
          {"csc.iact_pointer_bits", std::to_string(c.csc.iact_pointer_bits)},
          {"csc.weight_pointer_bits", std::to_string(c.csc.weight_pointer_bits)},
          {"csc.empty_column_cycles", std::to_string(c.csc.empty_column_cycles)},
          {"csc.nonzero_iact_overhead_cycles", std::to_string(c.csc.nonzero_iact_overhead_cycles)}};
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
// What one position did: its cycles, its MACs, and its scratchpad reads by format (dense entries,
// CSC entries carrying a zero-run count, CSC address pointers).
struct Tally {
  int64_t cycles = 0, issued = 0, skipped = 0, zero_entries = 0;
  int64_t iact_dense = 0, iact_csc = 0, iact_pointers = 0;
  int64_t filter_dense = 0, filter_csc = 0, weight_pointers = 0;
};

void count_position(const PeContext& ctx, const Tally& n, MacCounts& macs, ActionCounts& actions) {
  auto u = [](int64_t x) { return static_cast<uint64_t>(x); };
  macs.issued += u(n.issued);
  macs.skipped += u(n.skipped);
  if (ctx.predictor_mac)
    actions.mac_10x4 += u(n.issued);
  else if (ctx.wide_mac)
    actions.mac_16x8 += u(n.issued);
  else
    actions.mac_8x8 += u(n.issued);
  actions.zero_skips += u(n.zero_entries);
  const uint64_t filter_read_bits = u(n.filter_dense) * u(ctx.filter_bits) +
                                    u(n.filter_csc) * u(ctx.filter_bits + ctx.csc.count_bits) +
                                    u(n.weight_pointers) * u(ctx.csc.weight_pointer_bits);
  if (ctx.filter_in_feedback_spad)
    actions.spad_feedback_read_bits += filter_read_bits;
  else
    actions.spad_weight_read_bits += filter_read_bits;
  actions.spad_iact_read_bits += u(n.iact_dense) * u(ctx.iact_bits) +
                                 u(n.iact_csc) * u(ctx.iact_bits + ctx.csc.count_bits) +
                                 u(n.iact_pointers) * u(ctx.csc.iact_pointer_bits);
  // Each issued MAC reads and writes its lane's psum.
  actions.spad_psum_read_bits += u(n.issued) * u(ctx.psum_bits);
  actions.spad_psum_write_bits += u(n.issued) * u(ctx.psum_bits);
}

// Filter entry (lane l, channel k, tap tt) of task t, from whichever layout ctx has.
float filter_entry(const PeContext& ctx, const PeTask& t, int64_t l, int64_t k, int64_t tt) {
  const CanonicalProblem& p = *ctx.problem;
  const int64_t taps_r = p.rows.taps, taps_c = p.cols.taps;
  return ctx.filter[(((t.b0 + l) * p.k + k) * taps_r + t.filter_row) * taps_c + tt];
}

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// An input entry whose zero the PE exploits (ctx.input_sparse) and that is zero: under CSC it is
// not in the compressed stream (no read, no cycle); under zero gating it is read and its lanes'
// slots take their dense cycles with no MAC issued (the filter entries are still read).
void zero_input_entry(const PeContext& ctx, int64_t lanes, int64_t lane_cycles, Tally& n) {
  ++n.zero_entries;
  n.skipped += lanes;
  if (ctx.sparsity == arch::Sparsity::Csc) return;
  ++n.iact_dense;
  n.filter_dense += lanes;
  n.cycles += lane_cycles;
}

// The read of an input entry the PE processes: a CSC entry (data + count, and its pipeline
// overhead) when the input is compressed, a plain one otherwise.
void read_input_entry(const PeContext& ctx, Tally& n) {
  if (ctx.input_sparse && ctx.sparsity == arch::Sparsity::Csc) {
    ++n.iact_csc;
    n.cycles += ctx.csc.nonzero_iact_overhead_cycles;
  } else {
    ++n.iact_dense;
  }
}

// The iact address reads of a position: one pointer per channel row of its window, when the input
// is compressed and the window has entries to look up.
int64_t iact_pointer_reads(const PeContext& ctx, const PeTask& t) {
  if (!ctx.input_sparse || ctx.sparsity != arch::Sparsity::Csc) return 0;
  const CanonicalProblem& p = *ctx.problem;
  return p.rows.in_range(t.in_row) || p.issue_padding ? t.channels : 0;
}

// Output position `o` of a task with a plan (ctx.filter_sparse): each (channel, tap) column with
// the input entry it multiplies. `acc`: t.lanes zeroed psum accumulators (see compute_position).
int64_t compute_planned(const PeContext& ctx, const PeTask& t, int64_t o, MacCounts& macs,
                        ActionCounts& actions, const FilterSkipPlan& plan, float* __restrict acc) {
  const CanonicalProblem& p = *ctx.problem;
  const int64_t in_r = p.rows.in_len, in_c = p.cols.in_len;
  const bool row_in = p.rows.in_range(t.in_row);
  const int64_t lanes = t.lanes;
  const int64_t lane_cycles = ceil_div(lanes, ctx.simd_lanes);
  const bool csc = ctx.sparsity == arch::Sparsity::Csc;
  const float* plane = row_in ? ctx.input + (t.a * p.k * in_r + t.in_row) * in_c : nullptr;
  const int64_t channel_stride = in_r * in_c;
  Tally n;
  n.iact_pointers = iact_pointer_reads(ctx, t);
  for (const FilterSkipPlan::Column& c : plan.columns) {
    const int64_t col = p.cols.input_index(o, c.tap);
    const bool in_range = row_in && col >= 0 && col < in_c;
    if (!in_range && !p.issue_padding) continue;  // outside a full correlation: no MAC exists
    const float v = in_range ? plane[(t.k0 + c.channel) * channel_stride + col] : 0.0f;
    if (ctx.input_sparse && v == 0.0f) {
      zero_input_entry(ctx, lanes, lane_cycles, n);
      continue;
    }
    read_input_entry(ctx, n);
    for (int64_t e = c.begin; e < c.end; ++e) {
      const FilterSkipPlan::Entry& x = plan.nonzero[static_cast<size_t>(e)];
      acc[x.lane] += v * x.weight;
    }
    const int64_t nnz = c.end - c.begin;
    n.issued += nnz;
    n.skipped += lanes - nnz;
    n.zero_entries += lanes - nnz;
    if (csc) {
      // The column's start and end (the next column's start) from the weight address spad, then
      // its non-zeros packed into the SIMD lanes.
      n.cycles += c.csc_cycles;
      n.weight_pointers += 2;
      n.filter_csc += nnz;
    } else {
      n.cycles += lane_cycles;
      n.filter_dense += lanes;
    }
  }
  const int64_t out_r = p.rows.out_len, out_c = p.cols.out_len;
  for (int64_t l = 0; l < lanes; ++l)
    ctx.output[((t.a * p.b + t.b0 + l) * out_r + t.out_row) * out_c + o] += acc[l];
  count_position(ctx, n, macs, actions);
  return std::max<int64_t>(1, n.cycles);
}
}  // namespace

void build_filter_skip_plan(const PeContext& ctx, const PeTask& t, FilterSkipPlan& plan) {
  plan.valid = false;
  plan.nonzero.clear();
  plan.columns.clear();
  if (!t.active || !ctx.filter_sparse) return;
  plan.valid = true;
  for (int64_t kk = 0; kk < t.channels; ++kk) {
    for (int64_t tt = t.t0; tt < t.t0 + t.taps; ++tt) {
      FilterSkipPlan::Column c{kk, tt, static_cast<int64_t>(plan.nonzero.size()), 0, 0};
      for (int64_t l = 0; l < t.lanes; ++l) {
        const float w = filter_entry(ctx, t, l, t.k0 + kk, tt);
        if (w != 0.0f) plan.nonzero.push_back({l, w});
      }
      c.end = static_cast<int64_t>(plan.nonzero.size());
      const int64_t nnz = c.end - c.begin;
      c.csc_cycles = nnz > 0 ? ceil_div(nnz, ctx.simd_lanes) : ctx.csc.empty_column_cycles;
      plan.columns.push_back(c);
    }
  }
}

namespace {
// One position of a task whose filter is dense (not exploited), MAC by MAC; `kInputSparse`: the
// input's zeros are exploited. `acc`: t.lanes zeroed psum accumulators (see compute_position).
template <bool kInputSparse>
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
  const int64_t lane_cycles = ceil_div(lanes, ctx.simd_lanes);

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

  Tally n;
  n.iact_pointers = iact_pointer_reads(ctx, t);
  auto visit = [&](const float* wrow, int64_t tt, float v) {
    if (kInputSparse) {
      if (v == 0.0f) {
        zero_input_entry(ctx, lanes, lane_cycles, n);
        return;
      }
      read_input_entry(ctx, n);
    } else {
      ++n.iact_dense;
    }
    const float* w = wrow + tt * tap_step;
    if (lane_major) {
      for (int64_t l = 0; l < lanes; ++l) acc[l] += v * w[l];
    } else {
      for (int64_t l = 0; l < lanes; ++l) acc[l] += v * w[l * lane_step];
    }
    n.issued += lanes;
    n.filter_dense += lanes;
    n.cycles += lane_cycles;
  };
  for (int64_t kk = 0; kk < t.channels; ++kk) {
    const int64_t k = t.k0 + kk;
    const float* row = row_in ? ctx.input + ((t.a * p.k + k) * in_r + t.in_row) * in_c : nullptr;
    const float* wrow =
        lane_major ? ctx.filter_lane_major + ((k * taps_r + t.filter_row) * taps_c) * p.b + t.b0
                   : ctx.filter + ((t.b0 * p.k + k) * taps_r + t.filter_row) * taps_c;
    if (p.issue_padding)
      for (int64_t tt = t.t0; tt < lo; ++tt) visit(wrow, tt, 0.0f);
    for (int64_t tt = lo; tt < hi; ++tt) visit(wrow, tt, row[p.cols.input_index(o, tt)]);
    if (p.issue_padding)
      for (int64_t tt = hi; tt < t_end; ++tt) visit(wrow, tt, 0.0f);
  }
  const int64_t out_r = p.rows.out_len, out_c = p.cols.out_len;
  for (int64_t l = 0; l < lanes; ++l)
    ctx.output[((t.a * p.b + t.b0 + l) * out_r + t.out_row) * out_c + o] += acc[l];

  count_position(ctx, n, macs, actions);
  return std::max<int64_t>(1, n.cycles);
}

// One position of a task under ctx.output_mask (PSG's completion pass): the flagged lanes of this
// position, MAC by MAC, with the input's and the filter's zeros exploited as the phase says.
int64_t masked_position(const PeContext& ctx, const PeTask& t, int64_t o, MacCounts& macs,
                        ActionCounts& actions, float* __restrict acc) {
  const CanonicalProblem& p = *ctx.problem;
  const int64_t in_r = p.rows.in_len, in_c = p.cols.in_len;
  const int64_t out_r = p.rows.out_len, out_c = p.cols.out_len;
  auto out_index = [&](int64_t l) {
    return ((t.a * p.b + t.b0 + l) * out_r + t.out_row) * out_c + o;
  };
  // Per position, not per task: a lane's weight changes with the position (its tap). No list is
  // built (this runs once per position of the completion pass); the flags are re-read instead.
  auto masked = [&](int64_t l) { return ctx.output_mask[out_index(l)] != 0; };
  int64_t active = 0;
  for (int64_t l = 0; l < t.lanes; ++l) active += masked(l);
  Tally n;
  if (active == 0) {
    count_position(ctx, n, macs, actions);
    return 1;
  }
  const int64_t active_cycles = ceil_div(active, ctx.simd_lanes);
  const bool csc = ctx.sparsity == arch::Sparsity::Csc;
  const bool row_in = p.rows.in_range(t.in_row);
  n.iact_pointers = iact_pointer_reads(ctx, t);
  for (int64_t kk = 0; kk < t.channels; ++kk) {
    const int64_t k = t.k0 + kk;
    for (int64_t tt = t.t0; tt < t.t0 + t.taps; ++tt) {
      const int64_t col = p.cols.input_index(o, tt);
      const bool in_range = row_in && col >= 0 && col < in_c;
      if (!in_range && !p.issue_padding) continue;  // outside a full correlation: no MAC exists
      const float v = in_range ? ctx.input[((t.a * p.k + k) * in_r + t.in_row) * in_c + col] : 0.0f;
      if (ctx.input_sparse && v == 0.0f) {
        zero_input_entry(ctx, active, active_cycles, n);
        continue;
      }
      if (ctx.input_sparse)
        read_input_entry(ctx, n);
      else
        ++n.iact_dense;
      if (!ctx.filter_sparse) {
        for (int64_t l = 0; l < t.lanes; ++l)
          if (masked(l)) acc[l] += v * filter_entry(ctx, t, l, k, tt);
        n.issued += active;
        n.filter_dense += active;
        n.cycles += active_cycles;
        continue;
      }
      int64_t nnz = 0;
      for (int64_t l = 0; l < t.lanes; ++l) {
        if (!masked(l)) continue;
        const float w = filter_entry(ctx, t, l, k, tt);
        if (w == 0.0f) continue;
        acc[l] += v * w;
        ++nnz;
      }
      n.issued += nnz;
      n.skipped += active - nnz;
      n.zero_entries += active - nnz;
      if (csc) {
        n.cycles += nnz > 0 ? ceil_div(nnz, ctx.simd_lanes) : ctx.csc.empty_column_cycles;
        n.weight_pointers += 2;
        n.filter_csc += nnz;
      } else {
        n.cycles += active_cycles;
        n.filter_dense += active;
      }
    }
  }
  for (int64_t l = 0; l < t.lanes; ++l)
    if (masked(l)) ctx.output[out_index(l)] += acc[l];
  count_position(ctx, n, macs, actions);
  return std::max<int64_t>(1, n.cycles);
}

int64_t compute_into(const PeContext& ctx, const PeTask& t, int64_t o, MacCounts& macs,
                     ActionCounts& actions, const FilterSkipPlan* plan, float* acc) {
  if (ctx.output_mask) return masked_position(ctx, t, o, macs, actions, acc);
  if (ctx.filter_sparse) {
    if (plan && plan->valid) return compute_planned(ctx, t, o, macs, actions, *plan, acc);
    FilterSkipPlan own;  // a caller without a plan (a test): build it for this position
    build_filter_skip_plan(ctx, t, own);
    return compute_planned(ctx, t, o, macs, actions, own, acc);
  }
  if (ctx.input_sparse) return walk_position<true>(ctx, t, o, macs, actions, acc);
  return walk_position<false>(ctx, t, o, macs, actions, acc);
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
