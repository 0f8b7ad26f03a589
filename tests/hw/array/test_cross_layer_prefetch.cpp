// Prefetch across problems (features.cross_layer_prefetch, docs/DESIGN.md §5.6): with a
// NextProblem, the DMA fetches the next problem's first passes while the current one computes, so
// the next one starts without waiting for its first fill. The ideal off-chip model makes every
// figure exact: at 10^6 bytes per cycle a transfer occupies the memory 1 cycle and completes L
// cycles after that.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include <nlohmann/json.hpp>

#include "hw/array/array_engine.hpp"
#include "hw/array/dma_scheduler.hpp"
#include "hw/array/ideal_memory.hpp"
#include "hw/array/layer_operands.hpp"
#include "hw/array/pe_context.hpp"
#include "hw/sim_context.hpp"
#include "models/arch/arch_config.hpp"
#include "support/temp_dir.hpp"
#include "sw/mapper/row_stationary_mapper.hpp"
#include "tests/hw/array/dma_bench.hpp"
#include "tests/hw/array/pe_cycle_checks.hpp"
#include "tests/hw/array/reference_layers.hpp"

using namespace eg;
using namespace eg::hw::array;

namespace {

using Bench = bench::Bench;

// One forward problem of a conv with random operands, at its own DRAM addresses.
struct Problem {
  mapper::Schedule schedule;
  LayerOperands ops;
  CanonicalData data;
  OperandAddresses addr;
};

Problem make_problem(const arch::ArchConfig& cfg, const testing::ConvShape& g, uint64_t base,
                     unsigned seed) {
  mapper::ConvView v{false, g.n, g.c, g.m, g.h, g.w, g.e(), g.f(), g.r, g.s, g.stride, g.pad};
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> x(size_t(g.n * g.c * g.h * g.w)), w(size_t(g.m * g.c * g.r * g.s));
  for (float& e : x) e = u(rng);
  for (float& e : w) e = u(rng);
  const auto problems = mapper::canonical_problems(v, mapper::Phase::Forward, cfg.features);
  REQUIRE(problems.size() == 1);
  const mapper::RowStationaryMapper mapper(cfg);
  Problem p{mapper.map(problems[0], "test"), make_layer_operands(v, x, w, {}, {}), {}, {}};
  p.data = build_canonical_data(p.schedule.problem, p.ops);
  p.addr.input = base;
  p.addr.filter = base + (1 << 20);
  p.addr.output = base + (2 << 20);
  return p;
}

struct TwoProblems {
  PhaseFigures first, second;
  uint64_t second_pes = 0;  // PEs with work in the second problem's (only) pass
  int64_t first_passes = 0, second_passes = 0, second_folds = 0;
};

// Conv 16 -> 16 (3x3, 16x16, several passes of hundreds of cycles each), then conv 4 -> 4 (one
// pass of one fold) whose operands nothing in between writes, on an ideal memory of latency L.
// What the first problem is told of the second: nothing (no prefetch), that its filters may go
// early (its input is written in between), or that both its operands may.
enum class Ahead { None, Filters, Both };
TwoProblems run_two(uint64_t latency, Ahead ahead) {
  arch::ArchConfig cfg =
      arch::load_arch_config(std::string(EGSIM_SOURCE_DIR) + "/configs/hw/efficientgrad.json");
  cfg.offchip.model = arch::OffchipModel::Ideal;
  cfg.offchip.latency_cycles = static_cast<int64_t>(latency);
  cfg.offchip.bytes_per_cycle = 1e6;
  Problem a = make_problem(cfg, {1, 16, 16, 16, 16, 3, 3, 1, 1}, 0, 3);
  Problem b = make_problem(cfg, {1, 4, 16, 16, 4, 3, 3, 1, 1}, 8 << 20, 4);
  const mapper::RowStationaryMapper mapper(cfg);
  TwoProblems r;
  r.first_passes = a.schedule.pass_count;
  r.second_passes = b.schedule.pass_count;
  for (const mapper::PcWork& w : b.schedule.pass(0).pcs) {
    r.second_folds = std::max(r.second_folds, w.folds);
    for (size_t j = 0; j < 12; ++j) {
      bool work = false;
      for (size_t q = 0; q * 12 + j < w.pes.size(); ++q) work = work || w.pes[q * 12 + j].active;
      r.second_pes += work ? 1 : 0;
    }
  }
  hw::SimContext context;
  Bench bench("bench", cfg, [&](Bench& bn) {
    const PeContext ca = make_pe_context(cfg, mapper, a.schedule, a.data);
    const PeContext cb = make_pe_context(cfg, mapper, b.schedule, b.data);
    NextProblem next;
    next.schedule = &b.schedule;
    next.iact_bits = cb.iact_bits, next.filter_bits = cb.filter_bits;
    next.output_bits = cb.output_bits;
    next.addresses = b.addr;
    next.filters = ahead != Ahead::None;
    next.inputs = ahead == Ahead::Both;
    bn.engine.execute(a.schedule, ca, a.addr, r.first, ahead != Ahead::None ? &next : nullptr);
    bn.engine.execute(b.schedule, cb, b.addr, r.second);
  });
  context.start();
  testing::check_pe_cycle_sum(r.first.pe_cycles, r.first.cycles, 72);
  testing::check_pe_cycle_sum(r.second.pe_cycles, r.second.cycles, 72);
  return r;
}

const std::string kBin = std::string(EGSIM_BINARY_DIR) + "/bin/";
const std::filesystem::path kSource = EGSIM_SOURCE_DIR;

// egsim run's report.json for the tiny trace of the golden-timing test, on shipped config `name`
// with features.cross_layer_prefetch set to `prefetch`.
nlohmann::json run_tiny(const testing::TempDir& dir, const std::string& name, bool prefetch) {
  const std::filesystem::path config = kSource / "configs/hw" / (name + ".json");
  std::ifstream in(config);
  nlohmann::json j = nlohmann::json::parse(in);
  j["features"]["cross_layer_prefetch"] = prefetch;
  // The copy lives elsewhere: the paths in it, relative to the shipped config's folder, are made
  // absolute.
  for (nlohmann::json* path : {&j["offchip"]["dram_config"], &j["energy_table"]})
    *path = (config.parent_path() / path->get<std::string>()).string();
  const std::string tag = name + (prefetch ? "_on" : "_off");
  const std::filesystem::path copy = dir / (tag + ".json"), out = dir / tag;
  std::ofstream(copy) << j.dump(1);
  const std::string cmd = kBin + "egsim run --config " + copy.string() + " --trace " +
                          (dir / "trace").string() + " --out " + out.string() + " >" +
                          (dir / (tag + ".log")).string() + " 2>&1";
  INFO(cmd);
  const int status = std::system(cmd.c_str());
  std::ifstream log(dir / (tag + ".log"));
  INFO(std::string(std::istreambuf_iterator<char>(log), {}));
  REQUIRE(status == 0);
  std::ifstream report(out / "report.json");
  return nlohmann::json::parse(report);
}

// Cycles the DMA takes to write the second problem's input rows into the GLB (§5.4) once they
// have arrived: its fullest partition holds 6 input rows (4 output rows of a 3 x 3 window) x 4
// channels x 16 columns x 8 bits = 3072 bits, spread over 3 iact banks written 64 bits an access
// through 1 port: ceil(3072 / (3 x 64)) = 16 cycles. A prefetched fill is written before the
// problem starts.
constexpr uint64_t kSecondFill = 16;

uint64_t total(const OffchipTraffic& t) {
  uint64_t n = 0;
  for (size_t i = 0; i < t.read_bytes.size(); ++i) n += t.read_bytes[i] + t.write_bytes[i];
  return n;
}

}  // namespace

TEST_CASE(
    "Prefetch across problems removes the next problem's first-fill bubble and the switch "
    "brings it back",
    "[array][memory][prefetch]") {
  // Without prefetch the second problem (one pass, one fold: input rows, one filter set, output
  // tile) issues its input rows and its filter set at its start t0, one to each DMA worker. Each
  // occupies the ideal memory one cycle; the workers reach the memory in the kernel's process
  // order, the filter set first, so the rows arrive at t0 + 2 + L. The DMA then writes them into
  // the banks (kSecondFill cycles), and the pass starts: 2 + L + kSecondFill cycles of input stall
  // for each PE with work, idle for the others. It computes C and drains its output in 1 + L,
  // every PE idle. With prefetch, both transfers are issued when the first problem's pass
  // (passes - iact_buffers) ends, hundreds of cycles before its end, and the rows are written
  // into the banks before it ends, so the second problem computes C at once and only the drain
  // remains: the bubble is 2 + L + kSecondFill cycles, in PE-cycles that times `active` of input
  // stall and that times (72 - active) of idle.
  // The first problem is not slowed: the two transfers and its own output tiles all complete while
  // its last pass computes.
  for (uint64_t latency : {20u, 50u}) {
    const TwoProblems off = run_two(latency, Ahead::None), on = run_two(latency, Ahead::Both);
    REQUIRE(off.first_passes > 2);
    REQUIRE(off.second_passes == 1);
    REQUIRE(off.second_folds == 1);
    const uint64_t active = off.second_pes, bubble = 2 + latency + kSecondFill;
    REQUIRE(active > 0);
    REQUIRE(active < 72);
    CHECK(on.first.cycles == off.first.cycles);
    CHECK(on.first.pe_cycles.busy == off.first.pe_cycles.busy);
    CHECK(on.first.pe_cycles.wait_input == off.first.pe_cycles.wait_input);
    CHECK(off.second.cycles == on.second.cycles + bubble);
    CHECK(on.second.pe_cycles.busy == off.second.pe_cycles.busy);
    CHECK(off.second.pe_cycles.wait_input == on.second.pe_cycles.wait_input + bubble * active);
    CHECK(off.second.pe_cycles.idle == on.second.pe_cycles.idle + bubble * (72 - active));
    CHECK(off.second.pe_cycles.wait_output == on.second.pe_cycles.wait_output);
    // With the prefetch, what is left of the second problem is C plus the drain, 1 + L.
    const uint64_t compute = on.second.cycles - (1 + latency);
    CHECK(off.second.cycles == compute + 2 * (1 + latency) + 1 + kSecondFill);
    // Prefetch moves transfers in time and adds none: the same bytes and transfers in both runs.
    // Those prefetched count in the phase during which they move, the first problem's.
    CHECK(total(on.first.offchip) + total(on.second.offchip) ==
          total(off.first.offchip) + total(off.second.offchip));
    CHECK(on.first.offchip.transfers + on.second.offchip.transfers ==
          off.first.offchip.transfers + off.second.offchip.transfers);
    CHECK(on.second.offchip.transfers == 1);  // only its output tile
    CHECK(on.second.offchip.read_bytes == OffchipTraffic{}.read_bytes);
    CHECK(on.first.offchip.transfers == off.first.offchip.transfers + 2);
  }
}

TEST_CASE("Prefetching only the filters leaves the next problem waiting for its input rows",
          "[array][memory][prefetch]") {
  // When the next problem's input is written before it starts (a producer in between), only its
  // filters may go early. Its input rows, issued alone at its start, arrive 1 + L later and are
  // written into the banks in kSecondFill cycles: the bubble is 1 + L + kSecondFill, one cycle
  // less than without prefetch (where the filter set takes the memory's first cycle) and 0 with
  // both operands prefetched.
  const uint64_t latency = 30;
  const TwoProblems off = run_two(latency, Ahead::None), on = run_two(latency, Ahead::Both),
                    filters = run_two(latency, Ahead::Filters);
  CHECK(filters.second.cycles == on.second.cycles + 1 + latency + kSecondFill);
  CHECK(filters.second.cycles + 1 == off.second.cycles);
  CHECK(filters.second.offchip.transfers == 2);  // input rows and output tile
  CHECK(filters.first.offchip.transfers == off.first.offchip.transfers + 1);  // + the filter set
}

TEST_CASE("On a whole trace the prefetch moves DRAM traffic in time and never adds any",
          "[array][memory][prefetch]") {
  // The tiny residual trace (forward, then backward, weight gradient and weight update per layer,
  // PPU layers in between) on both shipped configs, with the prefetch on and off: the DRAM bytes
  // by class, the MACs and the PE work are the same (the functional check passes in both), and
  // the run is shorter with the prefetch, by fewer input stalls.
  testing::TempDir dir;
  REQUIRE(std::system((kBin + "egsim_make_trace " + (dir / "trace").string() + " tiny 0.5 7 >" +
                       (dir / "gen.log").string() + " 2>&1")
                          .c_str()) == 0);
  for (const char* name : {"efficientgrad", "eyeriss_v2_bp"}) {
    INFO(name);
    const nlohmann::json on = run_tiny(dir, name, true)["totals"],
                         off = run_tiny(dir, name, false)["totals"];
    CHECK(on["dram"]["by_class"] == off["dram"]["by_class"]);
    CHECK(on["dram"]["read_bytes"] == off["dram"]["read_bytes"]);
    CHECK(on["dram"]["write_bytes"] == off["dram"]["write_bytes"]);
    CHECK(on["dram"]["bursts"] == off["dram"]["bursts"]);
    CHECK(on["macs_issued"] == off["macs_issued"]);
    CHECK(on["busy_pe_cycles"] == off["busy_pe_cycles"]);
    CHECK(on["actions"] == off["actions"]);
    CHECK(on["cycles"].get<uint64_t>() < off["cycles"].get<uint64_t>());
    CHECK(on["stalls"]["input"].get<uint64_t>() < off["stalls"]["input"].get<uint64_t>());
  }
}
