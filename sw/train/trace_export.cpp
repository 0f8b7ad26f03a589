#include "sw/train/trace_export.hpp"

#include <stdexcept>

#include "sw/train/conv2d.hpp"
#include "sw/train/layout.hpp"
#include "sw/train/linear.hpp"
#include "sw/train/pooling.hpp"

namespace eg::train {

trace::LayerStats layer_stats(const WeightedLayer& layer) {
  const WeightedRecord& r = layer.record();
  trace::LayerStats s;
  s.dy_nonzero_fraction = r.prune.nonzero_after;
  s.dy_nonzero_fraction_before_pruning = r.prune.nonzero_before;
  s.tau = r.prune.tau;
  s.angle_to_bp_deg = r.has_angle ? r.angle_to_bp_deg : 0.0;
  s.extra["sigma"] = r.prune.sigma;
  s.extra["dy_histogram"] = {{"counts", r.dy_histogram.counts},
                             {"std", r.dy_histogram.std},
                             {"range_std", r.dy_histogram.range_std},
                             {"of", "dy before pruning"}};
  return s;
}

void write_trace(const std::filesystem::path& dir, Network& net, trace::Manifest manifest,
                 const std::function<void()>& sgd_step) {
  if (manifest.optimizer.has_value() != static_cast<bool>(sgd_step))
    throw std::logic_error("trace: a version 2 trace needs both the optimizer and its step");
  trace::TraceWriter writer(dir);
  const auto& nodes = net.nodes();
  manifest.layers.clear();
  for (size_t i = 1; i < nodes.size(); ++i) {
    const Node& node = nodes[i];
    trace::Layer l;
    l.name = node.name;
    l.type = node.layer->type();
    for (int j : node.inputs)
      if (j != 0) l.inputs.push_back(nodes[j].name);
    const Tensor& x = nodes[node.inputs.at(0)].out;
    l.in = x.shape;
    l.out = node.out.shape;
    if (auto* conv = dynamic_cast<const Conv2d*>(node.layer.get())) {
      l.kernel_r = l.kernel_s = conv->geometry().kernel;
      l.stride = conv->geometry().stride;
      l.pad = conv->geometry().pad;
    } else if (auto* fc = dynamic_cast<const Linear*>(node.layer.get())) {
      l.in = {x.dim(0), fc->in_features()};
    } else if (auto* ap = dynamic_cast<const AvgPool*>(node.layer.get())) {
      l.kernel_r = ap->geometry().kernel_h;
      l.kernel_s = ap->geometry().kernel_w;
      l.stride = ap->geometry().stride;
      l.pad = ap->geometry().pad;
    } else if (auto* mp = dynamic_cast<const MaxPool*>(node.layer.get())) {
      l.kernel_r = mp->geometry().kernel_h;
      l.kernel_s = mp->geometry().kernel_w;
      l.stride = mp->geometry().stride;
      l.pad = mp->geometry().pad;
    }
    l.frozen = net.is_frozen(i);
    if (auto* conv = dynamic_cast<const Conv2d*>(node.layer.get()); conv && !l.frozen)
      l.grad_filter = conv->grad_filter();
    auto* weighted = dynamic_cast<const WeightedLayer*>(node.layer.get());
    if (weighted && l.frozen) {
      // Forward only: its input, weights and output; no gradient, no update.
      Tensor plain_x, plain_y;
      writer.write_tensor(l, "x", as_nchw(x, plain_x).ptr());
      writer.write_tensor(l, "w", weighted->weight().value.ptr());
      writer.write_tensor(l, "y", as_nchw(node.out, plain_y).ptr());
    } else if (auto* w = weighted) {
      const WeightedRecord& r = w->record();
      if (!r.valid)
        throw std::logic_error("trace: layer '" + l.name + "' has no recorded backward");
      Tensor plain_x, plain_y;  // traces are NCHW whatever order the trainer keeps
      // What the layer multiplied: under PSG the fake-quantised x and w.
      const Tensor* xq = w->quantized_input();
      writer.write_tensor(l, "x", as_nchw(xq ? *xq : x, plain_x).ptr());
      writer.write_tensor(l, "w", w->forward_weight().ptr());
      writer.write_tensor(l, "feedback", w->feedback().ptr());
      writer.write_tensor(l, "y", as_nchw(node.out, plain_y).ptr());
      writer.write_tensor(l, "dy", r.dy.ptr());
      writer.write_tensor(l, "dx", r.dx.ptr());
      writer.write_tensor(l, "dw", w->weight().grad.ptr());
      if (sgd_step) writer.write_tensor(l, "momentum", w->weight().momentum.ptr());
      if (l.grad_filter > 0) {
        writer.write_tensor(l, "gy_filtered", r.gy_filtered.ptr());
        writer.write_tensor(l, "x_filtered", r.x_filtered.ptr());
        writer.write_tensor(l, "w_summed", r.w_summed.ptr());
      }
      l.stats = layer_stats(*w);
      if (w->psg().on) {
        if (!manifest.weight_gradient)
          throw std::logic_error("trace: a PSG layer needs the manifest's weight_gradient record");
        writer.write_tensor(l, trace::kPsgMaskRole, w->psg_mask().ptr());
        l.psg = trace::PsgLayer{w->psg_decision().tau, w->psg_decision().full_precision_fraction()};
      }
    }
    manifest.layers.push_back(std::move(l));
  }
  if (sgd_step) {
    sgd_step();
    size_t at = 0;
    for (size_t i = 1; i < nodes.size(); ++i, ++at)
      if (auto* w = dynamic_cast<const WeightedLayer*>(nodes[i].layer.get());
          w && !net.is_frozen(i)) {
        trace::Layer& l = manifest.layers[at];
        writer.write_tensor(l, "w_next", w->weight().value.ptr());
        writer.write_tensor(l, "momentum_next", w->weight().momentum.ptr());
      }
  }
  writer.commit(manifest);
}

}  // namespace eg::train
