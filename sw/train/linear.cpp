#include "sw/train/linear.hpp"

#include <stdexcept>

#include "sw/train/gemm.hpp"

namespace eg::train {

Linear::Linear(int64_t in_features, int64_t out_features, uint64_t seed, uint64_t layer_id)
    : WeightedLayer(seed, layer_id, {out_features, in_features}, in_features,
                    /*kaiming_normal=*/false),
      in_(in_features),
      out_(out_features) {}

void Linear::forward(const std::vector<const Tensor*>& in, Tensor& out, bool) {
  const Tensor& x = *in.at(0);
  const int64_t n = x.dim(0);
  if (x.size() != n * in_) throw std::logic_error("fc: input size does not match the layer");
  if (x.layout != Layout::Nchw) throw std::logic_error("fc: input must be NCHW");
  const Tensor& operand = forward_operands(x);
  out.ensure({n, out_});
  gemm(false, true, n, out_, in_, operand.ptr(), in_, forward_weight().ptr(), in_, out.ptr(), out_);
}

void Linear::backward(const std::vector<const Tensor*>& in, const Tensor&, Tensor& dout,
                      const std::vector<Tensor*>& din, const BackwardContext& ctx) {
  const Tensor& x = psg_.on ? xq_ : *in.at(0);
  const int64_t n = x.dim(0);
  begin_backward(dout, ctx);
  if (ctx.param_grads && psg_.on)
    psg_weight_gradient(x, dout);
  else if (ctx.param_grads)
    gemm(true, false, out_, in_, n, dout.ptr(), out_, x.ptr(), in_, w_.grad.ptr(), in_);
  if (!needs_own_dx(din, ctx)) return;
  dx_own_.ensure({n, in_});
  gemm(false, false, n, in_, out_, dout.ptr(), out_, feedback().ptr(), in_, dx_own_.ptr(), in_);
  end_backward(dx_own_, ctx);
  if (din[0]) store_gradient(dx_own_.ptr(), din[0]->ptr(), dx_own_.size(), adds_to_din(ctx, 0));
}

void Linear::weight_gradient_of(const Tensor& x, const Tensor& gy, Tensor& gw) {
  const int64_t n = x.dim(0);
  gemm(true, false, out_, in_, n, gy.ptr(), out_, x.ptr(), in_, gw.ptr(), in_);
}

}  // namespace eg::train
