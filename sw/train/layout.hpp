#pragma once
// Conversions between the activation layouts of Tensor (NCHW and NChw16c).
#include "sw/train/tensor.hpp"

namespace eg::train {

// dst = src in layout `to` (same logical shape). NChw16c needs a 4-D shape with C % 16 == 0.
void convert_layout(const Tensor& src, Layout to, Tensor& dst);
// src in NCHW: src itself when it already is, else a converted copy in `scratch`.
const Tensor& as_nchw(const Tensor& src, Tensor& scratch);
// dst (in its own layout) = or += src (NCHW).
void write_from_nchw(const Tensor& src, Tensor& dst, bool add);

}  // namespace eg::train
