#include "sw/train/resnet.hpp"

#include <cmath>
#include <stdexcept>

#include "base/checked.hpp"
#include "sw/train/batchnorm.hpp"
#include "sw/train/conv2d.hpp"
#include "sw/train/elementwise.hpp"
#include "sw/train/linear.hpp"
#include "sw/train/pooling.hpp"

namespace eg::train {
namespace {

// First layer id of the SLU gates' FC layers (weight and feedback draws are keyed by layer id);
// far above any network's own layer count.
constexpr uint64_t kGateIdBase = uint64_t{1} << 32;

struct Builder {
  const ResNetSpec& spec;
  Network net;
  uint64_t next_id = 0;
  int64_t h, w;
  // Per-sample forward MACs: of the whole network, and of each gated block's branch.
  int64_t macs = 0;
  std::vector<std::pair<std::shared_ptr<SluState>, int64_t>> gated;

  static int64_t conv_macs(int64_t cin, int64_t cout, int64_t k, int64_t oh, int64_t ow) {
    return cin * cout * k * k * oh * ow;
  }

  int conv_bn(const std::string& conv_name, const std::string& bn_name, int input, int64_t cin,
              int64_t cout, int64_t k, int64_t stride, int64_t pad, bool gated = false) {
    ConvGeometry g{cin, cout, k, stride, pad};
    auto conv = std::make_unique<Conv2d>(g, spec.seed, next_id++);
    conv->set_batch_buckets(gated);
    int c = net.add(conv_name, std::move(conv), {input});
    return net.add(bn_name, std::make_unique<BatchNorm>(cout, spec.bn_momentum, spec.bn_eps), {c});
  }

  int block(const std::string& p, int input, int64_t cin, int64_t cout, int64_t stride) {
    const int64_t oh = (h + 2 - 3) / stride + 1, ow = (w + 2 - 3) / stride + 1;
    const int64_t branch = conv_macs(cin, cout, 3, oh, ow) + conv_macs(cout, cout, 3, oh, ow);
    macs += branch;
    if (stride != 1 || cin != cout) macs += conv_macs(cin, cout, 1, oh, ow);
    if (spec.slu && stride == 1 && cin == cout) return gated_block(p, input, cin, branch);
    int x = conv_bn(p + ".conv1", p + ".bn1", input, cin, cout, 3, stride, 1);
    x = net.add(p + ".relu1", std::make_unique<Relu>(), {x});
    x = conv_bn(p + ".conv2", p + ".bn2", x, cout, cout, 3, 1, 1);
    int shortcut = input;
    if (stride != 1 || cin != cout)
      shortcut = conv_bn(p + ".shortcut.conv", p + ".shortcut.bn", input, cin, cout, 1, stride, 0);
    x = net.add(p + ".add", std::make_unique<Add>(), {x, shortcut});
    h = (h + 2 - 3) / stride + 1;
    w = (w + 2 - 3) / stride + 1;
    return net.add(p + ".relu2", std::make_unique<Relu>(), {x});
  }

  // An identity-shortcut block with an SLU gate (slu.hpp); h and w are unchanged.
  int gated_block(const std::string& p, int input, int64_t c, int64_t branch_macs) {
    auto s = std::make_shared<SluState>();
    s->block = p;
    s->control = spec.slu_control;
    s->branch_layers = {p + ".conv1", p + ".bn1", p + ".relu1", p + ".conv2", p + ".bn2"};
    s->gate_layers = {p + ".gate.pool", p + ".gate.fc"};
    PoolGeometry global{h, w, 1, 0};
    int g = net.add(p + ".gate.pool", std::make_unique<AvgPool>(global), {input});
    // Gate ids come from a range of their own, so every other layer draws the same initial
    // weights (and feedback matrix) with and without SLU.
    const uint64_t gate_id = kGateIdBase + gated.size();
    g = net.add(p + ".gate.fc", std::make_unique<Linear>(c, 1, spec.seed, gate_id), {g});
    g = net.add(p + ".gate", std::make_unique<SluGate>(s), {g});
    int x = net.add(p + ".select", std::make_unique<SluSelect>(s), {input, g});
    x = conv_bn(p + ".conv1", p + ".bn1", x, c, c, 3, 1, 1, true);
    x = net.add(p + ".relu1", std::make_unique<Relu>(), {x});
    x = conv_bn(p + ".conv2", p + ".bn2", x, c, c, 3, 1, 1, true);
    x = net.add(p + ".add", std::make_unique<SluMerge>(s), {x, input, g});
    gated.emplace_back(s, branch_macs);
    return net.add(p + ".relu2", std::make_unique<Relu>(), {x});
  }
};

int64_t scaled(int64_t c, double width) {
  return std::max<int64_t>(1, std::llround(static_cast<double>(c) * width));
}

// Channels, blocks and first-block stride of each stage.
struct Stages {
  std::vector<int64_t> widths, blocks, strides;
};

Stages stages_of(const ResNetSpec& spec) {
  Stages s;
  if (spec.arch == "resnet18") {
    s.widths = {64, 128, 256, 512};
    s.blocks = {2, 2, 2, 2};
    s.strides = {1, 2, 2, 2};
  } else if (spec.arch == "resnet20") {
    s.widths = {16, 32, 64};
    s.blocks = {3, 3, 3};
    s.strides = {1, 2, 2};
  } else {
    throw std::invalid_argument("unknown network '" + spec.arch +
                                "' (expected resnet18, resnet20)");
  }
  if (!(spec.width > 0.0)) throw std::invalid_argument("width multiplier must be positive");
  return s;
}

}  // namespace

ResNetSize resnet_size(const ResNetSpec& spec) {
  const Stages st = stages_of(spec);
  const std::string what = "network size (" + spec.arch + ")";
  ResNetSize r;
  int64_t h = spec.height, w = spec.width_px;
  // A conv (k x k, no bias) followed by its BN (scale and shift), with output oh x ow.
  const auto conv_bn = [&](int64_t cin, int64_t cout, int64_t k, int64_t oh, int64_t ow) {
    r.parameters = checked_add(r.parameters,
                               checked_product(std::vector<int64_t>{cin, cout, k, k}, what), what);
    r.parameters = checked_add(r.parameters, checked_mul(cout, int64_t{2}, what), what);
    r.conv_outputs_per_sample = checked_add(
        r.conv_outputs_per_sample, checked_product(std::vector<int64_t>{cout, oh, ow}, what), what);
  };
  int64_t cin = scaled(st.widths[0], spec.width);
  conv_bn(spec.channels, cin, 3, h, w);
  for (size_t s = 0; s < st.widths.size(); ++s) {
    const int64_t cout = scaled(st.widths[s], spec.width);
    for (int64_t i = 0; i < st.blocks[s]; ++i) {
      const int64_t stride = i == 0 ? st.strides[s] : 1;
      const int64_t oh = (h + 2 - 3) / stride + 1, ow = (w + 2 - 3) / stride + 1;
      conv_bn(cin, cout, 3, oh, ow);
      conv_bn(cout, cout, 3, oh, ow);
      if (stride != 1 || cin != cout) conv_bn(cin, cout, 1, oh, ow);
      h = oh;
      w = ow;
      cin = cout;
    }
  }
  r.parameters = checked_add(r.parameters, checked_mul(cin, spec.classes, what), what);
  return r;
}

Network build_resnet(const ResNetSpec& spec) {
  const Stages st = stages_of(spec);
  const std::vector<int64_t>&widths = st.widths, &blocks = st.blocks, &strides = st.strides;
  if (spec.slu && !spec.slu_control)
    throw std::logic_error("resnet: an SLU network needs its alpha control");
  Builder b{spec, Network{}, 0, spec.height, spec.width_px, 0, {}};
  int64_t cin = scaled(widths[0], spec.width);
  int x = b.conv_bn("conv1", "bn1", 0, spec.channels, cin, 3, 1, 1);
  b.macs += Builder::conv_macs(spec.channels, cin, 3, b.h, b.w);
  x = b.net.add("relu1", std::make_unique<Relu>(), {x});
  for (size_t s = 0; s < widths.size(); ++s) {
    const int64_t cout = scaled(widths[s], spec.width);
    for (int64_t i = 0; i < blocks[s]; ++i) {
      const std::string prefix = "layer" + std::to_string(s + 1) + "." + std::to_string(i);
      x = b.block(prefix, x, cin, cout, i == 0 ? strides[s] : 1);
      cin = cout;
    }
  }
  PoolGeometry global{b.h, b.w, 1, 0};
  x = b.net.add("avgpool", std::make_unique<AvgPool>(global), {x});
  b.net.add("fc", std::make_unique<Linear>(cin, spec.classes, spec.seed, b.next_id++), {x});
  b.macs += cin * spec.classes;
  for (auto& [state, branch] : b.gated)
    state->flops_weight = static_cast<double>(branch) / static_cast<double>(b.macs);
  return std::move(b.net);
}

}  // namespace eg::train
