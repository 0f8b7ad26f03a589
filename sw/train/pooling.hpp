#pragma once
// Average and max pooling over k×k windows (stride, padding); global average pooling is k = H = W.
// Average pooling counts padded positions as zeros (divides by kernel_h·kernel_w).
#include "sw/train/layer.hpp"

namespace eg::train {

struct PoolGeometry {
  int64_t kernel_h = 2, kernel_w = 2, stride = 2, pad = 0;
  int64_t out_h(int64_t in) const { return (in + 2 * pad - kernel_h) / stride + 1; }
  int64_t out_w(int64_t in) const { return (in + 2 * pad - kernel_w) / stride + 1; }
};

class AvgPool : public Layer {
 public:
  explicit AvgPool(PoolGeometry g) : g_(g) {}
  trace::LayerType type() const override { return trace::LayerType::AvgPool; }
  const PoolGeometry& geometry() const { return g_; }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, Tensor& dout,
                const std::vector<Tensor*>& din, const BackwardContext& ctx) override;

 private:
  PoolGeometry g_;
  Tensor plain_x_, plain_dx_;  // NCHW copies when the input is channel-blocked
};

class MaxPool : public Layer {
 public:
  explicit MaxPool(PoolGeometry g) : g_(g) {}
  trace::LayerType type() const override { return trace::LayerType::MaxPool; }
  const PoolGeometry& geometry() const { return g_; }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, Tensor& dout,
                const std::vector<Tensor*>& din, const BackwardContext& ctx) override;

 private:
  PoolGeometry g_;
  Tensor plain_x_, plain_dx_;    // NCHW copies when the input is channel-blocked
  std::vector<int64_t> argmax_;  // flat index within the input plane; -1 if the window is padding
};

}  // namespace eg::train
