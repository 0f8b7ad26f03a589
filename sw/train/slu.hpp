#pragma once
// Selective layer update (E²-Train's SLU, README "Selective layer update"): a gate per residual
// block decides per sample whether the block's residual branch runs. The gate is feed-forward
// (global average pool of the block input -> FC to one unit -> + bias -> sigmoid), not the paper's
// RNN; the decision is hard (p >= 0.5) with a straight-through estimator (dL/dp := dL/dm).
//
// In the training graph a gated block is
//   x -> gate.pool -> gate.fc -> gate (sigmoid, SluGate) -> p
//   x, p -> select (SluSelect: the active samples' rows, compacted) -> conv1 ... bn2 -> F
//   F, x, p -> add (SluMerge: y_i = x_i + F_i for active i, y_i = x_i for skipped i) -> relu2
// so the branch (conv, BN, ReLU) runs on N_active samples only: its dW sums over active samples,
// its BN statistics are those of the active samples, and a skipped sample's gradient reaches x
// through the shortcut alone. relu2 passes a skipped sample unchanged because a block input is a
// ReLU output (>= 0): the skipped sample takes the identity in forward and backward.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sw/train/layer.hpp"

namespace eg::train {

class Network;

// Gate bias at initialisation: sigmoid(2) = 0.88, so every block starts by running for almost
// every sample and the FLOPs penalty, not the initial draw, decides what gets skipped.
inline constexpr float kSluGateBiasInit = 2.0f;

// α and its controller (README "Selective layer update"). Loss = cross-entropy +
// α · Σ_blocks (FLOPs_b / FLOPs_net) · (1/N) Σ_i m_{b,i}: α times the fraction of the network's
// per-sample forward FLOPs spent in the selected blocks, averaged over the mini-batch.
struct SluControl {
  double alpha = 0.0;         // may be negative under the controller (see below)
  double target_skip = -1.0;  // < 0: α stays fixed
  double integral = 0.0;      // the controller's integral term (starts at --slu-alpha)
};

// The α controller (--slu-target-skip S): α is the multiplier of the FLOPs term, adjusted as a
// proportional-integral dual ascent on "skip = S" (a PI Lagrangian, Stooke, Achiam & Abbeel, ICML
// 2020), with e = S − skip and skip the mini-batch's measured skip ratio over all gated (block,
// sample) pairs:  I <- I + Ki·e,  α = I + Kp·e  (both clamped to ±kSluAlphaMax).
// α may go negative (a reward for running blocks), which is what revives samples a block has
// stopped running (a skipped sample gets no task gradient, only the FLOPs term's); a
// multiplicative α·exp(k·(S − skip)) cannot change sign, and in trials it left whole blocks
// skipped for good once it had overshot.
// Why a proportional term: the gates integrate α through their own SGD with momentum, so a pure
// integral controller (α <- α + η·e, the first version) is a double integrator that swings: at
// η = 0.05 the skip ratio overshot a target of 0.2 to 0.5 within 150 mini-batches and stayed there
// while α fell to −1.5 (ResNet-20 width 0.25, Fashion-MNIST, batch 64). With Kp = 10, Ki = 0.05
// the same run settles within ~100 mini-batches and then misses the target by 0.01 (rms over
// mini-batches 100-625, targets 0.2 and 0.4; README "SLU's controller", measured). Kp = 3,
// Ki = 0.02 settled 8 points above a 0.2 target and drifted.
inline constexpr double kSluAlphaProportionalGain = 10.0;
inline constexpr double kSluAlphaIntegralGain = 0.05;
// |α| <= kSluAlphaMax (config and controller): 10 weighs the whole network's FLOPs at ten times a
// cross-entropy of ~0.1-2.3 nats, beyond which the penalty alone decides every gate.
inline constexpr double kSluAlphaMax = 10.0;
// One controller step after a mini-batch whose measured skip ratio was `measured_skip`; without a
// target α stays fixed.
void step_slu_control(SluControl& control, double measured_skip);

// What a block's gate, select and merge share for one mini-batch.
struct SluState {
  std::string block;                       // e.g. "layer1.1"
  std::vector<std::string> branch_layers;  // conv1, bn1, relu1, conv2, bn2: run on N_active
  std::vector<std::string> gate_layers;    // gate.pool, gate.fc: ordinary, traced layers
  double flops_weight = 0.0;               // branch FLOPs / network FLOPs, per sample
  std::shared_ptr<SluControl> control;
  // Tests: a fixed decision per sample instead of p >= 0.5 (the gate's "held fixed" case).
  std::optional<std::vector<uint8_t>> fixed_mask;
  // Of the last forward:
  std::vector<float> prob;         // p per sample
  std::vector<uint8_t> active;     // m per sample (0/1)
  std::vector<int64_t> active_at;  // compacted row j -> sample index
};

// The sigmoid's slope in the gate's backward is at least this (its maximum is 0.25 at p = 0.5):
// a gate saturated shut (p ~ 0) would otherwise never hear the controller's reward again, and
// the samples it skips get no task gradient to reopen it. Straight-through estimators commonly
// pass the gradient unchanged; this keeps the sigmoid's shape near the threshold.
inline constexpr double kSluGateSlopeFloor = 0.05;

// p = sigmoid(z + b) with a learnable bias b (no weight decay). Trainer-only: not a trace layer;
// its N sigmoid evaluations are left out of the simulation (see the README).
class SluGate : public Layer {
 public:
  explicit SluGate(std::shared_ptr<SluState> state);
  trace::LayerType type() const override { return trace::LayerType::Relu; }  // never traced
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, Tensor& dout,
                const std::vector<Tensor*>& din, const BackwardContext& ctx) override;
  std::vector<Param*> params() override { return {&bias_}; }
  const std::shared_ptr<SluState>& state() const { return state_; }

 private:
  std::shared_ptr<SluState> state_;
  Param bias_;
};

// The active samples' rows of x, in sample order (shape [N_active, C, H, W], x's layout).
class SluSelect : public Layer {
 public:
  explicit SluSelect(std::shared_ptr<SluState> state) : state_(std::move(state)) {}
  trace::LayerType type() const override { return trace::LayerType::Relu; }  // never traced
  bool accepts_empty_batch() const override { return true; }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, Tensor& dout,
                const std::vector<Tensor*>& din, const BackwardContext& ctx) override;

 private:
  std::shared_ptr<SluState> state_;
};

// Inputs: F (compacted branch output), x (shortcut), p (gate). Traced as the block's `add`.
class SluMerge : public Layer {
 public:
  explicit SluMerge(std::shared_ptr<SluState> state) : state_(std::move(state)) {}
  trace::LayerType type() const override { return trace::LayerType::Add; }
  bool accepts_empty_batch() const override { return true; }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, Tensor& dout,
                const std::vector<Tensor*>& din, const BackwardContext& ctx) override;

 private:
  std::shared_ptr<SluState> state_;
};

// The gated blocks of a network, in forward order (empty without --slu).
std::vector<SluState*> slu_blocks(Network& net);

// Skip ratio of the last forward: skipped (block, sample) pairs over all pairs, and per block.
struct SluSkip {
  double overall = 0.0;
  std::vector<double> per_block;
};
SluSkip slu_skip(Network& net);

// The parameters an SGD step updates: the candidates (all, or the trainable ones when
// fine-tuning), except those of the branch layers of a gated
// block that no sample of the mini-batch used (their weights, momentum and BN scale/shift stay as
// they are; the simulator's features.skip_unused_block_update is the hardware side of this).
std::vector<Param*> slu_updated_params(Network& net, const std::vector<Param*>& candidates);

}  // namespace eg::train
