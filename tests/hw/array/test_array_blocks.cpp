// Blocks against plain reference models: PE row convolution (values and hand-derived cycles),
// sparse processing (CSC, zero gating), router latency under contention, GLB bank conflicts, psum
// drain.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

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
  MacCounts macs;  // of the last run()
  ActionCounts actions;
  RowConv(std::vector<float> input, int64_t lanes, int64_t taps, int64_t step, int64_t pad,
          bool issue_padding)
      : in(std::move(input)) {
    const int64_t width = static_cast<int64_t>(in.size());
    p.a = 1, p.b = lanes, p.k = 1;
    p.rows = {1, 1, 1, 1, 1, 0};
    p.cols = {width, (width + 2 * pad - taps) / step + 1, taps, step, 1, pad};
    p.issue_padding = issue_padding;
    for (int64_t i = 0; i < lanes * taps; ++i) w.push_back(0.25f * float(i % 7) - 0.5f);
    out.assign(static_cast<size_t>(lanes * p.cols.out_len), 0.0f);
    task.active = true;
    task.lanes = lanes, task.channels = 1, task.taps = taps;
    ctx.problem = &p;
    ctx.input = in.data();
    ctx.filter = w.data();
    ctx.output = out.data();
    ctx.simd_lanes = 2;
    ctx.pipeline_extra_cycles = 1;
  }
  // How the PE treats zeros, and whose zeros it exploits.
  RowConv& sparse(arch::Sparsity s, bool input, bool filter) {
    ctx.sparsity = s;
    ctx.input_sparse = input;
    ctx.filter_sparse = filter;
    return *this;
  }
  // Filter entries w[lane * taps + tap] instead of the default pattern.
  RowConv& filter(std::vector<float> weights) {
    REQUIRE(weights.size() == w.size());
    w = std::move(weights);
    ctx.filter = w.data();
    return *this;
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
    macs = pe.macs_;
    actions = pe.actions_;
    return pe.cycles_.busy;
  }
};

}  // namespace

TEST_CASE("PE computes a 1-D row convolution exactly in positions x taps x ceil(lanes/2) + fill",
          "[array][pe]") {
  std::vector<float> input{0.5f, -1, 2, 0.25f, 3, -2, 1, 0.75f};
  for (int64_t lanes : {1, 2, 3, 4}) {
    RowConv rc(input, lanes, 3, 1, 0, true);
    const uint64_t busy = rc.run();
    INFO("lanes " << lanes);
    CHECK(rc.out == rc.reference());
    // 6 positions x 3 taps x ceil(lanes/2) cycles + 1 cycle pipeline fill/drain (depth 2)
    CHECK(busy == static_cast<uint64_t>(6 * 3 * ((lanes + 1) / 2) + 1));
  }
  // Stride 2, padding 1: padding MACs are issued (forward), 4 positions.
  RowConv strided(input, 2, 3, 2, 1, true);
  CHECK(strided.run() == 4 * 3 + 1);
  CHECK(strided.out == strided.reference());
}

TEST_CASE("PE computes every lane of a task with more lanes than its stack accumulators hold",
          "[array][pe]") {
  // 300 lanes (above the 256 kept on the stack) with each operand's zeros exploited or not, with
  // padding issued and without (the sparse-filter modes take the per-task plan).
  std::vector<float> input{0.5f, -1, 2, 0, 3, -2, 1, 0.75f};
  for (auto [in_sparse, filter_sparse] : {std::pair{false, false}, std::pair{true, false},
                                          std::pair{false, true}, std::pair{true, true}})
    for (bool issue_padding : {true, false}) {
      INFO("input sparse " << in_sparse << ", filter sparse " << filter_sparse << ", issue_padding "
                           << issue_padding);
      RowConv rc(input, 300, 3, 1, 1, issue_padding);
      rc.sparse(arch::Sparsity::Csc, in_sparse, filter_sparse);
      rc.run();
      const std::vector<float> want = rc.reference();
      CHECK(rc.out == want);
      // The last lanes are really there (not left at zero by truncation).
      CHECK(rc.out.back() != 0.0f);
      CHECK(rc.out.back() == want.back());
    }
}

TEST_CASE("CSC PE: a zero input entry costs no cycle, a non-zero one its lanes' SIMD cycles",
          "[array][pe][csc]") {
  // Windows of 2 over [1,0,0,2,0,3] (no padding, as backward): (1,0) (0,0) (0,2) (2,0) (0,3). Only
  // the 4 non-zero entries are processed, each ceil(lanes / 2) cycles; the all-zero position
  // (0,0) takes the 1-cycle minimum that hands its psums on; + 1 pipeline fill/drain.
  const std::vector<float> input{1, 0, 0, 2, 0, 3};
  for (int64_t lanes : {1, 2, 3, 5}) {
    INFO("lanes " << lanes);
    RowConv rc(input, lanes, 2, 1, 0, false);
    rc.sparse(arch::Sparsity::Csc, true, false);
    const uint64_t per_entry = static_cast<uint64_t>((lanes + 1) / 2);
    CHECK(rc.run() == 4 * per_entry + 1 + 1);
    CHECK(rc.out == rc.reference());
    CHECK(rc.macs.issued == static_cast<uint64_t>(4 * lanes));
    CHECK(rc.macs.skipped == static_cast<uint64_t>(6 * lanes));  // 6 zero entries x lanes
    CHECK(rc.actions.zero_skips == 6);
    // iact spad: 4 CSC entries of 8-bit data + 4-bit count, and one 4-bit column pointer per
    // position; weight spad: the dense filter's lanes for each non-zero entry, 8 bits each.
    CHECK(rc.actions.spad_iact_read_bits == 4 * (8 + 4) + 5 * 4);
    CHECK(rc.actions.spad_weight_read_bits == static_cast<uint64_t>(4 * lanes * 8));
  }
  // A per-non-zero overhead adds to each processed entry: 4 x (1 + 2) + 1 + 1.
  RowConv slow(input, 2, 2, 1, 0, false);
  slow.sparse(arch::Sparsity::Csc, true, false);
  slow.ctx.csc.nonzero_iact_overhead_cycles = 2;
  CHECK(slow.run() == 4 * 3 + 1 + 1);
  // Padding issued (as forward): the padded zeros are zero input entries too. Windows of 3 over
  // [P,1,2,0,3,P] hold 2, 2, 2, 1 non-zero entries -> 7 cycles + 1.
  RowConv padded({1, 2, 0, 3}, 2, 3, 1, 1, true);
  padded.sparse(arch::Sparsity::Csc, true, false);
  CHECK(padded.run() == 7 + 1);
  CHECK(padded.out == padded.reference());
}

TEST_CASE(
    "CSC PE: a column's non-zero filter entries fill the SIMD lanes, an empty one costs "
    "empty_column_cycles",
    "[array][pe][csc]") {
  // Dense input [1,2,3,4,5], 3 taps -> 3 positions. 5 lanes (odd, SIMD 2); per tap, the lanes'
  // non-zero entries: tap 0 all 5 -> 3 cycles, tap 1 none -> empty column, tap 2 one -> 1 cycle.
  const std::vector<float> weights{1, 0, 0,  // lane 0
                                   2, 0, 0,  // lane 1
                                   3, 0, 4,  // lane 2
                                   5, 0, 0,  // lane 3
                                   6, 0, 0};
  for (int empty : {0, 1, 3}) {
    INFO("empty_column_cycles " << empty);
    RowConv rc({1, 2, 3, 4, 5}, 5, 3, 1, 0, true);
    rc.sparse(arch::Sparsity::Csc, false, true).filter(weights);
    rc.ctx.csc.empty_column_cycles = empty;
    CHECK(rc.run() == static_cast<uint64_t>(3 * (3 + empty + 1) + 1));
    CHECK(rc.out == rc.reference());
    CHECK(rc.macs.issued == 3 * 6);
    CHECK(rc.macs.skipped == 3 * 9);
    // Weight spad per position: two 7-bit pointers per column (3 columns) and 6 CSC entries of
    // 8-bit data + 4-bit count; iact spad: 3 dense 8-bit entries per position.
    CHECK(rc.actions.spad_weight_read_bits == 3 * (3 * 2 * 7 + 6 * (8 + 4)));
    CHECK(rc.actions.spad_iact_read_bits == 3 * 3 * 8);
  }
  // The same filter dense: 3 positions x 3 taps x ceil(5 / 2) cycles + 1.
  RowConv dense({1, 2, 3, 4, 5}, 5, 3, 1, 0, true);
  dense.filter(weights);
  CHECK(dense.run() == 3 * 3 * 3 + 1);
  CHECK(dense.out == dense.reference());
}

TEST_CASE("CSC PE with both operands sparse skips zero inputs and packs each non-zero's column",
          "[array][pe][csc]") {
  // Windows of 2 over [1,0,2,0,0,3] (no padding); 3 lanes whose tap 0 column holds 2 non-zeros (1
  // cycle) and whose tap 1 column is empty (empty_column_cycles = 2). Positions: (1,0) 1, (0,2) 2,
  // (2,0) 1, (0,0) the 1-cycle minimum, (0,3) 2 -> 7, + 1 fill/drain.
  RowConv rc({1, 0, 2, 0, 0, 3}, 3, 2, 1, 0, false);
  rc.sparse(arch::Sparsity::Csc, true, true).filter({1, 0, 2, 0, 0, 0});
  rc.ctx.csc.empty_column_cycles = 2;
  CHECK(rc.run() == 7 + 1);
  CHECK(rc.out == rc.reference());
  // Issued: the two non-zero lanes of tap 0 against the non-zero inputs 1 and 2.
  CHECK(rc.macs.issued == 4);
  CHECK(rc.macs.issued + rc.macs.skipped == 5 * 2 * 3);
}

TEST_CASE("CSC PE cycles follow the CSC rule for random zero patterns", "[array][pe][csc]") {
  // The rule, written out independently of the PE: per position, each input entry the position
  // multiplies (padding counts as a zero entry when issued) costs nothing when it is zero and the
  // input is sparse; otherwise its column's non-zero lanes (all lanes for a dense filter) take
  // ceil(nnz / 2) cycles, an empty column empty_column_cycles; a position takes at least 1 cycle.
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t lanes = 1 + trial % 5, taps = 1 + (trial / 5) % 4;
    const int64_t pad = (trial / 20) % 2, width = taps + 3 + trial % 4;
    const bool issue_padding = (trial / 40) % 2 == 0;
    const bool in_sparse = trial % 3 != 0, filter_sparse = trial % 2 == 0;
    std::vector<float> input(static_cast<size_t>(width));
    std::vector<float> weights(static_cast<size_t>(lanes * taps));
    std::bernoulli_distribution zero(0.5);
    for (float& x : input) x = zero(rng) ? 0.0f : 0.5f + float(rng() % 4);
    for (float& x : weights) x = zero(rng) ? 0.0f : -1.0f + float(rng() % 3) * 0.75f;
    RowConv rc(input, lanes, taps, 1, pad, issue_padding);
    rc.sparse(arch::Sparsity::Csc, in_sparse, filter_sparse).filter(weights);
    uint64_t want = 1;  // pipeline fill/drain
    for (int64_t o = 0; o < rc.p.cols.out_len; ++o) {
      int64_t cycles = 0;
      for (int64_t t = 0; t < taps; ++t) {
        const int64_t i = rc.p.cols.input_index(o, t);
        const bool in_range = i >= 0 && i < width;
        if (!in_range && !issue_padding) continue;
        const float v = in_range ? input[static_cast<size_t>(i)] : 0.0f;
        if (in_sparse && v == 0.0f) continue;
        int64_t nnz = lanes;
        if (filter_sparse) {
          nnz = 0;
          for (int64_t l = 0; l < lanes; ++l)
            nnz += weights[static_cast<size_t>(l * taps + t)] != 0;
        }
        cycles += nnz > 0 ? (nnz + 1) / 2 : 1;
      }
      want += static_cast<uint64_t>(std::max<int64_t>(1, cycles));
    }
    INFO("trial " << trial << ": lanes " << lanes << ", taps " << taps << ", pad " << pad
                  << ", issue_padding " << issue_padding << ", input sparse " << in_sparse
                  << ", filter sparse " << filter_sparse);
    CHECK(rc.run() == want);
    CHECK(rc.out == rc.reference());
  }
}

TEST_CASE("zero gating costs the dense cycles with fewer MACs, none issues every MAC",
          "[array][pe][csc]") {
  const std::vector<float> input{1, 0, 0, 2, 0, 3};
  RowConv none(input, 3, 2, 1, 0, false);
  none.sparse(arch::Sparsity::None, false, false);
  const uint64_t dense_cycles = none.run();
  CHECK(dense_cycles == 5 * 2 * 2 + 1);  // 5 positions x 2 taps x ceil(3 / 2) + 1
  CHECK(none.macs.issued == 30);
  CHECK(none.macs.skipped == 0);
  CHECK(none.out == none.reference());

  RowConv gated(input, 3, 2, 1, 0, false);
  gated.sparse(arch::Sparsity::ZeroGating, true, false);
  CHECK(gated.run() == dense_cycles);
  CHECK(gated.out == gated.reference());
  CHECK(gated.macs.issued == 4 * 3);  // the 4 non-zero entries x 3 lanes
  CHECK(gated.macs.skipped == 6 * 3);
  CHECK(gated.actions.mac_8x8 == 12);
  // The spads are read as if dense: every entry, every lane's filter entry.
  CHECK(gated.actions.spad_iact_read_bits == none.actions.spad_iact_read_bits);
  CHECK(gated.actions.spad_weight_read_bits == none.actions.spad_weight_read_bits);

  // Gating the filter's zeros too: the same cycles, only MACs with two non-zero operands issue.
  RowConv both(input, 3, 2, 1, 0, false);
  both.sparse(arch::Sparsity::ZeroGating, true, true).filter({1, 0, 2, 0, 0, 0});
  CHECK(both.run() == dense_cycles);
  CHECK(both.out == both.reference());
  CHECK(both.macs.issued == 4);  // as the CSC case of the same operands
  CHECK(both.macs.issued + both.macs.skipped == 30);

  RowConv csc(input, 3, 2, 1, 0, false);
  csc.sparse(arch::Sparsity::Csc, true, false);
  CHECK(csc.run() < dense_cycles);
  CHECK(csc.macs.issued == gated.macs.issued);
}

TEST_CASE("PE stalls for input until its window arrives and for output when psum slots fill",
          "[array][pe]") {
  RowConv rc({1, 2, 3, 4, 5}, 2, 3, 1, 0, true);
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
  RowConv rc({1, 2, 3, 4}, 2, 1, 1, 0, true);
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
  RowConv rc({0.5f, -1, 2, 0.25f, 3, -2, 1, 0.75f}, 2, 3, 1, 0, true);
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
    RowConv rc(std::vector<float>(26, 1.0f), 1, 3, 1, 0, true);
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
  RowConv rc({1, 2, 3, 4, 5, 6}, 2, 3, 1, 0, true);
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
  RowConv rc({1, 2, 3, 4}, 2, 1, 1, 0, true);
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
