// E²-Train's predictive sign gradient (--weight-gradient psg): the MSB truncation, the predictor
// as the product of truncated operands (fc and both conv backends), the mask rule, the signSGD
// step, the predictor-decided fraction against a closed form, what a PSG run records in its
// metrics and trace, stochastic weight averaging, and refused values.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "run_helpers.hpp"
#include "support/temp_dir.hpp"
#include "sw/train/config.hpp"
#include "sw/train/conv2d.hpp"
#include "sw/train/layout.hpp"
#include "sw/train/linear.hpp"
#include "sw/train/trainer.hpp"
#include "sw/train/update_rule.hpp"
#include "workloads/psg.hpp"
#include "workloads/trace.hpp"

using namespace eg::train;
using eg::testing::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

using testing::kEgtrain;
using testing::kTiny;

// Runs forward and backward of `layer` on x with output gradient dy (PSG on, beta given).
template <typename L>
void psg_step(L& layer, const Tensor& x, const Tensor& dy, double beta) {
  layer.set_psg({true, beta});
  Tensor y, d = dy;
  layer.forward({&x}, y, true);
  BackwardContext ctx;
  layer.backward({&x}, y, d, {nullptr}, ctx);
}

TrainConfig parsed(std::vector<const char*> args) {
  args.insert(args.begin(), "egtrain");
  return parse_command_line(int(args.size()), args.data()).config;
}

}  // namespace

TEST_CASE("MSB truncation keeps the sign and the top magnitude bits of the quantised code",
          "[train][psg]") {
  // Scale 1: the codes are the values. 8 -> 4 bits keeps multiples of 16, 16 -> 10 of 64.
  CHECK(eg::psg::quantize(127.0f, 1.0f, 8, 4) == 112.0f);
  CHECK(eg::psg::quantize(100.0f, 1.0f, 8, 4) == 96.0f);
  CHECK(eg::psg::quantize(17.0f, 1.0f, 8, 4) == 16.0f);
  CHECK(eg::psg::quantize(15.0f, 1.0f, 8, 4) == 0.0f);
  CHECK(eg::psg::quantize(-50.0f, 1.0f, 8, 4) == -48.0f);
  CHECK(eg::psg::quantize(-50.4f, 1.0f, 8, 8) == -50.0f);
  CHECK(eg::psg::quantize(300.0f, 1.0f, 8, 8) == 127.0f);  // clamped to the largest code
  CHECK(eg::psg::quantize(32767.0f, 1.0f, 16, 10) == 32704.0f);
  CHECK(eg::psg::quantize(63.0f, 1.0f, 16, 10) == 0.0f);
  CHECK(eg::psg::quantize(-1000.0f, 1.0f, 16, 10) == -960.0f);
  // The scale maps the largest magnitude to the largest code.
  const std::vector<float> v{0.5f, -2.54f, 1.0f};
  CHECK(eg::psg::scale_of(v.data(), 3, 8) == Approx(2.54f / 127.0f));
  CHECK(eg::psg::quantize(-2.54f, eg::psg::scale_of(v.data(), 3, 8), 8, 8) == Approx(-2.54f));
}

TEST_CASE("the fc predictor is the product of the truncated operands", "[train][psg]") {
  Linear fc(3, 2, 7, 0);
  // Both scales are 1 (largest |x| 127, largest |dy| 32767): the codes are the values.
  Tensor x({2, 3}), dy({2, 2});
  x.data = {127, 40, -20, 64, -100, 5};
  dy.data = {32767, -1000, 64, 5000};
  psg_step(fc, x, dy, 0.05);
  // Truncated: x -> {112, 32, -16, 64, -96, 0}, dy -> {32704, -960, 64, 4992}.
  const float xt[2][3] = {{112, 32, -16}, {64, -96, 0}};
  const float gt[2][2] = {{32704, -960}, {64, 4992}};
  const float xf[2][3] = {{127, 40, -20}, {64, -100, 5}};
  const float gf[2][2] = {{32767, -1000}, {64, 5000}};
  const Tensor& pred = fc.psg_predictor();
  std::vector<float> expected_pred, expected_full;
  for (int m = 0; m < 2; ++m)
    for (int c = 0; c < 3; ++c) {
      expected_pred.push_back(gt[0][m] * xt[0][c] + gt[1][m] * xt[1][c]);
      expected_full.push_back(gf[0][m] * xf[0][c] + gf[1][m] * xf[1][c]);
    }
  for (size_t i = 0; i < expected_pred.size(); ++i) {
    INFO(i);
    CHECK(pred.data[i] == expected_pred[i]);  // integers below 2^24: exact in float
  }
  // dw holds the signs the rule picks, the mask where full precision decided.
  std::vector<float> want_sign(6), want_mask(6);
  const eg::psg::Decision d = eg::psg::decide(expected_pred.data(), expected_full.data(), 6, 0.05,
                                              want_sign.data(), want_mask.data());
  CHECK(std::vector<float>(fc.weight().grad.data.begin(), fc.weight().grad.data.end()) ==
        want_sign);
  CHECK(std::vector<float>(fc.psg_mask().data.begin(), fc.psg_mask().data.end()) == want_mask);
  CHECK(fc.psg_decision().full_precision == d.full_precision);
  // max|predictor| = 32704·112 + 64·64 (weight (0, 0)).
  CHECK(fc.psg_decision().tau == Approx(0.05 * (32704.0 * 112.0 + 64.0 * 64.0)));
}

TEST_CASE("the conv predictor is the product of the truncated operands on both backends",
          "[train][psg]") {
  const ConvGeometry g{3, 8, 3, 2, 1};
  for (const ConvBackend backend : {ConvBackend::Onednn, ConvBackend::Im2col}) {
    INFO((backend == ConvBackend::Onednn ? "onednn" : "im2col"));
    conv_backend() = backend;
    Conv2d conv(g, 5, 1);
    Tensor x({2, 3, 7, 7}), dy({2, 8, 4, 4});
    for (int64_t i = 0; i < x.size(); ++i) x.data[i] = float(std::sin(0.7 * i));
    for (int64_t i = 0; i < dy.size(); ++i) dy.data[i] = float(std::cos(1.3 * i)) * 1e-3f;
    Tensor y, d;
    conv.set_psg({true, 0.05});
    conv.forward({&x}, y, true);
    convert_layout(dy, y.layout, d);
    BackwardContext ctx;
    conv.backward({&x}, y, d, {nullptr}, ctx);
    conv_backend() = ConvBackend::Onednn;
    // The reference: truncate x (after its 8-bit quantisation) and dy, sum the products directly.
    std::vector<float> xq(size_t(x.size())), xt(xq.size()), gt(size_t(dy.size()));
    const float sx = eg::psg::scale_of(x.ptr(), x.size(), 8);
    eg::psg::quantize(x.ptr(), xq.data(), x.size(), sx, 8, 8);
    eg::psg::quantize(xq.data(), xt.data(), x.size(), eg::psg::scale_of(xq.data(), x.size(), 8), 8,
                      4);
    eg::psg::quantize(dy.ptr(), gt.data(), dy.size(), eg::psg::scale_of(dy.ptr(), dy.size(), 16),
                      16, 10);
    const Tensor& pred = conv.psg_predictor();
    double worst = 0, scale = 0;
    for (int64_t m = 0; m < 8; ++m)
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t r = 0; r < 3; ++r)
          for (int64_t s = 0; s < 3; ++s) {
            double sum = 0;
            for (int64_t n = 0; n < 2; ++n)
              for (int64_t e = 0; e < 4; ++e)
                for (int64_t f = 0; f < 4; ++f) {
                  const int64_t h = e * 2 - 1 + r, w = f * 2 - 1 + s;
                  if (h < 0 || h >= 7 || w < 0 || w >= 7) continue;
                  sum += double(xt[size_t(((n * 3 + c) * 7 + h) * 7 + w)]) *
                         double(gt[size_t(((n * 8 + m) * 4 + e) * 4 + f)]);
                }
            const double got = pred.data[size_t(((m * 3 + c) * 3 + r) * 3 + s)];
            worst = std::max(worst, std::fabs(got - sum));
            scale = std::max(scale, std::fabs(sum));
          }
    REQUIRE(scale > 0);
    CHECK(worst <= 1e-5 * scale);
  }
}

TEST_CASE("the predictor decides where it is nonzero and at least tau, full precision elsewhere",
          "[train][psg]") {
  // max|predictor| = 1, so tau = 0.05.
  const std::vector<float> pred{0.5f, -0.02f, 0.0f, 0.05f, -1.0f, 0.049f};
  const std::vector<float> full{-3.0f, 7.0f, -2.0f, -1.0f, 4.0f, 0.0f};
  std::vector<float> sign(6), mask(6);
  const eg::psg::Decision d =
      eg::psg::decide(pred.data(), full.data(), 6, 0.05, sign.data(), mask.data());
  CHECK(d.tau == Approx(0.05));
  CHECK(mask == std::vector<float>{0, 1, 1, 0, 0, 1});
  CHECK(sign == std::vector<float>{1, 1, -1, 1, -1, 0});
  CHECK(d.full_precision == 3);
  CHECK(d.full_precision_fraction() == Approx(0.5));
  // A zero predictor carries no sign: it never decides, even at beta = 0.
  const std::vector<float> zeros(3, 0.0f), full3{1, -1, 2};
  std::vector<float> s3(3), m3(3);
  const eg::psg::Decision z =
      eg::psg::decide(zeros.data(), full3.data(), 3, 0.0, s3.data(), m3.data());
  CHECK(z.full_precision == 3);
  CHECK(s3 == std::vector<float>{1, -1, 1});
}

TEST_CASE("PSG updates by signSGD: every weight moves by the learning rate times its sign",
          "[train][psg]") {
  Param p;
  p.value.reset({4});
  p.grad.reset({4});
  p.momentum.reset({4});
  p.value.data = {0.5f, -0.25f, 1.0f, 0.0f};
  p.grad.data = {1.0f, -1.0f, 0.0f, 1.0f};  // PSG's dW: signs
  SgdSettings s;
  s.momentum = 0.0;
  s.weight_decay = 0.0;
  manhattan_step({&p}, s, 0.03);
  CHECK(p.value.data[0] == Approx(0.47f));
  CHECK(p.value.data[1] == Approx(-0.22f));
  CHECK(p.value.data[2] == 1.0f);
  CHECK(p.value.data[3] == Approx(-0.03f));
  // PSG's update auto resolves to Batch Manhattan (signSGD with the configured momentum and
  // decay); an explicit update stays.
  CHECK(parsed({"--weight-gradient", "psg"}).update == "manhattan");
  CHECK(parsed({"--weight-gradient", "psg", "--mode", "efficientgrad"}).update == "manhattan");
  CHECK(parsed({"--weight-gradient", "psg", "--update", "sgd"}).update == "sgd");
  CHECK(parsed({}).weight_gradient == "exact");
  CHECK(parsed({}).psg_beta == 0.05);
}

TEST_CASE("the predictor-decided fraction of a tiny layer follows the closed form",
          "[train][psg]") {
  // One sample, x_c = c for c = 0..127 (scale 1), one output with dy = 1. The predictor of weight
  // c is 16·floor(c/16)·G, its maximum 112·G; it decides iff floor(c/16) >= max(1, 7β), so
  // 16·(8 − max(1, ceil(7β))) of the 128 weights.
  for (const double beta : {0.05, 0.3, 0.5, 0.9, 1.0}) {
    INFO("beta " << beta);
    Linear fc(128, 1, 3, 0);
    Tensor x({1, 128}), dy({1, 1});
    for (int c = 0; c < 128; ++c) x.data[size_t(c)] = float(c);
    dy.data = {1.0f};
    psg_step(fc, x, dy, beta);
    const double first = std::max(1.0, std::ceil(7.0 * beta - 1e-12));
    const double expected = 16.0 * (8.0 - first) / 128.0;
    CHECK(1.0 - fc.psg_decision().full_precision_fraction() == Approx(expected));
  }
}

TEST_CASE("a PSG run records the predictor-decided fraction and writes a PSG trace",
          "[train][psg]") {
  TempDir dir;
  TrainConfig c = testing::tiny_config(dir / "out");
  c.weight_gradient = "psg";
  c.update = "manhattan";
  c.epochs = 1;
  c.threads = 1;
  c.trace_out = (dir / "trace").string();
  c.trace_iteration = 2;
  std::ostringstream log;
  const json metrics = run_training(c, log);
  const json& layers = metrics["epochs"].back()["layers"];
  REQUIRE(layers.size() > 0);
  for (const json& l : layers) {
    REQUIRE(l.contains("psg_predictor_fraction"));
    CHECK(l["psg_predictor_fraction"].get<double>() >= 0.0);
    CHECK(l["psg_predictor_fraction"].get<double>() <= 1.0);
  }
  const eg::trace::Trace t = eg::trace::Trace::open(dir / "trace");
  REQUIRE(t.manifest().weight_gradient);
  CHECK(t.manifest().weight_gradient->beta == 0.05);
  CHECK(t.manifest().version() == 1);  // no update check: w is the 8-bit operand
  int weighted = 0;
  for (const eg::trace::Layer& l : t.manifest().layers) {
    if (l.type != eg::trace::LayerType::Conv && l.type != eg::trace::LayerType::Fc) continue;
    ++weighted;
    INFO(l.name);
    REQUIRE(l.psg);
    const std::vector<float> mask = t.load(l, eg::trace::kPsgMaskRole).data;
    const std::vector<float> dw = t.load(l, "dw").data;
    double ones = 0;
    int64_t not_bits = 0, not_signs = 0;
    for (float v : mask) {
      not_bits += v == 0.0f || v == 1.0f ? 0 : 1;
      ones += v;
    }
    for (float v : dw) not_signs += v == -1.0f || v == 0.0f || v == 1.0f ? 0 : 1;
    CHECK(not_bits == 0);
    CHECK(not_signs == 0);
    CHECK(ones / double(mask.size()) == Approx(l.psg->full_precision_fraction));
    // x and w are what the layer multiplied: at most 255 distinct 8-bit levels each.
    for (const char* role : {"x", "w"}) {
      std::vector<float> v = t.load(l, role).data;
      std::sort(v.begin(), v.end());
      CHECK(std::unique(v.begin(), v.end()) - v.begin() <= 255);
    }
  }
  CHECK(weighted > 0);
}

TEST_CASE("stochastic weight averaging reports the averaged model after the last epoch",
          "[train][psg]") {
  TempDir dir;
  TrainConfig c = testing::tiny_config(dir / "out");
  c.weight_gradient = "psg";
  c.update = "manhattan";
  c.epochs = 2;
  c.swa = true;
  c.swa_start_epoch = 1;
  std::ostringstream log;
  const json metrics = run_training(c, log);
  CHECK_FALSE(metrics["epochs"][0].contains("swa_test_acc"));
  const json& last = metrics["epochs"][1];
  CHECK(last["swa_epochs_averaged"] == 2);
  CHECK(last["swa_test_acc"].get<double>() >= 0.0);
  CHECK(last["swa_test_acc"].get<double>() <= 1.0);
  CHECK_THROWS_WITH(parsed({"--swa", "--resume", "--out", "x"}),
                    Catch::Contains("key 'swa': cannot be combined with resume"));
  CHECK_THROWS_WITH(parsed({"--swa", "--swa-start-epoch", "3", "--epochs", "2"}),
                    Catch::Contains("key 'swa-start-epoch': 3 is beyond the run's 2 epochs"));
}

TEST_CASE("a PSG beta that is not a number in [0, 1] is refused in one line", "[train][psg]") {
  TempDir dir("egtrain-psg-bad");
  for (const std::string value : {"nan", "-0.1", "1.5", "inf", "half", "0.05x"}) {
    INFO(value);
    const testing::EgtrainRun r = testing::run_egtrain(
        kEgtrain,
        kTiny + " --weight-gradient psg --psg-beta " + value + " --out " + (dir / "out").string(),
        dir / "stderr.txt");
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err,
               Catch::StartsWith("egtrain: error: command line (--psg-beta): key 'psg-beta': "));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_FALSE(fs::exists(dir / "out"));
  }
  const testing::EgtrainRun words =
      testing::run_egtrain(kEgtrain, kTiny + " --weight-gradient sign", dir / "stderr.txt");
  CHECK(words.exit_code == 1);
  CHECK_THAT(words.err, Catch::Contains("weight-gradient"));
}
