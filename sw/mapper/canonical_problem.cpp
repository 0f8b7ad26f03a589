#include "sw/mapper/canonical_problem.hpp"

#include <algorithm>

#include "base/checked.hpp"
#include "base/error.hpp"

namespace eg::mapper {

Phase phase_from_string(const std::string& text, const std::string& context) {
  for (Phase p : kAllPhases)
    if (text == to_string(p)) return p;
  throw Error(context + ": unknown phase '" + text +
              "' (expected forward, backward or weight_gradient)");
}

const char* to_string(Operand o) {
  switch (o) {
    case Operand::Activation:
      return "activation";
    case Operand::Weight:
      return "weight";
    case Operand::Feedback:
      return "feedback";
    case Operand::Gradient:
      return "gradient";
    case Operand::WeightGradient:
      return "weight_gradient";
  }
  return "?";
}

ConvView conv_view(const trace::Layer& l) {
  ConvView v;
  if (l.type == trace::LayerType::Fc) {
    v.fc = true;
    v.n = 1;
    v.c = l.in[1];
    v.m = l.out[1];
    v.h = v.e = 1;
    v.w = v.f = l.in[0];
    v.r = v.s = 1;
    return v;
  }
  if (l.type != trace::LayerType::Conv)
    throw Error("layer '" + l.name + "': only conv and fc layers run on the PE array");
  v.n = l.in[0];
  v.c = l.in[1];
  v.h = l.in[2];
  v.w = l.in[3];
  v.m = l.out[1];
  v.e = l.out[2];
  v.f = l.out[3];
  v.r = l.kernel_r;
  v.s = l.kernel_s;
  v.stride = l.stride;
  v.pad = l.pad;
  return v;
}

namespace {
int64_t floor_div(int64_t a, int64_t b) {  // b > 0
  return a / b - (a % b < 0 ? 1 : 0);
}
}  // namespace

int64_t ConvAxis::valid_pairs() const {
  // Per tap, the outputs o with 0 <= o * out_step + t * tap_step - pad < in_len form one range:
  // counted in closed form, so the cost is one step per tap whatever the output length.
  int64_t count = 0;
  for (int64_t t = 0; t < taps; ++t) {
    const int64_t offset = t * tap_step - pad;  // input index of output 0
    const int64_t first = std::max<int64_t>(0, floor_div(-offset + out_step - 1, out_step));
    const int64_t last = std::min(out_len - 1, floor_div(in_len - 1 - offset, out_step));
    if (last >= first) count += last - first + 1;
  }
  return count;
}

int64_t CanonicalProblem::dense_macs() const {
  const std::string what = label() + ": multiply-accumulates";
  const int64_t per_plane =
      issue_padding
          ? checked_product(std::vector<int64_t>{rows.out_len, rows.taps, cols.out_len, cols.taps},
                            what)
          : checked_mul(rows.valid_pairs(), cols.valid_pairs(), what);
  return checked_product(std::vector<int64_t>{a, b, k, per_plane}, what);
}

std::string CanonicalProblem::label() const {
  std::string s = to_string(phase);
  if (phase == Phase::Backward)
    s += "[" + std::to_string(phase_r) + "," + std::to_string(phase_c) + "]";
  return s;
}

namespace {
// Backward along one axis, stride phase `ph`: positions ph + stride*k of the padded input extent
// receive dy[k - j] * f[ph + stride*j]; as a correlation over dy with the taps reversed.
ConvAxis backward_axis(int64_t out_len_fwd, int64_t kernel, int64_t stride, int64_t ph) {
  const int64_t taps = (kernel - ph + stride - 1) / stride;
  ConvAxis a;
  a.in_len = out_len_fwd;
  a.taps = taps;
  a.out_len = out_len_fwd - 1 + taps;
  a.pad = taps - 1;
  return a;
}
}  // namespace

std::vector<CanonicalProblem> canonical_problems(const ConvView& v, Phase phase,
                                                 const arch::Features& features) {
  std::vector<CanonicalProblem> out;
  CanonicalProblem p;
  p.phase = phase;
  // FC layers are 1x1 too but keep their mapping (one image row; batch along it).
  p.one_by_one = !v.fc && v.r == 1 && v.s == 1 && v.stride == 1 && v.pad == 0;
  switch (phase) {
    case Phase::Forward:
      p.a = v.n, p.b = v.m, p.k = v.c;
      p.rows = {v.h, v.e, v.r, v.stride, 1, v.pad};
      p.cols = {v.w, v.f, v.s, v.stride, 1, v.pad};
      p.issue_padding = true;
      p.delta = DeltaOperand::None;
      p.input = Operand::Activation, p.filter = Operand::Weight, p.output = Operand::Activation;
      out.push_back(p);
      break;
    case Phase::Backward:
      p.a = v.n, p.b = v.c, p.k = v.m;
      p.issue_padding = false;
      p.delta = DeltaOperand::Input;
      p.input = Operand::Gradient, p.output = Operand::Gradient;
      p.filter_in_feedback_spad = features.feedback_source == arch::FeedbackSource::PeSpad;
      p.filter = p.filter_in_feedback_spad ? Operand::Feedback : Operand::Weight;
      // Phases at or beyond the kernel have no taps (no MAC reaches them): the loops stop at
      // min(stride, kernel), so a stride far larger than the kernel costs nothing.
      for (int64_t pr = 0; pr < std::min(v.stride, v.r); ++pr)
        for (int64_t pc = 0; pc < std::min(v.stride, v.s); ++pc) {
          CanonicalProblem q = p;
          q.phase_r = pr, q.phase_c = pc;
          q.rows = backward_axis(v.e, v.r, v.stride, pr);
          q.cols = backward_axis(v.f, v.s, v.stride, pc);
          if (q.rows.taps > 0 && q.cols.taps > 0) out.push_back(q);
        }
      break;
    case Phase::WeightGradient:
      p.a = v.c, p.b = v.m, p.k = v.n;
      p.rows = {v.h, v.r, v.e, 1, v.stride, v.pad};
      p.cols = {v.w, v.s, v.f, 1, v.stride, v.pad};
      if (p.one_by_one) {
        // dW[m,c] = sum over n and rows i of x[n,c,i,:]·dy[n,m,i,:]: each (image, row) pair is a
        // channel of a 1-row problem, so the reduction fills the PE rows as stacked channel
        // groups instead of leaving rows idle when E is not a multiple of the PE rows (E = 2 or
        // 4 used 2 of 3 rows). The operand planes are the same memory: [c][n][i][j] is
        // [c][n·E + i][0][j].
        p.k = v.n * v.e;
        p.rows = {1, 1, 1, 1, 1, 0};
      }
      p.issue_padding = true;
      p.delta = DeltaOperand::Filter;
      p.input = Operand::Activation, p.filter = Operand::Gradient;
      p.output = Operand::WeightGradient;
      out.push_back(p);
      break;
  }
  return out;
}

}  // namespace eg::mapper
