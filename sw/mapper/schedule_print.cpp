#include "sw/mapper/schedule_print.hpp"

#include <iomanip>

namespace eg::mapper {

namespace {
void print_axis(std::ostream& out, const char* name, const ConvAxis& a) {
  out << "  " << name << ": in " << a.in_len << ", out " << a.out_len << ", taps " << a.taps
      << ", out_step " << a.out_step << ", tap_step " << a.tap_step << ", pad " << a.pad << "\n";
}
}  // namespace

void print_schedule(std::ostream& out, const Schedule& s, int passes_shown) {
  const CanonicalProblem& p = s.problem;
  const Tiling& t = s.tiling;
  out << p.label() << ": O[a][b] = sum_k conv2d(I[a][k], W[b][k]) with a=" << p.a << " b=" << p.b
      << " k=" << p.k << "\n";
  out << "  input " << to_string(p.input) << ", filter " << to_string(p.filter)
      << (p.filter_in_feedback_spad ? " (feedback spad)" : " (weight spad)") << ", output "
      << to_string(p.output) << ", zero-skip on "
      << (p.delta == DeltaOperand::Input    ? "input"
          : p.delta == DeltaOperand::Filter ? "filter"
                                            : "nothing")
      << ", padding MACs " << (p.issue_padding ? "issued" : "absent") << "\n";
  print_axis(out, "rows", p.rows);
  print_axis(out, "cols", p.cols);
  out << "logical PE set per cluster: " << t.rows_per_set << " filter rows x " << t.cols_per_set
      << " columns of (input plane, output row) pairs; replicated " << t.k_stack
      << "x vertically (channel groups); " << s.pc_count
      << " clusters take different output tiles\n";
  out << "per PE: " << t.lanes << " filters (lanes) x " << t.channels << " channels x "
      << t.taps_per_tile << " taps -> spads: filter " << t.filter_entries << " x "
      << t.filter_buffers << " buffer" << (t.filter_buffers > 1 ? "s" : "") << ", iact "
      << t.iact_entries << " (window " << t.iact_window << "), psum " << t.psum_entries
      << " entries\n";
  out << "psums: "
      << (t.psum_stationary ? "stationary in the PE across the folds of a pass"
                            : "drained to the GLB per position, accumulated there across folds")
      << (t.filter_buffers > 1 ? "; the next fold's filters load while the current one computes"
                               : "")
      << "\n";
  out << "GLB per pass: iact " << t.iact_glb_bytes << " B, psum tile " << t.psum_glb_bytes
      << " B\n";
  out << "output tiles " << t.tiles() << " = column chunks " << t.col_chunks << " x b-groups "
      << t.b_groups << "; folds per tile " << t.folds_per_tile() << " = channel groups "
      << t.k_groups << " x row folds " << t.row_folds << " x tap folds " << t.tap_folds << "; "
      << t.folds_per_pass << " fold" << (t.folds_per_pass > 1 ? "s" : "") << " per pass\n";
  out << "passes " << s.pass_count << ", dense MACs " << s.dense_macs << ", cycle lower bound "
      << s.lower_bound_cycles << " (dense MACs / peak of " << s.pc_count * s.pe_rows * s.pe_cols
      << " PEs)\n";
  for (int64_t i = 0; i < passes_shown && i < s.pass_count; ++i) {
    const Pass pass = s.pass(i);
    const PcWork& w = pass.pcs[0];
    out << "pass " << i << ", cluster 0: tile " << w.tile << ", folds " << w.fold << ".."
        << w.fold + w.folds - 1 << " (PE tasks of fold " << w.fold << ")\n";
    for (int r = 0; r < s.pe_rows; ++r) {
      for (int c = 0; c < s.pe_cols; ++c) {
        const PeTask& k = w.pes[static_cast<size_t>(r * s.pe_cols + c)];
        out << "  PE(" << r << "," << c << "): ";
        if (!k.active) {
          out << "idle\n";
          continue;
        }
        out << "a " << k.a << ", filters " << k.b0 << ".." << k.b0 + k.lanes - 1 << ", channels "
            << k.k0 << ".." << k.k0 + k.channels - 1 << ", filter row " << k.filter_row << " taps "
            << k.t0 << ".." << k.t0 + k.taps - 1 << ", input row " << k.in_row << " -> psum row "
            << k.out_row << "\n";
      }
    }
  }
}

}  // namespace eg::mapper
