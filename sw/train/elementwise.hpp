#pragma once
// Parameter-free elementwise layers: ReLU and the residual add.
#include "sw/train/layer.hpp"

namespace eg::train {

class Relu : public Layer {
 public:
  trace::LayerType type() const override { return trace::LayerType::Relu; }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, Tensor& dout,
                const std::vector<Tensor*>& din, const BackwardContext& ctx) override;
};

class Add : public Layer {
 public:
  trace::LayerType type() const override { return trace::LayerType::Add; }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, Tensor& dout,
                const std::vector<Tensor*>& din, const BackwardContext& ctx) override;
};

}  // namespace eg::train
