#include "sw/mapper/row_stationary_mapper.hpp"

#include <algorithm>
#include <map>

#include "base/checked.hpp"
#include "base/error.hpp"

namespace eg::mapper {

namespace {
int64_t ceil_div(int64_t a, int64_t b) {
  return a / b + (a % b != 0 ? 1 : 0);  // a >= 0, b > 0; no a + b overflow
}
constexpr const char* kWhat = "mapper: tile size";
}  // namespace

int RowStationaryMapper::operand_bits(Operand o) const {
  const arch::Widths& w = config_.widths;
  switch (o) {
    case Operand::Activation:
      return w.activation;
    case Operand::Weight:
      return w.weight;
    case Operand::Feedback:
      return w.feedback;
    case Operand::Gradient:
    case Operand::WeightGradient:
      return w.gradient;
  }
  return 0;
}

void RowStationaryMapper::fit_pe_work(const CanonicalProblem& p, Tiling& t, int64_t filter_cap,
                                      int64_t lane_cap) const {
  const arch::PeConfig& pe = config_.pe;
  const int64_t iact_cap = pe.spad_iact_entries;
  // Taps along the row: as many as the iact window and one filter pair allow.
  const int64_t lanes_min = std::min<int64_t>({p.b, pe.macs_per_cycle, lane_cap});
  auto window = [&](int64_t taps) { return (taps - 1) * p.cols.tap_step + 1; };
  // The most taps whose window fits the iact spad and whose filters (one per lane) fit the filter
  // spad; at least one. Closed form: a weight gradient's taps are a whole output row.
  const int64_t taps = std::max<int64_t>(
      1, std::min({p.cols.taps, (iact_cap - 1) / p.cols.tap_step + 1, filter_cap / lanes_min}));
  t.taps_per_tile = taps;
  t.iact_window = window(taps);
  const int64_t k_per_stack = ceil_div(p.k, t.k_stack);
  t.channels = std::max<int64_t>(
      1, std::min({k_per_stack, iact_cap / t.iact_window, filter_cap / (taps * lanes_min)}));
  if (p.one_by_one) {
    // The same number of folds with the channels spread evenly: a 1x1 problem's folds are short,
    // so a last fold with a few channels (64 channels as 48 + 16) leaves most PEs idle for a
    // whole fold.
    const int64_t groups = ceil_div(p.k, t.channels * t.k_stack);
    t.channels = ceil_div(p.k, groups * t.k_stack);
  }
  t.lanes = std::max<int64_t>(1, std::min({p.b, lane_cap, filter_cap / (t.channels * taps)}));
  if (t.lanes > pe.macs_per_cycle) t.lanes -= t.lanes % pe.macs_per_cycle;
}

int64_t RowStationaryMapper::max_chunk_input_rows(const CanonicalProblem& p,
                                                  const Tiling& t) const {
  const int64_t pairs = p.a * p.rows.out_len;
  int64_t worst = 0;
  // Chunks repeat with the period lcm(cols_per_set, out_len); scanning a few periods is enough.
  const int64_t chunks = std::min(ceil_div(pairs, t.cols_per_set), int64_t{4096});
  for (int64_t c = 0; c < chunks; ++c) {
    std::map<int64_t, std::pair<int64_t, int64_t>> planes;  // a -> (first, last output row)
    for (int64_t q = c * t.cols_per_set; q < std::min(pairs, (c + 1) * t.cols_per_set); ++q) {
      const int64_t a = q / p.rows.out_len, e = q % p.rows.out_len;
      auto it = planes.find(a);
      if (it == planes.end())
        planes[a] = {e, e};
      else
        it->second.second = e;
    }
    int64_t rows = 0;
    for (const auto& [a, span] : planes)
      rows = checked_add(
          rows,
          std::min(p.rows.in_len,
                   checked_add(checked_mul(span.second - span.first, p.rows.out_step, kWhat),
                               checked_mul(t.rows_per_set - 1, p.rows.tap_step, kWhat) + 1, kWhat)),
          kWhat);
    worst = std::max(worst, rows);
  }
  return worst;
}

Tiling RowStationaryMapper::choose_tiling(const CanonicalProblem& p,
                                          const std::string& context) const {
  const arch::PeConfig& pe = config_.pe;
  const arch::GlbConfig& glb = config_.glb;
  const int64_t pe_rows = config_.array.pe_rows, pe_cols = config_.array.pe_cols;
  const int64_t filter_cap =
      p.filter_in_feedback_spad ? pe.spad_feedback_entries : pe.spad_weight_entries;
  const int64_t psum_cap = pe.spad_psum_entries;

  Tiling t;
  t.rows_per_set = std::min(p.rows.taps, pe_rows);
  t.k_stack = std::max<int64_t>(1, std::min(pe_rows / t.rows_per_set, p.k));
  t.cols_per_set = std::min(pe_cols, checked_mul(p.a, p.rows.out_len, context + ": output rows"));

  // Psum-stationary folding needs the PE's whole psum row (out_len positions x lanes) in the psum
  // spad; with double buffering each filter set gets half the filter spad.
  const int64_t buffers = options_.double_buffer_filter_spad ? 2 : 1;
  // It is only taken when the spad still holds a full SIMD group of lanes per position: with
  // fewer, every MAC cycle would leave SIMD lanes empty (measured: ResNet-18 layer1 forward,
  // 32-wide rows, dropped from 0.82 to 0.40 utilisation), which costs more than the pass barriers
  // it saves. Backward keeps per-position drains: its problems have few folds (a stride phase has
  // 1-2 filter rows) and input-side zero-skipping costs per position whatever the lane count, so
  // the halved lanes lose more than they gain (measured on ResNet-18: layer3_conv_s2 backward 314k
  // -> 614k cycles).
  t.psum_stationary = options_.psum_stationary_folds && p.phase != Phase::Backward &&
                      psum_cap / p.cols.out_len >= std::min<int64_t>(p.b, pe.macs_per_cycle) &&
                      filter_cap / buffers >= 1;
  if (t.psum_stationary) {
    Tiling s = t;
    fit_pe_work(p, s, filter_cap / buffers, psum_cap / p.cols.out_len);
    const int64_t folds =
        checked_product(std::vector<int64_t>{ceil_div(p.k, s.channels * s.k_stack),
                                             ceil_div(p.rows.taps, s.rows_per_set),
                                             ceil_div(p.cols.taps, s.taps_per_tile)},
                        context + ": folds");
    // With a single fold there is nothing to keep stationary or to prefetch.
    if (folds > 1) {
      t = s;
      t.filter_buffers = buffers;
    } else {
      t.psum_stationary = false;
    }
  }
  if (!t.psum_stationary) fit_pe_work(p, t, filter_cap, psum_cap);

  // GLB: a pass's input rows must fit one of glb.iact_buffers parts of the iact banks (the others
  // hold the next passes' inputs), an output tile one of glb.psum_buffers parts of the psum (or
  // grad) banks (the others hold earlier tiles draining to off-chip memory).
  const int64_t iact_glb = glb.iact_banks * glb.iact_bank_bytes / glb.iact_buffers;
  const bool wgrad = p.phase == Phase::WeightGradient;
  const int64_t psum_glb =
      (wgrad ? glb.grad_banks * glb.grad_bank_bytes : glb.psum_banks * glb.psum_bank_bytes) /
      glb.psum_buffers;
  const int64_t in_bits = operand_bits(p.input);
  const int64_t chunk_rows = max_chunk_input_rows(p, t);
  const std::string what = context + ": tile size";
  auto iact_bytes = [&](int64_t channels) {
    return ceil_div(
        checked_product(
            std::vector<int64_t>{t.k_stack, channels, chunk_rows, p.cols.in_len, in_bits}, what),
        8);
  };
  while (t.channels > 1 && iact_bytes(t.channels) > iact_glb) --t.channels;
  t.lanes = std::max<int64_t>(
      1, std::min(t.lanes, (filter_cap / t.filter_buffers) / (t.channels * t.taps_per_tile)));
  auto psum_bytes = [&](int64_t lanes) {
    return ceil_div(
        checked_product(
            std::vector<int64_t>{t.cols_per_set, p.cols.out_len, lanes, config_.widths.psum}, what),
        8);
  };
  while (t.lanes > 1 && psum_bytes(t.lanes) > psum_glb) --t.lanes;
  t.psum_glb_bytes = psum_bytes(t.lanes);
  if (iact_bytes(t.channels) > iact_glb)
    throw Error(context + ": input rows of " + std::to_string(p.cols.in_len) +
                " entries do not fit half the iact GLB (" + std::to_string(iact_glb) + " bytes)");
  if (t.psum_glb_bytes > psum_glb)
    throw Error(context + ": an output tile of " + std::to_string(p.cols.out_len) +
                "-entry rows does not fit half the " + (wgrad ? "gradient" : "psum") + " GLB (" +
                std::to_string(psum_glb) + " bytes)");

  t.filter_entries = t.lanes * t.channels * t.taps_per_tile;
  t.iact_entries = t.channels * t.iact_window;
  t.psum_entries = t.lanes * (t.psum_stationary ? p.cols.out_len : 1);
  t.col_chunks = ceil_div(checked_mul(p.a, p.rows.out_len, what), t.cols_per_set);
  t.b_groups = ceil_div(p.b, t.lanes);
  t.k_groups = ceil_div(p.k, t.channels * t.k_stack);
  t.row_folds = ceil_div(p.rows.taps, t.rows_per_set);
  t.tap_folds = ceil_div(p.cols.taps, t.taps_per_tile);
  // Folds of one pass: tap folds share their input rows, so whole groups of tap folds are taken,
  // as many as keep the pass's input rows within half the iact GLB.
  const int64_t per_fold_set = std::max<int64_t>(1, iact_bytes(t.channels));
  t.folds_per_pass = t.psum_stationary
                         ? std::min(t.folds_per_tile(),
                                    t.tap_folds * std::max<int64_t>(1, iact_glb / per_fold_set))
                         : 1;
  t.iact_glb_bytes = iact_bytes(t.channels) * ceil_div(t.folds_per_pass, t.tap_folds);
  return t;
}

Schedule RowStationaryMapper::map(const CanonicalProblem& p, const std::string& context) const {
  Schedule s;
  s.problem = p;
  s.tiling = choose_tiling(p, context);
  const Tiling& t = s.tiling;
  s.pe_rows = config_.array.pe_rows;
  s.pe_cols = config_.array.pe_cols;
  s.pc_count = config_.array.pc_count();
  s.dense_macs = p.dense_macs();
  const int64_t peak = int64_t{config_.array.pe_count()} * config_.pe.macs_per_cycle;
  s.lower_bound_cycles = ceil_div(s.dense_macs, peak);

  const std::string what = context + ": schedule size";
  const int64_t tiles = checked_mul(t.col_chunks, t.b_groups, what);
  const int64_t folds =
      checked_product(std::vector<int64_t>{t.k_groups, t.row_folds, t.tap_folds}, what);
  const int64_t rounds = ceil_div(tiles, s.pc_count);
  const int64_t passes_per_tile = ceil_div(folds, t.folds_per_pass);
  s.pass_count = checked_mul(rounds, passes_per_tile, what);
  const int64_t pass_tasks = checked_product(
      std::vector<int64_t>{s.pc_count, s.pe_rows * s.pe_cols, t.folds_per_pass}, what);
  if (s.pass_count > kMaxSchedulePasses)
    throw Error(context + ": the schedule needs " + std::to_string(s.pass_count) +
                " passes, more than the limit of " + std::to_string(kMaxSchedulePasses) +
                "; the layer is too large for this array (simulate a smaller batch)");
  if (pass_tasks > kMaxPassTasks)
    throw Error(context + ": one pass needs " + std::to_string(pass_tasks) +
                " PE tasks, more than the limit of " + std::to_string(kMaxPassTasks));
  return s;
}

Pass Schedule::pass(int64_t index) const {
  const Tiling& t = tiling;
  const CanonicalProblem& p = problem;
  const int64_t folds = t.folds_per_tile();
  const int64_t passes_per_tile = t.passes_per_tile();
  const int64_t round = index / passes_per_tile;
  const int64_t fold0 = (index % passes_per_tile) * t.folds_per_pass;
  const int64_t tiles = t.tiles();
  const int64_t pes = int64_t{pe_rows} * pe_cols;
  const int64_t pairs = p.a * p.rows.out_len;
  const int64_t run = std::min(t.folds_per_pass, folds - fold0);
  Pass pass;
  pass.pcs.resize(static_cast<size_t>(pc_count));
  for (int64_t pc = 0; pc < pc_count; ++pc) {
    // Column chunks vary fastest, so the clusters of a round mostly share their filters
    // (multicast once from off-chip memory) — in weight gradient those are the 16-bit δ̂ rows.
    const int64_t tile = round * pc_count + pc;
    PcWork& w = pass.pcs[static_cast<size_t>(pc)];
    w.pes.resize(static_cast<size_t>(run * pes));
    if (tile >= tiles) continue;
    w.tile = tile;
    w.fold = fold0;
    w.folds = run;
    w.first_fold = fold0 == 0;
    w.last_fold = fold0 + run == folds;
    const int64_t col_chunk = tile % t.col_chunks;
    const int64_t b_group = tile / t.col_chunks;
    for (int64_t q = 0; q < run; ++q) {
      const int64_t fold = fold0 + q;
      const int64_t tap_fold = fold % t.tap_folds;
      const int64_t row_fold = (fold / t.tap_folds) % t.row_folds;
      const int64_t k_group = fold / (t.tap_folds * t.row_folds);
      for (int64_t i = 0; i < pe_rows; ++i)
        for (int64_t j = 0; j < pe_cols; ++j) {
          PeTask task;
          task.stack_k = i / t.rows_per_set;
          const int64_t r = row_fold * t.rows_per_set + i % t.rows_per_set;
          const int64_t pair = col_chunk * t.cols_per_set + j;
          if (task.stack_k >= t.k_stack || r >= p.rows.taps || j >= t.cols_per_set || pair >= pairs)
            continue;
          task.a = pair / p.rows.out_len;
          const int64_t e = pair % p.rows.out_len;
          task.k0 = (k_group * t.k_stack + task.stack_k) * t.channels;
          task.b0 = b_group * t.lanes;
          task.t0 = tap_fold * t.taps_per_tile;
          if (task.k0 >= p.k) continue;
          task.filter_row = r;
          task.out_row = e;
          task.in_row = p.rows.input_index(e, r);
          if (!p.issue_padding && !p.rows.in_range(task.in_row)) continue;
          task.channels = std::min(t.channels, p.k - task.k0);
          task.lanes = std::min(t.lanes, p.b - task.b0);
          task.taps = std::min(t.taps_per_tile, p.cols.taps - task.t0);
          task.active = true;
          w.active = true;
          w.pes[static_cast<size_t>(q * pes + i * pe_cols + j)] = task;
        }
    }
  }
  return pass;
}

int64_t tile_output_entries(const Schedule& s, int64_t tile) {
  const Tiling& t = s.tiling;
  const CanonicalProblem& p = s.problem;
  const int64_t col_chunk = tile % t.col_chunks;
  const int64_t b_group = tile / t.col_chunks;
  const int64_t pairs = std::min(t.cols_per_set, p.a * p.rows.out_len - col_chunk * t.cols_per_set);
  const int64_t lanes = std::min(t.lanes, p.b - b_group * t.lanes);
  return pairs * lanes * p.cols.out_len;
}

}  // namespace eg::mapper
