#pragma once
// The PPU's SGD step (docs/DESIGN.md §5.7): what the weight-update phase computes, in the trainer's
// formula and order (sw/train/sgd.cpp), element by element in float32:
//   v' = μ·v + (g + λ·w),   w' = w − lr·v'
// and then stores in the formats the config's widths give (configs/hw/README.md, "widths"):
//  - master W' and momentum v' as floats with binary32's sign and 8-bit exponent and the top
//    (bits − 9) mantissa bits, rounded to nearest even: 16 bits is bfloat16, 32 bits binary32;
//  - the working copy of W' at `widths.weight_bits` as symmetric linear integers with one scale per
//    tensor, scale = max|W'| / (2^(bits−1) − 1), rounded to nearest (what the forward pass
//    streams).
// The datapath keeps v' at float32 between the two equations, as the trainer does; only what is
// written back is rounded.
#include <cstdint>
#include <vector>

#include "models/arch/arch_config.hpp"

namespace eg::hw::array {

struct SgdHyper {
  float lr = 0, momentum = 0, weight_decay = 0;  // as the trainer casts them
};

struct SgdResult {
  std::vector<float> master_w;  // W' at master-weight width
  std::vector<float> momentum;  // v' at momentum width
  std::vector<float> w_copy;    // W' at weight width (dequantised)
};

// `w`, `v`, `g` have one element per weight (sizes must agree).
SgdResult sgd_update(const std::vector<float>& w, const std::vector<float>& v,
                     const std::vector<float>& g, const SgdHyper& hyper,
                     const arch::Widths& widths);

// x rounded to the float format of `bits` bits (binary32's exponent, max(0, bits − 9) mantissa
// bits, nearest even); bits >= 32 leave x unchanged. Overflow rounds to infinity, as binary32 does.
float round_to_float_bits(float x, int bits);
// Worst rounding error of that format relative to the tensor's largest magnitude: half a unit in
// the last place, 2^-(mantissa bits + 1) (0 for bits >= 32).
double float_rounding(int bits);
// Worst rounding error of the linear weight copy relative to max|W'|: half a step, 1 / (2
// (2^(bits−1) − 1)).
double linear_rounding(int bits);

}  // namespace eg::hw::array
