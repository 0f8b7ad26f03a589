#pragma once
// ResNet builders: ResNet-18 in the CIFAR form (3×3 stride-1 stem, no max-pool, BasicBlocks
// [2,2,2,2] at 64/128/256/512) and ResNet-20 (16/32/64 × 3 blocks). Every shortcut with a
// stride or width change is 1×1 conv + BN (for ResNet-20 this is He et al.'s option B, chosen so
// both networks share one block). Any input shape; channel counts scale by `width`.
#include <cstdint>
#include <memory>
#include <string>

#include "sw/train/network.hpp"
#include "sw/train/slu.hpp"

namespace eg::train {

struct ResNetSpec {
  std::string arch = "resnet20";  // resnet18 | resnet20
  int64_t channels = 1, height = 28, width_px = 28;
  double width = 1.0;  // channel multiplier; each count is max(1, round(c·width))
  int64_t classes = 10;
  uint64_t seed = 0;
  double bn_momentum = 0.1, bn_eps = 1e-5;
  // SLU (slu.hpp): gate every residual block with an identity shortcut. A block with a projection
  // shortcut (stride or width change) is never gated: its input and output differ in shape, so
  // there is no identity for a skipped sample to take. `slu_control` holds α (shared by the
  // gates); it must be set when `slu` is.
  bool slu = false;
  std::shared_ptr<SluControl> slu_control;
};

Network build_resnet(const ResNetSpec& spec);  // throws std::invalid_argument on a bad arch

// What build_resnet would allocate, computed without building it: parameters (conv and fc
// weights, BN scale and shift) and the output elements of every convolution for one sample (the
// measure egtrain's memory estimate scales). Checked arithmetic: throws eg::Error on overflow.
struct ResNetSize {
  int64_t parameters = 0;
  int64_t conv_outputs_per_sample = 0;
};
ResNetSize resnet_size(const ResNetSpec& spec);

}  // namespace eg::train
