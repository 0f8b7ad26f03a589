#pragma once
// 2-D convolution without bias, any kernel/stride/padding. Two interchangeable backends:
// oneDNN's direct convolutions (the default, fast) and OpenBLAS sgemm on a batched im2col
// (cols [C·R·S, N·E·F], y = W[M, C·R·S] · cols), kept as an independent reference that the
// tests compare the first against.
#include <memory>

#include "sw/train/onednn_conv.hpp"
#include "sw/train/weighted_layer.hpp"

namespace eg::train {

struct ConvGeometry {
  int64_t in_channels = 0, out_channels = 0, kernel = 3, stride = 1, pad = 1;
  int64_t out_size(int64_t in) const { return (in + 2 * pad - kernel) / stride + 1; }
};

enum class ConvBackend { Onednn, Im2col };
// Process-wide, like the thread count: every conv layer uses the same backend.
ConvBackend& conv_backend();

class Conv2d : public WeightedLayer {
 public:
  Conv2d(const ConvGeometry& g, uint64_t seed, uint64_t layer_id);
  trace::LayerType type() const override { return trace::LayerType::Conv; }
  const ConvGeometry& geometry() const { return g_; }
  // An SLU-gated branch's conv: its batch changes every step (OnednnConv::set_batch_buckets).
  void set_batch_buckets(bool on) { buckets_ = on; }
  // Gradient filtering with r x r patches (grad_filter.hpp); 0 = off (plain back-propagation).
  void set_grad_filter(int64_t r) { filter_r_ = r; }
  int64_t grad_filter() const { return filter_r_; }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, Tensor& dout,
                const std::vector<Tensor*>& din, const BackwardContext& ctx) override;

 private:
  void weight_gradient_of(const Tensor& x, const Tensor& gy, Tensor& gw) override;
  void build_cols(const Tensor& x);  // cols_ = im2col(x)
  void forward_im2col(const Tensor& x, Tensor& out);
  void backward_im2col(const Tensor& x, const Tensor& dout, const BackwardContext& ctx,
                       bool own_dx);
  // The filtered backward: dW and (when wanted) this layer's own dx into dx_own (NCHW).
  void backward_filtered(const Tensor& x, const Tensor& dout, const BackwardContext& ctx,
                         bool own_dx);

  ConvGeometry g_;
  bool buckets_ = false;
  int64_t filter_r_ = 0;
  std::unique_ptr<OnednnConv> onednn_;
  Tensor cols_;  // im2col of the last forward input (reused by the weight gradient)
  // Scratch shared by all conv layers (layers run one at a time): [M, N·E·F] output/dy matrix,
  // [C·R·S, N·E·F] column gradient, and this layer's own dx before it is added to the producer's.
  struct Scratch {
    Tensor ymat, dcols, dx_own;
  };
  static Scratch& scratch();
};

}  // namespace eg::train
