#pragma once
// Fully connected layer without bias: y[N,M] = x[N,C] · Wᵀ; x of shape [N,C,1,1] is flattened.
#include "sw/train/weighted_layer.hpp"

namespace eg::train {

class Linear : public WeightedLayer {
 public:
  Linear(int64_t in_features, int64_t out_features, uint64_t seed, uint64_t layer_id);
  trace::LayerType type() const override { return trace::LayerType::Fc; }
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, Tensor& dout,
                const std::vector<Tensor*>& din, const BackwardContext& ctx) override;

 private:
  void weight_gradient_of(const Tensor& x, const Tensor& gy, Tensor& gw) override;

  int64_t in_, out_;
  Tensor dx_own_;
};

}  // namespace eg::train
