#pragma once
// Writes small traces with real values for the array tests and the benchmark: every conv/FC layer
// gets random x, w, feedback and a pruned dy (a fraction of exact zeros), and y, dx, dw from the
// naive reference layers, so the simulator's functional check has ground truth.
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tests/hw/array/reference_layers.hpp"
#include "workloads/trace.hpp"

namespace eg::testing {

class TraceBuilder {
 public:
  TraceBuilder(std::string network, int64_t batch, double dy_zero_fraction, uint64_t seed)
      : batch_(batch), zero_fraction_(dy_zero_fraction), rng_(seed) {
    manifest_.network = std::move(network);
    manifest_.dataset = "synthetic";
    manifest_.mode = dy_zero_fraction > 0 ? "efficientgrad" : "bp";
    manifest_.pruning_rate = dy_zero_fraction;
    manifest_.seed = seed;
    manifest_.iteration = 1;
    manifest_.batch = batch;
  }

  // Makes a version 2 trace: the conv/FC layers added after this call also get a random momentum
  // and the post-step w_next and momentum_next by the trainer's SGD (sw/train/sgd.cpp).
  void with_update(const trace::Optimizer& optimizer) { manifest_.optimizer = optimizer; }

  // conv layer; inputs: producer names (empty: network input)
  void conv(const std::string& name, std::vector<std::string> inputs, int64_t c, int64_t h,
            int64_t m, int64_t k, int64_t stride, int64_t pad) {
    ConvShape g{batch_, c, h, h, m, k, k, stride, pad};
    trace::Layer l = base(name, trace::LayerType::Conv, std::move(inputs), {batch_, c, h, h},
                          {batch_, m, g.e(), g.f()});
    l.kernel_r = l.kernel_s = k;
    l.stride = stride;
    l.pad = pad;
    weighted(l, g);
  }
  void fc(const std::string& name, std::vector<std::string> inputs, int64_t c, int64_t m) {
    trace::Layer l = base(name, trace::LayerType::Fc, std::move(inputs), {batch_, c}, {batch_, m});
    weighted(l, fc_shape(batch_, c, m));
  }
  void simple(const std::string& name, trace::LayerType type, std::vector<std::string> inputs,
              Shape in, Shape out, int64_t k = 0) {
    trace::Layer l = base(name, type, std::move(inputs), std::move(in), std::move(out));
    if (type == trace::LayerType::AvgPool || type == trace::LayerType::MaxPool) {
      l.kernel_r = l.kernel_s = k;
      l.stride = k;
    }
    pending_.push_back({l, {}});
  }

  trace::Manifest write(const std::filesystem::path& dir) {
    trace::TraceWriter w(dir);
    for (auto& [layer, tensors] : pending_) {
      for (auto& [role, data] : tensors) w.write_tensor(layer, role, data.data());
      manifest_.layers.push_back(layer);
    }
    w.commit(manifest_);
    return manifest_;
  }

 private:
  trace::Layer base(const std::string& name, trace::LayerType type, std::vector<std::string> inputs,
                    Shape in, Shape out) {
    trace::Layer l;
    l.name = name;
    l.type = type;
    l.inputs = std::move(inputs);
    l.in = std::move(in);
    l.out = std::move(out);
    return l;
  }
  std::vector<float> random(int64_t n) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = u(rng_);
    return v;
  }
  void weighted(trace::Layer& l, const ConvShape& g) {
    const int64_t nx = g.n * g.c * g.h * g.w, nw = g.m * g.c * g.r * g.s,
                  ny = g.n * g.m * g.e() * g.f();
    std::vector<float> x = random(nx), w = random(nw), fb = random(nw), dy = random(ny);
    std::bernoulli_distribution zero(zero_fraction_);
    int64_t zeros = 0;
    for (float& d : dy)
      if (zero(rng_)) d = 0.0f, ++zeros;
    l.stats.dy_nonzero_fraction = 1.0 - static_cast<double>(zeros) / static_cast<double>(ny);
    std::vector<std::pair<std::string, std::vector<float>>> t{
        {"x", x}, {"w", w}, {"feedback", fb}, {"dy", dy}};
    t.push_back({"y", conv_forward(g, x, w)});
    t.push_back({"dx", conv_backward(g, dy, fb)});
    t.push_back({"dw", conv_weight_gradient(g, x, dy)});
    if (manifest_.optimizer) {
      const trace::Optimizer& o = *manifest_.optimizer;
      const float mu = float(o.momentum), wd = float(o.weight_decay), lr = float(o.lr);
      std::vector<float> v = random(nw), w_next(w.size()), v_next(w.size());
      const std::vector<float>& dw = t.back().second;
      for (size_t i = 0; i < w.size(); ++i) {
        v_next[i] = mu * v[i] + (dw[i] + wd * w[i]);
        w_next[i] = w[i] - lr * v_next[i];
      }
      t.push_back({"momentum", v});
      t.push_back({"w_next", w_next});
      t.push_back({"momentum_next", v_next});
    }
    pending_.push_back({l, std::move(t)});
  }

  int64_t batch_;
  double zero_fraction_;
  std::mt19937_64 rng_;
  trace::Manifest manifest_;
  std::vector<std::pair<trace::Layer, std::vector<std::pair<std::string, std::vector<float>>>>>
      pending_;
};

// conv3x3 s1 -> bn -> relu -> {conv3x3 s2, conv1x1 s2 shortcut} -> add -> avgpool -> fc
// With `optimizer`, a version 2 trace (the weight update checked too).
inline trace::Manifest write_tiny_resnet(const std::filesystem::path& dir, double dy_zero_fraction,
                                         uint64_t seed = 1,
                                         std::optional<trace::Optimizer> optimizer = {}) {
  const int64_t n = 2;
  TraceBuilder b("tiny-resnet", n, dy_zero_fraction, seed);
  if (optimizer) b.with_update(*optimizer);
  b.conv("conv1", {}, 3, 8, 4, 3, 1, 1);
  b.simple("bn1", trace::LayerType::Bn, {"conv1"}, {n, 4, 8, 8}, {n, 4, 8, 8});
  b.simple("relu1", trace::LayerType::Relu, {"bn1"}, {n, 4, 8, 8}, {n, 4, 8, 8});
  b.conv("conv2", {"relu1"}, 4, 8, 8, 3, 2, 1);
  b.conv("shortcut", {"relu1"}, 4, 8, 8, 1, 2, 0);
  b.simple("add", trace::LayerType::Add, {"conv2", "shortcut"}, {n, 8, 4, 4}, {n, 8, 4, 4});
  b.simple("avgpool", trace::LayerType::AvgPool, {"add"}, {n, 8, 4, 4}, {n, 8, 1, 1}, 4);
  b.fc("fc", {"avgpool"}, 8, 10);
  return b.write(dir);
}

}  // namespace eg::testing
