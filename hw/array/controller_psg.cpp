// E²-Train's predictive sign gradient (PSG; Wang et al., NeurIPS 2019, §3.3) on the array.
//
// A conv/FC layer of a PSG trace (manifest weight_gradient, the layer's psg record and psg_mask)
// runs its weight-gradient phase in two passes:
//  1. Predictor pass, simulated on the array like any phase: every weight's g_w^msb from the MSBs
//     of x and of δ̂ (workloads/psg.hpp truncates the operands). The PEs multiply at the predictor
//     widths (mac_10x4 in the energy table), and every scratchpad, NoC, GLB and DRAM movement of x
//     and δ̂ is charged at those widths: the operands are assumed stored so that their MSBs can be
//     read alone (bit planes). Each weight's sign leaves the array as its tile drains: 1 bit per
//     weight. (The decision needs the layer's τ̃ = β·max|g_w^msb|; the PPU tracks the maximum as the
//     tiles drain, at no charged cost.)
//  2. Completion pass, for the masked weights only (those whose |g_w^msb| < τ̃), at full widths
//     (config widths.activation x widths.gradient, a mac_16x8). Such weights lie scattered over the
//     layer, so every x and δ̂ element is read again from DRAM at full width; each masked weight
//     takes its dense N·E·F MACs (no zero skipping: the masked weights do not share a dataflow
//     the way a whole layer does). The pass is not re-simulated PE by PE: its compute time is its
//     MACs at the predictor pass's achieved rate (dense MACs per cycle), and its scratchpad, NoC
//     and GLB actions are the predictor pass's scaled by the masked fraction and by the ratio of
//     full to predictor operand widths. Its signs go off chip at 1 bit per masked weight.
// The functional check computes the predictor on the array (from the truncated operands) and the
// full-precision gradient of the masked weights on the host, and compares both the decisions and
// the signs with the trace's psg_mask and dw.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "base/checked.hpp"
#include "base/error.hpp"
#include "hw/array/controller.hpp"
#include "workloads/psg.hpp"

namespace eg::hw::array {

using mapper::Phase;
using trace::Layer;

namespace {
uint64_t bytes_of(uint64_t entries, int bits) {
  return (entries * static_cast<uint64_t>(bits) + 7) / 8;
}
uint64_t scaled(uint64_t count, double factor) {
  return static_cast<uint64_t>(std::llround(static_cast<double>(count) * factor));
}
}  // namespace

bool Controller::psg_layer(const trace::Trace& trace, const Layer& layer) const {
  if (!trace.manifest().weight_gradient || !layer.psg) return false;
  if (!trace.has(layer, trace::kPsgMaskRole))
    throw Error((trace.dir() / "manifest.json").string() + ": layer '" + layer.name +
                "': a psg record needs its psg_mask tensor to simulate the PSG weight gradient");
  return true;
}

Controller::PsgOperands Controller::begin_psg(const trace::Trace& trace, LayerOperands& ops) const {
  const trace::WeightGradientRule& g = *trace.manifest().weight_gradient;
  PsgOperands full;
  const int64_t nx = static_cast<int64_t>(ops.x.size()), ny = static_cast<int64_t>(ops.dy.size());
  // The trace's x is what the layer multiplied, already at bits_x; δ̂ is quantised here, as the
  // trainer does, with the same per-tensor scales for the full operands and their MSBs.
  const float sx = psg::scale_of(ops.x.data(), nx, g.bits_x);
  const float sy = psg::scale_of(ops.dy.data(), ny, g.bits_gy);
  full.x = ops.x;
  full.dy.resize(ops.dy.size());
  psg::quantize(ops.dy.data(), full.dy.data(), ny, sy, g.bits_gy, g.bits_gy);
  psg::quantize(full.x.data(), ops.x.data(), nx, sx, g.bits_x, g.bits_x_msb);
  psg::quantize(ops.dy.data(), ops.dy.data(), ny, sy, g.bits_gy, g.bits_gy_msb);
  return full;
}

void Controller::psg_predictor_widths(const trace::Trace& trace, const mapper::CanonicalProblem& p,
                                      PeContext& ctx) const {
  const trace::WeightGradientRule& g = *trace.manifest().weight_gradient;
  auto bits = [&](mapper::Operand o, int now) {
    return o == mapper::Operand::Activation ? g.bits_x_msb
           : o == mapper::Operand::Gradient ? g.bits_gy_msb
                                            : now;
  };
  ctx.iact_bits = bits(p.input, ctx.iact_bits);
  ctx.filter_bits = bits(p.filter, ctx.filter_bits);
  ctx.output_bits = 1;  // the sign, taken as the tile drains
  ctx.predictor_mac = true;
}

void Controller::finish_psg(const trace::Trace& trace, const Layer& layer,
                            const mapper::ConvView& view, const std::vector<float>& predictor,
                            const PsgOperands& full, bool check, PhaseFigures& fig) {
  const trace::WeightGradientRule& g = *trace.manifest().weight_gradient;
  const std::vector<float> mask = trace.load(layer, trace::kPsgMaskRole).data;
  const uint64_t weights = mask.size();
  uint64_t masked = 0;
  for (float v : mask) masked += v != 0.0f ? 1 : 0;
  // Dense MACs of one weight's gradient: N·E·F (the layer's dense MACs over its weights).
  const uint64_t per_weight = static_cast<uint64_t>(layer.dense_macs()) / weights;
  const uint64_t predictor_macs = fig.macs.issued + fig.macs.skipped;
  const uint64_t completion = checked_mul(masked, per_weight, "PSG completion MACs");
  fig.psg.predictor_macs += predictor_macs;
  fig.psg.completion_macs += completion;
  fig.psg.weights += weights;
  fig.psg.full_precision_weights += masked;

  if (masked > 0) {
    const uint64_t start = clock_.now_cycles();
    const arch::Widths& w = config_.widths;
    const uint64_t x_bytes = bytes_of(full.x.size(), w.activation);
    const uint64_t dy_bytes = bytes_of(full.dy.size(), w.gradient);
    engine_.transfer(false, address_of(activation_of(layer, 0), x_bytes), x_bytes,
                     DataClass::Activations, fig);
    engine_.transfer(false, address_of("grad:" + layer.name, dy_bytes), dy_bytes,
                     DataClass::Gradients, fig);
    const uint64_t rate_cycles = fig.cycles;  // the predictor pass's, before this pass adds any
    const uint64_t compute =
        predictor_macs == 0 ? 0
                            : static_cast<uint64_t>(std::ceil(static_cast<double>(completion) *
                                                              static_cast<double>(rate_cycles) /
                                                              static_cast<double>(predictor_macs)));
    clock_.wait_until(clock_.now_cycles() + compute);
    const uint64_t sign_bytes = bytes_of(masked, 1);
    engine_.transfer(true, address_of(own(layer, "dw"), bytes_of(weights, 1)), sign_bytes,
                     DataClass::WeightGradients, fig);
    const uint64_t span = clock_.now_cycles() - start;
    const uint64_t pes = static_cast<uint64_t>(config_.array.pe_count());
    const uint64_t lanes = static_cast<uint64_t>(std::max(1, config_.pe.macs_per_cycle));
    const uint64_t busy = std::min((completion + lanes - 1) / lanes, compute * pes);
    fig.pe_cycles.busy += busy;
    fig.pe_cycles.idle += span * pes - busy;
    fig.cycles += span;
    fig.macs.issued += completion;
    // Actions: each completion MAC reads its x and δ̂ entries and its psum at full width; the
    // movements above the PEs are the predictor pass's, scaled to the masked fraction and widths.
    ActionCounts& a = fig.actions;
    const double f = static_cast<double>(masked) / static_cast<double>(weights);
    const double x_ratio = double(w.activation) / g.bits_x_msb;
    const double dy_ratio = double(w.gradient) / g.bits_gy_msb;
    const ActionCounts p = a;
    a.mac_16x8 += completion;
    a.spad_iact_read_bits += completion * static_cast<uint64_t>(w.activation);
    a.spad_weight_read_bits += completion * static_cast<uint64_t>(w.gradient);
    a.spad_psum_read_bits += completion * static_cast<uint64_t>(w.psum);
    a.spad_psum_write_bits += completion * static_cast<uint64_t>(w.psum);
    a.spad_iact_write_bits += scaled(p.spad_iact_write_bits, f * x_ratio);
    a.spad_weight_write_bits += scaled(p.spad_weight_write_bits, f * dy_ratio);
    a.noc_iact_bit_hops += scaled(p.noc_iact_bit_hops, f * x_ratio);
    a.noc_weight_bit_hops += scaled(p.noc_weight_bit_hops, f * dy_ratio);
    a.noc_psum_bit_hops += scaled(p.noc_psum_bit_hops, f);
    a.glb_iact_read_bits += scaled(p.glb_iact_read_bits, f * x_ratio);
    a.glb_iact_write_bits += scaled(p.glb_iact_write_bits, f * x_ratio);
    a.glb_grad_read_bits += scaled(p.glb_grad_read_bits, f * dy_ratio);
    a.glb_grad_write_bits += scaled(p.glb_grad_write_bits, f * dy_ratio);
    a.glb_psum_read_bits += scaled(p.glb_psum_read_bits, f);
    a.glb_psum_write_bits += scaled(p.glb_psum_write_bits, f);
  }

  if (!check || !trace.has(layer, "dw")) return;
  // The array's predictor and the host's full-precision gradient of the masked weights, against
  // the trace. Float sums in another order can move a value by a few ulps: a decision within
  // check.rtol x max|g_w^msb| of τ̃, or a sign of a value within check.rtol of its tensor's
  // maximum, is not held against the simulator.
  const std::vector<float> pred = to_trace_layout(Phase::WeightGradient, view, predictor);
  const NdArray dw = trace.load(layer, "dw");
  const double tau = psg::threshold(pred.data(), int64_t(pred.size()), g.beta);
  double pred_max = 0;
  for (float v : pred) pred_max = std::max(pred_max, double(std::fabs(v)));
  const double rtol = config_.check.rtol;
  // Full precision of weight (m, c, r, s) in conv view, in trace order (MCRS; FC [M, C]).
  const mapper::ConvView& v = view;
  auto full_gradient = [&](int64_t i) {
    const int64_t s = i % v.s, r = (i / v.s) % v.r, c = (i / (v.s * v.r)) % v.c,
                  m = i / (v.s * v.r * v.c);
    double sum = 0;
    for (int64_t n = 0; n < v.n; ++n)
      for (int64_t e = 0; e < v.e; ++e) {
        const int64_t h = e * v.stride - v.pad + r;
        if (h < 0 || h >= v.h) continue;
        for (int64_t f = 0; f < v.f; ++f) {
          const int64_t col = f * v.stride - v.pad + s;
          if (col < 0 || col >= v.w) continue;
          sum += double(full.x[size_t(((n * v.c + c) * v.h + h) * v.w + col)]) *
                 double(full.dy[size_t(((n * v.m + m) * v.e + e) * v.f + f)]);
        }
      }
    return sum;
  };
  std::vector<std::pair<int64_t, double>> completed;  // masked weight, full gradient
  double full_max = 0;
  for (size_t i = 0; i < mask.size(); ++i)
    if (mask[i] != 0.0f) {
      completed.emplace_back(int64_t(i), full_gradient(int64_t(i)));
      full_max = std::max(full_max, std::fabs(completed.back().second));
    }
  auto fail = [&](size_t i, const std::string& what) {
    std::ostringstream msg;
    msg << "layer '" << layer.name << "' weight_gradient (PSG): " << what << " at weight " << i
        << " (predictor " << pred[i] << ", tau " << tau << ", trace mask " << mask[i] << ", dw "
        << dw.data[i] << "; " << (trace.dir() / layer.tensors.at("dw")).string() << ")";
    throw Error(msg.str());
  };
  for (size_t i = 0; i < pred.size(); ++i) {
    const bool decides = psg::predictor_decides(pred[i], tau);
    const bool near_tau = std::fabs(std::fabs(double(pred[i])) - tau) <= rtol * pred_max;
    if (decides == (mask[i] != 0.0f) && !near_tau)
      fail(i, decides
                  ? "the simulated predictor decides but the trace's mask says full precision"
                  : "the simulated predictor is below tau but the trace's mask says it decides");
    if (mask[i] == 0.0f && psg::sign_of(pred[i]) != dw.data[i] &&
        std::fabs(pred[i]) > rtol * pred_max)
      fail(i, "the predictor's sign differs from the trace's dw");
  }
  for (const auto& [i, value] : completed)
    if (psg::sign_of(float(value)) != dw.data[size_t(i)] && std::fabs(value) > rtol * full_max)
      fail(size_t(i),
           "the full-precision sign (" + std::to_string(value) + ") differs from the trace's dw");
  ++check_summary_.tensors;
}

}  // namespace eg::hw::array
