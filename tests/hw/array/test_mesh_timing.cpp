// The cluster mesh: off-chip data enters at cluster 0 and reaches cluster (r, c) of the
// pc_rows x pc_cols mesh after r + c hops of noc.hop_cycles, so the same work on a farther cluster
// takes exactly that many cycles more, all of them input stalls of its PEs with work.
#include <catch2/catch.hpp>

#include <random>

#include "hw/array/glb_cluster.hpp"
#include "hw/array/layer_operands.hpp"
#include "hw/array/pe_context.hpp"
#include "hw/array/processing_cluster.hpp"
#include "hw/sim_context.hpp"
#include "models/arch/arch_config.hpp"
#include "sw/mapper/row_stationary_mapper.hpp"

using namespace eg;
using namespace eg::hw::array;

namespace {

struct PassResult {
  uint64_t cycles = 0;
  ClusterStats stats;
};

PassResult run_on(ProcessingCluster& cluster, const mapper::PcWork& work,
                  const mapper::Tiling& tiling, const PeContext& ctx) {
  cluster.reset_stats();
  cluster.start(work, tiling, ctx);
  uint64_t cycle = 0;
  while (!cluster.done() && cycle < 10'000'000) cluster.tick(cycle++);
  cluster.settle(cycle);
  return {cycle, cluster.collect()};
}

}  // namespace

TEST_CASE("the same pass on a farther cluster of the mesh takes its hops longer", "[array][noc]") {
  arch::ArchConfig cfg =
      arch::load_arch_config(std::string(EGSIM_SOURCE_DIR) + "/configs/hw/efficientgrad.json");
  for (int hop : {1, 2}) {
    INFO("hop_cycles " << hop);
    cfg.noc.hop_cycles = hop;
    // A small forward conv: 4 channels, 8 filters, 8x8, 3x3.
    const mapper::ConvView v{false, 1, 4, 8, 8, 8, 8, 8, 3, 3, 1, 1};
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(-1, 1);
    std::vector<float> x(4 * 8 * 8), w(8 * 4 * 9);
    for (float& e : x) e = u(rng);
    for (float& e : w) e = u(rng);
    const LayerOperands ops = make_layer_operands(v, x, w, {}, {});
    const mapper::RowStationaryMapper mapper(cfg);
    const auto problems = mapper::canonical_problems(v, mapper::Phase::Forward, cfg.features);
    const mapper::Schedule s = mapper.map(problems.at(0), "test");
    CanonicalData d = build_canonical_data(problems.at(0), ops);
    const PeContext ctx = make_pe_context(cfg, mapper, s, d);
    const mapper::Pass pass = s.pass(0);
    const mapper::PcWork& work = pass.pcs.at(0);
    REQUIRE(work.active);

    hw::SimContext context;
    GlbCluster glb("glb", cfg.glb, 6);
    NocCluster noc("noc", cfg, 6);
    // 2 x 3 mesh: cluster 0 at (0, 0), cluster 5 at (1, 2), 3 hops away.
    ProcessingCluster near("near", cfg), far("far", cfg);
    near.glb.bind(glb.partition(0).target);
    far.glb.bind(glb.partition(5).target);
    near.noc.bind(noc.partition(0).target);
    far.noc.bind(noc.partition(5).target);
    const PassResult a = run_on(near, work, s.tiling, ctx);
    const PassResult b = run_on(far, work, s.tiling, ctx);
    uint64_t with_work = 0;
    for (size_t i = 0; i < near.pe_count(); ++i) with_work += near.pe(i).core().active() ? 1 : 0;
    REQUIRE(with_work > 0);
    CHECK(b.cycles == a.cycles + 3 * uint64_t(hop));
    CHECK(b.stats.cycles.busy == a.stats.cycles.busy);
    CHECK(b.stats.cycles.wait_input == a.stats.cycles.wait_input + 3 * uint64_t(hop) * with_work);
    CHECK(b.stats.macs.issued == a.stats.macs.issued);
  }
}
