// Stepping every array cycle one by one (egsim run --step-every-cycle) gives exactly what the
// fast-forward gives: the fast-forward only jumps over cycles in which nothing but counters
// changes, so every figure must be the same.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <random>

#include "hw/array/array_engine.hpp"
#include "hw/array/layer_operands.hpp"
#include "hw/array/pe_context.hpp"
#include "models/arch/arch_config.hpp"
#include "support/temp_dir.hpp"
#include "sw/mapper/row_stationary_mapper.hpp"
#include "tests/hw/array/engine_bench.hpp"
#include "tests/hw/array/reference_layers.hpp"

namespace fs = std::filesystem;
using namespace eg;
using namespace eg::hw::array;

namespace {

const std::string kBin = std::string(EGSIM_BINARY_DIR) + "/bin/";
const fs::path kSource = EGSIM_SOURCE_DIR;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// egsim run on the golden-timing trace, both ways: report.json and report.csv must be equal byte
// for byte. No field of them may legitimately differ: the report holds no host time, host speed or
// count of ticked cycles (egsim run prints those on stdout only, which is not compared).
void check_cli(const std::string& config) {
  testing::TempDir dir;
  REQUIRE(std::system((kBin + "egsim_make_trace " + (dir / "trace").string() + " tiny 0.5 7 >" +
                       (dir / "gen.log").string() + " 2>&1")
                          .c_str()) == 0);
  for (const char* mode : {"fast", "step"}) {
    const std::string cmd = kBin + "egsim run --config " +
                            (kSource / "configs/hw" / config).string() + ".json --trace " +
                            (dir / "trace").string() + " --out " + (dir / mode).string() +
                            (std::string(mode) == "step" ? " --step-every-cycle" : "") + " >" +
                            (dir / (std::string(mode) + ".log")).string() + " 2>&1";
    INFO(cmd);
    INFO(slurp(dir / (std::string(mode) + ".log")));
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  for (const char* file : {"report.json", "report.csv"}) {
    INFO(file);
    const std::string fast = slurp(dir / "fast" / file), step = slurp(dir / "step" / file);
    REQUIRE(!fast.empty());
    CHECK(fast == step);
  }
}

struct EngineRun {
  std::vector<PhaseFigures> figures;  // per phase
  std::vector<std::vector<float>> outputs;
  uint64_t ticked = 0, simulated = 0;
};

// Every phase of conv `g` on an engine with an idealised memory and clock.
EngineRun run_engine(const arch::ArchConfig& cfg, const testing::ConvShape& g, bool step) {
  mapper::ConvView v{false, g.n, g.c, g.m, g.h, g.w, g.e(), g.f(), g.r, g.s, g.stride, g.pad};
  std::mt19937 rng(3);
  const auto x = testing::random_operand(size_t(g.n * g.c * g.h * g.w), rng);
  const auto w = testing::random_operand(size_t(g.m * g.c * g.r * g.s), rng);
  const auto dy = testing::random_operand(size_t(g.n * g.m * g.e() * g.f()), rng, 0.7);
  const LayerOperands ops = make_layer_operands(v, x, w, w, dy);
  const mapper::RowStationaryMapper mapper(cfg);
  testing::FakeClock clock;
  testing::FakeMemory memory(clock);
  ArrayEngine engine(cfg, memory, clock);
  engine.set_step_every_cycle(step);
  EngineRun run;
  for (mapper::Phase phase : mapper::kAllPhases) {
    PhaseFigures fig;
    std::vector<float> out;
    for (const auto& p : mapper::canonical_problems(v, phase, cfg.features)) {
      const mapper::Schedule s = mapper.map(p, "test");
      CanonicalData d = build_canonical_data(p, ops);
      const PeContext ctx = make_pe_context(cfg, mapper, s, d);
      engine.execute(s, ctx, {}, fig);
      out.insert(out.end(), d.output.begin(), d.output.end());
    }
    run.figures.push_back(fig);
    run.outputs.push_back(std::move(out));
  }
  run.ticked = engine.ticked_cycles();
  run.simulated = engine.simulated_cluster_cycles();
  return run;
}

void check_same(const PhaseFigures& a, const PhaseFigures& b) {
  CHECK(a.cycles == b.cycles);
  CHECK(a.macs.issued == b.macs.issued);
  CHECK(a.macs.skipped == b.macs.skipped);
  CHECK(a.pe_cycles.busy == b.pe_cycles.busy);
  CHECK(a.pe_cycles.wait_input == b.pe_cycles.wait_input);
  CHECK(a.pe_cycles.wait_output == b.pe_cycles.wait_output);
  CHECK(a.pe_cycles.idle == b.pe_cycles.idle);
  CHECK(a.glb_conflicts == b.glb_conflicts);
  CHECK(a.offchip.read_bytes == b.offchip.read_bytes);
  CHECK(a.offchip.write_bytes == b.offchip.write_bytes);
  CHECK(a.offchip.transfers == b.offchip.transfers);
  const ActionCounts& x = a.actions;
  const ActionCounts& y = b.actions;
  CHECK(x.mac_8x8 == y.mac_8x8);
  CHECK(x.mac_16x8 == y.mac_16x8);
  CHECK(x.zero_skips == y.zero_skips);
  CHECK(x.spad_iact_read_bits == y.spad_iact_read_bits);
  CHECK(x.spad_iact_write_bits == y.spad_iact_write_bits);
  CHECK(x.spad_weight_read_bits == y.spad_weight_read_bits);
  CHECK(x.spad_weight_write_bits == y.spad_weight_write_bits);
  CHECK(x.spad_feedback_read_bits == y.spad_feedback_read_bits);
  CHECK(x.spad_feedback_write_bits == y.spad_feedback_write_bits);
  CHECK(x.spad_psum_read_bits == y.spad_psum_read_bits);
  CHECK(x.spad_psum_write_bits == y.spad_psum_write_bits);
  CHECK(x.noc_iact_bit_hops == y.noc_iact_bit_hops);
  CHECK(x.noc_weight_bit_hops == y.noc_weight_bit_hops);
  CHECK(x.noc_psum_bit_hops == y.noc_psum_bit_hops);
  CHECK(x.glb_iact_read_bits == y.glb_iact_read_bits);
  CHECK(x.glb_iact_write_bits == y.glb_iact_write_bits);
  CHECK(x.glb_psum_read_bits == y.glb_psum_read_bits);
  CHECK(x.glb_psum_write_bits == y.glb_psum_write_bits);
  CHECK(x.glb_grad_read_bits == y.glb_grad_read_bits);
  CHECK(x.glb_grad_write_bits == y.glb_grad_write_bits);
  CHECK(x.ppu_ops == y.ppu_ops);
}

}  // namespace

TEST_CASE(
    "Stepping every cycle gives the same report as the fast-forward on the EfficientGrad "
    "config",
    "[array][step]") {
  check_cli("efficientgrad");
}

TEST_CASE("Stepping every cycle gives the same report as the fast-forward on the baseline config",
          "[array][step]") {
  check_cli("eyeriss_v2_bp");
}

TEST_CASE("Stepping every cycle matches the fast-forward figure by figure on convs of many folds",
          "[array][step]") {
  // Shapes whose passes hold several folds (filter sets streaming while earlier ones compute),
  // long positions (many channels per PE) and zero-skipping, so that the fast-forward jumps over
  // most cluster-cycles.
  // "shared": rows and columns sharing routers, links wider than the GLB banks, two-cycle hops on
  // a 1 x 6 mesh: the arbitration and the mesh and column latencies must be skipped exactly too.
  for (const char* config : {"efficientgrad", "eyeriss_v2_bp", "shared"}) {
    const bool shared = std::string(config) == "shared";
    arch::ArchConfig cfg = arch::load_arch_config(
        (kSource / "configs/hw" / (shared ? "efficientgrad" : config)).string() + ".json");
    if (shared) {
      cfg.noc.weight_routers = 1;
      cfg.noc.psum_routers = 2;
      cfg.noc.iact_link_bits = 64;
      cfg.noc.psum_link_bits = 64;
      cfg.glb.bank_width_bits = 48;
      cfg.noc.hop_cycles = 2;
      cfg.array.pc_rows = 1;
      cfg.array.pc_cols = 6;
    }
    for (const testing::ConvShape& g : {testing::ConvShape{1, 16, 8, 8, 16, 3, 3, 1, 1},
                                        testing::ConvShape{2, 32, 6, 6, 8, 3, 3, 2, 1},
                                        testing::ConvShape{1, 8, 10, 10, 24, 1, 1, 1, 0}}) {
      INFO(config << ": conv c" << g.c << " m" << g.m << " h" << g.h << " k" << g.r << " s"
                  << g.stride);
      const EngineRun fast = run_engine(cfg, g, false), step = run_engine(cfg, g, true);
      for (size_t i = 0; i < fast.figures.size(); ++i) {
        INFO("phase " << mapper::to_string(mapper::kAllPhases[i]));
        check_same(fast.figures[i], step.figures[i]);
        CHECK(fast.outputs[i] == step.outputs[i]);
      }
      // The switch works: stepping simulates each cluster in each cycle of the passes, the
      // fast-forward fewer (about half to two thirds fewer for these shapes).
      const uint64_t clusters = static_cast<uint64_t>(cfg.array.pc_count());
      INFO("cluster-cycles simulated: " << fast.simulated << " fast, " << step.simulated
                                        << " stepped");
      CHECK(fast.ticked == step.ticked);
      CHECK(step.simulated == step.ticked * clusters);
      CHECK(fast.simulated < step.simulated);
    }
  }
}
