// The weight update's two forms and its functional check (docs/DESIGN.md §5.7). Kept apart from
// controller.cpp: the unfused update there is the comparison point; this file holds the fused one.
#include <sstream>

#include "base/error.hpp"
#include "hw/array/controller.hpp"
#include "hw/array/functional_check.hpp"
#include "hw/array/packed_bytes.hpp"
#include "hw/array/sgd_update.hpp"

namespace eg::hw::array {

using trace::Layer;

void Controller::keep_weight_gradient_on_chip(const Layer& layer) {
  // ΔW drains from the psum columns into the PPU, which consumes it at once: neither the
  // weight-gradient phase's output tiles nor the update read it from DRAM.
  const int64_t n = element_count(layer.expected_shape("w"));
  const std::string dw = own(layer, "dw");
  address_of(dw, bytes_of(n, config_.widths.gradient));
  TensorPolicy p;
  p.reads_on_chip = p.writes_on_chip = true;
  set_policy(dw, p);
}

void Controller::run_fused_weight_update(const Layer& layer, PhaseFigures& fig) {
  const uint64_t start = clock_.now_cycles();
  const int64_t n = element_count(layer.expected_shape("w"));
  const arch::Widths& w = config_.widths;
  const uint64_t wb = bytes_of(n, w.master_weight), mb = bytes_of(n, w.momentum),
                 qb = bytes_of(n, w.weight);
  // Master W and momentum stream through the PPU tile by tile: a tile is read while the one
  // before is updated and the one before that written back. The DRAM carries the same reads and
  // writes as the unfused update (less ΔW), back to back; the PPU's work hides under them or they
  // under it, so the phase lasts max(streaming, PPU). The one-tile fill and drain at either end is
  // not counted (a tile is a GLB bank's worth, a few hundred cycles against a layer's update).
  engine_.transfer(false, address_of(own(layer, "master_w"), wb), wb, DataClass::Weights, fig);
  engine_.transfer(false, address_of(own(layer, "momentum"), mb), mb, DataClass::Momentum, fig);
  engine_.transfer(true, address_of(own(layer, "master_w"), wb), wb, DataClass::Weights, fig);
  engine_.transfer(true, address_of(own(layer, "momentum"), mb), mb, DataClass::Momentum, fig);
  engine_.transfer(true, address_of(own(layer, "w"), qb), qb, DataClass::Weights, fig);
  const uint64_t ops = ppu_.update_ops(static_cast<uint64_t>(n));
  const uint64_t ppu_end = start + ppu_.cycles_for(ops);
  if (clock_.now_cycles() < ppu_end) clock_.wait_until(ppu_end);
  fig.actions.ppu_ops += ops;
  idle_cycles(start, fig);
  fig.cycles += clock_.now_cycles() - start;
}

void Controller::check_weight_update(const trace::Trace& trace, const Layer& layer) {
  const std::optional<trace::Optimizer>& opt = trace.manifest().optimizer;
  if (!opt) return;  // a version 1 trace has no post-step tensors
  for (const char* role : {"w", "dw", "momentum", "w_next", "momentum_next"})
    if (!trace.has(layer, role)) return;
  const SgdHyper hyper{static_cast<float>(opt->lr), static_cast<float>(opt->momentum),
                       static_cast<float>(opt->weight_decay)};
  const NdArray w_next = trace.load(layer, "w_next"), v_next = trace.load(layer, "momentum_next");
  const SgdResult r = sgd_update(trace.load(layer, "w").data, trace.load(layer, "momentum").data,
                                 trace.load(layer, "dw").data, hyper, config_.widths);
  const arch::Widths& widths = config_.widths;
  auto compare = [&](const std::vector<float>& got, const NdArray& want, const char* what,
                     const char* role, int bits, double rounding) {
    arch::CheckConfig allowance = config_.check;
    allowance.rtol += rounding;
    const CheckOutcome c = compare_tensors(got, want.data, allowance);
    if (!c.ok) {
      std::ostringstream msg;
      msg << "layer '" << layer.name << "' weight update: computed " << what
          << " differs from the trace's " << role << " ("
          << (trace.dir() / layer.tensors.at(role)).string() << "); worst element " << role << "["
          << c.worst_index << "] = " << c.got << ", trace " << c.want << ", |diff| " << c.diff
          << " > tolerance " << c.tolerance << " ((check.rtol " << config_.check.rtol
          << " + rounding " << rounding << " of its " << bits << "-bit format) x max|" << role
          << "| " << c.scale << " + check.atol " << config_.check.atol << ")";
      throw Error(msg.str());
    }
    ++check_summary_.update_tensors;
    if (check_summary_.update_tensors == 1 ||
        c.relative_error > check_summary_.worst_update_error) {
      check_summary_.worst_update_error = c.relative_error;
      check_summary_.worst_update_allowed = allowance.rtol;
      check_summary_.worst_update_layer = layer.name;
      check_summary_.worst_update_tensor = what;
    }
  };
  compare(r.master_w, w_next, "master W", "w_next", widths.master_weight,
          float_rounding(widths.master_weight));
  compare(r.momentum, v_next, "momentum", "momentum_next", widths.momentum,
          float_rounding(widths.momentum));
  compare(r.w_copy, w_next, "weight copy", "w_next", widths.weight, linear_rounding(widths.weight));
}

}  // namespace eg::hw::array
