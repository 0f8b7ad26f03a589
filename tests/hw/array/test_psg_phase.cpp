// E²-Train's predictive sign gradient on the array: a hand-made one-conv-layer PSG trace (its mask
// and signs computed here with the shared rule of workloads/psg.hpp) runs through the simulator.
// The weight-gradient phase's MACs are the predictor's over every weight plus the completion's
// over exactly the masked ones; the functional check accepts the trace's signs and refuses a
// flipped one; ΔW leaves the chip at 1 bit per weight.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "support/temp_dir.hpp"
#include "tests/hw/memory/memory_test_support.hpp"
#include "workloads/psg.hpp"
#include "workloads/trace.hpp"

using namespace eg;
using testing::TempDir;

namespace {

// One conv layer, N=2, C=3, 6x6, M=4, 3x3, stride 1, pad 1.
constexpr int64_t kN = 2, kC = 3, kH = 6, kM = 4, kK = 3;

struct PsgLayerData {
  std::vector<float> x, w, dy, dw, mask;
  int64_t masked = 0;
};

// Weight gradient of (m, c, r, s), NCHW x and dy, direct sum.
double weight_gradient(const std::vector<float>& x, const std::vector<float>& dy, int64_t m,
                       int64_t c, int64_t r, int64_t s) {
  double sum = 0;
  for (int64_t n = 0; n < kN; ++n)
    for (int64_t e = 0; e < kH; ++e)
      for (int64_t f = 0; f < kH; ++f) {
        const int64_t h = e - 1 + r, w = f - 1 + s;
        if (h < 0 || h >= kH || w < 0 || w >= kH) continue;
        sum += double(x[size_t(((n * kC + c) * kH + h) * kH + w)]) *
               double(dy[size_t(((n * kM + m) * kH + e) * kH + f)]);
      }
  return sum;
}

// Products of the masked weights whose two operands are non-zero (an activation in the padding is
// zero; so is one the 8-bit quantisation rounded to zero).
uint64_t masked_nonzero_products(const PsgLayerData& d) {
  uint64_t count = 0;
  for (int64_t m = 0; m < kM; ++m)
    for (int64_t c = 0; c < kC; ++c)
      for (int64_t r = 0; r < kK; ++r)
        for (int64_t s = 0; s < kK; ++s) {
          if (d.mask[size_t(((m * kC + c) * kK + r) * kK + s)] == 0.0f) continue;
          for (int64_t n = 0; n < kN; ++n)
            for (int64_t e = 0; e < kH; ++e)
              for (int64_t f = 0; f < kH; ++f) {
                const int64_t h = e - 1 + r, w = f - 1 + s;
                if (h < 0 || h >= kH || w < 0 || w >= kH) continue;
                count += d.x[size_t(((n * kC + c) * kH + h) * kH + w)] != 0.0f &&
                         d.dy[size_t(((n * kM + m) * kH + e) * kH + f)] != 0.0f;
              }
        }
  return count;
}

PsgLayerData make_data(double beta, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  PsgLayerData d;
  auto fill = [&](std::vector<float>& v, int64_t n) {
    v.resize(size_t(n));
    for (float& e : v) e = u(rng);
  };
  fill(d.x, kN * kC * kH * kH);
  fill(d.w, kM * kC * kK * kK);
  fill(d.dy, kN * kM * kH * kH);
  // x as the layer multiplied it: 8-bit.
  psg::quantize(d.x.data(), d.x.data(), int64_t(d.x.size()),
                psg::scale_of(d.x.data(), int64_t(d.x.size()), 8), 8, 8);
  const float sx = psg::scale_of(d.x.data(), int64_t(d.x.size()), 8);
  const float sy = psg::scale_of(d.dy.data(), int64_t(d.dy.size()), 16);
  std::vector<float> x_msb(d.x.size()), dy_msb(d.dy.size()), dy_q(d.dy.size());
  psg::quantize(d.x.data(), x_msb.data(), int64_t(d.x.size()), sx, 8, 4);
  psg::quantize(d.dy.data(), dy_msb.data(), int64_t(d.dy.size()), sy, 16, 10);
  psg::quantize(d.dy.data(), dy_q.data(), int64_t(d.dy.size()), sy, 16, 16);
  std::vector<float> predictor, full;
  for (int64_t m = 0; m < kM; ++m)
    for (int64_t c = 0; c < kC; ++c)
      for (int64_t r = 0; r < kK; ++r)
        for (int64_t s = 0; s < kK; ++s) {
          predictor.push_back(float(weight_gradient(x_msb, dy_msb, m, c, r, s)));
          full.push_back(float(weight_gradient(d.x, dy_q, m, c, r, s)));
        }
  d.dw.resize(full.size());
  d.mask.resize(full.size());
  const psg::Decision dec = psg::decide(predictor.data(), full.data(), int64_t(full.size()), beta,
                                        d.dw.data(), d.mask.data());
  d.masked = dec.full_precision;
  return d;
}

trace::Manifest write_trace(const std::filesystem::path& dir, const PsgLayerData& d, double beta) {
  trace::Manifest m;
  m.network = "psg-test";
  m.dataset = "synthetic";
  m.mode = "bp";
  m.seed = 1;
  m.iteration = 1;
  m.batch = kN;
  m.weight_gradient = trace::WeightGradientRule{"psg", beta};
  trace::Layer l;
  l.name = "conv";
  l.type = trace::LayerType::Conv;
  l.in = {kN, kC, kH, kH};
  l.out = {kN, kM, kH, kH};
  l.kernel_r = l.kernel_s = kK;
  l.stride = 1;
  l.pad = 1;
  l.psg = trace::PsgLayer{0.0, double(d.masked) / double(d.mask.size())};
  trace::TraceWriter w(dir);
  w.write_tensor(l, "x", d.x.data());
  w.write_tensor(l, "w", d.w.data());
  w.write_tensor(l, "dy", d.dy.data());
  w.write_tensor(l, "dw", d.dw.data());
  w.write_tensor(l, trace::kPsgMaskRole, d.mask.data());
  m.layers.push_back(l);
  w.commit(m);
  return m;
}

}  // namespace

TEST_CASE(
    "the PSG weight gradient issues predictor MACs for every weight and completion MACs for "
    "exactly the masked ones",
    "[array][psg]") {
  for (const double beta : {0.05, 0.3}) {
    INFO("beta " << beta);
    TempDir dir;
    const PsgLayerData d = make_data(beta, 7);
    REQUIRE(d.masked > 0);
    REQUIRE(d.masked < int64_t(d.mask.size()));
    write_trace(dir / "trace", d, beta);
    for (const char* config : {"efficientgrad.json", "eyeriss_v2_bp.json"}) {
      INFO(config);
      const testing::Run run = testing::run_trace(testing::shipped_config(config), dir / "trace");
      const hw::array::PhaseFigures& wg = run.result.layers.at(0).phases.at("weight_gradient");
      const uint64_t weights = kM * kC * kK * kK, per_weight = kN * kH * kH;
      CHECK(wg.psg.weights == weights);
      CHECK(wg.psg.full_precision_weights == uint64_t(d.masked));
      CHECK(wg.psg.predictor_macs == weights * per_weight);
      CHECK(wg.psg.completion_macs == uint64_t(d.masked) * per_weight);
      // The predictor's MACs are 10x4, the completion's 16x8; nothing else multiplies here.
      CHECK(wg.actions.mac_10x4 + wg.actions.mac_16x8 + wg.macs.skipped ==
            wg.psg.predictor_macs + wg.psg.completion_macs);
      // The completion pass is simulated PE by PE: it issues a MAC only for a masked weight and a
      // non-zero pair of operands (both configs skip the weight gradient's zero activations; δ is
      // random, without zeros).
      CHECK(wg.actions.mac_16x8 == masked_nonzero_products(d));
      CHECK(wg.actions.mac_8x8 == 0);
      CHECK(run.report["layers"][0]["phases"]["weight_gradient"]["psg"]["completion_macs"] ==
            wg.psg.completion_macs);
      CHECK(run.result.check.tensors >= 1);
    }
  }
}

TEST_CASE("a PSG trace's weight gradient goes off chip as one bit per weight", "[array][psg]") {
  TempDir dir;
  const PsgLayerData d = make_data(0.05, 11);
  write_trace(dir / "trace", d, 0.05);
  // Eyeriss-v2-style update (not fused): the PPU reads ΔW from DRAM.
  const testing::Run run =
      testing::run_trace(testing::shipped_config("eyeriss_v2_bp.json"), dir / "trace");
  const hw::array::PhaseFigures& up = run.result.layers.at(0).phases.at("weight_update");
  const uint64_t weights = kM * kC * kK * kK;
  CHECK(up.offchip.read_bytes[size_t(hw::DataClass::WeightGradients)] == (weights + 7) / 8);
}

TEST_CASE("the functional check refuses a PSG trace whose dw sign disagrees with the rule",
          "[array][psg]") {
  TempDir dir;
  PsgLayerData d = make_data(0.05, 13);
  // Flip the sign of the largest predictor-decided weight: no rounding can excuse it.
  size_t flip = d.dw.size();
  for (size_t i = 0; i < d.dw.size(); ++i)
    if (d.mask[i] == 0.0f && d.dw[i] != 0.0f) {
      flip = i;
      break;
    }
  REQUIRE(flip < d.dw.size());
  d.dw[flip] = -d.dw[flip];
  write_trace(dir / "trace", d, 0.05);
  try {
    testing::run_trace(testing::shipped_config("efficientgrad.json"), dir / "trace");
    FAIL("the flipped sign was accepted");
  } catch (const Error& e) {
    const std::string what = e.what();
    CHECK(what.find('\n') == std::string::npos);
    CHECK(what.find("layer 'conv' weight_gradient (PSG)") != std::string::npos);
  }
}
