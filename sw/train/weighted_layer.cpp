#include "sw/train/weighted_layer.hpp"

#include <cmath>

#include "sw/train/layout.hpp"
#include "sw/train/random.hpp"

namespace eg::train {

HistogramSpec& WeightedLayer::histogram_spec() {
  static HistogramSpec spec;
  return spec;
}

WeightedLayer::WeightedLayer(uint64_t seed, uint64_t layer_id, std::vector<int64_t> w_shape,
                             int64_t fan_in, bool kaiming_normal)
    : id_(layer_id) {
  w_.name = "w";
  w_.value.reset(w_shape);
  w_.grad.reset(w_shape);
  w_.momentum.reset(w_shape);
  b_.reset(w_shape);
  const CounterRng init(stream_key({seed, uint64_t(Stream::WeightInit), layer_id}));
  const CounterRng fb(stream_key({seed, uint64_t(Stream::Feedback), layer_id}));
  const double fan = static_cast<double>(fan_in);
  const double w_std = std::sqrt(2.0 / fan), w_bound = 1.0 / std::sqrt(fan);
  const double b_bound = std::sqrt(6.0 / fan);
  for (int64_t i = 0; i < w_.value.size(); ++i) {
    w_.value.data[i] = kaiming_normal ? static_cast<float>(w_std * init.normal(i))
                                      : static_cast<float>(w_bound * (2.0 * init.uniform(i) - 1.0));
    b_.data[i] = static_cast<float>(b_bound * (2.0 * fb.uniform(i) - 1.0));
  }
}

const Tensor& WeightedLayer::forward_operands(const Tensor& x) {
  if (!psg_.on) return x;
  xq_.ensure(x.shape, x.layout);
  psg::quantize(x.ptr(), xq_.ptr(), x.size(), psg::scale_of(x.ptr(), x.size(), psg::kBitsX),
                psg::kBitsX, psg::kBitsX);
  const Tensor& w = w_.value;
  wq_.ensure(w.shape);
  psg::quantize(w.ptr(), wq_.ptr(), w.size(), psg::scale_of(w.ptr(), w.size(), psg::kBitsW),
                psg::kBitsW, psg::kBitsW);
  return xq_;
}

void WeightedLayer::psg_weight_gradient(const Tensor& x, const Tensor& dout) {
  // Scratch shared by all layers (they run one at a time).
  static Tensor gyq, x_msb, gy_msb;
  Tensor& predictor = psg_predictor_;
  const float sx = psg::scale_of(x.ptr(), x.size(), psg::kBitsX);
  const float sg = psg::scale_of(dout.ptr(), dout.size(), psg::kBitsGy);
  // Full precision: x (already 8-bit) with g_y at 16 bits.
  gyq.ensure(dout.shape, dout.layout);
  psg::quantize(dout.ptr(), gyq.ptr(), dout.size(), sg, psg::kBitsGy, psg::kBitsGy);
  weight_gradient_of(x, gyq, w_.grad);
  // Predictor: the top 4 bits of x with the top 10 bits of g_y, same scales.
  x_msb.ensure(x.shape, x.layout);
  psg::quantize(x.ptr(), x_msb.ptr(), x.size(), sx, psg::kBitsX, psg::kBitsXMsb);
  gy_msb.ensure(dout.shape, dout.layout);
  psg::quantize(dout.ptr(), gy_msb.ptr(), dout.size(), sg, psg::kBitsGy, psg::kBitsGyMsb);
  predictor.ensure(w_.grad.shape);
  weight_gradient_of(x_msb, gy_msb, predictor);
  psg_mask_.ensure(w_.grad.shape);
  psg_decision_ = psg::decide(predictor.ptr(), w_.grad.ptr(), w_.grad.size(), psg_.beta,
                              w_.grad.ptr(), psg_mask_.ptr());
}

void WeightedLayer::begin_backward(Tensor& dout, const BackwardContext& ctx) {
  feedback_is_w_ = ctx.mode == Mode::Bp || ctx.mode == Mode::BpPrune;
  if (!feedback_is_w_) make_feedback(ctx.mode, w_.value, b_, feedback_);
  if (ctx.record) {
    rec_.valid = true;
    const HistogramSpec& hs = histogram_spec();
    rec_.dy_histogram = histogram_in_std(dout.ptr(), dout.size(), hs.bins, hs.range_std);
  }
  PruneResult pr;
  if (mode_prunes(ctx.mode)) {
    pr = stochastic_prune(dout, ctx.pruning_rate, ctx.sigma_estimator,
                          stream_key({ctx.prune_key, id_}), /*measure_nonzero=*/ctx.record);
  } else if (ctx.record) {
    pr.nonzero_before = pr.nonzero_after = nonzero_fraction(dout.ptr(), dout.size());
  }
  if (ctx.record) {
    rec_.prune = pr;
    convert_layout(dout, Layout::Nchw, rec_.dy);  // records are NCHW, as traces are
  }
}

void WeightedLayer::end_backward(const Tensor& dx_own, const BackwardContext& ctx) {
  if (ctx.record_bp_reference) {
    rec_.bp_dx = dx_own;
    rec_.bp_valid = true;
  }
  if (ctx.record) {
    // The angle is the same in any layout as long as both tensors share it.
    rec_.has_angle =
        rec_.bp_valid && rec_.bp_dx.shape == dx_own.shape && rec_.bp_dx.layout == dx_own.layout;
    if (rec_.has_angle)
      rec_.angle_to_bp_deg = angle_deg(dx_own.ptr(), rec_.bp_dx.ptr(), dx_own.size());
    convert_layout(dx_own, Layout::Nchw, rec_.dx);
  }
}

}  // namespace eg::train
