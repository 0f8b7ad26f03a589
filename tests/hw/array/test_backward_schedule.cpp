// features.backward_schedule: InterGrad's interleaved backward (δ fetched once per tile for both
// backward products) against the separate one, on layers whose δ does and does not fit the GLB.
#include <catch2/catch.hpp>

#include "hw/array/accelerator.hpp"
#include "hw/array/memory_interface.hpp"
#include "models/arch/arch_config.hpp"
#include "support/temp_dir.hpp"
#include "tests/hw/array/trace_builder.hpp"

using namespace eg;
using namespace eg::hw::array;

namespace {

arch::ArchConfig config(const char* name, arch::BackwardSchedule schedule, bool prefetch) {
  arch::ArchConfig c =
      arch::load_arch_config(std::string(EGSIM_SOURCE_DIR) + "/configs/hw/" + name + ".json");
  c.features.backward_schedule = schedule;
  // Off: each phase is charged only its own transfers (no next problem's first passes).
  c.features.cross_layer_prefetch = prefetch;
  return c;
}

constexpr size_t kGradients = static_cast<size_t>(hw::DataClass::Gradients);

// δ's DRAM reads over a layer's backward and weight-gradient phases (the layer's input gradient
// is only written: with one consumer, no read-modify-write adds gradient reads).
uint64_t dy_dram_reads(const LayerFigures& l) {
  uint64_t bytes = 0;
  for (const char* phase : {"backward", "weight_gradient"})
    if (l.phases.count(phase)) bytes += l.phases.at(phase).dram.by_class[kGradients].read_bytes;
  return bytes;
}

uint64_t macs(const RunResult& r) {
  uint64_t n = 0;
  for (const LayerFigures& l : r.layers)
    for (const auto& [phase, f] : l.phases) n += f.macs.issued + f.macs.skipped;
  return n;
}

uint64_t cycles(const LayerFigures& l) {
  uint64_t n = 0;
  for (const auto& [phase, f] : l.phases) n += f.cycles;
  return n;
}

}  // namespace

TEST_CASE("the backward schedule is a required choice of separate or interleaved",
          "[array][interleaved]") {
  for (const char* name : {"efficientgrad", "eyeriss_v2_bp"}) {
    const arch::ArchConfig c =
        arch::load_arch_config(std::string(EGSIM_SOURCE_DIR) + "/configs/hw/" + name + ".json");
    CHECK(c.features.backward_schedule == arch::BackwardSchedule::Separate);
    nlohmann::json j = c.raw;
    j["features"]["backward_schedule"] = "interleaved";
    CHECK(arch::arch_config_from_json(j, "cfg.json").features.backward_schedule ==
          arch::BackwardSchedule::Interleaved);
    j["features"]["backward_schedule"] = "fused";
    CHECK_THROWS_WITH(arch::arch_config_from_json(j, "cfg.json"),
                      Catch::StartsWith("cfg.json: /features/backward_schedule: "));
    j["features"].erase("backward_schedule");
    CHECK_THROWS_WITH(arch::arch_config_from_json(j, "cfg.json"),
                      Catch::StartsWith("cfg.json: /features/backward_schedule: "));
  }
}

TEST_CASE("a held tile's first bytes come from DRAM and every later read from the GLB",
          "[array][interleaved]") {
  struct Count : hw::MemoryPort {
    uint64_t bytes = 0;
    void transfer(const hw::MemoryRequest& r) override { bytes += r.bytes; }
  } port;
  MemoryInterface mi(port, false, 64);
  mi.set_policy(0, 4096, TensorPolicy{});
  mi.hold(1024, 1024);
  hw::MemoryRequest r;
  r.data_class = hw::DataClass::Gradients;
  r.address = 1024;
  r.bytes = 768;
  mi.transfer(r);  // fetched
  mi.transfer(r);  // 256 more fetched, 512 from the GLB
  mi.transfer(r);  // all from the GLB
  CHECK(port.bytes == 1024);
  CHECK(mi.served_from_hold() == 2 * 768 - 256);
  r.address = 0;  // outside the tile: DRAM as before
  mi.transfer(r);
  CHECK(port.bytes == 1024 + 768);
}

TEST_CASE("interleaving halves the DRAM reads of dy on a layer whose dy does not fit the GLB",
          "[array][interleaved]") {
  // δ of `second`: 16 channels x 24 x 24 at 16 bits = 18 KiB per sample, 36 KiB for the batch of
  // 2: more than the baseline's iact GLB (6 clusters x 3 banks x 1.5 KiB = 27 KiB), so one
  // sample per tile. 1 x 1: each phase streams δ once (3 x 3: the backward re-streams the rows
  // its output tiles share).
  const int64_t kernel = GENERATE(1, 3);
  INFO("kernel " << kernel);
  testing::TempDir dir;
  testing::TraceBuilder b("two-convs", 2, 0.0, 5);
  b.conv("first", {}, 3, 24, 8, 3, 1, 1);
  b.conv("second", {"first"}, 8, 24, 16, kernel, 1, kernel / 2);
  b.write(dir / "trace");
  const trace::Trace t = trace::Trace::open(dir / "trace");
  RunOptions only;
  only.layers = {"second"};
  // The baseline moves δ raw (no compression), so its bytes are what the array asks for.
  const RunResult sep =
      simulate(config("eyeriss_v2_bp", arch::BackwardSchedule::Separate, false), t, only);
  const RunResult ilv =
      simulate(config("eyeriss_v2_bp", arch::BackwardSchedule::Interleaved, false), t, only);
  const uint64_t dy_bytes = 2 * 16 * 24 * 24 * 2;
  const uint64_t s = dy_dram_reads(sep.layers.at(0)), i = dy_dram_reads(ilv.layers.at(0));
  const uint64_t s_backward =
      sep.layers.at(0).phases.at("backward").dram.by_class[kGradients].read_bytes;
  INFO("separate " << s << " B (backward " << s_backward << " B), interleaved " << i << " B, δ "
                   << dy_bytes << " B");
  // Separate: the backward streams δ as its input, the weight gradient streams it again as its
  // filter.
  CHECK(s_backward >= dy_bytes);
  CHECK(s - s_backward >= dy_bytes);
  if (kernel == 1) {
    CHECK(s_backward == dy_bytes);
    // Each fold's filter transfer is rounded to whole DRAM bursts on its own: a few bursts more.
    CHECK(s - s_backward <= dy_bytes + dy_bytes / 32);
  }
  // Interleaved: each tile once; every later read of it (the weight gradient's, the backward's
  // re-streamed rows) is served by the GLB. δ's DRAM reads halve (1 x 1: to 0.49 of separate's,
  // the bursts' rounding aside), or fall further where separate re-streams δ within a phase.
  CHECK(i == dy_bytes);
  CHECK(2 * i <= s);
  CHECK(ilv.layers.at(0).phases.at("weight_gradient").dram.by_class[kGradients].read_bytes == 0);
  CHECK(ilv.layers.at(0).phases.at("weight_gradient").actions.glb_iact_read_bits > 0);
  // Same work, both results checked against the trace (dx per tile, ΔW summed over the tiles).
  CHECK(macs(ilv) == macs(sep));
  CHECK(ilv.check.tensors == sep.check.tensors);
  CHECK(ilv.check.tensors >= 3);
  // The unfused update reads ΔW back: the second tile's partial sum is read-modify-written.
  constexpr size_t kDw = static_cast<size_t>(hw::DataClass::WeightGradients);
  const uint64_t dw_bytes = static_cast<uint64_t>(16 * 8 * kernel * kernel * 2);
  CHECK(ilv.layers.at(0).phases.at("weight_gradient").offchip.write_bytes[kDw] == 2 * dw_bytes);
  CHECK(sep.layers.at(0).phases.at("weight_gradient").offchip.write_bytes[kDw] == dw_bytes);
}

TEST_CASE("interleaving keeps MACs and checked results and cuts DRAM reads on both configs",
          "[array][interleaved]") {
  testing::TempDir dir;
  testing::TraceBuilder b("three-layers", 2, 0.5, 6);
  b.conv("first", {}, 3, 24, 8, 3, 1, 1);
  b.conv("second", {"first"}, 8, 24, 16, 3, 2, 1);
  b.simple("pool", trace::LayerType::AvgPool, {"second"}, {2, 16, 12, 12}, {2, 16, 1, 1}, 12);
  b.fc("fc", {"pool"}, 16, 10);
  b.write(dir / "trace");
  const trace::Trace t = trace::Trace::open(dir / "trace");
  for (const char* name : {"efficientgrad", "eyeriss_v2_bp"}) {
    INFO(name);
    const RunResult sep = simulate(config(name, arch::BackwardSchedule::Separate, true), t, {});
    const RunResult ilv = simulate(config(name, arch::BackwardSchedule::Interleaved, true), t, {});
    CHECK(macs(ilv) == macs(sep));
    CHECK(ilv.check.tensors == sep.check.tensors);
    uint64_t sep_reads = 0, ilv_reads = 0;
    for (size_t k = 0; k < sep.layers.size(); ++k)
      sep_reads += dy_dram_reads(sep.layers[k]), ilv_reads += dy_dram_reads(ilv.layers[k]);
    CHECK(ilv_reads < sep_reads);
    // The forward phases run before anything differs.
    CHECK(ilv.layers.at(0).phases.at("forward").cycles ==
          sep.layers.at(0).phases.at("forward").cycles);
    CHECK(cycles(ilv.layers.at(1)) > 0);
  }
}

TEST_CASE("with the fused update the last tile reads the partial dW back and writes none",
          "[array][interleaved]") {
  testing::TempDir dir;
  // Dense δ (no zeros): compressed it is no smaller, so the tile is sized raw: one sample each.
  testing::TraceBuilder b("two-convs", 2, 0.0, 7);
  b.conv("first", {}, 3, 24, 8, 3, 1, 1);
  b.conv("second", {"first"}, 8, 24, 16, 3, 1, 1);
  b.write(dir / "trace");
  const trace::Trace t = trace::Trace::open(dir / "trace");
  RunOptions only;
  only.layers = {"second"};
  const arch::ArchConfig c = config("efficientgrad", arch::BackwardSchedule::Interleaved, false);
  REQUIRE(c.features.fused_weight_update);
  const RunResult ilv = simulate(c, t, only);
  const RunResult sep =
      simulate(config("efficientgrad", arch::BackwardSchedule::Separate, false), t, only);
  constexpr size_t kDw = static_cast<size_t>(hw::DataClass::WeightGradients);
  const uint64_t dw_bytes = 16 * 8 * 9 * 2;  // 16-bit ΔW, a whole number of 64-byte bursts
  const dram::DramCounts& wg = ilv.layers.at(0).phases.at("weight_gradient").dram.by_class[kDw];
  // Both tiles drain ΔW; tile 0's partial sum goes to DRAM, tile 1 reads it back and drains the
  // sum into the PPU. (In DRAM each output transfer is rounded to whole bursts on its own.)
  CHECK(ilv.layers.at(0).phases.at("weight_gradient").offchip.write_bytes[kDw] == 2 * dw_bytes);
  CHECK(wg.write_bytes >= dw_bytes);
  CHECK(wg.write_bytes < 2 * dw_bytes);
  CHECK(wg.read_bytes == wg.write_bytes);
  CHECK(ilv.layers.at(0).phases.at("weight_update").dram.by_class[kDw].read_bytes == 0);
  // Separate: ΔW never reaches DRAM.
  CHECK(sep.layers.at(0).phases.at("weight_gradient").dram.by_class[kDw].write_bytes == 0);
  CHECK(ilv.check.tensors == sep.check.tensors);
  CHECK(ilv.check.update_tensors == sep.check.update_tensors);
}

TEST_CASE("a layer runs separate when a sample's dy does not fit the GLB or tiles cost more",
          "[array][interleaved]") {
  // 16 channels x 32 x 32 at 16 bits: 32 KiB of dy per sample, more than the 27 KiB iact GLB.
  // 64 channels x 8 x 8: 8 KiB per sample, so two tiles of the batch of 4, but the second tile
  // would stream W (36 KiB) again and read-modify-write the partial dW (2 x 72 KiB), more than
  // the 32 KiB of dy it saves.
  const bool wide = GENERATE(false, true);
  INFO((wide ? "weights outweigh dy" : "a sample does not fit"));
  testing::TempDir dir;
  testing::TraceBuilder b("two-convs", wide ? 4 : 2, 0.0, 8);
  b.conv("first", {}, 3, wide ? 8 : 32, wide ? 64 : 8, 3, 1, 1);
  b.conv("second", {"first"}, wide ? 64 : 8, wide ? 8 : 32, wide ? 64 : 16, 3, 1, 1);
  b.write(dir / "trace");
  const trace::Trace t = trace::Trace::open(dir / "trace");
  RunOptions only;
  only.layers = {"second"};
  const RunResult sep =
      simulate(config("eyeriss_v2_bp", arch::BackwardSchedule::Separate, false), t, only);
  const RunResult ilv =
      simulate(config("eyeriss_v2_bp", arch::BackwardSchedule::Interleaved, false), t, only);
  for (const char* phase : {"backward", "weight_gradient", "weight_update"}) {
    INFO(phase);
    CHECK(ilv.layers.at(0).phases.at(phase).cycles == sep.layers.at(0).phases.at(phase).cycles);
    CHECK(ilv.layers.at(0).phases.at(phase).dram.total.read_bytes ==
          sep.layers.at(0).phases.at(phase).dram.total.read_bytes);
  }
}
