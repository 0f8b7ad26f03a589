#include "sw/mapper/row_stationary_mapper.hpp"

#include <algorithm>

#include "workloads/error.hpp"

namespace eg::mapper {

namespace {
int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
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

Tiling RowStationaryMapper::choose_tiling(const CanonicalProblem& p,
                                          const std::string& context) const {
  const arch::PeConfig& pe = config_.pe;
  const arch::GlbConfig& glb = config_.glb;
  const int64_t pe_rows = config_.array.pe_rows, pe_cols = config_.array.pe_cols;
  const int64_t filter_cap =
      p.filter_in_feedback_spad ? pe.spad_feedback_entries : pe.spad_weight_entries;
  const int64_t iact_cap = pe.spad_iact_entries, psum_cap = pe.spad_psum_entries;

  Tiling t;
  t.rows_per_set = std::min(p.rows.taps, pe_rows);
  t.k_stack = std::max<int64_t>(1, std::min(pe_rows / t.rows_per_set, p.k));
  t.cols_per_set = std::min(p.rows.out_len, pe_cols);
  t.a_stack = std::max<int64_t>(1, std::min(pe_cols / t.cols_per_set, p.a));

  // Taps along the row: as many as the iact window and one filter pair allow.
  const int64_t lanes_min = std::min<int64_t>(p.b, pe.macs_per_cycle);
  auto window = [&](int64_t taps) { return (taps - 1) * p.cols.tap_step + 1; };
  int64_t taps = p.cols.taps;
  while (taps > 1 && (window(taps) > iact_cap || taps * lanes_min > filter_cap)) --taps;
  t.taps_per_tile = taps;
  t.iact_window = window(taps);
  const int64_t k_per_stack = ceil_div(p.k, t.k_stack);
  t.channels = std::max<int64_t>(
      1, std::min({k_per_stack, iact_cap / t.iact_window, filter_cap / (taps * lanes_min)}));
  t.lanes = std::max<int64_t>(1, std::min({p.b, psum_cap, filter_cap / (t.channels * taps)}));
  if (t.lanes > pe.macs_per_cycle) t.lanes -= t.lanes % pe.macs_per_cycle;

  // GLB: a pass's input rows and an output tile must fit half the banks (the other half holds the
  // next pass's inputs / the previous tile draining to off-chip memory).
  const int64_t iact_glb = glb.iact_banks * glb.iact_bank_bytes / 2;
  const bool wgrad = p.phase == Phase::WeightGradient;
  const int64_t psum_glb =
      (wgrad ? glb.grad_banks * glb.grad_bank_bytes : glb.psum_banks * glb.psum_bank_bytes) / 2;
  const int64_t in_bits = operand_bits(p.input);
  auto iact_bytes = [&](int64_t channels) {
    const int64_t rows =
        (t.cols_per_set - 1) * p.rows.out_step + (t.rows_per_set - 1) * p.rows.tap_step + 1;
    return ceil_div(t.a_stack * t.k_stack * channels * rows * p.cols.in_len * in_bits, 8);
  };
  while (t.channels > 1 && iact_bytes(t.channels) > iact_glb) --t.channels;
  t.lanes = std::max<int64_t>(1, std::min(t.lanes, filter_cap / (t.channels * taps)));
  auto psum_bytes = [&](int64_t lanes) {
    return ceil_div(t.a_stack * t.cols_per_set * p.cols.out_len * lanes * config_.widths.psum, 8);
  };
  while (t.lanes > 1 && psum_bytes(t.lanes) > psum_glb) --t.lanes;
  t.iact_glb_bytes = iact_bytes(t.channels);
  t.psum_glb_bytes = psum_bytes(t.lanes);
  if (t.iact_glb_bytes > iact_glb)
    throw Error(context + ": input rows of " + std::to_string(p.cols.in_len) +
                " entries do not fit half the iact GLB (" + std::to_string(iact_glb) + " bytes)");
  if (t.psum_glb_bytes > psum_glb)
    throw Error(context + ": an output tile of " + std::to_string(p.cols.out_len) +
                "-entry rows does not fit half the " + (wgrad ? "gradient" : "psum") + " GLB (" +
                std::to_string(psum_glb) + " bytes)");

  t.filter_entries = t.lanes * t.channels * taps;
  t.iact_entries = t.channels * t.iact_window;
  t.psum_entries = t.lanes;
  t.a_groups = ceil_div(p.a, t.a_stack);
  t.b_groups = ceil_div(p.b, t.lanes);
  t.col_folds = ceil_div(p.rows.out_len, t.cols_per_set);
  t.k_groups = ceil_div(p.k, t.channels * t.k_stack);
  t.row_folds = ceil_div(p.rows.taps, t.rows_per_set);
  t.tap_folds = ceil_div(p.cols.taps, t.taps_per_tile);
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

  const int64_t tiles = t.tiles(), folds = t.folds_per_tile();
  const int64_t rounds = ceil_div(tiles, s.pc_count);
  s.passes.reserve(static_cast<size_t>(rounds * folds));
  for (int64_t round = 0; round < rounds; ++round) {
    for (int64_t fold = 0; fold < folds; ++fold) {
      Pass pass;
      pass.pcs.resize(static_cast<size_t>(s.pc_count));
      for (int64_t pc = 0; pc < s.pc_count; ++pc) {
        const int64_t tile = round * s.pc_count + pc;
        PcWork& w = pass.pcs[static_cast<size_t>(pc)];
        w.pes.resize(static_cast<size_t>(s.pe_rows * s.pe_cols));
        if (tile >= tiles) continue;
        w.tile = tile;
        w.fold = fold;
        w.first_fold = fold == 0;
        w.last_fold = fold == folds - 1;
        // tile -> (a_group, b_group, col_fold); fold -> (k_group, row_fold, tap_fold)
        const int64_t col_fold = tile % t.col_folds;
        const int64_t b_group = (tile / t.col_folds) % t.b_groups;
        const int64_t a_group = tile / (t.col_folds * t.b_groups);
        const int64_t tap_fold = fold % t.tap_folds;
        const int64_t row_fold = (fold / t.tap_folds) % t.row_folds;
        const int64_t k_group = fold / (t.tap_folds * t.row_folds);
        for (int64_t i = 0; i < s.pe_rows; ++i)
          for (int64_t j = 0; j < s.pe_cols; ++j) {
            PeTask task;
            task.stack_k = i / t.rows_per_set;
            task.stack_a = j / t.cols_per_set;
            const int64_t r = row_fold * t.rows_per_set + i % t.rows_per_set;
            const int64_t e = col_fold * t.cols_per_set + j % t.cols_per_set;
            task.a = a_group * t.a_stack + task.stack_a;
            task.k0 = (k_group * t.k_stack + task.stack_k) * t.channels;
            task.b0 = b_group * t.lanes;
            task.t0 = tap_fold * t.taps_per_tile;
            if (task.stack_k >= t.k_stack || task.stack_a >= t.a_stack || r >= p.rows.taps ||
                e >= p.rows.out_len || task.a >= p.a || task.k0 >= p.k)
              continue;
            task.filter_row = r;
            task.out_row = e;
            task.in_row = p.rows.input_index(e, r);
            if (!p.issue_padding && !p.rows.in_range(task.in_row)) continue;
            task.channels = std::min(t.channels, p.k - task.k0);
            task.lanes = std::min(t.lanes, p.b - task.b0);
            task.taps = std::min(t.taps_per_tile, p.cols.taps - task.t0);
            task.active = true;
            w.active = true;
            w.pes[static_cast<size_t>(i * s.pe_cols + j)] = task;
          }
      }
      s.passes.push_back(std::move(pass));
    }
  }
  return s;
}

int64_t tile_output_entries(const Schedule& s, int64_t tile) {
  const Tiling& t = s.tiling;
  const CanonicalProblem& p = s.problem;
  const int64_t col_fold = tile % t.col_folds;
  const int64_t b_group = (tile / t.col_folds) % t.b_groups;
  const int64_t a_group = tile / (t.col_folds * t.b_groups);
  const int64_t planes = std::min(t.a_stack, p.a - a_group * t.a_stack);
  const int64_t rows = std::min(t.cols_per_set, p.rows.out_len - col_fold * t.cols_per_set);
  const int64_t lanes = std::min(t.lanes, p.b - b_group * t.lanes);
  return planes * rows * lanes * p.cols.out_len;
}

}  // namespace eg::mapper
