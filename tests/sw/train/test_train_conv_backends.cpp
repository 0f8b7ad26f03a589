// oneDNN's convolution kernels (the trainer's default) against the im2col + OpenBLAS reference,
// for every geometry the ResNets use and a few they do not: forward y, the weight gradient and
// dx with a feedback matrix that differs from W (FA), at 1 and 2 threads, from NCHW and from
// channel-blocked inputs. Results are compared in NCHW.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "grad_check.hpp"
#include "sw/train/conv2d.hpp"
#include "sw/train/cross_entropy.hpp"
#include "sw/train/layout.hpp"
#include "sw/train/parallel.hpp"
#include "sw/train/resnet.hpp"
#include "sw/train/train_step.hpp"

using namespace eg::train;

namespace {

struct Products {
  Tensor y, dw, dx;
};

Tensor nchw(const Tensor& t) {
  Tensor out;
  convert_layout(t, Layout::Nchw, out);
  return out;
}

// y, dw and dx of one conv layer, all returned in NCHW; x is given to the layer in x_layout.
Products run(ConvBackend backend, const ConvGeometry& g, const std::vector<int64_t>& x_shape,
             Mode mode, Layout x_layout = Layout::Nchw) {
  conv_backend() = backend;
  Conv2d conv(g, 7, 3);
  Tensor x;
  convert_layout(testing::random_tensor(x_shape, 11), x_layout, x);
  Products p;
  Tensor y, dy, dx;
  conv.forward({&x}, y, true);
  convert_layout(testing::random_tensor(y.shape, 12), y.layout, dy);
  dx.ensure(x.shape, x.layout);
  dx.zero();
  BackwardContext ctx;
  ctx.mode = mode;
  conv.backward({&x}, y, dy, {&dx}, ctx);
  p.y = nchw(y);
  p.dx = nchw(dx);
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
      const Products ref = run(ConvBackend::Im2col, c.g, c.x, Mode::Fa);
      for (Layout layout : {Layout::Nchw, Layout::NChw16c}) {
        if (layout == Layout::NChw16c && c.g.in_channels % kChannelBlock != 0) continue;
        INFO((layout == Layout::Nchw ? "NCHW input" : "NChw16c input"));
        const Products fast = run(ConvBackend::Onednn, c.g, c.x, Mode::Fa, layout);
        CHECK(relative_difference(fast.y, ref.y) < 1e-5);
        CHECK(relative_difference(fast.dw, ref.dw) < 1e-5);
        CHECK(relative_difference(fast.dx, ref.dx) < 1e-5);
      }
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
  Tensor y, y_eval, dx({8, 16, 14, 14}), dy;
  conv.forward({&x}, y, true);
  conv.forward({&x_eval}, y_eval, false);
  conv.forward({&x}, y, true);
  convert_layout(testing::random_tensor(y.shape, 12), y.layout, dy);
  BackwardContext ctx;
  conv.backward({&x}, y, dy, {&dx}, ctx);
  CHECK(nchw(y).data == a.y.data);
  CHECK(conv.weight().grad.data == a.dw.data);
  CHECK(dx.data == a.dx.data);
  set_thread_count(1);
}

TEST_CASE("layout conversion round-trips and places channels in blocks of 16", "[train][conv]") {
  const Tensor x = testing::random_tensor({3, 32, 5, 4}, 5);
  Tensor blocked, back;
  convert_layout(x, Layout::NChw16c, blocked);
  convert_layout(blocked, Layout::Nchw, back);
  CHECK(back.data == x.data);
  CHECK(back.layout == Layout::Nchw);
  // (n=2, c=21, h=3, w=1): block 2·2 + 1, pixel 3·4 + 1, lane 5.
  CHECK(blocked.data[((2 * 2 + 1) * 20 + 13) * 16 + 5] == x.data[((2 * 32 + 21) * 5 + 3) * 4 + 1]);
  Tensor sum = blocked;
  write_from_nchw(x, sum, /*add=*/true);
  Tensor twice;
  convert_layout(sum, Layout::Nchw, twice);
  for (int64_t i = 0; i < x.size(); ++i) CHECK(twice.data[i] == 2 * x.data[i]);
}

TEST_CASE("a full-width ResNet trains the same on channel-blocked oneDNN and NCHW im2col",
          "[train][conv]") {
  // Width 1 gives 16/32/64 channels, so every activation after the stem is NChw16c on oneDNN:
  // batch norm, ReLU, residual adds, pooling and the records all run on the blocked order.
  // One efficientgrad step (pruning, recorded statistics) on each backend must agree to float
  // rounding: loss, every parameter gradient, and the recorded dy and dx of every layer.
  struct Run {
    LossResult loss;
    std::vector<Tensor> grads, dys, dxs;
  };
  auto run_backend = [](ConvBackend backend) {
    conv_backend() = backend;
    ResNetSpec spec;
    spec.arch = "resnet20";
    spec.channels = 1;
    spec.height = spec.width_px = 10;
    spec.classes = 4;
    spec.seed = 3;
    Network net = build_resnet(spec);
    const Tensor x = testing::random_tensor({4, 1, 10, 10}, 31);
    StepSettings settings;
    settings.mode = Mode::EfficientGrad;
    settings.pruning_rate = 0.5;
    Run r;
    r.loss = forward_backward(net, x, {0, 1, 2, 3}, settings, 1, /*record=*/true);
    for (Param* p : net.params()) r.grads.push_back(p->grad);
    for (WeightedLayer* w : net.weighted_layers()) {
      r.dys.push_back(w->record().dy);
      r.dxs.push_back(w->record().dx);
    }
    conv_backend() = ConvBackend::Onednn;
    return r;
  };
  const Run fast = run_backend(ConvBackend::Onednn);
  const Run ref = run_backend(ConvBackend::Im2col);
  CHECK(fast.loss.loss == Approx(ref.loss.loss).epsilon(1e-5));
  REQUIRE(fast.grads.size() == ref.grads.size());
  for (size_t i = 0; i < fast.grads.size(); ++i) {
    INFO("parameter #" << i);
    CHECK(relative_difference(fast.grads[i], ref.grads[i]) < 1e-3);
  }
  // Pruning draws are keyed by the logical NCHW index, so both orders prune the same elements;
  // the records are NCHW whatever order the trainer kept.
  for (size_t i = 0; i < fast.dys.size(); ++i) {
    INFO("layer #" << i);
    CHECK(fast.dys[i].layout == Layout::Nchw);
    CHECK(fast.dxs[i].layout == Layout::Nchw);
    CHECK(relative_difference(fast.dys[i], ref.dys[i]) < 1e-3);
    CHECK(relative_difference(fast.dxs[i], ref.dxs[i]) < 1e-3);
  }
}
