// Finite-difference gradient checks, bp mode, for every layer type and a whole tiny ResNet.
#include <catch2/catch.hpp>

#include "grad_check.hpp"
#include "sw/train/batchnorm.hpp"
#include "sw/train/conv2d.hpp"
#include "sw/train/cross_entropy.hpp"
#include "sw/train/elementwise.hpp"
#include "sw/train/linear.hpp"
#include "sw/train/pooling.hpp"
#include "sw/train/resnet.hpp"

using namespace eg::train;
using namespace eg::train::testing;

namespace {

// Central differences in float32 with eps = 1e-2 on O(1) values: truncation + rounding error is
// a few 1e-3 relative to the gradient scale.
void require_close(const std::vector<GradError>& errors, double rel = 1e-2) {
  REQUIRE_FALSE(errors.empty());
  for (const GradError& e : errors) {
    INFO("max_abs " << e.max_abs << " max_grad " << e.max_grad);
    CHECK(e.max_grad > 0.0);
    CHECK(e.max_abs <= rel * std::max(1.0, e.max_grad));
  }
}

}  // namespace

TEST_CASE("conv 3x3 stride 2 pad 1 gradients match finite differences", "[train][grad]") {
  Conv2d conv({3, 4, 3, 2, 1}, 1, 0);
  require_close(check_layer(conv, {random_tensor({2, 3, 7, 6}, 11)}));
}

TEST_CASE("conv 1x1 stride 1 gradients match finite differences", "[train][grad]") {
  Conv2d conv({5, 3, 1, 1, 0}, 1, 0);
  require_close(check_layer(conv, {random_tensor({2, 5, 4, 4}, 12)}));
}

TEST_CASE("conv 1x1 stride 2 gradients match finite differences", "[train][grad]") {
  Conv2d conv({3, 4, 1, 2, 0}, 1, 0);
  require_close(check_layer(conv, {random_tensor({2, 3, 5, 5}, 13)}));
}

TEST_CASE("fc gradients match finite differences", "[train][grad]") {
  Linear fc(6, 4, 1, 0);
  require_close(check_layer(fc, {random_tensor({3, 6, 1, 1}, 14)}));
}

TEST_CASE("batchnorm (training statistics) gradients match finite differences", "[train][grad]") {
  BatchNorm bn(3, 0.1, 1e-5);
  bn.params()[0]->value.data = {1.5f, 0.7f, -0.4f};
  bn.params()[1]->value.data = {0.1f, -0.2f, 0.3f};
  require_close(check_layer(bn, {random_tensor({4, 3, 3, 2}, 15)}, 1e-2), 2e-2);
}

TEST_CASE("avgpool 2x2 and global gradients match finite differences", "[train][grad]") {
  AvgPool pool({2, 2, 2, 0});
  require_close(check_layer(pool, {random_tensor({2, 3, 4, 4}, 16)}));
  AvgPool global({3, 5, 1, 0});
  require_close(check_layer(global, {random_tensor({2, 3, 3, 5}, 17)}));
}

TEST_CASE("maxpool 3x3 stride 2 pad 1 gradients match finite differences", "[train][grad]") {
  MaxPool pool({3, 3, 2, 1});
  // Values well separated so ±eps never changes the arg-max.
  Tensor x({2, 2, 5, 5});
  for (int64_t i = 0; i < x.size(); ++i) x.data[i] = static_cast<float>((i * 37) % 101) * 0.1f;
  require_close(check_layer(pool, {x}, 1e-3));
}

TEST_CASE("relu and residual add gradients match finite differences", "[train][grad]") {
  Relu relu;
  Tensor x = random_tensor({2, 3, 4, 4}, 18);
  for (float& v : x.data)
    if (std::fabs(v) < 0.05f) v = 0.3f;  // away from the kink
  require_close(check_layer(relu, {x}));
  Add add;
  require_close(
      check_layer(add, {random_tensor({2, 3, 2, 2}, 19), random_tensor({2, 3, 2, 2}, 20)}));
}

TEST_CASE("softmax cross-entropy gradient matches finite differences", "[train][grad]") {
  Tensor logits = random_tensor({4, 5}, 21, 2.0);
  const std::vector<int> labels{0, 3, 4, 1};
  Tensor g;
  softmax_cross_entropy(logits, labels, &g);
  auto loss = [&] { return softmax_cross_entropy(logits, labels, nullptr).loss; };
  GradError e = compare(logits.data, g.data, loss, 1e-3);
  CHECK(e.max_grad > 0.0);
  CHECK(e.max_abs < 1e-3);
}

namespace {

// ResNet-20 at width 0.25 (4/8/16 channels: the last stage is channel-blocked on oneDNN) on
// 2×8×7 inputs, 3 classes.
Network tiny_resnet20() {
  ResNetSpec spec;
  spec.arch = "resnet20";
  spec.channels = 2;
  spec.height = 8;
  spec.width_px = 7;
  spec.width = 0.25;
  spec.classes = 3;
  spec.seed = 5;
  return build_resnet(spec);
}

}  // namespace

TEST_CASE("whole tiny ResNet-20 gradients match finite differences in bp mode", "[train][grad]") {
  Network net = tiny_resnet20();
  Tensor x = random_tensor({8, 2, 8, 7}, 22);
  const std::vector<int> labels{0, 1, 2, 1, 2, 0, 0, 1};
  auto loss = [&] { return softmax_cross_entropy(net.forward(x, true), labels, nullptr).loss; };
  Tensor dlogits;
  softmax_cross_entropy(net.forward(x, true), labels, &dlogits);
  BackwardContext ctx;
  net.backward(dlogits, ctx);
  // Every parameter tensor (subsampled). A ±eps step can cross ReLU kinks somewhere in the
  // network, which spoils a few central differences, so the check is on the whole vector (cosine)
  // (measured minimum over all tensors: 0.999 at eps 3e-4); a wrong formula or a dropped branch
  // gives a far lower cosine.
  int checked = 0;
  for (Param* p : net.params()) {
    const eg::train::FloatBuffer g = p->grad.data;
    GradError e = compare(p->value.data, g, loss, 3e-4, 3);
    INFO("param #" << checked << " " << p->name << " cosine " << e.cosine << " agree "
                   << e.agree_fraction << " max_abs " << e.max_abs << " max_grad " << e.max_grad);
    CHECK(e.cosine > 0.995);
    ++checked;
  }
  CHECK(checked == static_cast<int>(net.params().size()));
  CHECK(checked > 40);
}

TEST_CASE("a second backward pass gives the same gradients: nothing accumulates across passes",
          "[train][grad]") {
  // Each node's first consumer assigns its gradient instead of the network zeroing it; a layer
  // that added to a stale gradient would double the second pass's values.
  Network net = tiny_resnet20();
  const Tensor x = random_tensor({8, 2, 8, 7}, 22);
  const std::vector<int> labels{0, 1, 2, 1, 2, 0, 0, 1};
  Tensor dlogits;
  softmax_cross_entropy(net.forward(x, true), labels, &dlogits);
  for (Mode mode : {Mode::Bp, Mode::Fa}) {
    BackwardContext ctx;
    ctx.mode = mode;
    net.backward(dlogits, ctx);
    std::vector<FloatBuffer> first;
    for (Param* p : net.params()) first.push_back(p->grad.data);
    net.backward(dlogits, ctx);
    size_t i = 0;
    for (Param* p : net.params()) {
      INFO("param #" << i << " " << p->name);
      CHECK(p->grad.data == first[i++]);
    }
  }
}
