#pragma once
// Every phase of a conv/FC layer reduces to canonical row-stationary convolutions
// (docs/DESIGN.md §4):  O[a][b] = sum_k conv2d(I[a][k], W[b][k]),  where along each axis
//   out[o] += sum_t filter[t] * in[o*out_step + t*tap_step - pad]   (in outside [0,in_len) is
//   zero).
// forward:          a=n, b=m, k=c;  I = x, W = w, O = y.
// backward:         a=n, b=c, k=m;  I = dy, W = 180°-rotated feedback taps of one stride phase, O =
// dx
//                   on that phase's positions (a stride-s layer gives s*s stride-1 problems).
// weight gradient:  a=c, b=m, k=n;  I = x, W = dy (filter of E x F taps), O = dw (R x S).
// An FC layer is viewed as a 1x1 conv on a 1 x N image (batch along the row), so the batch becomes
// the sliding dimension and dw's sum over the batch becomes the filter taps.
#include <cstdint>
#include <string>
#include <vector>

#include "models/arch/arch_config.hpp"
#include "sw/mapper/phase.hpp"
#include "workloads/trace.hpp"

namespace eg::mapper {

// A conv/FC layer's geometry as a conv: x [n,c,h,w], w [m,c,r,s], y [n,m,e,f].
struct ConvView {
  bool fc = false;
  int64_t n = 0, c = 0, m = 0, h = 0, w = 0, e = 0, f = 0, r = 0, s = 0, stride = 1, pad = 0;
};
ConvView conv_view(const trace::Layer& layer);  // throws for non conv/fc layers

struct ConvAxis {
  int64_t in_len = 0, out_len = 0, taps = 0, out_step = 1, tap_step = 1, pad = 0;
  int64_t input_index(int64_t o, int64_t t) const { return o * out_step + t * tap_step - pad; }
  bool in_range(int64_t i) const { return i >= 0 && i < in_len; }
  // (o, t) pairs whose input index is in range.
  int64_t valid_pairs() const;
};

// What data an operand is: sets its width and its off-chip data class.
enum class Operand { Activation, Weight, Feedback, Gradient, WeightGradient };
const char* to_string(Operand o);
// Which operand is the (pruned) error gradient δ̂: the input in backward, the filter in the
// weight gradient, none in forward. The PE exploits its zeros per features.sparse_operands.
enum class DeltaOperand { None, Input, Filter };

struct CanonicalProblem {
  Phase phase = Phase::Forward;
  int64_t a = 0, b = 0, k = 0;
  ConvAxis rows, cols;
  // true: out-of-range inputs are zero padding the PE multiplies (forward, weight gradient);
  // false: they are outside a full correlation and no MAC exists for them (backward).
  bool issue_padding = true;
  DeltaOperand delta = DeltaOperand::None;
  Operand input = Operand::Activation, filter = Operand::Weight, output = Operand::Activation;
  bool filter_in_feedback_spad = false;
  int64_t phase_r = 0, phase_c = 0;  // backward stride phase this problem computes
  // A 1x1, stride-1 conv's problem (the reduced work of a gradient-filtered layer): the mapper
  // spreads its channels and filters evenly over the folds (row_stationary_mapper.cpp).
  bool one_by_one = false;

  int64_t dense_macs() const;
  std::string label() const;  // "backward[1,0]"
};

// The canonical problems of one phase; backward of a stride-s layer gives up to s*s (a phase with
// no taps, e.g. a 1x1 stride-2 conv's odd positions, is omitted: no MAC reaches it).
std::vector<CanonicalProblem> canonical_problems(const ConvView& view, Phase phase,
                                                 const arch::Features& features);

}  // namespace eg::mapper
