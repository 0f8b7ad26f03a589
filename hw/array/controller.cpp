#include "hw/array/controller.hpp"

#include <algorithm>
#include <sstream>

#include "hw/array/functional_check.hpp"
#include "hw/array/layer_operands.hpp"
#include "sw/mapper/row_stationary_mapper.hpp"
#include "workloads/error.hpp"

namespace eg::hw::array {

using mapper::Phase;
using trace::Layer;
using trace::LayerType;

namespace {
bool on_array(const Layer& l) {
  return l.type == LayerType::Conv || l.type == LayerType::Fc;
}
uint64_t bytes_of(int64_t entries, int bits) {
  return (static_cast<uint64_t>(entries) * static_cast<uint64_t>(bits) + 7) / 8;
}
uint64_t ceil_div(uint64_t a, uint64_t b) {
  return (a + b - 1) / b;
}

std::string index_string(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  std::string s = "[";
  for (size_t d = 0; d < idx.size(); ++d) s += (d ? "," : "") + std::to_string(idx[d]);
  return s + "]";
}
}  // namespace

Controller::Controller(const arch::ArchConfig& config, MemoryPort& memory, SimClock& clock)
    : config_(config), clock_(clock), engine_(config, memory, clock) {}

uint64_t Controller::address_of(const std::string& layer, const std::string& role, uint64_t bytes) {
  const std::string key = layer + "/" + role;
  auto it = addresses_.find(key);
  if (it != addresses_.end()) return it->second;
  const uint64_t base = next_address_;
  next_address_ += (bytes + 4095) / 4096 * 4096;  // page-aligned tensors
  addresses_[key] = base;
  return base;
}

void Controller::idle_cycles(uint64_t from, PhaseFigures& fig) {
  const uint64_t cycles = clock_.now_cycles() - from;
  fig.pe_cycles.idle += cycles * static_cast<uint64_t>(config_.array.pe_count());
}

void Controller::run_array_phase(const trace::Trace& trace, const Layer& layer, int phase_index,
                                 bool check, PhaseFigures& fig) {
  const Phase phase = mapper::kAllPhases[phase_index];
  const mapper::ConvView view = mapper::conv_view(layer);
  auto load = [&](const char* role) {
    return trace.has(layer, role) ? trace.load(layer, role).data : std::vector<float>{};
  };
  const bool needs_x = phase != Phase::Backward, needs_dy = phase != Phase::Forward;
  const bool needs_w = phase == Phase::Forward || !trace.has(layer, "feedback");
  LayerOperands ops = make_layer_operands(
      view, needs_x ? load("x") : std::vector<float>{}, needs_w ? load("w") : std::vector<float>{},
      phase == Phase::Backward ? load("feedback") : std::vector<float>{},
      needs_dy ? load("dy") : std::vector<float>{});

  const mapper::RowStationaryMapper mapper(config_);
  const auto problems = mapper::canonical_problems(view, phase, config_.features);
  const uint64_t start = clock_.now_cycles();
  if (phase == Phase::Backward &&
      config_.features.feedback_source == arch::FeedbackSource::TransposedDram) {
    // Eyeriss-v2-style BP: the weights are read and written back transposed before the layer's
    // backward pass can stream them.
    const int64_t n = view.m * view.c * view.r * view.s;
    const uint64_t bytes = bytes_of(n, config_.widths.weight);
    engine_.transfer(false, address_of(layer.name, "w", bytes), bytes, DataClass::Weights, fig);
    engine_.transfer(true, address_of(layer.name, "wT", bytes), bytes, DataClass::Weights, fig);
    idle_cycles(start, fig);
    fig.cycles += clock_.now_cycles() - start;
  }
  std::vector<float> result(result_size(phase, view), 0.0f);
  for (const mapper::CanonicalProblem& p : problems) {
    const std::string context = "layer '" + layer.name + "' " + p.label();
    const mapper::Schedule schedule = mapper.map(p, context);
    CanonicalData data = build_canonical_data(p, ops);
    PeContext ctx;
    ctx.problem = &schedule.problem;
    ctx.input = data.input.data();
    ctx.filter = data.filter.data();
    ctx.output = data.output.data();
    ctx.simd_lanes = config_.pe.macs_per_cycle;
    ctx.zero_skip_cost_cycles = config_.pe.zero_skip_cost_cycles;
    ctx.pipeline_extra_cycles = config_.pe.mac_pipeline_depth - 1;
    ctx.iact_bits = mapper.operand_bits(p.input);
    ctx.filter_bits = mapper.operand_bits(p.filter);
    ctx.output_bits = mapper.operand_bits(p.output);
    ctx.psum_bits = config_.widths.psum;
    ctx.filter_in_feedback_spad = p.filter_in_feedback_spad;
    ctx.wide_mac = phase != Phase::Forward;
    OperandAddresses addr;
    const char* in_role = phase == Phase::Backward ? "dy" : "x";
    const char* filter_role = phase == Phase::Forward          ? "w"
                              : phase == Phase::WeightGradient ? "dy"
                              : p.filter_in_feedback_spad      ? "feedback"
                                                               : "wT";
    const char* out_role = phase == Phase::Forward ? "y" : phase == Phase::Backward ? "dx" : "dw";
    addr.input =
        address_of(layer.name, in_role, bytes_of(int64_t(data.input.size()), ctx.iact_bits));
    addr.filter =
        address_of(layer.name, filter_role, bytes_of(int64_t(data.filter.size()), ctx.filter_bits));
    addr.output =
        address_of(layer.name, out_role, bytes_of(int64_t(result.size()), ctx.output_bits));
    engine_.execute(schedule, ctx, addr, fig);
    scatter_output(p, data, view, result);
  }

  if (!check) return;
  const char* role = phase == Phase::Forward ? "y" : phase == Phase::Backward ? "dx" : "dw";
  if (!trace.has(layer, role)) return;
  const NdArray want = trace.load(layer, role);
  const std::vector<float> got = to_trace_layout(phase, view, result);
  const CheckOutcome c = compare_tensors(got, want.data, config_.check);
  if (!c.ok) {
    std::ostringstream msg;
    msg << "layer '" << layer.name << "' " << mapper::to_string(phase) << ": computed " << role
        << " differs from the trace (" << (trace.dir() / layer.tensors.at(role)).string()
        << "); worst element " << role << index_string(c.worst_index, want.shape) << " = " << c.got
        << ", trace " << c.want << ", |diff| " << c.diff << " > tolerance " << c.tolerance;
    throw Error(msg.str());
  }
}

void Controller::run_ppu(const Layer& layer, bool backward, PhaseFigures& fig) {
  const uint64_t start = clock_.now_cycles();
  const int64_t in = element_count(layer.in), out = element_count(layer.out);
  const int act = config_.widths.activation, grad = config_.widths.gradient;
  const int inputs = static_cast<int>(std::max<size_t>(1, layer.inputs.size()));
  uint64_t ops = 0;
  if (!backward) {
    // Every input element is read; pooling reduces many inputs to one output.
    for (int i = 0; i < inputs; ++i)
      engine_.transfer(false, address_of(layer.name, "x" + std::to_string(i), bytes_of(in, act)),
                       bytes_of(in, act), DataClass::Activations, fig);
    ops = static_cast<uint64_t>(std::max(in * inputs, out));
    clock_.wait_until(clock_.now_cycles() +
                      ceil_div(ops, static_cast<uint64_t>(config_.ppu.elements_per_cycle *
                                                          config_.array.pc_count())));
    engine_.transfer(true, address_of(layer.name, "y", bytes_of(out, act)), bytes_of(out, act),
                     DataClass::Activations, fig);
  } else {
    engine_.transfer(false, address_of(layer.name, "dy", bytes_of(out, grad)), bytes_of(out, grad),
                     DataClass::Gradients, fig);
    // ReLU, BN and max-pool backward need the forward input (mask, statistics, argmax).
    const bool needs_x = layer.type == LayerType::Relu || layer.type == LayerType::Bn ||
                         layer.type == LayerType::MaxPool;
    if (needs_x)
      engine_.transfer(false, address_of(layer.name, "x0", bytes_of(in, act)), bytes_of(in, act),
                       DataClass::Activations, fig);
    ops = static_cast<uint64_t>(std::max(in, out));
    clock_.wait_until(clock_.now_cycles() +
                      ceil_div(ops, static_cast<uint64_t>(config_.ppu.elements_per_cycle *
                                                          config_.array.pc_count())));
    for (int i = 0; i < inputs; ++i)
      engine_.transfer(true, address_of(layer.name, "dx" + std::to_string(i), bytes_of(in, grad)),
                       bytes_of(in, grad), DataClass::Gradients, fig);
  }
  fig.actions.ppu_ops += ops;
  idle_cycles(start, fig);
  fig.cycles += clock_.now_cycles() - start;
}

void Controller::run_weight_update(const Layer& layer, PhaseFigures& fig) {
  const uint64_t start = clock_.now_cycles();
  const int64_t n = element_count(layer.expected_shape("w"));
  const arch::Widths& w = config_.widths;
  const uint64_t wb = bytes_of(n, w.master_weight), mb = bytes_of(n, w.momentum),
                 gb = bytes_of(n, w.gradient);
  engine_.transfer(false, address_of(layer.name, "dw", gb), gb, DataClass::WeightGradients, fig);
  engine_.transfer(false, address_of(layer.name, "master_w", wb), wb, DataClass::Weights, fig);
  engine_.transfer(false, address_of(layer.name, "momentum", mb), mb, DataClass::Momentum, fig);
  const uint64_t ops =
      static_cast<uint64_t>(n) * static_cast<uint64_t>(config_.ppu.sgd_ops_per_weight);
  clock_.wait_until(clock_.now_cycles() +
                    ceil_div(ops, static_cast<uint64_t>(config_.ppu.elements_per_cycle *
                                                        config_.array.pc_count())));
  engine_.transfer(true, address_of(layer.name, "master_w", wb), wb, DataClass::Weights, fig);
  engine_.transfer(true, address_of(layer.name, "momentum", mb), mb, DataClass::Momentum, fig);
  fig.actions.ppu_ops += ops;
  idle_cycles(start, fig);
  fig.cycles += clock_.now_cycles() - start;
}

RunResult Controller::run(const trace::Trace& trace, const RunOptions& options) {
  const trace::Manifest& m = trace.manifest();
  for (const std::string& name : options.layers)
    if (!m.find(name))
      throw Error("--layers: no layer '" + name + "' in " +
                  (trace.dir() / "manifest.json").string());
  RunResult result;
  std::vector<const Layer*> layers;
  for (const Layer& l : m.layers)
    if (options.layers.empty() ||
        std::find(options.layers.begin(), options.layers.end(), l.name) != options.layers.end())
      layers.push_back(&l);
  result.layers.resize(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    result.layers[i].name = layers[i]->name;
    result.layers[i].type = layers[i]->type;
    result.layers[i].dense_macs = layers[i]->dense_macs();
  }
  auto has = [&](const Layer& l, std::initializer_list<const char*> roles) {
    for (const char* r : roles)
      if (!trace.has(l, r)) return false;
    return true;
  };
  for (size_t i = 0; i < layers.size(); ++i) {
    const Layer& l = *layers[i];
    PhaseFigures& fig = result.layers[i].phases["forward"];
    if (on_array(l)) {
      if (!has(l, {"x", "w"}))
        throw Error((trace.dir() / "manifest.json").string() + ": layer '" + l.name +
                    "': tensors x and w are needed to simulate the forward phase");
      run_array_phase(trace, l, 0, options.check, fig);
    } else {
      run_ppu(l, false, fig);
    }
  }
  for (size_t i = layers.size(); i-- > 0;) {
    const Layer& l = *layers[i];
    LayerFigures& lf = result.layers[i];
    if (!on_array(l)) {
      run_ppu(l, true, lf.phases["backward"]);
      continue;
    }
    if (!has(l, {"dy"})) continue;  // no gradient recorded: the layer was not trained
    if (has(l, {"feedback"}) || has(l, {"w"}))
      run_array_phase(trace, l, 1, options.check, lf.phases["backward"]);
    if (has(l, {"x"})) {
      run_array_phase(trace, l, 2, options.check, lf.phases["weight_gradient"]);
      run_weight_update(l, lf.phases["weight_update"]);
    }
  }
  result.ticked_cycles = engine_.ticked_cycles();
  return result;
}

}  // namespace eg::hw::array
