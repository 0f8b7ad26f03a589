// oneDNN's convolution kernels (the trainer's default) against the im2col + OpenBLAS reference,
// for every geometry the ResNets use and a few they do not: forward y, the weight gradient and
// dx with a feedback matrix that differs from W (FA), at 1 and 2 threads.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "grad_check.hpp"
#include "sw/train/conv2d.hpp"
#include "sw/train/parallel.hpp"

using namespace eg::train;

namespace {

struct Products {
  Tensor y, dw, dx;
};

Products run(ConvBackend backend, const ConvGeometry& g, const std::vector<int64_t>& x_shape,
             Mode mode) {
  conv_backend() = backend;
  Conv2d conv(g, 7, 3);
  const Tensor x = testing::random_tensor(x_shape, 11);
  Products p;
  conv.forward({&x}, p.y, true);
  Tensor dy = testing::random_tensor(p.y.shape, 12);
  p.dx.reset(x.shape);
  BackwardContext ctx;
  ctx.mode = mode;
  conv.backward({&x}, p.y, dy, {&p.dx}, ctx);
  p.dw = conv.weight().grad;
  conv_backend() = ConvBackend::Onednn;
  return p;
}

// Largest |a − b| relative to the largest |b|: both backends sum the same products in different
// orders, so they agree to float rounding of the sums.
double relative_difference(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape == b.shape);
  double diff = 0.0, scale = 0.0;
  for (int64_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, double(std::fabs(a.data[i] - b.data[i])));
    scale = std::max(scale, double(std::fabs(b.data[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

}  // namespace

TEST_CASE("oneDNN convolutions match the im2col reference: y, dw and dx", "[train][conv]") {
  struct Case {
    ConvGeometry g;
    std::vector<int64_t> x;
  };
  const std::vector<Case> cases = {
      {{16, 16, 3, 1, 1}, {4, 16, 14, 14}},  // ResNet body
      {{16, 32, 3, 2, 1}, {4, 16, 14, 14}},  // stride-2 entry of a stage
      {{16, 32, 1, 2, 0}, {4, 16, 14, 14}},  // 1×1 shortcut
      {{1, 16, 3, 1, 1}, {4, 1, 28, 28}},    // stem on one channel
      {{3, 8, 3, 1, 1}, {2, 3, 9, 7}},       // odd, non-square, channels not a multiple of 8
      {{5, 6, 5, 2, 2}, {3, 5, 11, 10}},     // 5×5, stride 2
      {{4, 4, 3, 1, 0}, {2, 4, 6, 6}},       // no padding
  };
  for (int threads : {1, 2}) {
    set_thread_count(threads);
    for (const Case& c : cases) {
      std::ostringstream name;
      name << "C" << c.g.in_channels << " M" << c.g.out_channels << " k" << c.g.kernel << " s"
           << c.g.stride << " p" << c.g.pad << " at " << threads << " threads";
      INFO(name.str());
      const Products fast = run(ConvBackend::Onednn, c.g, c.x, Mode::Fa);
      const Products ref = run(ConvBackend::Im2col, c.g, c.x, Mode::Fa);
      CHECK(relative_difference(fast.y, ref.y) < 1e-5);
      CHECK(relative_difference(fast.dw, ref.dw) < 1e-5);
      CHECK(relative_difference(fast.dx, ref.dx) < 1e-5);
    }
  }
  set_thread_count(1);
}

TEST_CASE("oneDNN backward uses the feedback matrix, not W", "[train][conv]") {
  // FA's dx differs from BP's for the same dy, and dw does not depend on the feedback.
  const ConvGeometry g{8, 8, 3, 1, 1};
  const Products fa = run(ConvBackend::Onednn, g, {2, 8, 6, 6}, Mode::Fa);
  const Products bp = run(ConvBackend::Onednn, g, {2, 8, 6, 6}, Mode::Bp);
  CHECK(relative_difference(fa.dx, bp.dx) > 0.1);
  CHECK(relative_difference(fa.dw, bp.dw) == 0.0);
  CHECK(relative_difference(fa.y, bp.y) == 0.0);
}

TEST_CASE("oneDNN convolutions are bit-identical on a rerun and across input shapes",
          "[train][conv]") {
  set_thread_count(2);
  const ConvGeometry g{16, 16, 3, 1, 1};
  const Products a = run(ConvBackend::Onednn, g, {8, 16, 14, 14}, Mode::Bp);
  const Products b = run(ConvBackend::Onednn, g, {8, 16, 14, 14}, Mode::Bp);
  CHECK(a.y.data == b.y.data);
  CHECK(a.dw.data == b.dw.data);
  CHECK(a.dx.data == b.dx.data);
  // One layer seeing a second shape (an evaluation batch) keeps the first shape's results.
  conv_backend() = ConvBackend::Onednn;
  Conv2d conv(g, 7, 3);
  const Tensor x = testing::random_tensor({8, 16, 14, 14}, 11);
  const Tensor x_eval = testing::random_tensor({3, 16, 14, 14}, 13);
  Tensor y, y_eval, dx({8, 16, 14, 14});
  conv.forward({&x}, y, true);
  conv.forward({&x_eval}, y_eval, false);
  conv.forward({&x}, y, true);
  Tensor dy = testing::random_tensor(y.shape, 12);
  BackwardContext ctx;
  conv.backward({&x}, y, dy, {&dx}, ctx);
  CHECK(y.data == a.y.data);
  CHECK(conv.weight().grad.data == a.dw.data);
  CHECK(dx.data == a.dx.data);
  set_thread_count(1);
}
