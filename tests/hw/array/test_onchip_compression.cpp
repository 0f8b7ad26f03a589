// Operands held and moved on chip in CSC form (features.onchip_compression): their sizes from a
// known zero pattern, the link transfers and GLB reads those sizes give, the dense path when off,
// and unchanged results.
#include <catch2/catch.hpp>

#include <random>

#include "hw/array/array_engine.hpp"
#include "hw/array/glb_banks.hpp"
#include "hw/array/iact_router.hpp"
#include "hw/array/layer_operands.hpp"
#include "hw/array/onchip_csc.hpp"
#include "hw/array/pe_context.hpp"
#include "hw/array/weight_router.hpp"
#include "models/arch/arch_config.hpp"
#include "sw/mapper/row_stationary_mapper.hpp"
#include "tests/hw/array/engine_bench.hpp"
#include "tests/hw/array/reference_layers.hpp"

using namespace eg;
using namespace eg::hw::array;

namespace {

// Two channels of one 20-entry input row: channel 0 has non-zeros at 2, 3 and 13 (a run of 9
// zeros before 13, longer than a 2-bit count holds), channel 1 is all zeros.
struct KnownRow {
  mapper::CanonicalProblem p;
  std::vector<float> in;
  mapper::PeTask task;
  KnownRow() {
    p.a = 1, p.b = 1, p.k = 2;
    p.rows = {1, 1, 1, 1, 1, 0};
    p.cols = {20, 20, 3, 1, 1, 1};  // 3 taps, stride 1, pad 1: 20 outputs
    in.assign(40, 0.0f);
    in[2] = 5.0f, in[3] = 1.0f, in[13] = 2.0f;
    task.active = true;
    task.lanes = 1, task.channels = 2, task.taps = 3;
  }
};

const CscFormat kFormat{8, 2, 4};  // 8-bit values, 2-bit counts, 4-bit pointers

}  // namespace

TEST_CASE(
    "CSC size of a known zero pattern counts non-zeros, overlong runs and one pointer per "
    "column",
    "[array][onchip]") {
  KnownRow r;
  // 2 (run 2), 3 (run 0), 13 (run 9 = two explicit zeros of 4 + the value): 5 entries.
  const CscSize row0 = csc_input_row(r.p, r.in.data(), 0, 0, 0, kFormat.count_bits);
  CHECK(row0.entries == 5);
  CHECK(row0.columns == 1);
  CHECK(row0.bits(kFormat) == 5 * 10 + 4);
  const CscSize row1 = csc_input_row(r.p, r.in.data(), 0, 1, 0, kFormat.count_bits);
  CHECK(row1.entries == 0);
  CHECK(row1.bits(kFormat) == 4);
  // The stream segment covers columns -1..20 of both channels (the padding only lengthens runs).
  const CscSize seg = csc_stream_segment(r.p, r.in.data(), r.task, kFormat.count_bits);
  CHECK(seg.entries == 5);
  CHECK(seg.columns == 2);
  CHECK(seg.bits(kFormat) == 58);
  // A 24-bit link: two 10-bit entries or six 4-bit pointers a transfer: 3 + 1.
  CHECK(seg.link_cycles(kFormat, 24) == 4);
  // A count field of 4 bits holds the run of 9: 3 entries.
  CHECK(csc_stream_segment(r.p, r.in.data(), r.task, 4).entries == 3);
  // Filter sets: one column per (channel, tap) over the lanes.
  mapper::CanonicalProblem f;
  f.b = 3, f.k = 1;
  f.rows = {1, 1, 1, 1, 1, 0};
  f.cols = {4, 3, 2, 1, 1, 0};
  const std::vector<float> w = {0, 1, 0, 0, 0, 2};  // [lane][tap]: lanes 0..2, taps 0..1
  mapper::PeTask t;
  t.active = true, t.lanes = 3, t.channels = 1, t.taps = 2;
  const CscSize set = csc_filter_set(f, w.data(), t, 2);
  CHECK(set.columns == 2);
  CHECK(set.entries == 2);  // tap 0: none; tap 1: lanes 0 and 2
}

TEST_CASE(
    "a compressed input row takes exactly the link transfers and GLB reads its CSC size "
    "gives, a dense one its entries",
    "[array][onchip]") {
  KnownRow r;
  const CscSize seg = csc_stream_segment(r.p, r.in.data(), r.task, kFormat.count_bits);
  const int64_t entries = iact_stream(r.p, r.task).total;
  REQUIRE(entries == 44);  // 2 channels x 22 columns
  for (bool compressed : {false, true}) {
    INFO("compressed " << compressed);
    PeCore pe;
    MulticastGroup g({&pe}, {entries}, {0});
    if (compressed) g.set_compressed({seg.link_cycles(kFormat, 24)}, {seg.bits(kFormat)});
    IactRouter router(link_entries(24, 64, 8), 0, 8);
    router.add(&g);
    GlbBanks banks(1, 1);
    uint64_t cycle = 0;
    while (g.pending() > 0 && cycle < 100) router.tick(cycle++, banks, 1000);
    CHECK(g.arrived() == entries);
    CHECK(router.traffic.entries == uint64_t(entries));
    if (compressed) {
      CHECK(router.traffic.busy_cycles == 4);
      CHECK(banks.accesses == 4);
      CHECK(router.traffic.glb_read_bits == 58);
      CHECK(router.traffic.bit_hops == 58);
    } else {
      CHECK(router.traffic.busy_cycles == 15);  // 3 entries a transfer
      CHECK(banks.accesses == 15);
      CHECK(router.traffic.glb_read_bits == 44 * 8);
    }
  }
}

TEST_CASE("a compressed transfer never delivers more entries than every member has space for",
          "[array][onchip]") {
  PeCore pe;  // idle: never releases an entry
  MulticastGroup g({&pe}, {44}, {0});
  g.set_compressed({4}, {58});
  IactRouter router(3, 0, 8);
  router.add(&g);
  GlbBanks banks(1, 1);
  for (uint64_t c = 0; c < 20; ++c) router.tick(c, banks, 10);
  CHECK(g.arrived() == 10);
  CHECK(router.traffic.busy_cycles == 1);
  CHECK(router.quiet(10));
}

TEST_CASE(
    "a compressed filter set takes the transfers its CSC size gives, a dense one its "
    "entries per transfer",
    "[array][onchip]") {
  for (bool compressed : {false, true}) {
    INFO("compressed " << compressed);
    PeCore pe;
    WeightRouter router(1, 0, 0, 16);  // 24-bit link, 16-bit entries: one a transfer
    if (compressed)
      router.start({&pe}, {40}, 1, {7}, {123});
    else
      router.start({&pe}, {40}, 1);
    uint64_t cycle = 0;
    while (!router.loaded() && cycle < 100) router.tick(cycle++);
    CHECK(router.busy_cycles == (compressed ? 7u : 40u));
    CHECK(router.entries_moved == 40);
    CHECK(router.bits_moved == (compressed ? 123u : 640u));
  }
}

TEST_CASE(
    "compressing operands on chip leaves every phase's results unchanged and moves fewer "
    "bits for a sparse operand",
    "[array][onchip]") {
  const arch::ArchConfig cfg =
      arch::load_arch_config(std::string(EGSIM_SOURCE_DIR) + "/configs/hw/efficientgrad.json");
  std::mt19937 rng(11);
  const testing::ConvShape g{2, 4, 8, 8, 6, 3, 3, 1, 1};
  mapper::ConvView v{false, g.n, g.c, g.m, g.h, g.w, g.e(), g.f(), g.r, g.s, g.stride, g.pad};
  const auto x = testing::random_operand(size_t(g.n * g.c * g.h * g.w), rng, 0.6);
  const auto w = testing::random_operand(size_t(g.m * g.c * g.r * g.s), rng);
  const auto dy = testing::random_operand(size_t(g.n * g.m * g.e() * g.f()), rng, 0.9);
  const LayerOperands ops = make_layer_operands(v, x, w, w, dy);
  const mapper::RowStationaryMapper mapper(cfg);
  for (mapper::Phase phase : mapper::kAllPhases) {
    INFO("phase " << mapper::to_string(phase));
    std::vector<float> results[2];
    PhaseFigures figs[2];
    for (int on = 0; on < 2; ++on) {
      testing::FakeClock clock;
      testing::FakeMemory memory(clock);
      ArrayEngine engine(cfg, memory, clock);
      results[on].assign(result_size(phase, v), 0.0f);
      for (const auto& p : mapper::canonical_problems(v, phase, cfg.features)) {
        const mapper::Schedule s = mapper.map(p, "test");
        CanonicalData d = build_canonical_data(p, ops);
        PeContext ctx = make_pe_context(cfg, mapper, s, d);
        ctx.onchip.input = on == 1;
        ctx.onchip.filter = on == 1 && phase == mapper::Phase::WeightGradient;
        ctx.onchip.iact = {ctx.iact_bits, 4, 4};
        ctx.onchip.weight = {ctx.filter_bits, 4, 7};
        engine.execute(s, ctx, {}, figs[on]);
        scatter_output(p, d, v, results[on]);
      }
    }
    // The same values; only the order in which PEs of a column add into an output (set by their
    // timing) may round differently.
    REQUIRE(results[0].size() == results[1].size());
    for (size_t i = 0; i < results[0].size(); ++i) {
      INFO("element " << i);
      REQUIRE(results[1][i] == Approx(results[0][i]).margin(1e-5));
    }
    CHECK(figs[1].macs.issued == figs[0].macs.issued);
    // 60% (forward, weight gradient) and 90% (backward) zeros: fewer bits through the GLB and NoC.
    CHECK(figs[1].actions.glb_iact_read_bits < figs[0].actions.glb_iact_read_bits);
    CHECK(figs[1].actions.glb_iact_write_bits < figs[0].actions.glb_iact_write_bits);
    CHECK(figs[1].actions.noc_iact_bit_hops < figs[0].actions.noc_iact_bit_hops);
    if (phase == mapper::Phase::WeightGradient)
      CHECK(figs[1].actions.noc_weight_bit_hops < figs[0].actions.noc_weight_bit_hops);
    else
      CHECK(figs[1].actions.noc_weight_bit_hops == figs[0].actions.noc_weight_bit_hops);
  }
}
