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

// What both pooling layers share: the window geometry, and NCHW scratch for channel-blocked
// inputs (pooling runs on NCHW; it is rare and small).
class PoolLayer : public Layer {
 public:
  explicit PoolLayer(PoolGeometry g) : g_(g) {}
  const PoolGeometry& geometry() const { return g_; }

 protected:
  // The input in NCHW: itself, or a converted copy.
  const Tensor& plain_input(const Tensor& x);
  // Where backward scatters its adds: din itself (zeroed first unless it already holds a
  // gradient) when NCHW, else zeroed scratch that finish_backward writes into din.
  Tensor& backward_target(Tensor& din, bool add);
  void finish_backward(const Tensor& target, Tensor& din, bool add);

  PoolGeometry g_;

 private:
  Tensor plain_x_, plain_dx_;
};

class AvgPool : public PoolLayer {
 public:
  using PoolLayer::PoolLayer;
  trace::LayerType type() const override { return trace::LayerType::AvgPool; }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, Tensor& dout,
                const std::vector<Tensor*>& din, const BackwardContext& ctx) override;
};

class MaxPool : public PoolLayer {
 public:
  using PoolLayer::PoolLayer;
  trace::LayerType type() const override { return trace::LayerType::MaxPool; }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, Tensor& dout,
                const std::vector<Tensor*>& din, const BackwardContext& ctx) override;

 private:
  std::vector<int64_t> argmax_;  // flat index within the input plane; -1 if the window is padding
};

}  // namespace eg::train
