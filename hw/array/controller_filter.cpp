// Gradient filtering on the array (Yang, Li & Marculescu, CVPR 2023; the trainer's equations are
// in sw/train/grad_filter.hpp). A filtered conv layer's backward products are 1x1 work on the
// reduced E' x F' map (E' = ceil(E/r), F' = ceil(F/r)):
//   backward:        dX~[n,c] = W~ᵀ g~  (W~ = the kernel summed over its taps), a 1x1 conv with M
//                    input and C output channels; dX is dX~ broadcast over each patch (scaled by
//                    1/stride²), which costs no MACs: the PPU writes each value r²·stride² times.
//   weight gradient: dW~[m,c] = Σ g~ x~, a 1x1 weight gradient; every tap of dW gets the same
//   value.
// The PPU makes the reduced operands: x~ by sum-pooling x as the forward pass has it on chip (x~ is
// what is stored for backward: r² fewer activation bytes than x, at stride 1), g~ by averaging dy
// over each patch, W~ by summing the taps. Each addition is one PPU op, as in the other PPU
// layers; the energy tables charge it like them.
#include <sstream>

#include "base/error.hpp"
#include "hw/array/controller.hpp"
#include "hw/array/layer_operands.hpp"
#include "hw/array/packed_bytes.hpp"
#include "hw/array/pe_context.hpp"

namespace eg::hw::array {

using mapper::Phase;
using trace::Layer;

namespace {
int64_t reduced(int64_t len, int64_t r) {
  return (len + r - 1) / r;
}
}  // namespace

void Controller::sum_pool_input(const Layer& layer, PhaseFigures& fig) {
  const uint64_t start = clock_.now_cycles();
  const mapper::ConvView v = mapper::conv_view(layer);
  const int64_t r = layer.grad_filter;
  // One addition per output position's centre-tap input (the positions a patch sums).
  const uint64_t ops = static_cast<uint64_t>(v.n * v.c * v.e * v.f);
  clock_.wait_until(clock_.now_cycles() + ppu_.cycles_for(ops));
  const int64_t entries = v.n * v.c * reduced(v.e, r) * reduced(v.f, r);
  const uint64_t bytes = bytes_of(entries, config_.widths.activation);
  engine_.transfer(true, address_of(own(layer, "x_filtered"), bytes), bytes, DataClass::Activations,
                   fig);
  fig.actions.ppu_ops += ops;
  idle_cycles(start, fig);
  fig.cycles += clock_.now_cycles() - start;
}

void Controller::run_filtered_phase(const trace::Trace& trace, const Layer& layer, Phase phase,
                                    bool check, PhaseFigures& fig) {
  ahead_.reset();  // nothing was mapped ahead for a filtered phase (next_problem stops before it)
  const mapper::ConvView v = mapper::conv_view(layer);
  const int64_t r = layer.grad_filter, ep = reduced(v.e, r), fp = reduced(v.f, r);
  const int grad = config_.widths.gradient;
  // The reduced layer: a 1x1, stride-1 conv on the E' x F' map.
  mapper::ConvView rv = v;
  rv.h = rv.e = ep;
  rv.w = rv.f = fp;
  rv.r = rv.s = 1;
  rv.stride = 1;
  rv.pad = 0;

  // PPU: g~ (once per layer, by whichever of its phases runs first) and, for backward, W~.
  uint64_t start = clock_.now_cycles();
  uint64_t ops = 0;
  const int64_t g_entries = v.n * v.m * ep * fp;
  if (filtered_gradients_.insert(layer.name).second) {
    const uint64_t dense = bytes_of(v.n * v.m * v.e * v.f, grad);
    engine_.transfer(false, address_of("grad:" + layer.name, dense), dense, DataClass::Gradients,
                     fig);
    ops += static_cast<uint64_t>(v.n * v.m * v.e * v.f + g_entries);  // patch sums, then scale
    clock_.wait_until(clock_.now_cycles() + ppu_.cycles_for(ops));
    engine_.transfer(true, address_of(own(layer, "gy_filtered"), bytes_of(g_entries, grad)),
                     bytes_of(g_entries, grad), DataClass::Gradients, fig);
  }
  if (phase == Phase::Backward) {
    const int bits = config_.widths.weight;
    const uint64_t kernel = bytes_of(v.m * v.c * v.r * v.s, bits);
    const char* source = trace.has(layer, "feedback") ? "feedback" : "w";
    engine_.transfer(false, address_of(own(layer, source), kernel), kernel, DataClass::Weights,
                     fig);
    const uint64_t sum_ops = static_cast<uint64_t>(v.m * v.c * v.r * v.s);
    clock_.wait_until(clock_.now_cycles() + ppu_.cycles_for(sum_ops));
    ops += sum_ops;
    engine_.transfer(true, address_of(own(layer, "w_summed"), bytes_of(v.m * v.c, bits)),
                     bytes_of(v.m * v.c, bits), DataClass::Weights, fig);
  }
  fig.actions.ppu_ops += ops;
  idle_cycles(start, fig);
  fig.cycles += clock_.now_cycles() - start;

  // The array: the reduced problem, on the trace's reduced operands.
  auto load = [&](const char* role) {
    return trace.has(layer, role) ? trace.load(layer, role).data : std::vector<float>{};
  };
  const std::vector<float> ws = phase == Phase::Backward ? load("w_summed") : std::vector<float>{};
  LayerOperands operands = make_layer_operands(
      rv, phase == Phase::WeightGradient ? load("x_filtered") : std::vector<float>{}, ws, ws,
      load("gy_filtered"));
  const auto problems = mapper::canonical_problems(rv, phase, config_.features);
  std::vector<float> result(result_size(phase, rv), 0.0f);
  const std::string out_tensor =
      phase == Phase::Backward ? own(layer, "dx_filtered") : own(layer, "dw");
  for (const mapper::CanonicalProblem& p : problems) {
    const std::string context = "layer '" + layer.name + "' filtered " + p.label();
    const mapper::Schedule schedule = mapper_.map(p, context);
    CanonicalData data = build_canonical_data(p, operands);
    const PeContext ctx = make_pe_context(config_, mapper_, schedule, data);
    OperandAddresses addr;
    const std::string in_tensor =
        phase == Phase::Backward ? own(layer, "gy_filtered") : own(layer, "x_filtered");
    const std::string filter_tensor =
        phase == Phase::Backward ? own(layer, "w_summed") : own(layer, "gy_filtered");
    addr.input = address_of(in_tensor, bytes_of(int64_t(data.input.size()), ctx.iact_bits));
    addr.filter = address_of(filter_tensor, bytes_of(int64_t(data.filter.size()), ctx.filter_bits));
    addr.output = address_of(out_tensor, bytes_of(int64_t(result.size()), ctx.output_bits));
    engine_.execute(schedule, ctx, addr, fig, nullptr);
    scatter_output(p, data, rv, result);
  }

  // The broadcast back to the full map (backward: the PPU writes dX; weight gradient: every tap of
  // dW takes its (m, c) value as the update reads it).
  std::vector<float> full;
  if (phase == Phase::Backward) {
    start = clock_.now_cycles();
    const uint64_t small = bytes_of(int64_t(result.size()), grad);
    engine_.transfer(false, address_of(out_tensor, small), small, DataClass::Gradients, fig);
    const uint64_t dense = bytes_of(v.n * v.c * v.h * v.w, grad);
    engine_.transfer(true, address_of(gradient_of(layer, 0), dense), dense, DataClass::Gradients,
                     fig);
    idle_cycles(start, fig);
    fig.cycles += clock_.now_cycles() - start;
    full.assign(static_cast<size_t>(v.n * v.c * v.h * v.w), 0.0f);
    const int64_t span = r * v.stride;
    const float scale = 1.0f / static_cast<float>(v.stride * v.stride);
    for (int64_t plane = 0; plane < v.n * v.c; ++plane)
      for (int64_t a = 0; a < v.h; ++a)
        for (int64_t b = 0; b < v.w; ++b)
          full[size_t((plane * v.h + a) * v.w + b)] =
              result[size_t((plane * ep + std::min(a / span, ep - 1)) * fp +
                            std::min(b / span, fp - 1))] *
              scale;
  } else {
    const int64_t taps = v.r * v.s;
    full.resize(static_cast<size_t>(v.m * v.c * taps));
    for (int64_t mc = 0; mc < v.m * v.c; ++mc)
      for (int64_t t = 0; t < taps; ++t) full[size_t(mc * taps + t)] = result[size_t(mc)];
  }
  if (check) check_result(trace, layer, phase, phase == Phase::Backward ? "dx" : "dw", full);
}

}  // namespace eg::hw::array
