// The back-propagation baseline's two ways to get Wᵀ (re-laid-out in DRAM, or W read in place with
// transposed addressing), and the first layer's input gradient, skipped unless asked for.
#include <catch2/catch.hpp>

#include <memory>

#include "hw/array/accelerator.hpp"
#include "hw/array/memory_interface.hpp"
#include "models/arch/arch_config.hpp"
#include "support/temp_dir.hpp"
#include "sw/mapper/canonical_problem.hpp"
#include "tests/hw/array/trace_builder.hpp"

using namespace eg;
using namespace eg::hw::array;

namespace {

arch::ArchConfig baseline(arch::FeedbackSource source) {
  arch::ArchConfig c =
      arch::load_arch_config(std::string(EGSIM_SOURCE_DIR) + "/configs/hw/eyeriss_v2_bp.json");
  c.features.feedback_source = source;
  // Each phase is then charged only its own transfers (no next problem's first passes).
  c.features.cross_layer_prefetch = false;
  return c;
}

constexpr size_t kWeights = static_cast<size_t>(hw::DataClass::Weights);

uint64_t offchip_weights(const PhaseFigures& f, bool write) {
  return (write ? f.offchip.write_bytes : f.offchip.read_bytes)[kWeights];
}
const dram::DramCounts& dram_weights(const PhaseFigures& f) {
  return f.dram.by_class[kWeights];
}
uint64_t dram_total(const PhaseFigures& f) {
  return f.dram.total.read_bytes + f.dram.total.write_bytes;
}

// Counts what reaches it; moves nothing.
struct NullPort : hw::MemoryPort {
  int transfers = 0;
  void transfer(const hw::MemoryRequest&) override { ++transfers; }
};

}  // namespace

TEST_CASE("a gather moves each of its runs in bursts of its own", "[array][feedback]") {
  NullPort port;
  MemoryInterface mi(port, false, 64);
  hw::MemoryRequest r;
  r.data_class = hw::DataClass::Weights;
  // 9 bytes at 0, 9 at 9 (same burst as the first, but a run of its own), 9 at 60 (straddles).
  r.runs = std::make_shared<std::vector<hw::MemoryRun>>(
      std::vector<hw::MemoryRun>{{0, 9}, {9, 9}, {60, 9}});
  r.address = 0;
  r.bytes = 27;
  mi.transfer(r);
  CHECK(port.transfers == 1);
  CHECK(mi.forwarded().total.read_bursts == 4);
  CHECK(mi.forwarded().total.read_bytes == 4 * 64);
  // The same 27 bytes as one range: one burst.
  hw::MemoryRequest plain = r;
  plain.runs.reset();
  MemoryInterface mi2(port, false, 64);
  mi2.transfer(plain);
  CHECK(mi2.forwarded().total.read_bursts == 1);
}

TEST_CASE("transposed_read reads the plain stream's W bytes in more bursts and skips the re-layout",
          "[array][feedback]") {
  testing::TempDir dir;
  const int64_t n = 2;
  testing::TraceBuilder b("two-convs", n, 0.0, 3);
  b.conv("first", {}, 3, 8, 16, 3, 1, 1);
  // 1 x 1: a kernel is one byte, so W's runs for one output channel are a few bytes each, a
  // DRAM burst apart: the stride defeats the bursts.
  b.conv("pointwise", {"first"}, 16, 8, 64, 1, 1, 0);
  b.write(dir / "trace");
  const trace::Trace t = trace::Trace::open(dir / "trace");
  RunOptions only;
  only.layers = {"pointwise"};
  const RunResult relayout = simulate(baseline(arch::FeedbackSource::TransposedDram), t, only);
  const RunResult in_place = simulate(baseline(arch::FeedbackSource::TransposedRead), t, only);
  const PhaseFigures& a = relayout.layers.at(0).phases.at("backward");
  const PhaseFigures& r = in_place.layers.at(0).phases.at("backward");
  const uint64_t w = 64 * 16;  // 8-bit weights, a whole number of 64-byte bursts
  // The re-layout reads W and writes Wᵀ once, then streams Wᵀ; the in-place read streams the
  // same bytes out of W and writes nothing.
  CHECK(offchip_weights(a, false) == offchip_weights(r, false) + w);
  CHECK(offchip_weights(a, true) == w);
  CHECK(offchip_weights(r, true) == 0);
  CHECK(dram_weights(a).write_bytes == w);
  CHECK(dram_weights(r).write_bytes == 0);
  // The plain stream of Wᵀ (the re-layout's read taken off) against the gather of W's runs.
  const uint64_t plain_stream_bursts = dram_weights(a).read_bursts - w / 64;
  INFO("plain stream bursts " << plain_stream_bursts << ", gather bursts "
                              << dram_weights(r).read_bursts);
  CHECK(dram_weights(r).read_bursts > plain_stream_bursts);
  // The same bytes requested, more moved: the runs' bursts are mostly empty.
  CHECK(dram_weights(r).read_bytes > offchip_weights(r, false));
  // Here the gather's waste outweighs the re-layout: more DRAM traffic in all.
  CHECK(dram_total(r) > dram_total(a));
  // Both compute the same dx, and it matches the trace's.
  CHECK(in_place.check.tensors == relayout.check.tensors);
  CHECK(in_place.check.tensors >= 3);
  // The forward phase, which runs before either, is the same. (The later phases start with
  // the DRAM's banks and refresh in another state, so their cycles may differ a little.)
  CHECK(in_place.layers.at(0).phases.at("forward").cycles ==
        relayout.layers.at(0).phases.at("forward").cycles);
}

TEST_CASE("transposed_read moves less DRAM traffic than the re-layout where W's runs are long",
          "[array][feedback]") {
  testing::TempDir dir;
  testing::TraceBuilder b("two-convs", 2, 0.0, 4);
  b.conv("first", {}, 3, 8, 32, 3, 1, 1);
  // 3 x 3 with 32 channels: a fold reads several adjacent 9-byte kernels of one output channel
  // at a time, so its runs span bursts.
  b.conv("wide", {"first"}, 32, 8, 32, 3, 1, 1);
  b.write(dir / "trace");
  const trace::Trace t = trace::Trace::open(dir / "trace");
  RunOptions only;
  only.layers = {"wide"};
  const PhaseFigures a = simulate(baseline(arch::FeedbackSource::TransposedDram), t, only)
                             .layers.at(0)
                             .phases.at("backward");
  const PhaseFigures r = simulate(baseline(arch::FeedbackSource::TransposedRead), t, only)
                             .layers.at(0)
                             .phases.at("backward");
  const uint64_t w = 32 * 32 * 9;
  CHECK(offchip_weights(a, false) == offchip_weights(r, false) + w);
  CHECK(dram_weights(r).write_bytes == 0);
  const uint64_t plain_stream_bursts = dram_weights(a).read_bursts - (w + 63) / 64;
  INFO("plain stream bursts " << plain_stream_bursts << ", gather bursts "
                              << dram_weights(r).read_bursts);
  CHECK(dram_weights(r).read_bursts > plain_stream_bursts);
  CHECK(dram_total(r) < dram_total(a));
}

TEST_CASE("the first layer's backward phase is absent by default and present with the switch",
          "[array][feedback]") {
  testing::TempDir dir;
  testing::write_tiny_resnet(dir / "trace", 0.0);
  const trace::Trace t = trace::Trace::open(dir / "trace");
  arch::ArchConfig off = baseline(arch::FeedbackSource::TransposedDram);
  off.features.cross_layer_prefetch = true;
  arch::ArchConfig on = off;
  on.features.first_layer_input_gradient = true;
  const RunResult a = simulate(off, t, RunOptions{});
  const RunResult b = simulate(on, t, RunOptions{});
  REQUIRE(a.layers.at(0).name == "conv1");
  CHECK_FALSE(a.layers.at(0).phases.count("backward"));
  CHECK(a.layers.at(0).phases.count("weight_gradient"));
  REQUIRE(b.layers.at(0).phases.count("backward"));
  // Every other conv/FC layer runs its backward phase either way.
  for (size_t i = 1; i < a.layers.size(); ++i)
    CHECK(a.layers[i].phases.count("backward") == b.layers[i].phases.count("backward"));
  // Its MACs are those of its backward problems, counted once.
  const trace::Layer& conv1 = *t.manifest().find("conv1");
  int64_t dense = 0;
  for (const mapper::CanonicalProblem& p :
       mapper::canonical_problems(mapper::conv_view(conv1), mapper::Phase::Backward, on.features))
    dense += p.dense_macs();
  const MacCounts& m = b.layers.at(0).phases.at("backward").macs;
  CHECK(m.issued + m.skipped == static_cast<uint64_t>(dense));
  auto issued = [](const RunResult& r) {
    uint64_t sum = 0;
    for (const LayerFigures& l : r.layers)
      for (const auto& [phase, f] : l.phases) sum += f.macs.issued;
    return sum;
  };
  CHECK(issued(b) == issued(a) + m.issued);
  // Its dx is checked against the trace's: one more tensor compared.
  CHECK(b.check.tensors == a.check.tensors + 1);
}
