// The weight update: the PPU's SGD step against hand-derived values, its check against a version 2
// trace (and failing when the trace's post-step tensors are perturbed), and the fused update's
// DRAM bytes and cycles against the unfused one's, derived by hand.
#include <catch2/catch.hpp>

#include <cmath>

#include "base/error.hpp"
#include "hw/array/accelerator.hpp"
#include "hw/array/sgd_update.hpp"
#include "models/arch/arch_config.hpp"
#include "support/temp_dir.hpp"
#include "tests/hw/array/trace_builder.hpp"
#include "workloads/npy.hpp"

using namespace eg;
using namespace eg::hw::array;

namespace {

arch::ArchConfig config(const char* name) {
  return arch::load_arch_config(std::string(EGSIM_SOURCE_DIR) + "/configs/hw/" + name);
}

const trace::Optimizer kSgd{"sgd", 0.01, 0.9, 5e-4};

uint64_t dw_bytes(const PhaseFigures& f, bool write) {
  const dram::DramCounts& c = f.dram.by_class[static_cast<size_t>(hw::DataClass::WeightGradients)];
  return write ? c.write_bytes : c.read_bytes;
}
uint64_t dram_bytes(const PhaseFigures& f) {
  return f.dram.total.read_bytes + f.dram.total.write_bytes;
}

}  // namespace

TEST_CASE("the PPU's float formats round to nearest even at the widths' mantissa",
          "[array][update]") {
  // 16 bits: bfloat16, 7 mantissa bits, so steps of 2^-7 just above 1.
  CHECK(round_to_float_bits(1.0f + std::ldexp(1.0f, -8), 16) == 1.0f);  // tie: to even (1.0)
  CHECK(round_to_float_bits(1.0f + 3 * std::ldexp(1.0f, -8), 16) ==
        1.0f + std::ldexp(1.0f, -6));  // tie between 1+2^-7 and 1+2^-6: to even (1+2^-6)
  CHECK(round_to_float_bits(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20), 16) ==
        1.0f + std::ldexp(1.0f, -7));                     // above the tie: up
  CHECK(round_to_float_bits(-0.3f, 16) == -0.30078125f);  // 0x3e99999a -> 0x3e9a (bfloat16)
  CHECK(round_to_float_bits(0.3f, 32) == 0.3f);
  CHECK(round_to_float_bits(1.75f, 9) == 2.0f);  // no mantissa bits: powers of two
  CHECK(float_rounding(16) == std::ldexp(1.0, -8));
  CHECK(float_rounding(32) == 0.0);
  CHECK(linear_rounding(8) == 1.0 / 254.0);
}

TEST_CASE("the PPU's SGD step follows the trainer's formula then rounds to the widths' formats",
          "[array][update]") {
  // v' = mu v + (g + wd w), w' = w - lr v', all values exact in binary:
  //   v' = 0.5*0.125 + (0.25 + 0.25*0.5)  = 0.4375,  w' = 0.5 - 0.5*0.4375   = 0.28125
  //   v' = 0         + (0.5 + 0.25*-0.25) = 0.4375,  w' = -0.25 - 0.5*0.4375 = -0.46875
  //   v' = 0.5*-0.25 + (0 + 0)            = -0.125,  w' = 0 + 0.5*0.125      = 0.0625
  const SgdHyper h{0.5f, 0.5f, 0.25f};
  arch::Widths wide;
  wide.master_weight = wide.momentum = 32;
  wide.weight = 8;
  const SgdResult r =
      sgd_update({0.5f, -0.25f, 0.0f}, {0.125f, 0.0f, -0.25f}, {0.25f, 0.5f, 0.0f}, h, wide);
  CHECK(r.momentum == std::vector<float>{0.4375f, 0.4375f, -0.125f});
  CHECK(r.master_w == std::vector<float>{0.28125f, -0.46875f, 0.0625f});
  // 8-bit copy: scale 0.46875 / 127; 0.28125 / scale = 76.2 -> 76, 0.0625 / scale = 16.9 -> 17.
  const double scale = 0.46875 / 127;
  CHECK(r.w_copy[0] == static_cast<float>(76 * scale));
  CHECK(r.w_copy[1] == -0.46875f);
  CHECK(r.w_copy[2] == static_cast<float>(17 * scale));
  // bfloat16 storage of a value that does not fit: 0.3 -> 0.30078125.
  arch::Widths narrow;  // the shipped 16-bit master W and momentum
  const SgdResult b = sgd_update({0.0f}, {0.0f}, {-0.6f}, SgdHyper{0.5f, 0.0f, 0.0f}, narrow);
  CHECK(b.momentum[0] == round_to_float_bits(-0.6f, 16));
  CHECK(b.master_w[0] == 0.30078125f);
}

TEST_CASE("a version 2 trace's update passes the check and a perturbed w_next fails it",
          "[array][update]") {
  testing::TempDir dir;
  testing::write_tiny_resnet(dir / "trace", 0.6, 1, kSgd);
  const trace::Trace t = trace::Trace::open(dir / "trace");
  const arch::ArchConfig cfg = config("efficientgrad.json");
  const RunResult ok = simulate(cfg, t, RunOptions{});
  CHECK(ok.check.update_tensors == 4 * 3);  // conv1, conv2, shortcut, fc: master W, momentum, copy
  CHECK(ok.check.worst_update_error > 0.0);
  CHECK(ok.check.worst_update_error <= ok.check.worst_update_allowed);

  // 2% of the largest |w_next| on one element of conv2: beyond check.rtol (0.2%) plus the
  // rounding of the bfloat16 master W and of the 8-bit copy (0.39% each).
  const trace::Layer& conv2 = *t.manifest().find("conv2");
  const std::filesystem::path file = dir / "trace" / conv2.tensors.at("w_next");
  NdArray w = read_npy(file);
  float scale = 0;
  for (float v : w.data) scale = std::max(scale, std::fabs(v));
  w.data[5] += 0.02f * scale;
  write_npy(file, w.shape, w.data.data());
  CHECK_THROWS_WITH(simulate(cfg, trace::Trace::open(dir / "trace"), RunOptions{}),
                    Catch::Contains("layer 'conv2' weight update: computed master W differs from "
                                    "the trace's w_next") &&
                        Catch::Contains("worst element w_next[5]"));
  RunOptions no_check;
  no_check.check = false;
  CHECK_NOTHROW(simulate(cfg, trace::Trace::open(dir / "trace"), no_check));
}

TEST_CASE("a perturbed momentum_next fails the check and a version 1 trace has no update check",
          "[array][update]") {
  testing::TempDir dir;
  testing::write_tiny_resnet(dir / "v2", 0.6, 1, kSgd);
  const trace::Trace t = trace::Trace::open(dir / "v2");
  const trace::Layer& fc = *t.manifest().find("fc");
  const std::filesystem::path file = dir / "v2" / fc.tensors.at("momentum_next");
  NdArray v = read_npy(file);
  for (float& x : v.data) x *= 1.02f;  // 2% everywhere: the largest element moves by 2% of max
  write_npy(file, v.shape, v.data.data());
  const arch::ArchConfig cfg = config("eyeriss_v2_bp.json");
  CHECK_THROWS_WITH(simulate(cfg, trace::Trace::open(dir / "v2"), RunOptions{}),
                    Catch::Contains("layer 'fc' weight update: computed momentum differs from the "
                                    "trace's momentum_next"));

  testing::write_tiny_resnet(dir / "v1", 0.6);
  const RunResult r = simulate(cfg, trace::Trace::open(dir / "v1"), RunOptions{});
  CHECK(r.check.tensors > 0);
  CHECK(r.check.update_tensors == 0);
}

TEST_CASE("the fused update moves no dW bytes and saves exactly the unfused dW write and read",
          "[array][update]") {
  testing::TempDir dir;
  testing::write_tiny_resnet(dir / "trace", 0.6, 1, kSgd);
  const trace::Trace t = trace::Trace::open(dir / "trace");
  arch::ArchConfig unfused = config("efficientgrad.json");
  unfused.features.fused_weight_update = false;
  arch::ArchConfig fused = unfused;
  fused.features.fused_weight_update = true;
  const RunResult a = simulate(unfused, t, RunOptions{});
  const RunResult b = simulate(fused, t, RunOptions{});
  REQUIRE(a.layers.size() == b.layers.size());
  uint64_t saved = 0, total_a = 0, total_b = 0;
  int updated = 0;
  for (size_t i = 0; i < a.layers.size(); ++i) {
    INFO("layer " << a.layers[i].name);
    for (const auto& [phase, f] : a.layers[i].phases) total_a += dram_bytes(f);
    for (const auto& [phase, f] : b.layers[i].phases) {
      total_b += dram_bytes(f);
      CHECK(dw_bytes(f, true) == 0);
      CHECK(dw_bytes(f, false) == 0);
    }
    if (!a.layers[i].phases.count("weight_update")) continue;
    ++updated;
    const trace::Layer& l = *t.manifest().find(a.layers[i].name);
    // Unfused: the update reads all of dW (16-bit, page-aligned: whole 64-byte bursts) and the
    // weight-gradient phase wrote it, tile by tile (at least all of it).
    const uint64_t dw = static_cast<uint64_t>(element_count(l.expected_shape("dw"))) * 2;
    const uint64_t dw_read = (dw + 63) / 64 * 64;
    const PhaseFigures &wg_a = a.layers[i].phases.at("weight_gradient"),
                       &wu_a = a.layers[i].phases.at("weight_update"),
                       &wg_b = b.layers[i].phases.at("weight_gradient"),
                       &wu_b = b.layers[i].phases.at("weight_update");
    CHECK(dw_bytes(wu_a, false) == dw_read);
    CHECK(dw_bytes(wg_a, true) >= dw_read);
    // Over the layer's two phases together: the next step's prefetch may fall in either phase,
    // depending on when the DMA queue frees up, so a single phase's bytes may move between them.
    CHECK(dram_bytes(wu_a) + dram_bytes(wg_a) - dram_bytes(wu_b) - dram_bytes(wg_b) ==
          dw_bytes(wu_a, false) + dw_bytes(wg_a, true));
    saved += dw_bytes(wu_a, false) + dw_bytes(wg_a, true);
    // The same values are checked either way.
    CHECK(wu_a.actions.ppu_ops == wu_b.actions.ppu_ops);
  }
  CHECK(updated == 4);
  CHECK(total_a - total_b == saved);
  CHECK(b.check.update_tensors == a.check.update_tensors);
}

TEST_CASE("the fused update lasts max(streaming, PPU) and the unfused one their sum",
          "[array][update]") {
  testing::TempDir dir;
  testing::write_tiny_resnet(dir / "trace", 0.6, 1, kSgd);
  const trace::Trace t = trace::Trace::open(dir / "trace");
  // Ideal memory: a transfer takes ceil(bytes / 16) cycles and completes 7 cycles later, one at a
  // time. fc has 10 x 8 = 80 weights: master W, momentum and dW 160 B each (17 cycles a
  // transfer), the 8-bit copy 80 B (5 + 7 = 12 cycles).
  arch::ArchConfig cfg = config("efficientgrad.json");
  cfg.offchip.model = arch::OffchipModel::Ideal;
  cfg.offchip.latency_cycles = 7;
  cfg.offchip.bytes_per_cycle = 16;
  RunOptions fc_only;
  fc_only.layers = {"fc"};
  auto update_cycles = [&](bool fused, int ops_per_weight, int elements_per_cycle) {
    arch::ArchConfig c = cfg;
    c.features.fused_weight_update = fused;
    c.ppu.sgd_ops_per_weight = ops_per_weight;
    c.ppu.elements_per_cycle = elements_per_cycle;
    return simulate(c, t, fc_only).layers.at(0).phases.at("weight_update").cycles;
  };
  // Memory-bound: PPU 80 x 3 ops / (4 x 6 clusters) = 10 cycles.
  //   unfused: 3 reads (dW, W, momentum) 51 + PPU 10 + writes 17 + 17 + 12 = 107
  //   fused:   max(reads 34 + writes 46 = 80, 10) = 80
  CHECK(update_cycles(false, 3, 4) == 107);
  CHECK(update_cycles(true, 3, 4) == 80);
  // PPU-bound: 80 x 64 ops / (1 x 6 clusters) = ceil(853.3) = 854 cycles.
  //   unfused: 51 + 854 + 46 = 951; fused: max(80, 854) = 854
  CHECK(update_cycles(false, 64, 1) == 951);
  CHECK(update_cycles(true, 64, 1) == 854);
}
