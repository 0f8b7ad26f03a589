// Sign-symmetric feedback that trains: the Batch Manhattan update on hand-built parameters, the
// update rule `sign` uses by default, and a tiny ResNet whose training loss falls in `sign` mode
// (while plain SGD on the same δ, whose scale sign(W) feedback inflates, does not train).
#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>
#include <vector>

#include "sw/train/config.hpp"
#include "sw/train/dataset.hpp"
#include "sw/train/resnet.hpp"
#include "sw/train/train_step.hpp"
#include "sw/train/update_rule.hpp"

using namespace eg::train;

namespace {

Param make_param(std::vector<float> w, std::vector<float> g, bool decays) {
  Param p;
  p.value.reset({int64_t(w.size())});
  p.grad.reset({int64_t(g.size())});
  p.momentum.reset({int64_t(w.size())});
  p.value.data.assign(w.begin(), w.end());
  p.grad.data.assign(g.begin(), g.end());
  p.weight_decay = decays;
  return p;
}

// Per-step training losses of a tiny ResNet-20 (width 0.25, 8×8 synthetic images, 16 samples a
// step) trained for `steps` steps in `mode` with `rule` at base learning rate `lr` (constant).
std::vector<double> train_losses(Mode mode, UpdateRule rule, double lr, int steps) {
  SyntheticSpec data_spec;
  data_spec.train_count = 96;
  data_spec.test_count = 0;
  data_spec.channels = 2;
  data_spec.noise = 1.0;
  data_spec.seed = 5;
  DataSplit data = make_synthetic(data_spec);
  normalize_per_channel(data);
  ResNetSpec spec;
  spec.channels = 2;
  spec.height = spec.width_px = 8;
  spec.width = 0.25;
  spec.seed = 3;
  Network net = build_resnet(spec);
  StepSettings step;
  step.mode = mode;
  step.seed = 3;
  SgdSettings sgd;  // momentum 0.9, weight decay 5e-4: the trainer's defaults
  const int64_t batch = 16, per_epoch = data.train.count() / batch;
  std::vector<double> losses;
  Tensor x;
  std::vector<int> y;
  for (int i = 0; i < steps; ++i) {
    const std::vector<int64_t> order = epoch_order(data.train.count(), 11, i / per_epoch);
    make_batch(data.train, order.data() + (i % per_epoch) * batch, batch, Augment{}, 0, x, y);
    losses.push_back(forward_backward(net, x, y, step, i + 1, false).loss);
    apply_update(rule, net.params(), sgd, lr);
  }
  return losses;
}

double mean_of(const std::vector<double>& v, size_t from, size_t count) {
  return std::accumulate(v.begin() + long(from), v.begin() + long(from + count), 0.0) /
         double(count);
}

}  // namespace

TEST_CASE("Batch Manhattan moves each parameter by lr times the sign of its gradient",
          "[train][sign]") {
  SgdSettings s;
  s.momentum = 0.0;
  s.weight_decay = 0.0;
  // Gradients of very different sizes, and a zero one: the step ignores their magnitude.
  Param p = make_param({0.5f, -0.25f, 1.0f, 2.0f}, {3e-9f, -40.0f, 0.0f, -1e6f}, true);
  manhattan_step({&p}, s, 0.01);
  CHECK(p.value.data[0] == Approx(0.49f));
  CHECK(p.value.data[1] == Approx(-0.24f));
  CHECK(p.value.data[2] == 1.0f);  // sign(0) = 0: no move
  CHECK(p.value.data[3] == Approx(2.01f));
  // SGD on the same gradient moves in the same directions by lr·g instead.
  Param q = make_param({0.5f, -0.25f, 1.0f, 2.0f}, {3e-9f, -40.0f, 0.0f, -1e6f}, true);
  sgd_step({&q}, s, 0.01);
  CHECK(q.value.data[1] == Approx(0.15f));
  CHECK(q.value.data[3] == Approx(2.0f + 1e4f));
}

TEST_CASE("Batch Manhattan applies momentum and weight decay after taking the sign",
          "[train][sign]") {
  SgdSettings s;
  s.momentum = 0.9;
  s.weight_decay = 0.1;
  Param decays = make_param({1.0f}, {-5.0f}, true);
  Param no_decay = make_param({1.0f}, {-5.0f}, false);  // BN scale/shift: no decay
  manhattan_step({&decays, &no_decay}, s, 0.5);
  // v = sign(g) + λ·w = −1 + 0.1 = −0.9; w = 1 − 0.5·(−0.9) = 1.45.
  CHECK(decays.momentum.data[0] == Approx(-0.9f));
  CHECK(decays.value.data[0] == Approx(1.45f));
  CHECK(no_decay.value.data[0] == Approx(1.5f));
  decays.grad.data[0] = 0.002f;
  manhattan_step({&decays}, s, 0.5);
  // v = 0.9·(−0.9) + (1 + 0.1·1.45) = 0.335; w = 1.45 − 0.5·0.335.
  CHECK(decays.momentum.data[0] == Approx(0.335f));
  CHECK(decays.value.data[0] == Approx(1.45f - 0.5f * 0.335f));
}

TEST_CASE("update auto means Batch Manhattan for sign and SGD for every other mode",
          "[train][sign]") {
  for (const std::string& name : mode_names())
    CHECK(default_update_rule(mode_from_string(name)) ==
          (name == "sign" ? UpdateRule::Manhattan : UpdateRule::Sgd));
  const auto parsed = [](std::vector<const char*> args) {
    args.insert(args.begin(), "egtrain");
    return parse_command_line(int(args.size()), args.data()).config;
  };
  CHECK(parsed({"--mode", "sign"}).update == "manhattan");
  CHECK(parsed({"--mode", "ssfa"}).update == "sgd");
  CHECK(parsed({"--mode", "sign", "--update", "sgd"}).update == "sgd");
  CHECK(parsed({"--mode", "bp", "--update", "manhattan"}).update == "manhattan");
  CHECK(parsed({"--mode", "sign", "--manhattan-lr", "0.002"}).manhattan_lr == 0.002);
}

TEST_CASE("a tiny ResNet's training loss falls in sign mode with its default update",
          "[train][sign]") {
  constexpr int kSteps = 36, kWindow = 6;
  const std::vector<double> loss =
      train_losses(Mode::Sign, default_update_rule(Mode::Sign), TrainConfig{}.manhattan_lr, kSteps);
  for (double l : loss) REQUIRE(std::isfinite(l));
  const double first = mean_of(loss, 0, kWindow), last = mean_of(loss, kSteps - kWindow, kWindow);
  INFO("mean loss of the first " << kWindow << " steps " << first << ", of the last " << last);
  CHECK(last < 0.8 * first);
}

TEST_CASE("plain SGD on sign(W) feedback does not train the same network", "[train][sign]") {
  // The reason `sign` defaults to Batch Manhattan: δ grows by about 1/mean|W| per conv layer
  // (the BN backward divides by an output scale proportional to |W| that sign(W) lacks), so the
  // early layers' SGD steps are many orders of magnitude too large.
  constexpr int kSteps = 36, kWindow = 6;
  const std::vector<double> loss = train_losses(Mode::Sign, UpdateRule::Sgd, 0.05, kSteps);
  const double first = mean_of(loss, 0, kWindow), last = mean_of(loss, kSteps - kWindow, kWindow);
  INFO("mean loss of the first " << kWindow << " steps " << first << ", of the last " << last);
  CHECK(!(last < 0.8 * first));
}
