#pragma once
// Gradient filtering (Yang, Li & Marculescu, "Efficient On-device Training via Gradient
// Filtering", CVPR 2023) for one conv layer y = conv(x, W), stride s, pad p, K x K kernel,
// x [N,C,H,W], y [N,M,E,F]. All tensors here are NCHW (weights MCKK).
//
// The output gradient g_y is split into r x r patches of the output map (E' = ceil(E/r) by
// F' = ceil(F/r); the last row/column of patches is cut by the border) and replaced by its mean
// over each patch, counting only the positions inside the map:
//   g~[n,m,I,J] = mean over (i,j) in patch (I,J) of g_y[n,m,i,j].
// With g_y constant over each patch, the backward products reduce to 1x1 work on the E' x F' map:
//   x~[n,c,I,J]  = sum over (i,j) in patch (I,J) of x[n,c, i·s + k_c − p, j·s + k_c − p]
//                  (k_c = (K − 1) / 2, the centre tap; positions in the padding count 0),
//   W~[m,c]      = sum over taps of W[m,c,·,·]            (the spatially summed kernel),
//   dW[m,c,u,v]  = sum over n,I,J of g~[n,m,I,J] · x~[n,c,I,J]   (the same for every tap u,v),
//   dX~[n,c,I,J] = sum over m of W~[m,c] · g~[n,m,I,J],
//   dX[n,c,a,b]  = dX~[n,c, min(a / (r·s), E'−1), min(b / (r·s), F'−1)] / s²  (the broadcast).
// Approximations, beyond replacing g_y by g~ (the paper's):
// - dW: x~ is the exact patch sum for the centre tap; the other taps use it too (the paper's "x
//   summed over each patch", the same for every tap). For a 1x1 conv (any stride) dW is exact
//   given g~.
// - dX: the patch value is spread evenly over the r·s x r·s input region the output patch covers.
//   For stride 1 this is the paper's broadcast. For stride s each input pixel of a region is
//   reached by K²/s² taps on average (some by more, some by fewer), so the value is divided by s²:
//   the sum of dX over a region's interior is then the exact one given g~.
// FC layers are not filtered (no spatial map).
#include <cstdint>
#include <vector>

#include "sw/train/tensor.hpp"
#include "workloads/trace.hpp"

namespace eg::train {

// Largest patch side accepted (--grad-filter): the trace format's limit (workloads/trace.hpp).
inline constexpr int64_t kMaxGradFilterPatch = trace::kMaxGradFilterPatch;

inline int64_t filtered_len(int64_t len, int64_t r) {
  return (len + r - 1) / r;
}

struct FilterShape {
  int64_t n = 0, c = 0, m = 0, h = 0, w = 0, e = 0, f = 0, kernel = 1, stride = 1, pad = 0, r = 2;
  int64_t ef() const { return filtered_len(e, r); }
  int64_t ff() const { return filtered_len(f, r); }
};

// g~ [N,M,E',F'] from g_y [N,M,E,F].
void filter_output_gradient(const FilterShape& s, const float* gy, float* out);
// x~ [N,C,E',F'] from x [N,C,H,W].
void sum_pool_input(const FilterShape& s, const float* x, float* out);
// W~ [M,C] from W [M,C,K,K].
void sum_kernel(const FilterShape& s, const float* w, float* out);
// dW [M,C,K,K] from g~ and x~ (every tap the same value).
void filtered_weight_gradient(const FilterShape& s, const float* g, const float* xs, float* dw);
// dX~ [N,C,E',F'] from W~ and g~.
void reduced_input_gradient(const FilterShape& s, const float* ws, const float* g, float* dxr);
// dX [N,C,H,W] from dX~ (the broadcast; no multiply-accumulates).
void broadcast_input_gradient(const FilterShape& s, const float* dxr, float* dx);

// Activation bytes a trainable conv layer keeps from forward for its weight gradient: x
// (C·H·W per sample) without filtering, x~ (C·E'·F') with it; 4-byte floats. The paper's Table 2
// counts these for the trained layers (ResNet-18 at 224 x 224, batch 1).
int64_t stored_activation_bytes(const FilterShape& s, bool filtered, int64_t bytes_per_value = 4);

// Backward multiply-accumulates of one conv layer (dX and dW), the paper's comparison of Eq. (1)
// (plain back-propagation: dX and dW each N·M·C·K²·E·F) with Eq. (15) (filtered: dX~ and dW~ each
// N·M·C·E'·F'; the sum-pooling, kernel sum, patch means and broadcast are additions, counted in
// `filter_adds`).
struct BackwardCost {
  int64_t dx_macs = 0, dw_macs = 0, filter_adds = 0;
  int64_t total_macs() const { return dx_macs + dw_macs; }
};
BackwardCost backward_cost(const FilterShape& s, bool filtered);

}  // namespace eg::train
