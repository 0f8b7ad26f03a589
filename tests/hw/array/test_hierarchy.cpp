// The accelerator elaborates as the block diagram: named sc_modules for the clusters and their PEs,
// the GLB cluster and the router cluster with one partition per cluster, the PPU, the DMA engine
// and the DRAM channel; each cluster's GLB and NoC ports reach its own partitions; `describe`
// prints what a config builds.
#include <catch2/catch.hpp>

#include <string>

#include "hw/array/accelerator.hpp"
#include "hw/array/processing_cluster.hpp"
#include "hw/sim_context.hpp"
#include "models/arch/arch_config.hpp"
#include "support/temp_dir.hpp"
#include "tests/hw/array/trace_builder.hpp"
#include "workloads/trace.hpp"

using namespace eg;
using namespace eg::hw::array;

namespace {
arch::ArchConfig shipped(const char* name) {
  return arch::load_arch_config(std::string(EGSIM_SOURCE_DIR) + "/configs/hw/" + name + ".json");
}
}  // namespace

TEST_CASE("the shipped config elaborates 6 clusters of 12 PEs, the GLB cluster, PPU, DMA and DRAM",
          "[hierarchy]") {
  const arch::ArchConfig cfg = shipped("efficientgrad");
  hw::SimContext context;
  Accelerator top("accelerator", cfg, nullptr, RunOptions{});
  context.start();
  for (int pc = 0; pc < 6; ++pc) {
    const std::string name = "accelerator.pc" + std::to_string(pc);
    INFO(name);
    auto* cluster = dynamic_cast<ProcessingCluster*>(sc_core::sc_find_object(name.c_str()));
    REQUIRE(cluster);
    CHECK(cluster->pe_count() == 12);
    for (int pe = 0; pe < 12; ++pe)
      CHECK(std::string(cluster->pe(static_cast<size_t>(pe)).name()) ==
            name + ".pe" + std::to_string(pe));
    // The port is bound to this cluster's own partition, not a shared one.
    auto* partition = dynamic_cast<GlbPartition*>(
        sc_core::sc_find_object(("accelerator.glb.pc" + std::to_string(pc)).c_str()));
    REQUIRE(partition);
    CHECK(&cluster->glb->iact_banks() == &partition->iact_banks());
    CHECK(&cluster->glb->grad_banks() == &partition->grad_banks());
    // Likewise its NoC port reaches its own router partition, whose router groups are modules.
    const std::string noc = "accelerator.noc.pc" + std::to_string(pc);
    auto* routers = dynamic_cast<NocPartition*>(sc_core::sc_find_object(noc.c_str()));
    REQUIRE(routers);
    CHECK(&cluster->noc->iact_routers() == &routers->iact_routers());
    CHECK(&cluster->noc->psum_routers() == &routers->psum_routers());
    CHECK(routers->mesh_delay_cycles() == pc / 3 + pc % 3);  // 2 x 3 mesh, hop_cycles 1
    for (const char* group : {".iact", ".weight", ".psum"})
      CHECK(sc_core::sc_find_object((noc + group).c_str()));
  }
  CHECK_FALSE(sc_core::sc_find_object("accelerator.pc6"));
  CHECK(std::string(sc_core::sc_find_object("accelerator.pc3.pe7")->kind()) == "Pe");
  for (const char* block : {"accelerator.ppu", "accelerator.dma", "accelerator.dram"})
    CHECK(sc_core::sc_find_object(block));
}

TEST_CASE("describe prints the hierarchy a config builds, alike siblings as one range",
          "[hierarchy]") {
  const std::string text = describe(shipped("efficientgrad"));
  CHECK_THAT(text, Catch::Contains("accelerator  (Accelerator)  config=efficientgrad"));
  CHECK_THAT(text, Catch::Contains("accelerator.pc0 .. pc5  (6 x ProcessingCluster)  pe_rows=3"));
  CHECK_THAT(text, Catch::Contains("accelerator.pc0.pe0 .. pe11  (12 x Pe)  macs_per_cycle=2"));
  CHECK_THAT(text, Catch::Contains("accelerator.glb.pc0 .. pc5  (6 x GlbPartition)"));
  CHECK_THAT(text,
             Catch::Contains("accelerator.noc  (NocCluster)  pc_rows=2  pc_cols=3  hop_cycles=1"));
  CHECK_THAT(text, Catch::Contains("accelerator.noc.pc0 .. pc5  (6 x NocPartition)  "
                                   "mesh_delay_cycles=0,1,2,1,2,3"));
  CHECK_THAT(text,
             Catch::Contains("accelerator.noc.pc0.iact  (IactRouters)  routers=3  link_bits=24"));
  CHECK_THAT(text, Catch::Contains("accelerator.noc.pc0.weight  (WeightRouters)  routers=3"));
  CHECK_THAT(text,
             Catch::Contains("accelerator.noc.pc0.psum  (PsumRouters)  routers=4  link_bits=40"));
  CHECK_THAT(text, Catch::Contains("accelerator.dram  (Lpddr4Channel)  standard=LPDDR4-3200"));

  // Another geometry and off-chip model elaborate what they say.
  arch::ArchConfig small = shipped("eyeriss_v2_bp");
  small.array = {1, 2, 2, 2};
  small.offchip.model = arch::OffchipModel::Ideal;
  const std::string other = describe(small);
  CHECK_THAT(other, Catch::Contains("accelerator.pc0 .. pc1  (2 x ProcessingCluster)  pe_rows=2"));
  CHECK_THAT(other, Catch::Contains("accelerator.pc0.pe0 .. pe3  (4 x Pe)"));
  CHECK_THAT(other, Catch::Contains("(IdealMemory)"));
  CHECK_THAT(other, !Catch::Contains("Lpddr4Channel"));
  CHECK_THAT(other, !Catch::Contains("accelerator.pc2"));
}

TEST_CASE("each module's statistics group is in the run's blocks and adds up to the totals",
          "[hierarchy][report]") {
  eg::testing::TempDir dir;
  eg::testing::write_tiny_resnet(dir / "trace", 0.5, 7);
  const trace::Trace t = trace::Trace::open(dir / "trace");
  const arch::ArchConfig cfg = shipped("efficientgrad");
  const RunResult r = simulate(cfg, t, RunOptions{});
  const nlohmann::json& b = r.blocks;
  uint64_t macs = 0, ppu_ops = 0, bursts = 0;
  for (const LayerFigures& l : r.layers)
    for (const auto& [phase, f] : l.phases) {
      macs += f.macs.issued;
      ppu_ops += f.actions.ppu_ops;
      bursts += f.dram.total.bursts();
    }
  uint64_t cluster_macs = 0;
  for (int pc = 0; pc < 6; ++pc) {
    const std::string name = "accelerator.pc" + std::to_string(pc);
    REQUIRE(b.contains(name));
    cluster_macs += b[name]["macs_issued"].get<uint64_t>();
    CHECK(b[name]["pe_cycles"]["busy"].get<uint64_t>() > 0);
  }
  CHECK(cluster_macs == macs);
  // The routers' groups count what the energy model charges: iact entry hops and GLB reads.
  uint64_t iact_hops = 0, glb_reads = 0, actions_hops = 0, actions_reads = 0;
  uint64_t bit_hops = 0, glb_read_bits = 0;
  for (int pc = 0; pc < 6; ++pc) {
    const std::string noc = "accelerator.noc.pc" + std::to_string(pc);
    for (const char* group : {".iact", ".weight", ".psum"}) REQUIRE(b.contains(noc + group));
    iact_hops += b[noc + ".iact"]["entry_hops"].get<uint64_t>();
    glb_reads += b[noc + ".iact"]["glb_reads"].get<uint64_t>();
    bit_hops += b[noc + ".iact"]["bit_hops"].get<uint64_t>();
    glb_read_bits += b[noc + ".iact"]["glb_read_bits"].get<uint64_t>();
    CHECK(b[noc + ".psum"]["psums_moved"].get<uint64_t>() > 0);
  }
  for (const LayerFigures& l : r.layers)
    for (const auto& [phase, f] : l.phases) {
      actions_hops += f.actions.noc_iact_bit_hops;
      actions_reads += f.actions.glb_iact_read_bits;
    }
  CHECK(iact_hops > 0);
  // The bits the routers moved are what the energy model charges. Dense, an iact operand of the
  // tiny trace is 8 or 16 bits wide; δ̂ (backward on this config) is held in CSC form, chosen
  // because it is smaller than dense: the bit counts stay below 16 times the entry counts.
  CHECK(actions_hops == bit_hops);
  CHECK(actions_reads == glb_read_bits);
  CHECK(actions_hops > 0);
  CHECK(actions_hops <= 16 * iact_hops);
  CHECK(actions_reads <= 16 * glb_reads);
  CHECK(b["accelerator.ppu"]["ops"].get<uint64_t>() == ppu_ops);
  CHECK(b["accelerator.dram"]["bursts"].get<uint64_t>() == bursts);
  CHECK(b["accelerator.dma"]["transactions"].get<uint64_t>() == bursts);
}
