// Feedback modes on hand-built cases: the matrix each mode multiplies with, dx = dy·F, dW always
// the true correlation, ssfa following sign(W) after an update, B never changing.
#include <catch2/catch.hpp>

#include "grad_check.hpp"
#include "sw/train/conv2d.hpp"
#include "sw/train/linear.hpp"
#include "sw/train/sgd.hpp"

using namespace eg::train;

namespace {

// A 2×3 fc layer with chosen W and B (B is only reachable through the constructor's draw, so the
// test reads it back and builds the expectation from it).
struct SmallFc {
  Linear fc{3, 2, 7, 0};
  Tensor x{{1, 3}}, dy{{1, 2}};
  SmallFc() {
    fc.weight().value.data = {0.5f, -2.0f, 0.0f, 3.0f, -0.25f, 1.0f};
    x.data = {1.0f, 2.0f, -1.0f};
    dy.data = {0.3f, -0.7f};
  }
  // Runs forward + backward in `mode`; returns dx.
  Tensor backward(Mode mode) {
    Tensor out, dx({1, 3});
    fc.forward({&x}, out, true);
    Tensor d = dy;
    BackwardContext ctx;
    ctx.mode = mode;
    fc.backward({&x}, out, d, {&dx}, ctx);
    return dx;
  }
};

float sgn(float v) {
  return v > 0 ? 1.0f : (v < 0 ? -1.0f : 0.0f);
}

}  // namespace

TEST_CASE("each mode uses its feedback matrix: dx = dy . F", "[train][feedback]") {
  SmallFc s;
  const FloatBuffer w = s.fc.weight().value.data;
  const FloatBuffer b = s.fc.random_b().data;
  for (const std::string& name : mode_names()) {
    const Mode mode = mode_from_string(name);
    FloatBuffer f(6);
    for (int i = 0; i < 6; ++i) {
      switch (mode) {
        case Mode::Bp:
        case Mode::BpPrune:
          f[i] = w[i];
          break;
        case Mode::Fa:
          f[i] = b[i];
          break;
        case Mode::Sign:
          f[i] = sgn(w[i]);
          break;
        case Mode::Ssfa:
        case Mode::EfficientGrad:
          f[i] = sgn(w[i]) * std::fabs(b[i]);
          break;
      }
    }
    // bp-prune/efficientgrad with P = 0 prune nothing, so the formula is exact here.
    const Tensor dx = s.backward(mode);
    INFO("mode " << name);
    CHECK(s.fc.feedback().data == f);
    for (int c = 0; c < 3; ++c)
      CHECK(dx.data[c] == Approx(s.dy.data[0] * f[c] + s.dy.data[1] * f[3 + c]).margin(1e-6));
    // The weight gradient is the true correlation of x with dy in every mode.
    for (int m = 0; m < 2; ++m)
      for (int c = 0; c < 3; ++c)
        CHECK(s.fc.weight().grad.data[m * 3 + c] ==
              Approx(s.dy.data[m] * s.x.data[c]).margin(1e-6));
  }
  CHECK(std::count(s.fc.feedback().data.begin(), s.fc.feedback().data.end(), 0.0f) == 1);
}

TEST_CASE("B is Kaiming-uniform within sqrt(6/fan_in) and differs from W", "[train][feedback]") {
  Conv2d conv({4, 8, 3, 1, 1}, 3, 5);
  const double bound = std::sqrt(6.0 / (4 * 9));
  double max_abs = 0.0;
  for (float v : conv.random_b().data) max_abs = std::max(max_abs, double(std::fabs(v)));
  CHECK(max_abs <= bound);
  CHECK(max_abs > 0.9 * bound);
  CHECK(conv.random_b().data != conv.weight().value.data);
}

TEST_CASE("ssfa and efficientgrad follow sign(W) after an update, B never changes",
          "[train][feedback]") {
  for (Mode mode : {Mode::Ssfa, Mode::EfficientGrad, Mode::Fa}) {
    SmallFc s;
    const FloatBuffer b0 = s.fc.random_b().data;
    s.backward(mode);
    // A large step against the gradient flips some weight signs.
    SgdSettings sgd;
    sgd.momentum = 0.0;
    sgd.weight_decay = 0.0;
    std::vector<Param*> params{&s.fc.weight()};
    const FloatBuffer w0 = s.fc.weight().value.data;
    sgd_step(params, sgd, 10.0);
    const FloatBuffer& w1 = s.fc.weight().value.data;
    int flipped = 0;
    for (int i = 0; i < 6; ++i) flipped += sgn(w0[i]) != sgn(w1[i]) ? 1 : 0;
    REQUIRE(flipped > 0);
    s.backward(mode);
    for (int i = 0; i < 6; ++i) {
      const float expect = mode == Mode::Fa ? b0[i] : sgn(w1[i]) * std::fabs(b0[i]);
      CHECK(s.fc.feedback().data[i] == expect);
    }
    CHECK(s.fc.random_b().data == b0);
  }
}

TEST_CASE("conv feedback modes: dx is the transposed conv of dy with F", "[train][feedback]") {
  // With a 1×1 conv the transposed convolution is a per-pixel matrix product, easy to hand-check.
  for (Mode mode : {Mode::Bp, Mode::Fa, Mode::Sign, Mode::Ssfa}) {
    Conv2d conv({2, 3, 1, 1, 0}, 9, 1);
    Tensor x = testing::random_tensor({1, 2, 2, 2}, 3);
    Tensor out, dx({1, 2, 2, 2});
    conv.forward({&x}, out, true);
    Tensor dy = testing::random_tensor(out.shape, 4);
    const Tensor dy0 = dy;
    BackwardContext ctx;
    ctx.mode = mode;
    conv.backward({&x}, out, dy, {&dx}, ctx);
    const Tensor& f = conv.feedback();
    for (int c = 0; c < 2; ++c)
      for (int p = 0; p < 4; ++p) {
        double expect = 0.0;
        for (int m = 0; m < 3; ++m) expect += dy0.data[m * 4 + p] * f.data[m * 2 + c];
        CHECK(dx.data[c * 4 + p] == Approx(expect).margin(1e-5));
      }
  }
}
