// Memory the array waits for (docs/DESIGN.md §5.6): the DMA queue prefetches a problem's transfers
// in schedule order while the array computes, and the array stalls only on data that has not
// arrived. The ideal off-chip model makes every figure exact: a transfer of b bytes, issued when
// the previous one has completed, completes ceil(b / bytes_per_cycle) + latency_cycles later.
#include <catch2/catch.hpp>

#include <functional>
#include <random>
#include <set>

#include "hw/array/array_engine.hpp"
#include "hw/array/dma_scheduler.hpp"
#include "hw/array/ideal_memory.hpp"
#include "hw/array/layer_operands.hpp"
#include "hw/array/pe_context.hpp"
#include "hw/sim_context.hpp"
#include "models/arch/arch_config.hpp"
#include "sw/mapper/row_stationary_mapper.hpp"
#include "tests/hw/array/dma_bench.hpp"
#include "tests/hw/array/pe_cycle_checks.hpp"
#include "tests/hw/array/reference_layers.hpp"

using namespace eg;
using namespace eg::hw::array;

namespace {

using Bench = bench::Bench;

struct Run {
  PhaseFigures fig;
  int64_t passes = 0, max_folds = 0;
  uint64_t first_pass_pes = 0;  // distinct PEs with work in the first pass
  // The first pass's input fill, in the cluster that stores the most of it: the rows its PEs
  // need (distinct plane, channel and in-range input row) x the row length x activation bits.
  uint64_t max_fill_bits = 0;
  std::vector<uint64_t> pass_fill_bits;  // the same, per pass of every problem
};

// Rows of pass `pass` each cluster stores, times in_len x iact bits: the largest.
uint64_t max_fill_bits(const mapper::Schedule& s, const mapper::CanonicalProblem& p, int bits,
                       int64_t pass = 0) {
  uint64_t most = 0;
  for (const mapper::PcWork& w : s.pass(pass).pcs) {
    std::set<std::array<int64_t, 3>> rows;
    for (const mapper::PeTask& t : w.pes)
      if (t.active && p.rows.in_range(t.in_row))
        for (int64_t k = t.k0; k < t.k0 + t.channels; ++k) rows.insert({t.a, k, t.in_row});
    most = std::max(most, rows.size() * static_cast<uint64_t>(p.cols.in_len * bits));
  }
  return most;
}

// The forward phase of conv `g` (random operands), on the efficientgrad array with an ideal memory
// of `latency` cycles and `bytes_per_cycle`.
Run forward(const testing::ConvShape& g, uint64_t latency, double bytes_per_cycle,
            int iact_buffers = 2, int bank_width_bits = 64, int ports_per_bank = 1) {
  arch::ArchConfig cfg =
      arch::load_arch_config(std::string(EGSIM_SOURCE_DIR) + "/configs/hw/efficientgrad.json");
  cfg.glb.iact_buffers = iact_buffers;
  cfg.glb.bank_width_bits = bank_width_bits;
  cfg.glb.ports_per_bank = ports_per_bank;
  cfg.offchip.model = arch::OffchipModel::Ideal;
  cfg.offchip.latency_cycles = static_cast<int64_t>(latency);
  cfg.offchip.bytes_per_cycle = bytes_per_cycle;
  mapper::ConvView v{false, g.n, g.c, g.m, g.h, g.w, g.e(), g.f(), g.r, g.s, g.stride, g.pad};
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> x(size_t(g.n * g.c * g.h * g.w)), w(size_t(g.m * g.c * g.r * g.s));
  for (float& e : x) e = u(rng);
  for (float& e : w) e = u(rng);
  const LayerOperands ops = make_layer_operands(v, x, w, {}, {});
  Run run;
  hw::SimContext context;
  Bench bench("bench", cfg, [&](Bench& b) {
    const mapper::RowStationaryMapper mapper(cfg);
    for (const auto& p : mapper::canonical_problems(v, mapper::Phase::Forward, cfg.features)) {
      const mapper::Schedule s = mapper.map(p, "test");
      if (run.passes == 0)
        for (const mapper::PcWork& w : s.pass(0).pcs)
          for (size_t j = 0; j < 12; ++j) {
            bool work = false;
            for (size_t q = 0; q * 12 + j < w.pes.size(); ++q)
              work = work || w.pes[q * 12 + j].active;
            run.first_pass_pes += work ? 1 : 0;
          }
      run.passes += s.pass_count;
      for (int64_t i = 0; i < s.pass_count; ++i)
        for (const mapper::PcWork& w : s.pass(i).pcs)
          run.max_folds = std::max(run.max_folds, w.folds);
      CanonicalData d = build_canonical_data(p, ops);
      const PeContext ctx = make_pe_context(cfg, mapper, s, d);
      if (run.passes == s.pass_count) run.max_fill_bits = max_fill_bits(s, p, ctx.iact_bits);
      for (int64_t i = 0; i < s.pass_count; ++i)
        run.pass_fill_bits.push_back(max_fill_bits(s, p, ctx.iact_bits, i));
      OperandAddresses addr;
      addr.filter = 1 << 20;
      addr.output = 2 << 20;
      b.engine.execute(s, ctx, addr, run.fig);
    }
  });
  context.start();
  testing::check_pe_cycle_sum(run.fig.pe_cycles, run.fig.cycles, 72);
  return run;
}

uint64_t total(const std::array<uint64_t, hw::kDataClassCount>& bytes) {
  uint64_t n = 0;
  for (uint64_t b : bytes) n += b;
  return n;
}

}  // namespace

TEST_CASE("A DRAM-bound layer runs in its bytes over the bandwidth plus one latency",
          "[array][memory]") {
  // 16 -> 16 channels, 3x3, 16x16: 6 passes of up to 4 folds, 36 transfers (per pass its input
  // rows and 4 filter sets, and its output tile). At 1/4 byte per cycle a transfer of b bytes
  // occupies the memory 4b cycles and completes 20 cycles later. The DMA keeps two transfers in
  // flight: the next is issued when the one before the previous completes, before the memory has
  // finished the previous one (every transfer is at least 5 bytes, 20 cycles). Its gates (the end
  // of a pass) pass long before: the array computes a pass in less time than the DMA needs for the
  // next one's data. So the memory is busy from the first cycle to the last, and the layer takes
  // 4 x bytes + 20 cycles, exactly.
  const testing::ConvShape g{1, 16, 16, 16, 16, 3, 3, 1, 1};
  const Run r = forward(g, 20, 0.25);
  REQUIRE(r.passes == 6);
  REQUIRE(r.fig.offchip.transfers == 36);
  const uint64_t bytes = total(r.fig.offchip.read_bytes) + total(r.fig.offchip.write_bytes);
  CHECK(r.fig.cycles == 4 * bytes + 20);
  // The compute alone, with a memory 10^6 times faster, is a small fraction of that.
  CHECK(forward(g, 0, 1e6).fig.cycles * 10 < r.fig.cycles);
}

TEST_CASE("A compute-bound layer takes its compute cycles plus the first fill and the last drain",
          "[array][memory]") {
  // Same layer, 10^6 bytes per cycle: a transfer occupies the memory 1 cycle and completes L
  // later. Only the first fill and the last drain are exposed: the first pass's input rows arrive
  // at 1 + L (the pass starts) and its first filter set, issued with them, at 2 + L; the last
  // pass's output tile drains in 1 + L after everything has computed. Every other transfer
  // completes while a pass computes (each pass computes for hundreds of cycles). Going from
  // L = 20 to L = 50 thus adds 2 x 30 cycles: the first 30 are input stalls of the PEs with work in
  // the first pass and idle for the others, the drain's 30 are idle for all 72 PEs.
  const testing::ConvShape g{1, 16, 16, 16, 16, 3, 3, 1, 1};
  const Run fast = forward(g, 20, 1e6), slow = forward(g, 50, 1e6);
  CHECK(slow.fig.cycles == fast.fig.cycles + 2 * 30);
  const uint64_t active = slow.first_pass_pes;
  REQUIRE(active > 0);
  CHECK(slow.fig.pe_cycles.busy == fast.fig.pe_cycles.busy);
  CHECK(slow.fig.pe_cycles.wait_output == fast.fig.pe_cycles.wait_output);
  CHECK(slow.fig.pe_cycles.wait_input == fast.fig.pe_cycles.wait_input + 30 * active);
  CHECK(slow.fig.pe_cycles.idle == fast.fig.pe_cycles.idle + 30 * (72 - active) + 30 * 72);
}

TEST_CASE(
    "Late data stalls the PEs with work as input stall and the pass ends when it arrives "
    "plus the remaining compute",
    "[array][memory]") {
  // 4 -> 4 channels, 3x3, 16x16: one pass of one fold, three transfers: input rows (I bytes),
  // filters (F), output (O). With k cycles per byte and latency L, the input rows and the filters
  // are issued together at cycle 0. The rows arrive at kI + L and the pass starts; the filters
  // arrive kF later, at k(I + F) + L. Until then every PE with work waits (an input stall the PEs
  // count themselves while their weight router waits for the set) and the others idle. Then the
  // pass computes a fixed C cycles (its input rows are already in the PE spads: they streamed in
  // while the filters were late), and the output drains in kO + L, every PE idle.
  // So cycles = k(I + F + O) + 2L + C, and from k = 1 to k = 2 the cycles grow by I + F + O, the
  // input stalls by (I + F) per PE with work, idle by (I + F) per PE without work and O per PE for
  // the drain; busy cycles do not change.
  const testing::ConvShape g{1, 4, 16, 16, 4, 3, 3, 1, 1};
  const Run a = forward(g, 100, 1.0), b = forward(g, 100, 0.5);
  REQUIRE(a.passes == 1);
  REQUIRE(a.max_folds == 1);
  REQUIRE(a.fig.offchip.transfers == 3);
  const uint64_t in = a.fig.offchip.read_bytes[size_t(hw::DataClass::Activations)],
                 filters = a.fig.offchip.read_bytes[size_t(hw::DataClass::Weights)],
                 out = a.fig.offchip.write_bytes[size_t(hw::DataClass::Activations)];
  REQUIRE(in + filters + out == total(a.fig.offchip.read_bytes) + total(a.fig.offchip.write_bytes));
  const uint64_t active = a.first_pass_pes;
  REQUIRE(active > 0);
  REQUIRE(active < 72);
  CHECK(b.fig.cycles == a.fig.cycles + in + filters + out);
  CHECK(b.fig.pe_cycles.busy == a.fig.pe_cycles.busy);
  CHECK(b.fig.pe_cycles.wait_output == a.fig.pe_cycles.wait_output);
  CHECK(b.fig.pe_cycles.wait_input == a.fig.pe_cycles.wait_input + (in + filters) * active);
  CHECK(b.fig.pe_cycles.idle == a.fig.pe_cycles.idle + (in + filters) * (72 - active) + out * 72);
  // C, what is left once the transfers are taken off, is the same at both bandwidths.
  const uint64_t compute = a.fig.cycles - (in + filters + out + 2 * 100);
  CHECK(b.fig.cycles - (2 * (in + filters + out) + 2 * 100) == compute);
  CHECK(compute > 0);
}

TEST_CASE("With one input buffer the DMA cannot prefetch and every pass waits for its input rows",
          "[array][memory]") {
  // glb.iact_buffers 1: pass i's input rows and filters go into the buffer pass i - 1 frees, so
  // they are issued when pass i - 1 ends, complete 1 + L later (10^6 bytes per cycle), and pass i
  // waits for them: the fill is exposed before every pass, not just the first. (Its first filter
  // set, issued with them, arrives 1 cycle after them whatever L is; output tiles still drain
  // behind the next pass.) From L = 20 to L = 50 the cycles grow by 30 per pass plus 30 for the
  // last drain. With the default two buffers only the first fill and the drain grow.
  const testing::ConvShape g{1, 16, 16, 16, 16, 3, 3, 1, 1};
  const Run fast = forward(g, 20, 1e6, 1), slow = forward(g, 50, 1e6, 1);
  REQUIRE(fast.passes > 2);
  REQUIRE(slow.passes == fast.passes);
  CHECK(slow.fig.cycles == fast.fig.cycles + 30 * static_cast<uint64_t>(fast.passes) + 30);
  CHECK(slow.fig.pe_cycles.busy == fast.fig.pe_cycles.busy);
}

TEST_CASE("A fill costs ceil(ceil(bits / (banks x bank width)) / ports) cycles of the GLB ports",
          "[array][memory][glb]") {
  // 4 -> 4 channels, 3x3, 16x16: one pass of one fold (the late-data case above). The DMA writes
  // the input rows into each cluster's iact banks after the transfer completes at 1 + L, in the
  // port cycles the array leaves free; before the first pass the array is idle, so a partition
  // whose share is N bits needs ceil(N / (3 banks x W)) accesses per bank, P per cycle, and the
  // pass starts when the slowest partition is written. L = 1000 keeps the output drain
  // DRAM-bound (its psum reads out of the GLB take far fewer than 1 + L cycles), and the first
  // filter set (1 + L + 1) is never later than the written rows. So from one bank width or port
  // count to another the cycles move by exactly the difference in fill cycles, and the PEs with
  // work count it as input stall. At the defaults (W = 64, P = 1) the largest partition holds 24
  // rows of 16 activations of 8 bits: 3072 bits, 3072 / 192 = 16 accesses per bank, 16 cycles.
  // Doubling the width halves that (3072 / 384 = 8 accesses, 8 cycles); so does doubling the ports
  // (16 accesses, 2 a cycle); doubling both leaves 4.
  const testing::ConvShape g{1, 4, 16, 16, 4, 3, 3, 1, 1};
  const Run base = forward(g, 1000, 1e6);
  REQUIRE(base.passes == 1);
  REQUIRE(base.max_fill_bits == 3072);
  auto fill = [&](int width, int ports) {
    const uint64_t accesses = (base.max_fill_bits + 3 * width - 1) / (3 * width);
    return (accesses + ports - 1) / ports;
  };
  REQUIRE(fill(64, 1) == 16);
  const Run wide = forward(g, 1000, 1e6, 2, 128, 1);
  const Run ported = forward(g, 1000, 1e6, 2, 64, 2);
  const Run both = forward(g, 1000, 1e6, 2, 128, 2);
  const uint64_t active = base.first_pass_pes;
  REQUIRE(active > 0);
  // The array itself never contends for a port in this pass, so more ports change only the fill.
  REQUIRE(base.fig.glb_conflicts == 0);
  CHECK(base.fig.cycles - wide.fig.cycles == 16 - 8);
  CHECK(base.fig.cycles - ported.fig.cycles == 16 - 8);
  CHECK(base.fig.cycles - both.fig.cycles == 16 - 4);
  CHECK(base.fig.pe_cycles.wait_input - wide.fig.pe_cycles.wait_input == (16 - 8) * active);
  CHECK(base.fig.pe_cycles.wait_input - both.fig.pe_cycles.wait_input == (16 - 4) * active);
  CHECK(base.fig.pe_cycles.busy == both.fig.pe_cycles.busy);
  CHECK(fill(128, 1) == 8);
  CHECK(fill(64, 2) == 8);
  CHECK(fill(128, 2) == 4);
}

TEST_CASE(
    "Fills written while an earlier pass reads the banks cost nothing when the reads leave "
    "ports free",
    "[array][memory][glb]") {
  // 16 -> 16 channels, 3x3, 16x16: 6 passes, two input buffers, 10^6 bytes per cycle, L = 200.
  // Pass i's input rows complete while pass i - 1 computes (its gate is pass i - 2's end, and the
  // transfer takes 1 + L cycles of a pass lasting several hundred); the DMA then writes them in
  // the port cycles the iact routers leave free, which are plenty. So only the first fill, made
  // while the array is idle, is exposed: from W = 64 to W = 128 the layer saves exactly the
  // first pass's fill cycles, ceil(bits / 192) - ceil(bits / 384) for its largest partition. The
  // output drains stay DRAM-bound (1 + L cycles).
  const testing::ConvShape g{1, 16, 16, 16, 16, 3, 3, 1, 1};
  const Run narrow = forward(g, 200, 1e6), wide = forward(g, 200, 1e6, 2, 128, 1);
  REQUIRE(narrow.passes == 6);
  const uint64_t bits = narrow.max_fill_bits;
  REQUIRE(bits > 0);
  const uint64_t saved = (bits + 191) / 192 - (bits + 383) / 384;
  REQUIRE(saved > 0);
  CHECK(narrow.fig.cycles - wide.fig.cycles == saved);
  CHECK(narrow.fig.glb_conflicts == wide.fig.glb_conflicts);

  // With one input buffer every fill is issued when the pass before ends and written while the
  // array waits for it: every pass exposes its own fill, and the saving is the sum over passes.
  const Run one = forward(g, 200, 1e6, 1), one_wide = forward(g, 200, 1e6, 1, 128, 1);
  REQUIRE(one.pass_fill_bits.size() == 6);
  uint64_t all_saved = 0;
  for (uint64_t b : one.pass_fill_bits) all_saved += (b + 191) / 192 - (b + 383) / 384;
  REQUIRE(all_saved > saved);
  CHECK(one.fig.cycles - one_wide.fig.cycles == all_saved);
}
