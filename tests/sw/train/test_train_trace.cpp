// A trainer-written trace read back with eg::trace::Trace::open: layer order and names, shapes,
// dx == transposed conv(dy, feedback), dw == correlation(x, dy), pruning stats.
#include <catch2/catch.hpp>

#include <sstream>

#include "run_helpers.hpp"
#include "support/temp_dir.hpp"
#include "sw/train/trainer.hpp"
#include "workloads/trace.hpp"

using namespace eg::train;
using eg::testing::TempDir;
using eg::trace::LayerType;

namespace {

struct ConvCheck {
  double max_dx_err = 0.0, max_dx = 0.0, max_dw_err = 0.0, max_dw = 0.0;
};

// Direct-loop reference for a conv layer's dx (transposed conv with F) and dw (x ⋆ dy).
ConvCheck check_conv(const eg::trace::Trace& t, const eg::trace::Layer& l) {
  const eg::NdArray x = t.load(l, "x"), f = t.load(l, "feedback"), dy = t.load(l, "dy"),
                    dx = t.load(l, "dx"), dw = t.load(l, "dw");
  const int64_t n = l.in[0], c = l.in[1], h = l.in[2], w = l.in[3];
  const int64_t m = l.out[1], e = l.out[2], fo = l.out[3], k = l.kernel_r, st = l.stride,
                pad = l.pad;
  std::vector<double> rdx(x.data.size(), 0.0), rdw(dw.data.size(), 0.0);
  for (int64_t ni = 0; ni < n; ++ni)
    for (int64_t mi = 0; mi < m; ++mi)
      for (int64_t ei = 0; ei < e; ++ei)
        for (int64_t fi = 0; fi < fo; ++fi) {
          const double g = dy.data[((ni * m + mi) * e + ei) * fo + fi];
          if (g == 0.0) continue;
          for (int64_t ci = 0; ci < c; ++ci)
            for (int64_t r = 0; r < k; ++r)
              for (int64_t s = 0; s < k; ++s) {
                const int64_t hi = ei * st - pad + r, wi = fi * st - pad + s;
                if (hi < 0 || hi >= h || wi < 0 || wi >= w) continue;
                const int64_t xi = ((ni * c + ci) * h + hi) * w + wi;
                const int64_t wi_ = ((mi * c + ci) * k + r) * k + s;
                rdx[xi] += g * f.data[wi_];
                rdw[wi_] += g * x.data[xi];
              }
        }
  ConvCheck cc;
  for (size_t i = 0; i < rdx.size(); ++i) {
    cc.max_dx_err = std::max(cc.max_dx_err, std::fabs(rdx[i] - dx.data[i]));
    cc.max_dx = std::max(cc.max_dx, std::fabs(rdx[i]));
  }
  for (size_t i = 0; i < rdw.size(); ++i) {
    cc.max_dw_err = std::max(cc.max_dw_err, std::fabs(rdw[i] - dw.data[i]));
    cc.max_dw = std::max(cc.max_dw, std::fabs(rdw[i]));
  }
  return cc;
}

}  // namespace

TEST_CASE("trainer trace reads back with consistent shapes, tensors and stats", "[train][trace]") {
  TempDir dir("egtrain-trace");
  TrainConfig c = testing::tiny_config(dir / "out");
  c.trace_out = (dir / "trace").string();
  c.trace_iteration = 4;
  std::ostringstream log;
  run_training(c, log);
  const eg::trace::Trace t = eg::trace::Trace::open(dir / "trace");
  const eg::trace::Manifest& m = t.manifest();
  CHECK(m.version() == 2);
  REQUIRE(m.optimizer.has_value());
  CHECK(m.optimizer->type == "sgd");
  CHECK(m.optimizer->momentum == c.momentum);
  CHECK(m.optimizer->weight_decay == c.weight_decay);
  CHECK(m.optimizer->lr > 0.0);
  CHECK(m.optimizer->lr <= c.lr);
  CHECK(m.mode == "efficientgrad");
  CHECK(m.iteration == 4);
  CHECK(m.batch == 16);
  CHECK(m.pruning_rate == 0.9);
  REQUIRE(m.layers.size() > 10);
  CHECK(m.layers[0].name == "conv1");
  CHECK(m.layers[0].inputs.empty());
  CHECK(m.layers[1].name == "bn1");
  CHECK(m.layers[2].name == "relu1");
  CHECK(m.layers[3].name == "layer1.0.conv1");
  CHECK(m.layers.back().name == "fc");
  const eg::trace::Layer* fc = m.find("fc");
  CHECK(fc->in == eg::Shape{16, 16});
  CHECK(fc->out == eg::Shape{16, 10});
  CHECK(fc->inputs == std::vector<std::string>{"avgpool"});
  const eg::trace::Layer* add = m.find("layer2.0.add");
  REQUIRE(add);
  CHECK(add->inputs == std::vector<std::string>{"layer2.0.bn2", "layer2.0.shortcut.bn"});
  const eg::trace::Layer* sc = m.find("layer2.0.shortcut.conv");
  REQUIRE(sc);
  CHECK(sc->kernel_r == 1);
  CHECK(sc->stride == 2);
  CHECK(sc->inputs == std::vector<std::string>{"layer1.2.relu2"});
  int convs = 0;
  for (const eg::trace::Layer& l : m.layers) {
    if (l.type != LayerType::Conv && l.type != LayerType::Fc) continue;
    for (const std::string& role : eg::trace::all_roles()) CHECK(t.has(l, role));
    for (const std::string& role : eg::trace::update_roles()) CHECK(t.has(l, role));
    {
      // The trainer's SGD step, recomputed in its own float order from the step's inputs.
      const eg::trace::Optimizer& o = *m.optimizer;
      const float mu = float(o.momentum), wd = float(o.weight_decay), lr = float(o.lr);
      const eg::NdArray w = t.load(l, "w"), g = t.load(l, "dw"), v = t.load(l, "momentum"),
                        w1 = t.load(l, "w_next"), v1 = t.load(l, "momentum_next");
      size_t moved = 0;
      // Largest difference relative to the tensor's largest magnitude, as the simulator's check
      // measures (an element near zero after cancellation may differ by more of its own ulps).
      double worst_w = 0, worst_v = 0, max_w = 0, max_v = 0;
      for (size_t i = 0; i < w.data.size(); ++i) {
        const float vn = mu * v.data[i] + (g.data[i] + wd * w.data[i]);
        const float wn = w.data[i] - lr * vn;
        worst_v = std::max(worst_v, std::fabs(double(vn) - v1.data[i]));
        worst_w = std::max(worst_w, std::fabs(double(wn) - w1.data[i]));
        max_v = std::max(max_v, std::fabs(double(v1.data[i])));
        max_w = std::max(max_w, std::fabs(double(w1.data[i])));
        moved += w1.data[i] != w.data[i];
      }
      CHECK(worst_v <= 1e-6 * max_v);  // float ulps (the compiler may contract into an FMA)
      CHECK(worst_w <= 1e-6 * max_w);
      CHECK(moved > w.data.size() / 2);  // the step changed the weights
    }
    INFO("layer " << l.name);
    CHECK(l.stats.tau > 0.0);
    CHECK(l.stats.dy_nonzero_fraction < l.stats.dy_nonzero_fraction_before_pruning);
    CHECK(l.stats.angle_to_bp_deg > 0.0);
    CHECK(l.stats.extra.contains("dy_histogram"));
    const eg::NdArray dy = t.load(l, "dy");
    int64_t nonzero = 0;
    for (float v : dy.data)
      if (v != 0.0f) {
        ++nonzero;
        CHECK(std::fabs(v) >= static_cast<float>(l.stats.tau) * (1 - 1e-6f));
      }
    CHECK(double(nonzero) / dy.data.size() == Approx(l.stats.dy_nonzero_fraction));
    if (l.type == LayerType::Conv) {
      const ConvCheck cc = check_conv(t, l);
      CHECK(cc.max_dx > 0.0);
      CHECK(cc.max_dx_err <= 1e-4 * cc.max_dx + 1e-9);
      CHECK(cc.max_dw_err <= 1e-4 * cc.max_dw + 1e-9);
      ++convs;
    }
  }
  CHECK(convs == 21);  // ResNet-20: stem + 18 block convs + 2 shortcut convs
}
