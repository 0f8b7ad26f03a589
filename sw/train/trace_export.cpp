#include "sw/train/trace_export.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "sw/train/conv2d.hpp"
#include "sw/train/layout.hpp"
#include "sw/train/linear.hpp"
#include "sw/train/pooling.hpp"
#include "sw/train/slu.hpp"

namespace eg::train {

trace::LayerStats layer_stats(const WeightedLayer& layer) {
  const WeightedRecord& r = layer.record();
  trace::LayerStats s;
  s.dy_nonzero_fraction = r.prune.nonzero_after;
  s.dy_nonzero_fraction_before_pruning = r.prune.nonzero_before;
  s.tau = r.prune.tau;
  s.angle_to_bp_deg = r.has_angle ? r.angle_to_bp_deg : 0.0;
  s.extra["sigma"] = r.prune.sigma;
  // A layer with no backward this step (an SLU branch no sample ran) has an empty histogram.
  std::vector<int64_t> counts = r.dy_histogram.counts;
  if (counts.empty()) counts.assign(static_cast<size_t>(WeightedLayer::histogram_spec().bins), 0);
  s.extra["dy_histogram"] = {{"counts", counts},
                             {"std", r.dy_histogram.std},
                             {"range_std", r.dy_histogram.range_std},
                             {"of", "dy before pruning"}};
  return s;
}

namespace {

// Rows of a compacted per-sample tensor (NCHW, `rows` samples) placed at their samples in a
// full-batch buffer of `batch` samples; the other rows are zero.
std::vector<float> expand_rows(const float* compact, int64_t rows, int64_t per_sample,
                               const std::vector<int64_t>& at, int64_t batch) {
  std::vector<float> full(static_cast<size_t>(batch * per_sample), 0.0f);
  for (int64_t j = 0; j < rows; ++j)
    std::copy(compact + j * per_sample, compact + (j + 1) * per_sample,
              full.begin() + at[j] * per_sample);
  return full;
}

int64_t per_sample(const eg::Shape& s) {
  int64_t n = 1;
  for (size_t i = 1; i < s.size(); ++i) n *= s[i];
  return n;
}

}  // namespace

void write_trace(const std::filesystem::path& dir, Network& net, trace::Manifest manifest,
                 const std::function<void()>& sgd_step) {
  if (manifest.optimizer.has_value() != static_cast<bool>(sgd_step))
    throw std::logic_error("trace: a version 2 trace needs both the optimizer and its step");
  trace::TraceWriter writer(dir);
  const auto& nodes = net.nodes();
  const int64_t batch = nodes[0].out.dim(0);
  manifest.layers.clear();
  // SLU: the gate's sigmoid and the select are not trace layers (a consumer of the select reads
  // the block input); a gated branch's layers are traced with the full batch (slu.hpp).
  std::map<std::string, const SluState*> branch_of;
  for (SluState* st : slu_blocks(net))
    for (const std::string& name : st->branch_layers) branch_of[name] = st;
  auto untraced = [](const Layer* l) {
    return dynamic_cast<const SluGate*>(l) || dynamic_cast<const SluSelect*>(l);
  };
  std::function<int(int)> traced_producer = [&](int j) {
    return j != 0 && dynamic_cast<const SluSelect*>(nodes[j].layer.get())
               ? traced_producer(nodes[j].inputs.at(0))
               : j;
  };
  std::map<std::string, eg::Shape> out_shape;  // traced layer -> its (full-batch) output
  for (size_t i = 1; i < nodes.size(); ++i) {
    const Node& node = nodes[i];
    if (untraced(node.layer.get())) continue;
    trace::Layer l;
    l.name = node.name;
    l.type = node.layer->type();
    const bool merge = dynamic_cast<const SluMerge*>(node.layer.get()) != nullptr;
    for (size_t k = 0; k < node.inputs.size() && (!merge || k < 2); ++k) {
      const int j = traced_producer(node.inputs[k]);
      if (j != 0) l.inputs.push_back(nodes[j].name);
    }
    const Tensor& x = nodes[node.inputs.at(0)].out;
    l.in = x.shape;
    l.out = node.out.shape;
    const auto branch = branch_of.find(node.name);
    const SluState* gated = branch == branch_of.end() ? nullptr : branch->second;
    if (gated || merge) {
      // Shapes from the producer and the layer's geometry: a branch no sample used has none.
      const int j = traced_producer(node.inputs.at(0));
      l.in = j == 0 ? nodes[0].out.shape : out_shape.at(nodes[j].name);
      l.out = l.in;
      if (auto* conv = dynamic_cast<const Conv2d*>(node.layer.get())) {
        const ConvGeometry& g = conv->geometry();
        l.out = {batch, g.out_channels, (l.in[2] + 2 * g.pad - g.kernel) / g.stride + 1,
                 (l.in[3] + 2 * g.pad - g.kernel) / g.stride + 1};
      }
    }
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
      const bool unused = gated && gated->active_at.empty();
      if (!r.valid && !unused)
        throw std::logic_error("trace: layer '" + l.name + "' has no recorded backward");
      Tensor plain_x, plain_y;  // traces are NCHW whatever order the trainer keeps
      // A gated branch's per-sample tensors hold the active samples' rows: placed at their
      // samples, zero elsewhere.
      auto write_rows = [&](const char* role, const Tensor* t, const eg::Shape& shape) {
        if (!gated) return writer.write_tensor(l, role, t->ptr());
        const int64_t rows = static_cast<int64_t>(gated->active_at.size());
        const std::vector<float> full = expand_rows(rows ? t->ptr() : nullptr, rows,
                                                    per_sample(shape), gated->active_at, batch);
        writer.write_tensor(l, role, full.data());
      };
      // What the layer multiplied: under PSG the fake-quantised x and w.
      const Tensor* xq = w->quantized_input();
      const Tensor& wx = xq ? *xq : x;
      write_rows("x", wx.size() ? &as_nchw(wx, plain_x) : &wx, l.in);
      writer.write_tensor(l, "w", w->forward_weight().ptr());
      const Tensor& fb = w->feedback();
      // A branch no sample used formed no feedback matrix this step: the one it would use is W's.
      writer.write_tensor(
          l, "feedback",
          fb.size() == w->weight().value.size() ? fb.ptr() : w->forward_weight().ptr());
      write_rows("y", node.out.size() ? &as_nchw(node.out, plain_y) : &node.out, l.out);
      write_rows("dy", &r.dy, l.out);
      write_rows("dx", &r.dx, l.in);
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
    out_shape[l.name] = l.out;
    manifest.layers.push_back(std::move(l));
  }
  if (manifest.slu) {
    manifest.slu->blocks.clear();
    for (const SluState* st : slu_blocks(net)) {
      trace::SluBlock b;
      b.name = st->block;
      b.layers = st->branch_layers;
      b.gate_layers = st->gate_layers;
      b.mask = st->block + ".slu_mask.npy";
      b.probabilities = st->block + ".slu_probabilities.npy";
      const std::vector<float> mask(st->active.begin(), st->active.end());
      writer.write_array(b.mask, {batch}, mask.data());
      writer.write_array(b.probabilities, {batch}, st->prob.data());
      manifest.slu->blocks.push_back(std::move(b));
    }
  }
  if (sgd_step) {
    sgd_step();
    for (trace::Layer& l : manifest.layers) {
      const auto it =
          std::find_if(nodes.begin(), nodes.end(), [&](const Node& n) { return n.name == l.name; });
      if (it == nodes.end() || net.is_frozen(static_cast<size_t>(it - nodes.begin()))) continue;
      if (auto* w = dynamic_cast<const WeightedLayer*>(it->layer.get())) {
        writer.write_tensor(l, "w_next", w->weight().value.ptr());
        writer.write_tensor(l, "momentum_next", w->weight().momentum.ptr());
      }
    }
  }
  writer.commit(manifest);
}

}  // namespace eg::train
