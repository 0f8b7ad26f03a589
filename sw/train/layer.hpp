#pragma once
// The layer interface of the training graph, the trainable parameter record, and what a backward
// pass needs to know (feedback mode, pruning, whether to keep tensors for stats and traces).
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sw/train/feedback.hpp"
#include "sw/train/pruning.hpp"
#include "sw/train/tensor.hpp"
#include "workloads/trace.hpp"

namespace eg::train {

struct Param {
  std::string name;
  Tensor value, grad, momentum;
  bool weight_decay = true;  // conv/fc weights decay; BN scale/shift do not
};

struct BackwardContext {
  Mode mode = Mode::Bp;
  double pruning_rate = 0.0;
  SigmaEstimator sigma_estimator = SigmaEstimator::MeanAbs;
  uint64_t prune_key = 0;            // per mini-batch; each layer mixes in its own id
  bool param_grads = true;           // false for the extra reference BP pass
  bool record = false;               // keep dy, dx, feedback and stats in the weighted layers
  bool record_bp_reference = false;  // keep this pass's dx as the BP reference for angles
  // Set by the network per layer: din[k] holds no gradient yet, so the layer assigns it instead
  // of adding to it (which spares zeroing every gradient tensor before each backward pass).
  std::array<bool, 4> assign_din{};
};

// Whether a layer adds its contribution to din[k] (another consumer already wrote it, or the
// caller zeroed it) or assigns it.
inline bool adds_to_din(const BackwardContext& ctx, size_t k) {
  return !(k < ctx.assign_din.size() && ctx.assign_din[k]);
}

// dst = src or dst += src over n floats, across the thread pool: how a layer hands a gradient it
// computed separately to its producer.
void store_gradient(const float* src, float* dst, int64_t n, bool add);

class Layer {
 public:
  virtual ~Layer() = default;
  virtual trace::LayerType type() const = 0;
  // Computes `out` from the inputs; `training` selects batch statistics for BN.
  virtual void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) = 0;
  // Given dL/d(out) in `dout` (may be modified in place, e.g. pruned), ADDS each input's gradient
  // into din[i] (null when the input needs no gradient, e.g. the network input).
  virtual void backward(const std::vector<const Tensor*>& in, const Tensor& out, Tensor& dout,
                        const std::vector<Tensor*>& din, const BackwardContext& ctx) = 0;
  virtual std::vector<Param*> params() { return {}; }
  // Whether the layer runs on an input batch of 0 samples (SLU's select and merge). The network
  // skips any other layer whose input is empty (a gated branch no sample uses) and zeroes its
  // parameters' gradients.
  virtual bool accepts_empty_batch() const { return false; }
  // Non-trainable state that checkpoints must keep (BN running statistics).
  virtual std::vector<Tensor*> buffers() { return {}; }
};

}  // namespace eg::train
