#pragma once
// A canonical problem mapped onto the array (DESIGN.md §5.1): plain data the controller executes
// and `egsim map` prints. Each pass gives every cluster at most one (output tile, fold); inside a
// cluster PE (i, j) runs one row task: filter row `filter_row` of `channels` channels and `lanes`
// filters, input row `in_row` of input plane `a`, accumulating psum row `out_row` vertically with
// its column.
#include <cstdint>
#include <vector>

#include "sw/mapper/canonical_problem.hpp"

namespace eg::mapper {

struct Tiling {
  // Logical PE set: filter rows on PE rows, output rows on PE columns.
  int64_t rows_per_set = 1;  // filter rows per cluster pass (<= pe_rows)
  int64_t k_stack = 1;       // channel groups stacked vertically when rows_per_set < pe_rows
  int64_t cols_per_set = 1;  // output rows per cluster pass (<= pe_cols)
  int64_t a_stack = 1;       // input planes side by side when cols_per_set < pe_cols
  // Per-PE work, bounded by the scratchpads.
  int64_t lanes = 1;          // filters sharing each iact (psum spad, filter spad)
  int64_t channels = 1;       // input channels per PE (iact spad, filter spad)
  int64_t taps_per_tile = 1;  // filter taps along the row resident at once
  // Folds: how often the cluster-sized set repeats.
  int64_t a_groups = 1, b_groups = 1, col_folds = 1;   // output tiles
  int64_t k_groups = 1, row_folds = 1, tap_folds = 1;  // folds accumulating into one tile
  int64_t tiles() const { return a_groups * b_groups * col_folds; }
  int64_t folds_per_tile() const { return k_groups * row_folds * tap_folds; }
  // Spad and GLB footprint of one PE / one cluster pass (entries and bytes).
  int64_t iact_window = 1;
  int64_t filter_entries = 1, iact_entries = 1, psum_entries = 1;
  int64_t iact_glb_bytes = 0, psum_glb_bytes = 0;
};

struct PeTask {
  bool active = false;
  int64_t a = 0, b0 = 0, lanes = 0, k0 = 0, channels = 0;
  int64_t filter_row = 0, out_row = 0, in_row = 0;
  int64_t t0 = 0, taps = 0;  // filter-tap tile along the row
  int64_t stack_k = 0, stack_a = 0;
};

struct PcWork {
  bool active = false;                         // at least one PE has MACs
  int64_t tile = -1, fold = 0;                 // tile -1: this cluster has no work in the pass
  bool first_fold = false, last_fold = false;  // psums start from zero / leave for off-chip memory
  std::vector<PeTask> pes;                     // pe_rows x pe_cols, row-major
};

struct Pass {
  std::vector<PcWork> pcs;
};

struct Schedule {
  CanonicalProblem problem;
  Tiling tiling;
  int pe_rows = 0, pe_cols = 0, pc_count = 0;
  std::vector<Pass> passes;
  int64_t dense_macs = 0;
  int64_t lower_bound_cycles = 0;  // dense MACs / peak MACs per cycle of the whole array
};

}  // namespace eg::mapper
