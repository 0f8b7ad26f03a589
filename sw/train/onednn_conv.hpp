#pragma once
// A convolution layer's three products on oneDNN (Debian's libdnnl, the library LibTorch's CPU
// convolutions use): direct JIT kernels in blocked layouts instead of im2col + GEMM, which at
// 16–64 channels spends more time moving the column matrix than multiplying it.
// Weights stay OIHW outside. Activations come in either layout and leave in NChw16c when the
// channel count allows (the kernels' own order: no reorder between chained convolutions); dx has
// the layout of x, dy must have the layout of y. Results are run-to-run reproducible for a given
// thread count (oneDNN's guarantee for 64-byte aligned buffers, which Tensor provides).
#include <array>
#include <map>
#include <memory>

#include "sw/train/tensor.hpp"

namespace eg::train {

struct ConvGeometry;

class OnednnConv {
 public:
  explicit OnednnConv(const ConvGeometry& g);
  ~OnednnConv();
  OnednnConv(const OnednnConv&) = delete;
  OnednnConv& operator=(const OnednnConv&) = delete;

  // y[N,M,E,F] = conv(x[N,C,H,W], w[M,C,K,K]); keep_input for a backward pass to follow.
  void forward(const Tensor& x, const Tensor& w, Tensor& y, bool keep_input);
  // For the last forward's input x: dw[M,C,K,K] = correlation of x with dy (when dw is given)
  // and dx[N,C,H,W] = transposed conv of dy with `feedback` (W for back-propagation; when dx is
  // given). x must be the tensor that forward read, unchanged.
  void backward(const Tensor& x, const Tensor& dy, const Tensor& feedback, Tensor* dw, Tensor* dx);
  // dw = correlation of any x (of the last forward's shape and layout, not necessarily the tensor
  // it read: x is staged again) with dy.
  void weight_gradient(const Tensor& x, const Tensor& dy, Tensor& dw);

  // For a layer whose batch changes every step (an SLU-gated branch runs on its active samples):
  // run a batch of N as one of the next power of two, the extra samples zero, so that at most
  // log2(batch) + 1 plans are ever built (a plan per N costs ~10 ms of JIT per kernel and memory
  // that stays). Convolution treats samples independently, so the real samples' y and dx are
  // those of an N-sample run, and the zero samples (zero x, zero dy) add exactly 0 to dw.
  void set_batch_buckets(bool on) { buckets_ = on; }

 private:
  struct Plan;  // primitives and layout buffers for one input shape
  Plan& plan_for(const Tensor& x);
  void forward_plain(const Tensor& x, const Tensor& w, Tensor& y, bool keep_input);
  void backward_plain(const Tensor& x, const Tensor& dy, const Tensor& feedback, Tensor* dw,
                      Tensor* dx);
  void weight_gradient_plain(const Tensor& x, const Tensor& dy, Tensor& dw);

  std::array<int64_t, 5> geometry_;                                // M, K, stride, pad, C
  std::map<std::array<int64_t, 5>, std::unique_ptr<Plan>> plans_;  // N, C, H, W, x layout
  Plan* last_ = nullptr;  // the plan of the last forward, whose input the backward uses
  bool buckets_ = false;
  Tensor x_pad_, y_pad_, dy_pad_, dx_pad_;  // bucketed runs: the padded tensors
  Tensor wg_x_pad_, wg_dy_pad_;             // ... and weight_gradient's (x_pad_ is backward's)
  int64_t last_n_ = 0;                      // the last forward's real batch
};

}  // namespace eg::train
