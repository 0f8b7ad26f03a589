#pragma once
// A canonical problem mapped onto the array (docs/DESIGN.md §4): plain data the controller executes
// and `egsim map` prints. Each pass gives every cluster at most one output tile and a run of its
// folds; inside a cluster PE (i, j) runs one row task per fold (a "segment"): filter row
// `filter_row` of `channels` channels and `lanes` filters, input row `in_row` of input plane `a`,
// accumulating psum row `out_row` vertically with its column.
#include <cstdint>
#include <vector>

#include "sw/mapper/canonical_problem.hpp"

namespace eg::mapper {

struct Tiling {
  // Logical PE set: filter rows on PE rows; PE columns take consecutive (input plane, output row)
  // pairs of the flattened a x rows.out_len axis, so a short output (a weight gradient's R rows)
  // still fills every column by continuing into the next plane.
  int64_t rows_per_set = 1;  // filter rows per cluster pass (<= pe_rows)
  int64_t k_stack = 1;       // channel groups stacked vertically when rows_per_set < pe_rows
  int64_t cols_per_set = 1;  // PE columns used (<= pe_cols)
  // Per-PE work, bounded by the scratchpads.
  int64_t lanes = 1;          // filters sharing each iact (psum spad, filter spad)
  int64_t channels = 1;       // input channels per PE (iact spad, filter spad)
  int64_t taps_per_tile = 1;  // filter taps along the row resident at once
  // Output tiles: column chunks of the flattened (plane, row) axis x filter groups.
  int64_t col_chunks = 1, b_groups = 1;
  // Folds accumulating into one tile (tap folds innermost, then row folds, then channel groups).
  int64_t k_groups = 1, row_folds = 1, tap_folds = 1;
  // Psum-stationary folding: when a PE's whole psum row (out_len x lanes) fits its psum spad, the
  // folds of a tile run back to back inside one pass, psums staying in the PE (no GLB
  // read-modify-write, no pass barrier per fold); `folds_per_pass` is bounded by the iact GLB.
  bool psum_stationary = false;
  int64_t folds_per_pass = 1;
  // Filter sets the filter spad holds (2: the next fold's filters load while this one computes,
  // each set then limited to half the spad).
  int64_t filter_buffers = 1;
  int64_t tiles() const { return col_chunks * b_groups; }
  int64_t folds_per_tile() const { return k_groups * row_folds * tap_folds; }
  int64_t passes_per_tile() const {
    return (folds_per_tile() + folds_per_pass - 1) / folds_per_pass;
  }
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
  int64_t stack_k = 0;
};

struct PcWork {
  bool active = false;                         // at least one PE has MACs
  int64_t tile = -1, fold = 0;                 // tile -1: this cluster has no work in the pass
  int64_t folds = 1;                           // consecutive folds (segments) in this pass
  bool first_fold = false, last_fold = false;  // psums start from zero / leave for off-chip memory
  // folds x pe_rows x pe_cols, segment-major: pes[q * pe_rows * pe_cols + i * pe_cols + j] is
  // PE (i, j)'s task in the pass's q-th fold.
  std::vector<PeTask> pes;
};

struct Pass {
  std::vector<PcWork> pcs;
};

struct Schedule {
  CanonicalProblem problem;
  Tiling tiling;
  int pe_rows = 0, pe_cols = 0, pc_count = 0;
  // Rounds of pc_count output tiles, each round's folds in runs of folds_per_pass: pass i is fold
  // run i % passes_per_tile() of round i / passes_per_tile().
  int64_t pass_count = 0;
  int64_t dense_macs = 0;
  int64_t lower_bound_cycles = 0;  // dense MACs / peak MACs per cycle of the whole array

  // Pass `index` (0 <= index < pass_count), built on demand: one pass is a few hundred KB at
  // most, the task table of a whole large layer would be gigabytes.
  Pass pass(int64_t index) const;
};

}  // namespace eg::mapper
