// E²-Train's predictive sign gradient (PSG; Wang et al., NeurIPS 2019, §3.3) on the array.
//
// A conv/FC layer of a PSG trace (manifest weight_gradient, the layer's psg record and psg_mask)
// runs its weight-gradient phase in two passes:
//  1. Predictor pass, simulated on the array like any phase: every weight's g_w^msb from the MSBs
//     of x and of δ̂ (workloads/psg.hpp truncates the operands). The PEs multiply at the predictor
//     widths (mac_10x4 in the energy table), and every scratchpad, NoC, GLB and DRAM movement of x
//     and δ̂ is charged at those widths: the operands are assumed stored so that their MSBs can be
//     read alone (bit planes). The predictor values leave the array at psum width: the decision
//     needs the layer's maximum, known only once every tile has drained.
//  2. Decision, on the PPU: the predictor values are read back, τ̃ = β·max|g_w^msb| found and each
//     weight compared with it (two PPU ops per weight); the signs and the mask go off chip at 1 bit
//     per weight each. The mask applied is the trace's (the functional check holds the simulated
//     predictor's decisions against it).
//  3. Completion pass, simulated on the array again with the same mapping, on the full operands
//     (config widths.activation x widths.gradient, a mac_16x8) and the mask read back (1 bit per
//     weight): the masked weights lie scattered over the layer, so every x and δ̂ element moves
//     again at full width through DRAM, GLB, NoC and scratchpads as in a dense pass, but a PE
//     multiplies only for its psums whose weight is masked (PeContext::output_mask): a position
//     with no masked weight takes one hand-off cycle. Its signs go off chip at 1 bit per weight.
// The functional check computes the predictor on the array (from the truncated operands) and the
// full-precision gradient of the masked weights on the host, and compares both the decisions and
// the signs with the trace's psg_mask and dw.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "base/checked.hpp"
#include "base/error.hpp"
#include "hw/array/controller.hpp"
#include "hw/array/packed_bytes.hpp"
#include "workloads/psg.hpp"

namespace eg::hw::array {

using mapper::Phase;
using trace::Layer;

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
  // The predictor values, at psum width: the decision needs the layer's maximum first.
  ctx.output_bits = ctx.psum_bits;
  ctx.predictor_mac = true;
}

std::vector<uint8_t> Controller::psg_canonical_mask(const mapper::CanonicalProblem& p,
                                                    const mapper::ConvView& view,
                                                    const std::vector<uint8_t>& mask) {
  // Canonical O [a=c][b=m][r][s] <- conv-view dw [m][c][r][s] (FC: r = s = 1).
  const int64_t taps = p.rows.out_len * p.cols.out_len;
  if (p.a != view.c || p.b != view.m || taps != view.r * view.s ||
      static_cast<int64_t>(mask.size()) != view.m * view.c * taps)
    throw std::logic_error("psg: the mask does not match the weight-gradient problem");
  std::vector<uint8_t> out(mask.size());
  for (int64_t c = 0; c < p.a; ++c)
    for (int64_t m = 0; m < p.b; ++m)
      for (int64_t i = 0; i < taps; ++i)
        out[size_t((c * p.b + m) * taps + i)] = mask[size_t((m * view.c + c) * taps + i)];
  return out;
}

Controller::PsgDecision Controller::decide_psg(const trace::Trace& trace, const Layer& layer,
                                               const std::vector<float>& predictor,
                                               PhaseFigures& fig) {
  const std::vector<float> mask = trace.load(layer, trace::kPsgMaskRole).data;
  if (mask.size() != predictor.size())
    throw Error((trace.dir() / layer.tensors.at(trace::kPsgMaskRole)).string() + ": layer '" +
                layer.name + "': psg_mask has " + std::to_string(mask.size()) +
                " entries, the layer has " + std::to_string(predictor.size()) + " weights");
  PsgDecision d;
  d.mask.resize(mask.size());
  for (size_t i = 0; i < mask.size(); ++i) {
    d.mask[i] = mask[i] != 0 ? 1 : 0;
    d.masked += d.mask[i];
  }
  const uint64_t start = clock_.now_cycles();
  const uint64_t weights = mask.size();
  const uint64_t values = bytes_of(weights, config_.widths.psum);
  engine_.transfer(false, address_of(own(layer, "dw"), values), values, DataClass::WeightGradients,
                   fig);
  const uint64_t ops = 2 * weights;  // the maximum, then the comparison with τ̃
  clock_.wait_until(clock_.now_cycles() + ppu_.cycles_for(ops));
  fig.actions.ppu_ops += ops;
  const uint64_t bits = bytes_of(weights, 1);
  engine_.transfer(true, address_of(own(layer, "dw"), bits), bits, DataClass::WeightGradients, fig);
  engine_.transfer(true, address_of(own(layer, "psg_mask"), bits), bits, DataClass::WeightGradients,
                   fig);
  if (d.masked > 0)  // the completion pass's PEs need the mask
    engine_.transfer(false, address_of(own(layer, "psg_mask"), bits), bits,
                     DataClass::WeightGradients, fig);
  idle_cycles(start, fig);
  fig.cycles += clock_.now_cycles() - start;
  return d;
}

void Controller::finish_psg(const trace::Trace& trace, const Layer& layer,
                            const mapper::ConvView& view, const std::vector<float>& predictor,
                            const std::vector<float>& completed, const PsgDecision& decision,
                            const MacCounts& completion_macs, bool check, PhaseFigures& fig) {
  const trace::WeightGradientRule& g = *trace.manifest().weight_gradient;
  const uint64_t weights = decision.mask.size();
  const uint64_t completion = completion_macs.issued + completion_macs.skipped;
  fig.psg.predictor_macs += fig.macs.issued + fig.macs.skipped - completion;
  fig.psg.completion_macs += completion;
  fig.psg.weights += weights;
  fig.psg.full_precision_weights += decision.masked;

  if (!check || !trace.has(layer, "dw")) return;
  const std::vector<uint8_t>& mask = decision.mask;
  // The array's predictor and its completion pass's full-precision gradients, against the
  // trace. Float sums in another order can move a value by a few ulps: a decision within
  // check.rtol x max|g_w^msb| of τ̃, or a sign of a value within check.rtol of its tensor's
  // maximum, is not held against the simulator.
  const std::vector<float> pred = to_trace_layout(Phase::WeightGradient, view, predictor);
  const NdArray dw = trace.load(layer, "dw");
  const double tau = psg::threshold(pred.data(), int64_t(pred.size()), g.beta);
  double pred_max = 0;
  for (float v : pred) pred_max = std::max(pred_max, double(std::fabs(v)));
  const double rtol = config_.check.rtol;
  // The completion pass's full-precision gradients of the masked weights.
  std::vector<std::pair<int64_t, double>> completed_values;  // masked weight, full gradient
  double full_max = 0;
  const std::vector<float> full = to_trace_layout(Phase::WeightGradient, view, completed);
  for (size_t i = 0; i < mask.size(); ++i)
    if (mask[i] != 0) {
      completed_values.emplace_back(int64_t(i), double(full[i]));
      full_max = std::max(full_max, std::fabs(completed_values.back().second));
    }
  auto fail = [&](size_t i, const std::string& what) {
    std::ostringstream msg;
    msg << "layer '" << layer.name << "' weight_gradient (PSG): " << what << " at weight " << i
        << " (predictor " << pred[i] << ", tau " << tau << ", trace mask " << int(mask[i])
        << ", dw " << dw.data[i] << "; " << (trace.dir() / layer.tensors.at("dw")).string() << ")";
    throw Error(msg.str());
  };
  for (size_t i = 0; i < pred.size(); ++i) {
    const bool decides = psg::predictor_decides(pred[i], tau);
    const bool near_tau = std::fabs(std::fabs(double(pred[i])) - tau) <= rtol * pred_max;
    if (decides == (mask[i] != 0) && !near_tau)
      fail(i, decides
                  ? "the simulated predictor decides but the trace's mask says full precision"
                  : "the simulated predictor is below tau but the trace's mask says it decides");
    if (mask[i] == 0 && psg::sign_of(pred[i]) != dw.data[i] && std::fabs(pred[i]) > rtol * pred_max)
      fail(i, "the predictor's sign differs from the trace's dw");
  }
  for (const auto& [i, value] : completed_values)
    if (psg::sign_of(float(value)) != dw.data[size_t(i)] && std::fabs(value) > rtol * full_max)
      fail(size_t(i),
           "the full-precision sign (" + std::to_string(value) + ") differs from the trace's dw");
  ++check_summary_.tensors;
}

}  // namespace eg::hw::array
