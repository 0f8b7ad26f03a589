#include "hw/array/layer_operands.hpp"

namespace eg::hw::array {

using mapper::CanonicalProblem;
using mapper::ConvView;
using mapper::Phase;

namespace {
// [rows][cols] -> [cols][rows]
std::vector<float> transpose(const std::vector<float>& v, int64_t rows, int64_t cols) {
  std::vector<float> t(v.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) t[c * rows + r] = v[r * cols + c];
  return t;
}
size_t sz(int64_t n) {
  return static_cast<size_t>(n);
}
}  // namespace

LayerOperands make_layer_operands(const ConvView& view, std::vector<float> x, std::vector<float> w,
                                  std::vector<float> feedback, std::vector<float> dy) {
  LayerOperands o;
  o.view = view;
  if (view.fc) {
    const int64_t batch = view.w;
    if (!x.empty()) x = transpose(x, batch, view.c);
    if (!dy.empty()) dy = transpose(dy, batch, view.m);
  }
  o.x = std::move(x);
  o.w = std::move(w);
  o.feedback = std::move(feedback);
  o.dy = std::move(dy);
  return o;
}

CanonicalData build_canonical_data(const CanonicalProblem& p, const LayerOperands& op) {
  const ConvView& v = op.view;
  CanonicalData d;
  d.output.assign(sz(p.a * p.b * p.rows.out_len * p.cols.out_len), 0.0f);
  switch (p.phase) {
    case Phase::Forward:
      d.input = op.x;
      d.filter = op.w;
      break;
    case Phase::Backward: {
      d.input = op.dy;
      // The trace's feedback is what the mode multiplies with (W for bp); the config only decides
      // where it comes from (PE spad or transposed from DRAM), not its values.
      const std::vector<float>& fb = op.feedback.empty() ? op.w : op.feedback;
      const int64_t jr = p.rows.taps, jc = p.cols.taps, s = v.stride;
      d.filter.assign(sz(p.b * p.k * jr * jc), 0.0f);
      for (int64_t c = 0; c < v.c; ++c)
        for (int64_t m = 0; m < v.m; ++m)
          for (int64_t a = 0; a < jr; ++a)
            for (int64_t b = 0; b < jc; ++b) {
              const int64_t r = p.phase_r + s * (jr - 1 - a), q = p.phase_c + s * (jc - 1 - b);
              d.filter[sz(((c * v.m + m) * jr + a) * jc + b)] =
                  fb[sz(((m * v.c + c) * v.r + r) * v.s + q)];
            }
      break;
    }
    case Phase::WeightGradient: {
      d.input.assign(op.x.size(), 0.0f);
      const int64_t plane_in = v.h * v.w, plane_out = v.e * v.f;
      for (int64_t n = 0; n < v.n; ++n)
        for (int64_t c = 0; c < v.c; ++c)
          std::copy_n(op.x.begin() + (n * v.c + c) * plane_in, plane_in,
                      d.input.begin() + (c * v.n + n) * plane_in);
      d.filter.assign(op.dy.size(), 0.0f);
      for (int64_t n = 0; n < v.n; ++n)
        for (int64_t m = 0; m < v.m; ++m)
          std::copy_n(op.dy.begin() + (n * v.m + m) * plane_out, plane_out,
                      d.filter.begin() + (m * v.n + n) * plane_out);
      break;
    }
  }
  return d;
}

size_t result_size(Phase phase, const ConvView& v) {
  switch (phase) {
    case Phase::Forward:
      return sz(v.n * v.m * v.e * v.f);
    case Phase::Backward:
      return sz(v.n * v.c * v.h * v.w);
    case Phase::WeightGradient:
      return sz(v.m * v.c * v.r * v.s);
  }
  return 0;
}

void scatter_output(const CanonicalProblem& p, const CanonicalData& d, const ConvView& v,
                    std::vector<float>& result) {
  const int64_t orows = p.rows.out_len, ocols = p.cols.out_len;
  switch (p.phase) {
    case Phase::Forward:
      for (size_t i = 0; i < d.output.size(); ++i) result[i] += d.output[i];
      break;
    case Phase::Backward:
      for (int64_t n = 0; n < p.a; ++n)
        for (int64_t c = 0; c < p.b; ++c)
          for (int64_t kr = 0; kr < orows; ++kr) {
            const int64_t h = p.phase_r + v.stride * kr - v.pad;
            if (h < 0 || h >= v.h) continue;
            for (int64_t kc = 0; kc < ocols; ++kc) {
              const int64_t w = p.phase_c + v.stride * kc - v.pad;
              if (w < 0 || w >= v.w) continue;
              result[sz(((n * v.c + c) * v.h + h) * v.w + w)] +=
                  d.output[sz(((n * p.b + c) * orows + kr) * ocols + kc)];
            }
          }
      break;
    case Phase::WeightGradient:
      // output [a=c][b=m][r][s] -> dw [m][c][r][s]
      for (int64_t c = 0; c < p.a; ++c)
        for (int64_t m = 0; m < p.b; ++m)
          for (int64_t i = 0; i < orows * ocols; ++i)
            result[sz((m * v.c + c) * orows * ocols + i)] +=
                d.output[sz((c * p.b + m) * orows * ocols + i)];
      break;
  }
}

std::vector<float> to_trace_layout(Phase phase, const ConvView& v,
                                   const std::vector<float>& result) {
  if (!v.fc || phase == Phase::WeightGradient) return result;
  const int64_t batch = v.w;
  const int64_t channels = phase == Phase::Forward ? v.m : v.c;
  return transpose(result, channels, batch);  // [channels][batch] -> [batch][channels]
}

}  // namespace eg::hw::array
