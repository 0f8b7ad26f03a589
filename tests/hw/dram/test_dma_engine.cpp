// DmaEngine: burst splitting and concurrent callers.
#include <catch2/catch.hpp>

#include "dram_testbench.hpp"
#include "models/json_fields.hpp"

using eg::hw::DataClass;

TEST_CASE("the DMA engine splits an unaligned transfer at burst boundaries") {
  eg::hw::SimContext context;
  const auto config =
      eg::dram::load_dram_config(EGSIM_SOURCE_DIR "/configs/dram/lpddr4_3200_x32.json");
  eg::testing::DramBench* bench = nullptr;
  eg::testing::DramBench b(config, [&] {
    bench->dma.transfer({false, 60, 10, DataClass::Weights});   // crosses one boundary: 2 bursts
    bench->dma.transfer({false, 4096, 0, DataClass::Weights});  // nothing to move
  });
  bench = &b;
  context.start();
  CHECK(b.dma.transactions_issued() == 2);
  CHECK(b.dram.stats().total.read_bursts == 2);
}

namespace {

struct TwoCallers : sc_core::sc_module {
  eg::hw::Lpddr4Channel dram;
  eg::hw::DmaEngine dma;
  sc_core::sc_time done_a, done_b;
  SC_HAS_PROCESS(TwoCallers);
  explicit TwoCallers(const eg::dram::DramConfig& c)
      : sc_module("two"), dram("dram", c), dma("dma", {c.burst_bytes(), c.dma_max_outstanding}) {
    dma.socket.bind(dram.socket);
    SC_THREAD(a);
    SC_THREAD(b);
  }
  void a() {
    dma.transfer({false, 0, 32 * 1024, DataClass::Activations});
    done_a = sc_core::sc_time_stamp();
  }
  void b() {
    dma.transfer({true, 1 << 20, 32 * 1024, DataClass::WeightGradients});
    done_b = sc_core::sc_time_stamp();
  }
};

}  // namespace

TEST_CASE("two threads share the DMA engine and the channel's bandwidth") {
  eg::hw::SimContext context;
  const auto config =
      eg::dram::load_dram_config(EGSIM_SOURCE_DIR "/configs/dram/lpddr4_3200_x32.json");
  TwoCallers t(config);
  context.start();
  const auto& s = t.dram.stats();
  CHECK(s.by_class[int(DataClass::Activations)].read_bytes == 32 * 1024);
  CHECK(s.by_class[int(DataClass::WeightGradients)].write_bytes == 32 * 1024);
  // 64 KiB cannot move faster than the peak bandwidth, whoever asked for it.
  const double last = std::max(t.done_a, t.done_b).to_seconds();
  CHECK(last >= 64 * 1024 / config.peak_bandwidth_bytes_per_s());
  CHECK(t.done_a > sc_core::SC_ZERO_TIME);
  CHECK(t.done_b > sc_core::SC_ZERO_TIME);
}
