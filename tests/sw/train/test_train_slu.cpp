// Selective layer update (sw/train/slu.hpp): a gated block's gradients against finite differences
// with the gate held fixed, skipped samples taking the identity in forward and backward, the α
// controller, and bad --slu-alpha / --slu-target-skip values refused with one line.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>

#include "base/error.hpp"
#include "grad_check.hpp"
#include "sw/train/config.hpp"
#include "sw/train/resnet.hpp"
#include "sw/train/slu.hpp"

using namespace eg::train;
using namespace eg::train::testing;

namespace {

// ResNet-20 at width 0.25 (4/8/16 channels) on 1x6x6 inputs, every identity block gated with a
// fixed decision per sample: `mask` for every gated block.
struct GatedNet {
  std::shared_ptr<SluControl> control = std::make_shared<SluControl>();
  Network net;
  GatedNet(const std::vector<uint8_t>& mask, double alpha = 0.0) {
    control->alpha = alpha;
    ResNetSpec spec;
    spec.arch = "resnet20";
    spec.channels = 1;
    spec.height = spec.width_px = 6;
    spec.width = 0.25;
    spec.seed = 5;
    spec.slu = true;
    spec.slu_control = control;
    net = build_resnet(spec);
    for (SluState* s : slu_blocks(net)) s->fixed_mask = mask;
  }
  int node(const std::string& name) {
    for (size_t i = 0; i < net.nodes().size(); ++i)
      if (net.nodes()[i].name == name) return static_cast<int>(i);
    FAIL("no node " << name);
    return -1;
  }
  Param& weight(const std::string& name) { return *net.nodes()[node(name)].layer->params().at(0); }
};

const std::vector<uint8_t> kMask{1, 0, 1, 1};

}  // namespace

TEST_CASE("resnet20 with slu gates the identity blocks and not the projection blocks",
          "[train][slu]") {
  GatedNet g(kMask);
  std::vector<std::string> names;
  for (SluState* s : slu_blocks(g.net)) names.push_back(s->block);
  CHECK(names == std::vector<std::string>{"layer1.0", "layer1.1", "layer1.2", "layer2.1",
                                          "layer2.2", "layer3.1", "layer3.2"});
  for (SluState* s : slu_blocks(g.net)) {
    CHECK(s->flops_weight > 0.0);
    CHECK(s->flops_weight < 0.2);
  }
}

TEST_CASE("a gated block's gradients match finite differences with the gate held fixed",
          "[train][slu][grad]") {
  GatedNet g(kMask);
  const Tensor x = random_tensor({4, 1, 6, 6}, 17);
  const Tensor& y0 = g.net.forward(x, true);
  const Tensor r = random_tensor(y0.shape, 23);
  auto loss = [&] { return weighted_sum(g.net.forward(x, true), r); };
  g.net.forward(x, true);
  BackwardContext ctx;
  g.net.backward(r, ctx);
  for (const char* layer : {"layer1.1.conv1", "layer1.1.conv2", "layer2.1.conv1"}) {
    Param& w = g.weight(layer);
    const FloatBuffer grad = w.grad.data;
    const GradError e = compare(w.value.data, grad, loss, 3e-3, 3);
    // Central differences of a whole network in float32, across ReLU kinks: the direction is
    // what must agree, and no element may be far off.
    INFO(layer << ": cosine " << e.cosine << ", max |diff| " << e.max_abs << " of max "
               << e.max_grad);
    CHECK(e.cosine > 0.99);
    CHECK(e.max_abs < 0.25 * e.max_grad);
  }
}

TEST_CASE("a gated branch runs on the active samples' rows only", "[train][slu]") {
  // So its convolutions' dW sum over the active samples: their x and dy hold those rows alone.
  GatedNet g(kMask);
  const Tensor x = random_tensor({4, 1, 6, 6}, 17);
  const Tensor& y = g.net.forward(x, true);
  const Tensor r = random_tensor(y.shape, 23);
  BackwardContext ctx;
  ctx.record = true;
  g.net.backward(r, ctx);
  const auto& nodes = g.net.nodes();
  const Node& select = nodes[g.node("layer1.1.select")];
  const Node& in = nodes[select.inputs.at(0)];
  REQUIRE(select.out.dim(0) == 3);
  const int64_t row = in.out.size() / 4;
  const int64_t from[3] = {0, 2, 3};
  for (int64_t j = 0; j < 3; ++j)
    for (int64_t k = 0; k < row; ++k)
      REQUIRE(select.out.data[j * row + k] == in.out.data[from[j] * row + k]);
  auto* conv = dynamic_cast<WeightedLayer*>(nodes[g.node("layer1.1.conv2")].layer.get());
  REQUIRE(conv);
  CHECK(conv->record().dy.dim(0) == 3);
  CHECK(nodes[g.node("layer1.1.bn1")].out.dim(0) == 3);
}

TEST_CASE("skipped samples pass the block input unchanged in forward and backward",
          "[train][slu]") {
  GatedNet g(kMask);  // alpha 0: no FLOPs term on the gate
  const Tensor x = random_tensor({4, 1, 6, 6}, 17);
  const Tensor& y = g.net.forward(x, true);
  const Tensor r = random_tensor(y.shape, 23);
  BackwardContext ctx;
  g.net.backward(r, ctx);
  const auto& nodes = g.net.nodes();
  for (const char* block : {"layer1.1", "layer2.2", "layer3.1"}) {
    const Node& add = nodes[g.node(std::string(block) + ".add")];
    const Node& relu2 = nodes[g.node(std::string(block) + ".relu2")];
    const Node& in = nodes[add.inputs.at(1)];
    REQUIRE(in.out.layout == relu2.out.layout);  // rows compare element by element
    const int64_t row = in.out.size() / 4;
    for (int64_t k = 0; k < row; ++k) {
      const int64_t i = 1 * row + k;  // sample 1 is skipped
      REQUIRE(relu2.out.data[i] == in.out.data[i]);
      // Its gradient reaches the block input through the shortcut alone: the branch holds no row
      // for it and the gate passes it nothing (alpha 0).
      REQUIRE(in.grad.data[i] == add.grad.data[i]);
    }
    bool differs = false;  // an active sample's output is not its input
    for (int64_t k = 0; k < row; ++k) differs |= relu2.out.data[k] != in.out.data[k];
    CHECK(differs);
  }
}

TEST_CASE("a block no sample uses gets zero weight gradients and no update", "[train][slu]") {
  GatedNet g({0, 0, 0, 0});
  const Tensor x = random_tensor({4, 1, 6, 6}, 17);
  const Tensor& y = g.net.forward(x, true);
  const Tensor r = random_tensor(y.shape, 23);
  BackwardContext ctx;
  g.net.backward(r, ctx);
  for (float v : g.weight("layer1.1.conv1").grad.data) REQUIRE(v == 0.0f);
  const std::vector<Param*> updated = slu_updated_params(g.net, g.net.params());
  CHECK(std::find(updated.begin(), updated.end(), &g.weight("layer1.1.conv1")) == updated.end());
  CHECK(std::find(updated.begin(), updated.end(), &g.weight("conv1")) != updated.end());
  CHECK(slu_skip(g.net).overall == 1.0);
}

TEST_CASE("the gate's straight-through gradient carries the FLOPs term", "[train][slu]") {
  // Everything skipped: dL/dp_i = alpha * w_b / N for every sample, so the gate bias gets
  // sum_i alpha w_b / N * max(p(1-p), floor).
  GatedNet g({0, 0, 0, 0}, 0.8);
  const Tensor x = random_tensor({4, 1, 6, 6}, 17);
  const Tensor& y = g.net.forward(x, true);
  Tensor zero(y.shape);
  BackwardContext ctx;
  g.net.backward(zero, ctx);
  SluState* s = slu_blocks(g.net).front();
  Param* bias = g.net.nodes()[g.node("layer1.0.gate")].layer->params().at(0);
  double want = 0.0;
  for (float p : s->prob)
    want += 0.8 * s->flops_weight / 4.0 * std::max(double(p) * (1.0 - p), kSluGateSlopeFloor);
  CHECK(bias->grad.data[0] == Approx(want).epsilon(1e-5));
}

TEST_CASE("the alpha controller is a clamped proportional-integral step toward the target",
          "[train][slu]") {
  auto step = [](double integral, double target, double skip) {
    SluControl c{integral, target, integral};
    step_slu_control(c, skip);
    return c;
  };
  const SluControl fixed = step(0.1, -1.0, 0.9);  // no target: fixed
  CHECK(fixed.alpha == 0.1);
  CHECK(fixed.integral == 0.1);
  const SluControl up = step(0.1, 0.4, 0.0);
  CHECK(up.integral == Approx(0.1 + kSluAlphaIntegralGain * 0.4));
  CHECK(up.alpha == Approx(0.1 + kSluAlphaIntegralGain * 0.4 + kSluAlphaProportionalGain * 0.4));
  const SluControl down = step(0.3, 0.2, 0.7);
  CHECK(down.integral == Approx(0.3 - kSluAlphaIntegralGain * 0.5));
  CHECK(down.alpha == Approx(0.3 - kSluAlphaIntegralGain * 0.5 - kSluAlphaProportionalGain * 0.5));
  // On target the proportional term vanishes: α returns to the integral.
  CHECK(step(0.7, 0.3, 0.3).alpha == Approx(0.7));
  CHECK(step(kSluAlphaMax, 0.9, 0.0).alpha == kSluAlphaMax);
  CHECK(step(kSluAlphaMax, 0.9, 0.0).integral == kSluAlphaMax);
  CHECK(step(-kSluAlphaMax, 0.0, 1.0).alpha == -kSluAlphaMax);
}

TEST_CASE("bad slu-alpha and slu-target-skip values are refused with one line", "[train][slu]") {
  auto error_of = [](std::vector<std::string> args) {
    std::vector<const char*> argv{"egtrain"};
    for (const std::string& a : args) argv.push_back(a.c_str());
    try {
      (void)parse_command_line(static_cast<int>(argv.size()), argv.data());
    } catch (const eg::Error& e) {
      const std::string what = e.what();
      CHECK(what.find('\n') == std::string::npos);
      return what;
    }
    return std::string("accepted");
  };
  for (const char* bad : {"-0.1", "nan", "inf", "11", "abc", ""})
    CHECK_THAT(error_of({"--slu", "--slu-alpha", bad}), Catch::Contains("slu-alpha"));
  for (const char* bad : {"1", "1.5", "-0.5", "-2", "nan", "x"})
    CHECK_THAT(error_of({"--slu-target-skip", bad}), Catch::Contains("slu-target-skip"));
  CHECK(error_of({"--slu-target-skip", "0.3"}) == "accepted");
  CHECK(error_of({"--slu", "--slu-alpha", "0"}) == "accepted");
  std::vector<const char*> argv{"egtrain", "--slu-target-skip", "0.2"};
  const ParsedCommandLine p = parse_command_line(3, argv.data());
  CHECK(p.config.slu);  // a target implies slu
  CHECK(p.config.slu_target_skip == 0.2);
}
