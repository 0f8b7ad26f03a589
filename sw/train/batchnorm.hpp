#pragma once
// Batch normalisation over (N, H, W) per channel: batch statistics in training (running mean and
// unbiased running variance updated with `momentum`, PyTorch's convention), running statistics
// in evaluation. Learnable scale γ (init 1) and shift β (init 0).
// Two passes forward (statistics, then y = x·scale + shift) and two backward (two sums, then dx),
// each a vectorised loop over one (n, c) plane at a time.
#include "sw/train/layer.hpp"

namespace eg::train {

class BatchNorm : public Layer {
 public:
  BatchNorm(int64_t channels, double momentum, double eps);
  trace::LayerType type() const override { return trace::LayerType::Bn; }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, Tensor& dout,
                const std::vector<Tensor*>& din, const BackwardContext& ctx) override;
  std::vector<Param*> params() override { return {&gamma_, &beta_}; }
  std::vector<Tensor*> buffers() override { return {&running_mean_, &running_var_}; }
  // Frozen statistics (fine-tuning, gradient filtering): training forwards normalise with the
  // running statistics and leave them unchanged, and backward is that of the fixed affine map
  // (dx = γ·dy/√(running var + eps); γ and β still get their gradients).
  void set_frozen_statistics(bool frozen) { frozen_stats_ = frozen; }
  // Stochastic weight averaging recomputes the running statistics as a plain average over a pass
  // of mini-batches: momentum 1/(k+1) at the k-th (0-based), after a reset.
  void set_momentum(double momentum) { momentum_ = momentum; }
  double momentum() const { return momentum_; }

 private:
  struct Affine {
    float scale, shift;
  };
  // Mean and variance of channel ci from sums of x − k over `count` values (training; updates the
  // running statistics and keeps mean/inv_std for backward) or the running statistics
  // (evaluation), folded into y = x·scale + shift.
  Affine channel_affine(int64_t ci, double sum, double sum_sq, float k, double count,
                        bool training);
  // The same passes for channel-blocked (NChw16c) tensors: each 16-float pixel holds 16
  // channels, so the per-channel sums run in 16 lanes directly.
  void forward_blocked(const Tensor& x, Tensor& out, bool training);
  void backward_blocked(const Tensor& x, const Tensor& dout, float* dx, bool add, bool param_grads);

  int64_t channels_;
  double momentum_, eps_;
  bool frozen_stats_ = false;
  bool keep_for_backward_ = false;  // this forward used frozen statistics in training
  Param gamma_, beta_;
  Tensor running_mean_, running_var_;
  // Of the last training forward; backward recomputes x̂ = (x − mean)·inv_std from its input
  // rather than storing x̂ (one pass less to write in the forward).
  std::vector<float> mean_, inv_std_;
  std::vector<double> partial_;  // per-(image, channel) sums of the blocked passes
};

}  // namespace eg::train
