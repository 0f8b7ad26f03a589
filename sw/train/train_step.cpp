#include "sw/train/train_step.hpp"

#include "sw/train/random.hpp"

namespace eg::train {

LossResult forward_backward(Network& net, const Tensor& x, const std::vector<int>& labels,
                            const StepSettings& settings, int64_t iteration, bool record) {
  const Tensor& logits = net.forward(x, /*training=*/true);
  Tensor dlogits;
  const LossResult loss = softmax_cross_entropy(logits, labels, &dlogits);
  if (record) {
    for (WeightedLayer* w : net.weighted_layers()) w->clear_record();
    BackwardContext reference;  // plain BP, no pruning, parameters' gradients untouched
    reference.mode = Mode::Bp;
    reference.param_grads = false;
    reference.record_bp_reference = true;
    net.backward(dlogits, reference);
  }
  BackwardContext ctx;
  ctx.mode = settings.mode;
  ctx.pruning_rate = settings.pruning_rate;
  ctx.sigma_estimator = settings.sigma_estimator;
  ctx.prune_key = stream_key({settings.seed, uint64_t(Stream::Pruning), uint64_t(iteration)});
  ctx.record = record;
  net.backward(dlogits, ctx);
  return loss;
}

}  // namespace eg::train
