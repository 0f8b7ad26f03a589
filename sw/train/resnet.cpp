#include "sw/train/resnet.hpp"

#include <cmath>
#include <stdexcept>

#include "sw/train/batchnorm.hpp"
#include "sw/train/conv2d.hpp"
#include "sw/train/elementwise.hpp"
#include "sw/train/linear.hpp"
#include "sw/train/pooling.hpp"

namespace eg::train {
namespace {

struct Builder {
  const ResNetSpec& spec;
  Network net;
  uint64_t next_id = 0;
  int64_t h, w;

  int conv_bn(const std::string& conv_name, const std::string& bn_name, int input, int64_t cin,
              int64_t cout, int64_t k, int64_t stride, int64_t pad) {
    ConvGeometry g{cin, cout, k, stride, pad};
    int c = net.add(conv_name, std::make_unique<Conv2d>(g, spec.seed, next_id++), {input});
    return net.add(bn_name, std::make_unique<BatchNorm>(cout, spec.bn_momentum, spec.bn_eps), {c});
  }

  int block(const std::string& p, int input, int64_t cin, int64_t cout, int64_t stride) {
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
};

int64_t scaled(int64_t c, double width) {
  return std::max<int64_t>(1, std::llround(static_cast<double>(c) * width));
}

}  // namespace

Network build_resnet(const ResNetSpec& spec) {
  std::vector<int64_t> widths, blocks, strides;
  if (spec.arch == "resnet18") {
    widths = {64, 128, 256, 512};
    blocks = {2, 2, 2, 2};
    strides = {1, 2, 2, 2};
  } else if (spec.arch == "resnet20") {
    widths = {16, 32, 64};
    blocks = {3, 3, 3};
    strides = {1, 2, 2};
  } else {
    throw std::invalid_argument("unknown network '" + spec.arch +
                                "' (expected resnet18, resnet20)");
  }
  if (!(spec.width > 0.0)) throw std::invalid_argument("width multiplier must be positive");
  Builder b{spec, Network{}, 0, spec.height, spec.width_px};
  int64_t cin = scaled(widths[0], spec.width);
  int x = b.conv_bn("conv1", "bn1", 0, spec.channels, cin, 3, 1, 1);
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
  return std::move(b.net);
}

}  // namespace eg::train
