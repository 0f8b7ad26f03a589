// The row-stationary mapper: for 3x3/1x1, stride 1/2, padding and FC layers in all three phases,
// every MAC of the dense layer is assigned to exactly one PE task, within the scratchpads.
#include <catch2/catch.hpp>

#include <map>
#include <sstream>

#include "base/error.hpp"
#include "models/arch/arch_config.hpp"
#include "sw/mapper/row_stationary_mapper.hpp"
#include "sw/mapper/schedule_print.hpp"

using namespace eg;
using namespace eg::mapper;

namespace {

arch::ArchConfig config() {
  return arch::load_arch_config(std::string(EGSIM_SOURCE_DIR) + "/configs/hw/efficientgrad.json");
}

trace::Layer conv(int64_t n, int64_t c, int64_t h, int64_t m, int64_t k, int64_t stride,
                  int64_t pad) {
  trace::Layer l;
  l.name = "L";
  l.type = trace::LayerType::Conv;
  const int64_t e = (h + 2 * pad - k) / stride + 1;
  l.in = {n, c, h, h};
  l.out = {n, m, e, e};
  l.kernel_r = l.kernel_s = k;
  l.stride = stride;
  l.pad = pad;
  return l;
}
trace::Layer fc(int64_t n, int64_t c, int64_t m) {
  trace::Layer l;
  l.name = "F";
  l.type = trace::LayerType::Fc;
  l.in = {n, c};
  l.out = {n, m};
  return l;
}

// Counts, over all tasks of a schedule, how often each (a, b, out_row, out_col, k, tap_r, tap_c)
// MAC is issued; each must be issued exactly once if it exists (valid input or issued padding).
void check_coverage(const Schedule& s, const arch::ArchConfig& cfg) {
  const CanonicalProblem& p = s.problem;
  const Tiling& t = s.tiling;
  const int64_t filter_cap =
      p.filter_in_feedback_spad ? cfg.pe.spad_feedback_entries : cfg.pe.spad_weight_entries;
  CHECK(t.filter_entries * t.filter_buffers <= filter_cap);
  if (t.psum_stationary) CHECK(t.lanes * p.cols.out_len <= cfg.pe.spad_psum_entries);
  CHECK(t.iact_entries <= cfg.pe.spad_iact_entries);
  CHECK(t.psum_entries <= cfg.pe.spad_psum_entries);
  std::map<std::vector<int64_t>, int> count;
  int64_t total = 0;
  for (int64_t i = 0; i < s.pass_count; ++i) {
    const Pass pass = s.pass(i);
    REQUIRE(pass.pcs.size() == size_t(cfg.array.pc_count()));
    for (const PcWork& w : pass.pcs)
      for (const PeTask& k : w.pes) {
        if (!k.active) continue;
        for (int64_t o = 0; o < p.cols.out_len; ++o)
          for (int64_t ch = k.k0; ch < k.k0 + k.channels; ++ch)
            for (int64_t tt = k.t0; tt < k.t0 + k.taps; ++tt) {
              const bool valid =
                  p.rows.in_range(k.in_row) && p.cols.in_range(p.cols.input_index(o, tt));
              if (!valid && !p.issue_padding) continue;
              for (int64_t b = k.b0; b < k.b0 + k.lanes; ++b) {
                ++count[{k.a, b, k.out_row, o, ch, k.filter_row, tt}];
                ++total;
              }
            }
      }
  }
  CHECK(total == p.dense_macs());
  CHECK(total == s.dense_macs);
  bool all_once = true;
  for (const auto& [key, n] : count) all_once = all_once && n == 1;
  CHECK(all_once);
  CHECK(s.lower_bound_cycles * 144 >= s.dense_macs);
}

}  // namespace

TEST_CASE("mapper covers every MAC exactly once for conv and FC layers in all phases", "[mapper]") {
  const arch::ArchConfig cfg = config();
  const RowStationaryMapper mapper(cfg);
  const std::vector<trace::Layer> layers{conv(2, 3, 8, 4, 3, 1, 1),
                                         conv(1, 4, 8, 8, 3, 2, 1),
                                         conv(2, 4, 8, 8, 1, 2, 0),
                                         conv(1, 6, 6, 5, 1, 1, 0),
                                         conv(1, 2, 9, 3, 5, 1, 2),
                                         conv(1, 16, 12, 20, 3, 1, 1),
                                         fc(4, 20, 10),
                                         fc(1, 512, 10)};
  for (const trace::Layer& l : layers) {
    const ConvView v = conv_view(l);
    for (Phase phase : kAllPhases) {
      INFO(trace::to_string(l.type) << " c" << v.c << " m" << v.m << " h" << v.h << " k" << v.r
                                    << " s" << v.stride << " " << to_string(phase));
      int64_t dense = 0;
      for (const CanonicalProblem& p : canonical_problems(v, phase, cfg.features)) {
        dense += p.dense_macs();
        check_coverage(mapper.map(p, "test"), cfg);
      }
      CHECK(dense == l.dense_macs());
    }
  }
}

TEST_CASE("backward of a stride-2 layer splits into stride phases with only their taps",
          "[mapper]") {
  const arch::ArchConfig cfg = config();
  const ConvView v = conv_view(conv(1, 4, 8, 8, 3, 2, 1));
  const auto problems = canonical_problems(v, Phase::Backward, cfg.features);
  REQUIRE(problems.size() == 4);
  CHECK(problems[0].rows.taps == 2);  // taps 0 and 2 reach even positions
  CHECK(problems[3].rows.taps == 1);  // tap 1 reaches odd positions
  CHECK(problems[0].delta == DeltaOperand::Input);
  CHECK(problems[0].filter == Operand::Feedback);
  // A 1x1 stride-2 conv reaches only the even positions: one phase.
  CHECK(canonical_problems(conv_view(conv(1, 4, 8, 8, 1, 2, 0)), Phase::Backward, cfg.features)
            .size() == 1);
  arch::Features baseline = cfg.features;
  baseline.feedback_source = arch::FeedbackSource::TransposedDram;
  baseline.sparse_operands.backward_input = false;
  baseline.sparse_operands.weight_gradient_filter = false;
  const auto bp = canonical_problems(v, Phase::Backward, baseline);
  CHECK(bp[0].filter == Operand::Weight);
  // δ̂ is the backward input and the weight-gradient filter whether or not its zeros are exploited
  // (the PE reads features.sparse_operands for that).
  CHECK(bp[0].delta == DeltaOperand::Input);
  CHECK(canonical_problems(v, Phase::WeightGradient, baseline)[0].delta == DeltaOperand::Filter);
  CHECK(canonical_problems(v, Phase::Forward, baseline)[0].delta == DeltaOperand::None);
}

TEST_CASE("mapper folds large sets and replicates small ones", "[mapper]") {
  const arch::ArchConfig cfg = config();
  const RowStationaryMapper mapper(cfg);
  // 5x5 filter on 3 PE rows: 2 row folds; 1x1 filter: 3 channel groups stacked vertically.
  const Schedule big = mapper.map(
      canonical_problems(conv_view(conv(1, 2, 9, 3, 5, 1, 2)), Phase::Forward, cfg.features)[0],
      "t");
  CHECK(big.tiling.row_folds == 2);
  CHECK(big.tiling.col_chunks == 3);  // 9 output rows over 4 PE columns
  const Schedule small = mapper.map(
      canonical_problems(conv_view(conv(2, 8, 2, 8, 1, 1, 0)), Phase::Forward, cfg.features)[0],
      "t");
  CHECK(small.tiling.k_stack == 3);
  CHECK(small.tiling.cols_per_set == 4);  // 2 output rows, 2 images side by side
  std::ostringstream text;
  print_schedule(text, small);
  CHECK(text.str().find("replicated 3x vertically") != std::string::npos);
  CHECK(text.str().find("PE(0,0): a 0") != std::string::npos);
}

TEST_CASE("mapper rejects layers whose rows cannot fit the GLB, naming the layer", "[mapper]") {
  arch::ArchConfig cfg = config();
  cfg.glb.iact_bank_bytes = 8;
  const RowStationaryMapper mapper(cfg);
  const auto p =
      canonical_problems(conv_view(conv(1, 3, 32, 4, 3, 1, 1)), Phase::Forward, cfg.features)[0];
  CHECK_THROWS_WITH(mapper.map(p, "layer 'conv1' forward"),
                    Catch::Contains("layer 'conv1' forward") && Catch::Contains("iact GLB"));
  CHECK_THROWS_WITH(phase_from_string("sideways", "--phase"), Catch::Contains("--phase"));
}

TEST_CASE("weight gradient keeps psums in the PE across folds and fills all four columns",
          "[mapper]") {
  const arch::ArchConfig cfg = config();
  const RowStationaryMapper mapper(cfg);
  // ResNet-18 layer1 shape: dW rows of 3 on 4 PE columns; E = 32 filter (δ̂) rows fold over 3 PE
  // rows.
  const auto p = canonical_problems(conv_view(conv(1, 64, 32, 64, 3, 1, 1)), Phase::WeightGradient,
                                    cfg.features)[0];
  const Schedule s = mapper.map(p, "t");
  CHECK(s.tiling.psum_stationary);
  CHECK(s.tiling.filter_buffers == 2);
  CHECK(s.tiling.folds_per_pass > 1);
  CHECK(s.tiling.cols_per_set == 4);
  int64_t active_columns = 0;
  const Pass first = s.pass(0);
  for (int j = 0; j < s.pe_cols; ++j) active_columns += first.pcs[0].pes[size_t(j)].active;
  CHECK(active_columns == 4);
  // Column 3 continues into the next input plane (channel c = 1, dW row 0).
  CHECK(first.pcs[0].pes[3].a == 1);
  CHECK(first.pcs[0].pes[3].out_row == 0);
  // The same problem without psum-stationary folding needs one pass per fold.
  const RowStationaryMapper plain(cfg, MappingOptions{false, false});
  const Schedule q = plain.map(p, "t");
  CHECK_FALSE(q.tiling.psum_stationary);
  CHECK(q.tiling.filter_buffers == 1);
  CHECK(q.pass_count > s.pass_count * 3);
  // The config's "mapping" section drives the same switches.
  arch::ArchConfig ablated = cfg;
  ablated.mapping.psum_stationary_folds = false;
  ablated.mapping.double_buffer_filter_spad = false;
  const Schedule r = RowStationaryMapper(ablated).map(p, "t");
  CHECK(r.pass_count == q.pass_count);
  CHECK(r.tiling.filter_buffers == 1);
  std::ostringstream text;
  print_schedule(text, s);
  CHECK(text.str().find("stationary in the PE") != std::string::npos);
}
