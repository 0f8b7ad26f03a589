#pragma once
// What conv and fc layers share: the trained weight W, the fixed random feedback B, the feedback
// matrix actually used, pruning of dL/dY, and the tensors/statistics kept for stats and traces.
#include <cstdint>
#include <vector>

#include "sw/train/layer.hpp"
#include "sw/train/layer_stats.hpp"
#include "workloads/psg.hpp"

namespace eg::train {

struct WeightedRecord {
  bool valid = false;
  Tensor dy;  // δ̂ actually used (after pruning)
  Tensor dx;  // this layer's own contribution to dL/d(input)
  PruneResult prune;
  Histogram dy_histogram;  // of δ before pruning
  bool has_angle = false;
  double angle_to_bp_deg = 0.0;
  bool bp_valid = false;
  Tensor bp_dx;  // dx of the reference BP pass on the same mini-batch
  // Gradient filtering (grad_filter.hpp), conv layers that filter only: g~, x~ and W~ (NCHW/MC11).
  Tensor gy_filtered, x_filtered, w_summed;
};

// E²-Train's predictive sign gradient for this layer (workloads/psg.hpp has the arithmetic):
// forward multiplies x and w fake-quantised to 8 bits; the weight gradient becomes the signs of
// the predictor where it decides and of the full-precision (8-bit x, 16-bit g_y) gradient
// elsewhere.
struct PsgSettings {
  bool on = false;
  double beta = 0.05;
};

struct HistogramSpec {
  int bins = 41;
  double range_std = 4.0;
};

class WeightedLayer : public Layer {
 public:
  // fan_in = C·R·S. W: Kaiming-normal N(0, 2/fan_in) for conv (He et al. 2015, as torchvision's
  // ResNet), U(±1/√fan_in) for fc (PyTorch's Linear default).
  // B: U(±√(6/fan_in)) (docs/DESIGN.md §1.3).
  WeightedLayer(uint64_t seed, uint64_t layer_id, std::vector<int64_t> w_shape, int64_t fan_in,
                bool kaiming_normal);

  Param& weight() { return w_; }
  const Param& weight() const { return w_; }
  const Tensor& random_b() const { return b_; }
  // The feedback matrix as used by the last backward: W itself in the back-propagation modes.
  const Tensor& feedback() const { return feedback_is_w_ ? forward_weight() : feedback_; }
  const WeightedRecord& record() const { return rec_; }
  void set_psg(const PsgSettings& s) { psg_ = s; }
  const PsgSettings& psg() const { return psg_; }
  // The operands the last forward multiplied: the fake-quantised x and w under PSG, else the
  // input itself (null: not kept) and W.
  const Tensor* quantized_input() const { return psg_.on ? &xq_ : nullptr; }
  const Tensor& forward_weight() const { return psg_.on ? wq_ : w_.value; }
  // The last PSG weight gradient's decision and mask (1 = full precision decided), shape of W.
  const psg::Decision& psg_decision() const { return psg_decision_; }
  const Tensor& psg_mask() const { return psg_mask_; }
  const Tensor& psg_predictor() const { return psg_predictor_; }  // g_w^msb of the last backward
  void clear_record() { rec_ = WeightedRecord{}; }
  std::vector<Param*> params() override { return {&w_}; }
  static HistogramSpec& histogram_spec();

 protected:
  // Prunes dout per the context, forms the feedback matrix, records pre-pruning stats.
  void begin_backward(Tensor& dout, const BackwardContext& ctx);
  // Records dx (and the angle to the BP reference) after this layer's own dx is computed.
  void end_backward(const Tensor& dx_own, const BackwardContext& ctx);
  bool needs_own_dx(const std::vector<Tensor*>& din, const BackwardContext& ctx) const {
    return din[0] != nullptr || ctx.record || ctx.record_bp_reference;
  }

  // Under PSG: x and W fake-quantised to 8 bits into xq_ and wq_; returns what forward should
  // multiply (xq_, or x itself without PSG).
  const Tensor& forward_operands(const Tensor& x);
  // Under PSG, replaces w_.grad by the PSG signs for operand x (the forward's) and gradient dout;
  // computes the two weight gradients with weight_gradient_of.
  void psg_weight_gradient(const Tensor& x, const Tensor& dout);
  // gw = the weight gradient of input x and output gradient gy, in this layer's own kernels (the
  // same GEMM or convolution as the exact gradient).
  virtual void weight_gradient_of(const Tensor& x, const Tensor& gy, Tensor& gw) = 0;

  Param w_;
  Tensor b_;
  PsgSettings psg_;
  Tensor xq_, wq_, psg_mask_, psg_predictor_;
  psg::Decision psg_decision_;
  Tensor feedback_;             // F for the modes where it differs from W
  bool feedback_is_w_ = false;  // bp, bp-prune: F = W, used in place (no copy per step)
  uint64_t id_;
  WeightedRecord rec_;
};

}  // namespace eg::train
