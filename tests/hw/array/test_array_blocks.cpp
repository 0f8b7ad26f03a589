// Blocks against plain reference models: PE row convolution (values and hand-derived cycles),
// zero-skipping, router latency under contention, GLB bank conflicts, psum drain.
#include <catch2/catch.hpp>

#include "hw/array/glb_banks.hpp"
#include "hw/array/iact_router.hpp"
#include "hw/array/pe.hpp"
#include "hw/array/psum_column.hpp"
#include "hw/array/weight_router.hpp"

using namespace eg;
using namespace eg::hw::array;
using mapper::CanonicalProblem;
using mapper::PeTask;

namespace {

// One input row, `lanes` filters of `taps` taps: out[l][o] = sum_t w[l][t] * in[o*step + t - pad].
struct RowConv {
  CanonicalProblem p;
  std::vector<float> in, w, out;
  PeTask task;
  PeContext ctx;
  RowConv(std::vector<float> input, int64_t lanes, int64_t taps, int64_t step, int64_t pad,
          bool issue_padding, mapper::DeltaOperand delta)
      : in(std::move(input)) {
    const int64_t width = static_cast<int64_t>(in.size());
    p.a = 1, p.b = lanes, p.k = 1;
    p.rows = {1, 1, 1, 1, 1, 0};
    p.cols = {width, (width + 2 * pad - taps) / step + 1, taps, step, 1, pad};
    p.issue_padding = issue_padding;
    p.delta = delta;
    for (int64_t i = 0; i < lanes * taps; ++i) w.push_back(0.25f * float(i % 7) - 0.5f);
    out.assign(static_cast<size_t>(lanes * p.cols.out_len), 0.0f);
    task.active = true;
    task.lanes = lanes, task.channels = 1, task.taps = taps;
    ctx.problem = &p;
    ctx.input = in.data();
    ctx.filter = w.data();
    ctx.output = out.data();
    ctx.simd_lanes = 2;
    ctx.zero_skip_cost_cycles = 1;
    ctx.pipeline_extra_cycles = 1;
  }
  std::vector<float> reference() const {
    std::vector<float> r(out.size(), 0.0f);
    for (int64_t l = 0; l < p.b; ++l)
      for (int64_t o = 0; o < p.cols.out_len; ++o)
        for (int64_t t = 0; t < p.cols.taps; ++t) {
          const int64_t i = p.cols.input_index(o, t);
          if (i >= 0 && i < p.cols.in_len)
            r[l * p.cols.out_len + o] += w[l * p.cols.taps + t] * in[i];
        }
    return r;
  }
  // Runs the PE with its inputs all present and psums drained at once; returns busy cycles.
  uint64_t run() {
    PeCore pe;
    pe.start(ctx, task, 4);
    pe.weights_loaded();
    for (int guard = 0; !pe.finished() && guard < 100000; ++guard) pe.tick(1 << 20, pe.produced());
    REQUIRE(pe.finished());
    CHECK(pe.cycles_.wait_input == 0);
    CHECK(pe.cycles_.wait_output == 0);
    return pe.cycles_.busy;
  }
};

}  // namespace

TEST_CASE("PE computes a 1-D row convolution exactly in positions x taps x ceil(lanes/2) + fill",
          "[array][pe]") {
  std::vector<float> input{0.5f, -1, 2, 0.25f, 3, -2, 1, 0.75f};
  for (int64_t lanes : {1, 2, 3, 4}) {
    RowConv rc(input, lanes, 3, 1, 0, true, mapper::DeltaOperand::None);
    const uint64_t busy = rc.run();
    INFO("lanes " << lanes);
    CHECK(rc.out == rc.reference());
    // 6 positions x 3 taps x ceil(lanes/2) cycles + 1 cycle pipeline fill/drain (depth 2)
    CHECK(busy == static_cast<uint64_t>(6 * 3 * ((lanes + 1) / 2) + 1));
  }
  // Stride 2, padding 1: padding MACs are issued (forward), 4 positions.
  RowConv strided(input, 2, 3, 2, 1, true, mapper::DeltaOperand::None);
  CHECK(strided.run() == 4 * 3 + 1);
  CHECK(strided.out == strided.reference());
}

TEST_CASE("PE computes every lane of a task with more lanes than its stack accumulators hold",
          "[array][pe]") {
  // 300 lanes (above the 256 kept on the stack) in each operand-skipping mode, with padding issued
  // (so the weight-gradient mode takes the precomputed skip plan) and without.
  std::vector<float> input{0.5f, -1, 2, 0, 3, -2, 1, 0.75f};
  for (auto delta :
       {mapper::DeltaOperand::None, mapper::DeltaOperand::Input, mapper::DeltaOperand::Filter})
    for (bool issue_padding : {true, false}) {
      INFO("delta " << static_cast<int>(delta) << ", issue_padding " << issue_padding);
      RowConv rc(input, 300, 3, 1, 1, issue_padding, delta);
      rc.run();
      const std::vector<float> want = rc.reference();
      CHECK(rc.out == want);
      // The last lanes are really there (not left at zero by truncation).
      CHECK(rc.out.back() != 0.0f);
      CHECK(rc.out.back() == want.back());
    }
}

TEST_CASE("PE skips zero error-gradient inputs at the configured cost per run", "[array][pe]") {
  // Windows of 2 over [1,0,0,2,0,3]: (1,0) (0,0) (0,2) (2,0) (0,3): 4 non-zero slots and 5 zero
  // runs (one per position) -> 4 + 5 x cost cycles, + 1 fill/drain.
  std::vector<float> input{1, 0, 0, 2, 0, 3};
  RowConv rc(input, 2, 2, 1, 0, false, mapper::DeltaOperand::Input);
  CHECK(rc.run() == 4 + 5 + 1);
  CHECK(rc.out == rc.reference());
  MacCounts macs;
  ActionCounts actions;
  std::vector<float> out2(rc.out.size(), 0.0f);
  rc.ctx.output = out2.data();
  for (int64_t o = 0; o < 5; ++o) compute_position(rc.ctx, rc.task, o, macs, actions);
  CHECK(macs.issued == 4 * 2);
  CHECK(macs.skipped == 6 * 2);  // 6 zero slots x 2 lanes
  CHECK(actions.zero_skips == 6);

  RowConv free_skip(input, 2, 2, 1, 0, false, mapper::DeltaOperand::Input);
  free_skip.ctx.zero_skip_cost_cycles = 0;
  // Free skipping; the all-zero position (0,0) still takes the 1-cycle minimum to emit its psum.
  CHECK(free_skip.run() == 4 + 1 + 1);
  RowConv dense(input, 2, 2, 1, 0, false, mapper::DeltaOperand::None);
  CHECK(dense.run() == 10 + 1);
  CHECK(dense.out == dense.reference());
}

TEST_CASE("PE stalls for input until its window arrives and for output when psum slots fill",
          "[array][pe]") {
  RowConv rc({1, 2, 3, 4, 5}, 2, 3, 1, 0, true, mapper::DeltaOperand::None);
  PeCore pe;
  pe.start(rc.ctx, rc.task, 1);
  pe.tick(100, 0);
  CHECK(pe.cycles_.wait_input == 1);  // weights not loaded
  pe.weights_loaded();
  pe.tick(2, 0);
  CHECK(pe.cycles_.wait_input == 2);  // window of 3 not there yet
  pe.tick(3, 0);                      // starts position 0: 3 taps + 1 fill = 4 cycles
  for (int i = 0; i < 3; ++i) pe.tick(3, 0);
  CHECK(pe.produced() == 1);
  pe.tick(4, 0);  // one psum slot, not drained yet
  CHECK(pe.cycles_.wait_output == 1);
  CHECK(pe.cycles_.busy == 4);
}

TEST_CASE("iact router: round-robin multicast with hop latency under contention",
          "[array][router]") {
  PeCore idle_a, idle_b;  // never started: release nothing, so space is capacity - delivered
  MulticastGroup g1({&idle_a}, 6, 0), g2({&idle_b, &idle_a}, 6, 1);
  IactRouter router(3, 1);
  router.add(&g1);
  router.add(&g2);
  GlbBanks banks(2, 1);
  std::vector<int64_t> a1, a2;
  for (uint64_t cycle = 0; cycle < 6; ++cycle) {
    g1.advance(cycle);
    g2.advance(cycle);
    router.tick(cycle, banks, 100);
    a1.push_back(g1.arrived());
    a2.push_back(g2.arrived());
  }
  // g1 is sent at cycles 0 and 2, g2 at 1 and 3; each arrives one hop (cycle) later.
  CHECK(a1 == std::vector<int64_t>{0, 3, 3, 6, 6, 6});
  CHECK(a2 == std::vector<int64_t>{0, 0, 3, 3, 6, 6});
  CHECK(router.traffic.entries == 12);
  CHECK(router.traffic.entry_hops == 6 + 12);  // g2 multicasts to two PEs
  CHECK(router.traffic.busy_cycles == 4);
}

TEST_CASE("iact router waits for scratchpad space in every multicast member", "[array][router]") {
  PeCore pe;
  MulticastGroup g({&pe}, 10, 0);
  IactRouter router(3, 0);
  router.add(&g);
  GlbBanks banks(1, 1);
  for (uint64_t c = 0; c < 10; ++c) router.tick(c, banks, 4);
  CHECK(g.arrived() == 4);  // capacity 4, nothing released
}

TEST_CASE("GLB bank conflicts stall the second requester of a single-port bank", "[array][glb]") {
  PeCore pe;
  MulticastGroup g1({&pe}, 30, 0), g2({&pe}, 30, 0);  // both rows in bank 0
  IactRouter r1(3, 0), r2(3, 0);
  r1.add(&g1);
  r2.add(&g2);
  GlbBanks one_port(3, 1);
  for (uint64_t c = 0; c < 4; ++c) r1.tick(c, one_port, 100), r2.tick(c, one_port, 100);
  CHECK(g1.arrived() == 12);
  CHECK(g2.arrived() == 0);
  CHECK(one_port.conflicts == 4);
  CHECK(r2.traffic.blocked_cycles == 4);

  MulticastGroup h1({&pe}, 30, 0), h2({&pe}, 30, 0);
  IactRouter s1(3, 0), s2(3, 0);
  s1.add(&h1);
  s2.add(&h2);
  GlbBanks two_ports(3, 2);
  for (uint64_t c = 0; c < 4; ++c) s1.tick(c, two_ports, 100), s2.tick(c, two_ports, 100);
  CHECK(h2.arrived() == 12);
  CHECK(two_ports.conflicts == 0);
}

TEST_CASE("A DMA fill takes the bank port cycles the array's reads leave free",
          "[array][glb][dma]") {
  // One partition of 3 iact banks. An iact router streams a 60-entry row out of bank 0, 3 entries
  // a cycle, from tick 2 to tick 21 (20 reads). Ticks are stamps; the pass started at array cycle
  // 100, so the reads occupy bank 0 in array cycles [102, 122). A fill of N = 1920 bits, complete
  // at cycle 100, spreads N / 3 = 640 bits over each bank.
  //   W = 64, P = 1: 10 accesses per bank. Banks 1 and 2 are free: written at 100..109, done at
  //   110. Bank 0: 2 accesses at 100, 101, none while the router reads, 8 at 122..129: done at 130,
  //   so the fill costs 20 cycles more than it would alone.
  //   W = 128: 5 accesses; bank 0 gets 2 before the reads and 3 after: done at 125.
  //   P = 2: the router takes one port a cycle and the DMA the other: 2 + 2 accesses at 100, 101,
  //   then one a cycle from 102: done at 108, before the reads end (no conflict for the router,
  //   which has priority).
  struct Case {
    int width, ports;
    uint64_t done;
  };
  for (const Case& k : {Case{64, 1, 130}, Case{128, 1, 125}, Case{64, 2, 108}}) {
    PeCore pe;
    MulticastGroup g({&pe}, 60, 0);
    IactRouter router(3, 0);
    router.add(&g);
    GlbBanks banks(3, k.ports, true);
    banks.set_offset(100);
    for (uint64_t tick = 2; tick < 40; ++tick) router.tick(tick, banks, 100);
    banks.flush_all();
    REQUIRE(g.arrived() == 60);
    REQUIRE(router.traffic.busy_cycles == 20);
    const uint64_t accesses =
        (1920 + 3 * static_cast<uint64_t>(k.width) - 1) / (3 * static_cast<uint64_t>(k.width));
    uint64_t done = 0;
    for (int b = 0; b < 3; ++b) done = std::max(done, banks.dma_access(b, 100, accesses));
    CHECK(done == k.done);
    CHECK(banks.conflicts == 0);
  }
}

TEST_CASE(
    "Array port use recorded in bulk for skipped cycles places DMA accesses as per-cycle use does",
    "[array][glb][dma]") {
  // Two psum columns write bank 1 in every cycle 5..14, recorded cycle by cycle or as skipped
  // cycles; either way a 2-port bank has no port left for the DMA then, and a DMA read of 6
  // accesses from cycle 3 gets 2 + 2 at cycles 3, 4 and the last 2 at 15.
  for (bool bulk : {false, true}) {
    GlbBanks banks(2, 2, true);
    if (bulk) {
      banks.record_skipped(1, 5, 10);
      banks.record_skipped(1, 5, 10);
    } else {
      for (uint64_t c = 5; c < 15; ++c) REQUIRE((banks.acquire(1, c) && banks.acquire(1, c)));
    }
    banks.flush_all();
    CHECK(banks.dma_access(1, 3, 6) == 16);
    // The bank serves one DMA transfer at a time: the next starts where this one ended.
    CHECK(banks.dma_access(1, 0, 4) == 18);
    // Bank 0 saw no array use.
    CHECK(banks.dma_access(0, 3, 6) == 6);
  }
}

TEST_CASE("psum column drains one transfer per bank access, two when accumulating",
          "[array][glb]") {
  RowConv rc({1, 2, 3, 4}, 2, 1, 1, 0, true, mapper::DeltaOperand::None);
  PeCore pe;
  pe.start(rc.ctx, rc.task, 8);
  pe.weights_loaded();
  for (int i = 0; i < 10; ++i) pe.tick(100, 0);
  REQUIRE(pe.produced() == 4);
  for (bool accumulate : {false, true}) {
    PsumColumn col;
    col.start({&pe}, 4, 2, 1, accumulate, 0);
    GlbBanks banks(1, 1);
    uint64_t cycles = 0;
    while (!col.drained()) col.tick(cycles++, banks);
    // 4 positions x 2 lanes, one psum per transfer, 1 or 2 bank accesses each.
    CHECK(cycles == (accumulate ? 16u : 8u));
    CHECK(col.psums_moved == 8);
  }
}

namespace {
// One PE running the same 6-position row task twice (two folds, psums held), fed by a weight
// router of 1 entry/cycle and 1 hop; returns the cycle count and the PE's input-wait cycles.
std::pair<uint64_t, uint64_t> run_two_folds(int64_t filter_entries, int buffers) {
  RowConv rc({0.5f, -1, 2, 0.25f, 3, -2, 1, 0.75f}, 2, 3, 1, 0, true, mapper::DeltaOperand::None);
  PeCore pe;
  pe.start(rc.ctx, {rc.task, rc.task}, 4, true);
  WeightRouter router(1, 1);
  router.start({&pe}, {filter_entries, filter_entries}, buffers);
  uint64_t cycle = 0;
  for (; !pe.finished() && cycle < 1000; ++cycle) {
    router.tick(cycle);
    pe.tick(1 << 20, 0);
  }
  REQUIRE(pe.finished());
  CHECK(pe.cycles_.busy == 2 * 19);  // per fold: 6 positions x 3 taps x 1 SIMD group + 1 fill
  CHECK(pe.produced() == 6);         // held psums: only the last fold's positions leave
  std::vector<float> twice = rc.reference();
  for (float& v : twice) v *= 2;
  CHECK(rc.out == twice);
  return {cycle, pe.cycles_.wait_input};
}
}  // namespace

TEST_CASE("double-buffered filter spad hides a load shorter than the compute", "[array][pe]") {
  // Load 6 entries (6 cycles + 1 hop) vs 19 compute cycles per fold.
  // Two buffers: fold 1's filters arrive at cycle 13, during fold 0 (cycles 7..25): 7 + 2 x 19.
  CHECK(run_two_folds(6, 2) == std::make_pair(uint64_t{45}, uint64_t{7}));
  // One buffer: fold 1's load waits until fold 0 is done (cycle 26), exposed: 7 + 19 + 7 + 19.
  CHECK(run_two_folds(6, 1) == std::make_pair(uint64_t{52}, uint64_t{14}));
}

TEST_CASE("double-buffered filter spad exposes a load longer than the compute", "[array][pe]") {
  // Load 30 entries (30 cycles + 1 hop) vs 19 compute: fold 1 is readable at cycle 61, fold 0
  // computed 31..49, so 11 cycles of the second load stay exposed: 2 x 30 + 1 + 19.
  CHECK(run_two_folds(30, 2) == std::make_pair(uint64_t{80}, uint64_t{31 + 11}));
  // One buffer: 31 + 19 + 31 + 19.
  CHECK(run_two_folds(30, 1) == std::make_pair(uint64_t{100}, uint64_t{62}));
}

TEST_CASE("a link transfer moves what the narrower of link and GLB bank width carries",
          "[array][noc][glb]") {
  CHECK(link_entries(24, 64, 8) == 3);  // shipped iact link: the link bounds
  CHECK(link_entries(64, 32, 8) == 4);  // a wide link on narrow banks: the bank bounds
  CHECK(link_entries(64, 64, 8) == 8);
  CHECK(link_entries(40, 64, 24) == 1);  // shipped psum link
  CHECK(link_entries(64, 48, 24) == 2);
  // A group of 24 entries through a router that moves link_entries(64, 32, 8) = 4 a cycle takes
  // 6 cycles; with 64-bit banks, 8 a cycle, 3 cycles.
  for (const auto& [bank_bits, want] : {std::pair{32, 6}, std::pair{64, 3}}) {
    PeCore pe;
    RowConv rc(std::vector<float>(26, 1.0f), 1, 3, 1, 0, true, mapper::DeltaOperand::None);
    pe.start(rc.ctx, rc.task, 4);
    MulticastGroup group({&pe}, 24, 0);
    IactRouter router(link_entries(64, bank_bits, 8), 0);
    router.add(&group);
    GlbBanks banks(1, 1);
    int cycles = 0;
    while (group.pending() > 0 && cycles < 100) router.tick(uint64_t(cycles++), banks, 1000);
    CHECK(cycles == want);
  }
}

TEST_CASE("PE rows sharing a weight router take turns: the second row's set arrives later",
          "[array][noc]") {
  // Two rows, one 12-entry filter set each, 3 entries a cycle, hop 0. Own routers: both sets are
  // readable after 4 cycles. One shared router: row 0 moves in cycles 0-3 (readable at 4), row 1
  // waits, then moves in cycles 4-7 (readable at 8).
  RowConv rc({1, 2, 3, 4, 5, 6}, 2, 3, 1, 0, true, mapper::DeltaOperand::None);
  for (bool shared : {false, true}) {
    INFO("shared " << shared);
    PeCore a, b;
    a.start(rc.ctx, rc.task, 4);
    b.start(rc.ctx, rc.task, 4);
    WeightRouter r0(3, 0, 0), r1(3, 0, shared ? 0 : 1);
    r0.start({&a}, {12}, 1);
    r1.start({&b}, {12}, 1);
    GlbBanks links(shared ? 1 : 2, 1);
    uint64_t loaded0 = 0, loaded1 = 0;
    for (uint64_t c = 0; c < 20; ++c) {
      r0.tick(c, &links);
      r1.tick(c, &links);
      if (!loaded0 && r0.loaded()) loaded0 = c;
      if (!loaded1 && r1.loaded()) loaded1 = c;
    }
    CHECK(loaded0 == 4);
    CHECK(loaded1 == (shared ? 8u : 4u));
    CHECK(r1.blocked_cycles == (shared ? 4u : 0u));
  }
}

TEST_CASE("psum columns sharing a router take turns, and the vertical hops delay each sum",
          "[array][noc][glb]") {
  RowConv rc({1, 2, 3, 4}, 2, 1, 1, 0, true, mapper::DeltaOperand::None);
  PeCore pe0, pe1;
  for (PeCore* pe : {&pe0, &pe1}) {
    pe->start(rc.ctx, rc.task, 8);
    pe->weights_loaded();
    for (int i = 0; i < 10; ++i) pe->tick(100, 0);
    REQUIRE(pe->produced() == 4);
  }
  // Each column: 4 positions x 2 lanes, one psum a transfer: 8 accesses, 8 cycles on its own
  // bank and router. Two columns on one router: 16 cycles for both.
  for (bool shared : {false, true}) {
    PsumColumn c0, c1;
    c0.start({&pe0}, 4, 2, 1, false, 0, 0);
    c1.start({&pe1}, 4, 2, 1, false, 1, shared ? 0 : 1);
    GlbBanks banks(2, 1), links(shared ? 1 : 2, 1);
    uint64_t cycles = 0;
    while (!(c0.drained() && c1.drained()) && cycles < 100) {
      c0.tick(cycles, banks, &links);
      c1.tick(cycles, banks, &links);
      ++cycles;
    }
    CHECK(cycles == (shared ? 16u : 8u));
  }
  // The PE sits 2 hops above the router, 3 cycles a hop: its sums reach the router 6 cycles after
  // the column first sees them, so draining takes 6 + 8 cycles.
  PsumColumn far;
  far.start({&pe0}, 4, 2, 1, false, 0, 0, {2}, 3);
  GlbBanks banks(1, 1);
  uint64_t cycles = 0;
  while (!far.drained() && cycles < 100) far.tick(cycles++, banks);
  CHECK(cycles == 14);
  CHECK(far.quiet_ticks(cycles) == PeCore::kQuietForever);  // drained: nothing left
  // Cycle skipping knows the wait: after the first tick (cycle 0), cycles 1-5 change nothing.
  PsumColumn again;
  again.start({&pe0}, 4, 2, 1, false, 0, 0, {2}, 3);
  again.tick(0, banks);
  CHECK(again.quiet_ticks(0) == 5);
}
