// A cluster array computes small 2-D convolutions exactly, for every phase, against the naive
// reference, with an idealised memory and clock (no SystemC kernel needed).
#include <catch2/catch.hpp>

#include <array>
#include <random>

#include "hw/array/array_engine.hpp"
#include "hw/array/layer_operands.hpp"
#include "hw/array/pe_context.hpp"
#include "models/arch/arch_config.hpp"
#include "sw/mapper/row_stationary_mapper.hpp"
#include "tests/hw/array/engine_bench.hpp"
#include "tests/hw/array/pe_cycle_checks.hpp"
#include "tests/hw/array/reference_layers.hpp"

using namespace eg;
using namespace eg::hw::array;

namespace {

void require_close(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    REQUIRE(got[i] == Approx(want[i]).margin(1e-4));
  }
}

}  // namespace

TEST_CASE("array computes forward, backward and weight gradient of small convs exactly",
          "[array][engine]") {
  const arch::ArchConfig cfg =
      arch::load_arch_config(std::string(EGSIM_SOURCE_DIR) + "/configs/hw/efficientgrad.json");
  std::mt19937 rng(5);
  for (const testing::ConvShape& g : {testing::ConvShape{2, 3, 7, 7, 5, 3, 3, 2, 1},
                                      testing::ConvShape{1, 6, 6, 6, 4, 1, 1, 1, 0},
                                      testing::ConvShape{1, 2, 9, 9, 3, 5, 5, 1, 2},
                                      testing::ConvShape{1, 4, 8, 8, 3, 1, 1, 2, 0}}) {
    INFO("conv c" << g.c << " m" << g.m << " k" << g.r << " s" << g.stride << " p" << g.pad);
    mapper::ConvView v{false, g.n, g.c, g.m, g.h, g.w, g.e(), g.f(), g.r, g.s, g.stride, g.pad};
    const auto x = testing::random_operand(size_t(g.n * g.c * g.h * g.w), rng);
    const auto w = testing::random_operand(size_t(g.m * g.c * g.r * g.s), rng);
    const auto fb = testing::random_operand(w.size(), rng);
    const auto dy = testing::random_operand(size_t(g.n * g.m * g.e() * g.f()), rng, 0.5);
    const LayerOperands ops = make_layer_operands(v, x, w, fb, dy);
    testing::FakeClock clock;
    testing::FakeMemory memory(clock);
    ArrayEngine engine(cfg, memory, clock);
    const mapper::RowStationaryMapper mapper(cfg);
    for (mapper::Phase phase : mapper::kAllPhases) {
      INFO("phase " << mapper::to_string(phase));
      std::vector<float> result(result_size(phase, v), 0.0f);
      PhaseFigures fig;
      int64_t dense = 0;
      for (const auto& p : mapper::canonical_problems(v, phase, cfg.features)) {
        const mapper::Schedule s = mapper.map(p, "test");
        CanonicalData d = build_canonical_data(p, ops);
        const PeContext ctx = make_pe_context(cfg, mapper, s, d);
        engine.execute(s, ctx, {}, fig);
        scatter_output(p, d, v, result);
        dense += p.dense_macs();
      }
      const int64_t layer_dense = g.n * g.m * g.e() * g.f() * g.c * g.r * g.s;
      CHECK(dense == layer_dense);
      CHECK(fig.macs.issued + fig.macs.skipped == uint64_t(layer_dense));
      testing::check_pe_cycle_sum(fig.pe_cycles, fig.cycles, 72);
      if (phase == mapper::Phase::Forward) require_close(result, testing::conv_forward(g, x, w));
      if (phase == mapper::Phase::Backward)
        require_close(result, testing::conv_backward(g, dy, fb));
      if (phase == mapper::Phase::WeightGradient)
        require_close(result, testing::conv_weight_gradient(g, x, dy));
    }
    CHECK(memory.bytes > 0);
  }
}

TEST_CASE("a config whose spads allow more than 256 lanes per PE computes every filter",
          "[array][engine]") {
  // Large psum and filter spads and GLB banks: the mapper gives a PE task far more lanes (filters
  // sharing an iact) than the shipped configs do; every output must still be computed.
  arch::ArchConfig cfg =
      arch::load_arch_config(std::string(EGSIM_SOURCE_DIR) + "/configs/hw/efficientgrad.json");
  cfg.pe.spad_psum_entries = 4096;
  cfg.pe.spad_weight_entries = cfg.pe.spad_feedback_entries = 8192;
  cfg.glb.psum_bank_bytes = cfg.glb.grad_bank_bytes = 1 << 20;
  const testing::ConvShape g{1, 2, 5, 5, 300, 3, 3, 1, 1};
  mapper::ConvView v{false, g.n, g.c, g.m, g.h, g.w, g.e(), g.f(), g.r, g.s, g.stride, g.pad};
  std::mt19937 rng(7);
  const auto x = testing::random_operand(size_t(g.n * g.c * g.h * g.w), rng);
  const auto w = testing::random_operand(size_t(g.m * g.c * g.r * g.s), rng);
  const auto dy = testing::random_operand(size_t(g.n * g.m * g.e() * g.f()), rng, 0.5);
  const LayerOperands ops = make_layer_operands(v, x, w, w, dy);
  testing::FakeClock clock;
  testing::FakeMemory memory(clock);
  ArrayEngine engine(cfg, memory, clock);
  const mapper::RowStationaryMapper mapper(cfg);
  std::vector<float> result(result_size(mapper::Phase::Forward, v), 0.0f);
  PhaseFigures fig;
  int64_t widest = 0;
  for (const auto& p : mapper::canonical_problems(v, mapper::Phase::Forward, cfg.features)) {
    const mapper::Schedule s = mapper.map(p, "test");
    widest = std::max(widest, s.tiling.lanes);
    CanonicalData d = build_canonical_data(p, ops);
    const PeContext ctx = make_pe_context(cfg, mapper, s, d);
    engine.execute(s, ctx, {}, fig);
    scatter_output(p, d, v, result);
  }
  REQUIRE(widest > 256);
  require_close(result, testing::conv_forward(g, x, w));
}

TEST_CASE("PE-cycle classes add up exactly when a pass has more folds than PEs",
          "[array][engine][stalls]") {
  // A pass of several folds lists one task per PE and fold; only the distinct PEs with work wait
  // for memory. Counting tasks instead (more than the 72 PEs) made `idle` wrap around 2^64, and the
  // sum still matched cycles x PEs modulo 2^64, so every class is also bounded on its own here.
  const arch::ArchConfig cfg =
      arch::load_arch_config(std::string(EGSIM_SOURCE_DIR) + "/configs/hw/efficientgrad.json");
  const uint64_t pes = static_cast<uint64_t>(cfg.array.pe_count());
  const testing::ConvShape g{1, 16, 8, 8, 16, 3, 3, 1, 1};
  mapper::ConvView v{false, g.n, g.c, g.m, g.h, g.w, g.e(), g.f(), g.r, g.s, g.stride, g.pad};
  std::mt19937 rng(11);
  const auto x = testing::random_operand(size_t(g.n * g.c * g.h * g.w), rng);
  const auto w = testing::random_operand(size_t(g.m * g.c * g.r * g.s), rng);
  const auto dy = testing::random_operand(size_t(g.n * g.m * g.e() * g.f()), rng, 0.5);
  const LayerOperands ops = make_layer_operands(v, x, w, w, dy);
  const mapper::RowStationaryMapper mapper(cfg);
  uint64_t most_tasks = 0;  // active tasks of the busiest pass, over all folds
  for (mapper::Phase phase : mapper::kAllPhases) {
    INFO("phase " << mapper::to_string(phase));
    testing::FakeClock clock;
    testing::FakeMemory memory(clock);
    ArrayEngine engine(cfg, memory, clock);
    PhaseFigures fig;
    for (const auto& p : mapper::canonical_problems(v, phase, cfg.features)) {
      const mapper::Schedule s = mapper.map(p, "test");
      for (int64_t i = 0; i < s.pass_count; ++i) {
        uint64_t tasks = 0;
        for (const mapper::PcWork& pc : s.pass(i).pcs)
          for (const mapper::PeTask& t : pc.pes) tasks += t.active ? 1 : 0;
        most_tasks = std::max(most_tasks, tasks);
      }
      CanonicalData d = build_canonical_data(p, ops);
      const PeContext ctx = make_pe_context(cfg, mapper, s, d);
      engine.execute(s, ctx, {}, fig);
    }
    testing::check_pe_cycle_sum(fig.pe_cycles, fig.cycles, pes);
  }
  INFO("busiest pass: " << most_tasks << " active tasks");
  REQUIRE(most_tasks > pes);
}

TEST_CASE("each phase exploits the zeros features.sparse_operands names, as pe.sparsity says",
          "[array][engine][csc]") {
  const std::string dir = std::string(EGSIM_SOURCE_DIR) + "/configs/hw/";
  const arch::ArchConfig eg = arch::load_arch_config(dir + "efficientgrad.json");
  const arch::ArchConfig bp = arch::load_arch_config(dir + "eyeriss_v2_bp.json");
  const testing::ConvShape g{2, 4, 8, 8, 6, 3, 3, 1, 1};
  mapper::ConvView v{false, g.n, g.c, g.m, g.h, g.w, g.e(), g.f(), g.r, g.s, g.stride, g.pad};
  std::mt19937 rng(11);
  // Post-ReLU-like x and pruned-like dy: half their entries zero.
  const auto x = testing::random_operand(size_t(g.n * g.c * g.h * g.w), rng, 0.5);
  const auto w = testing::random_operand(size_t(g.m * g.c * g.r * g.s), rng);
  const auto fb = testing::random_operand(w.size(), rng);
  const auto dy = testing::random_operand(size_t(g.n * g.m * g.e() * g.f()), rng, 0.5);
  const LayerOperands ops = make_layer_operands(v, x, w, fb, dy);

  // Per phase: the input's and the filter's zeros exploited (forward, backward, weight gradient).
  struct Want {
    bool input, filter;
  };
  auto check_flags = [&](const arch::ArchConfig& cfg, std::array<Want, 3> want) {
    const mapper::RowStationaryMapper mapper(cfg);
    for (size_t i = 0; i < 3; ++i) {
      const mapper::Phase phase = mapper::kAllPhases[i];
      INFO(cfg.name << " " << mapper::to_string(phase));
      const mapper::CanonicalProblem p = mapper::canonical_problems(v, phase, cfg.features)[0];
      const mapper::Schedule s = mapper.map(p, "test");
      CanonicalData d = build_canonical_data(p, ops);
      const PeContext ctx = make_pe_context(cfg, mapper, s, d);
      CHECK(ctx.input_sparse == want[i].input);
      CHECK(ctx.filter_sparse == want[i].filter);
    }
  };
  check_flags(eg, {Want{true, false}, Want{true, false}, Want{true, true}});
  check_flags(bp, {Want{true, false}, Want{false, false}, Want{true, false}});
  arch::ArchConfig none = eg;
  none.pe.sparsity = arch::Sparsity::None;
  check_flags(none, {Want{false, false}, Want{false, false}, Want{false, false}});

  // The same weight gradient on the array: zero gating takes the dense (none) cycles with fewer
  // MACs, CSC fewer cycles; all three compute the same dw.
  auto run = [&](arch::Sparsity sparsity, std::vector<float>& dw) {
    arch::ArchConfig cfg = eg;
    cfg.pe.sparsity = sparsity;
    testing::FakeClock clock;
    testing::FakeMemory memory(clock);
    ArrayEngine engine(cfg, memory, clock);
    const mapper::RowStationaryMapper mapper(cfg);
    PhaseFigures fig;
    dw.assign(result_size(mapper::Phase::WeightGradient, v), 0.0f);
    for (const auto& p :
         mapper::canonical_problems(v, mapper::Phase::WeightGradient, cfg.features)) {
      const mapper::Schedule s = mapper.map(p, "test");
      CanonicalData d = build_canonical_data(p, ops);
      engine.execute(s, make_pe_context(cfg, mapper, s, d), {}, fig);
      scatter_output(p, d, v, dw);
    }
    return fig;
  };
  std::vector<float> dw_none, dw_gated, dw_csc;
  const PhaseFigures f_none = run(arch::Sparsity::None, dw_none);
  const PhaseFigures f_gated = run(arch::Sparsity::ZeroGating, dw_gated);
  const PhaseFigures f_csc = run(arch::Sparsity::Csc, dw_csc);
  CHECK(f_none.macs.skipped == 0);
  CHECK(f_gated.pe_cycles.busy == f_none.pe_cycles.busy);
  CHECK(f_gated.actions.mac_16x8 < f_none.actions.mac_16x8);
  CHECK(f_gated.macs.issued == f_csc.macs.issued);
  CHECK(f_csc.pe_cycles.busy < f_none.pe_cycles.busy);
  require_close(dw_gated, dw_none);
  require_close(dw_csc, dw_none);
}
