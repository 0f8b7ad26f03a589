#include "hw/array/controller.hpp"
#include "hw/array/packed_bytes.hpp"

#include <algorithm>
#include <sstream>

#include "base/checked.hpp"
#include "base/error.hpp"
#include "hw/array/functional_check.hpp"
#include "hw/array/layer_operands.hpp"
#include "hw/array/pe_context.hpp"
#include "models/dram/compressed_size.hpp"
#include "sw/mapper/row_stationary_mapper.hpp"

namespace eg::hw::array {

using mapper::Phase;
using trace::Layer;
using trace::LayerType;

namespace {
bool on_array(const Layer& l) {
  return l.type == LayerType::Conv || l.type == LayerType::Fc;
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

Controller::Controller(const arch::ArchConfig& config, MemoryInterface& memory, SimClock& clock,
                       DramStatsSource dram_stats, TransferQueue* queue)
    : config_(config),
      memory_(memory),
      clock_(clock),
      dram_stats_(std::move(dram_stats)),
      engine_(config, memory, clock, queue),
      ppu_("ppu", config.ppu, config.array.pc_count()),
      mapper_(config) {}

uint64_t Controller::address_of(const std::string& tensor, uint64_t bytes) {
  auto it = tensors_.find(tensor);
  if (it != tensors_.end()) return it->second.base;
  Tensor t;
  t.base = next_address_;
  t.bytes = bytes;
  next_address_ += (bytes + 4095) / 4096 * 4096;  // page-aligned tensors
  tensors_[tensor] = t;
  return t.base;
}

void Controller::set_policy(const std::string& tensor, const TensorPolicy& policy) {
  Tensor& t = tensors_.at(tensor);
  t.policy = policy;
  memory_.set_policy(t.base, std::max<uint64_t>(t.bytes, 1), policy);
}

std::string Controller::own(const Layer& layer, const char* role) {
  return layer.name + "/" + role;
}

std::string Controller::activation_of(const Layer& layer, size_t input) const {
  if (input < layer.inputs.size() && consumers_.count(layer.inputs[input]))
    return "act:" + layer.inputs[input];
  return "act:" + layer.name + "/input" + std::to_string(input);  // network input
}

std::string Controller::gradient_of(const Layer& layer, size_t input) const {
  if (input < layer.inputs.size() && consumers_.count(layer.inputs[input]))
    return "grad:" + layer.inputs[input];
  return "grad:" + layer.name + "/input" + std::to_string(input);
}

namespace {
// Layers whose backward (or weight-gradient) phase reads their forward input again.
bool reads_input_in_backward(const Layer& l) {
  // A frozen layer has no backward; a gradient-filtered one reads x~ (its own tensor) instead.
  if (l.frozen || l.grad_filter > 0) return false;
  return on_array(l) || l.type == LayerType::Relu || l.type == LayerType::Bn ||
         l.type == LayerType::MaxPool;
}
dram::CompressionScheme scheme_of(arch::GradientCompression c) {
  return c == arch::GradientCompression::Rle   ? dram::CompressionScheme::Rle
         : c == arch::GradientCompression::Csc ? dram::CompressionScheme::Csc
                                               : dram::CompressionScheme::None;
}
}  // namespace

void Controller::plan_traffic(const trace::Trace& trace, const std::vector<const Layer*>& layers) {
  for (const Layer* l : layers) consumers_[l->name];
  for (const Layer* l : layers)
    for (const std::string& in : l->inputs)
      if (consumers_.count(in)) consumers_[in].push_back(l->name);
  // A tensor handed over in the GLB must fit the iact GLBs of all clusters: the next layer streams
  // it as its input (forward activations, backward gradients).
  const uint64_t glb_bytes = static_cast<uint64_t>(config_.array.pc_count()) *
                             static_cast<uint64_t>(config_.glb.iact_banks) *
                             static_cast<uint64_t>(config_.glb.iact_bank_bytes);
  const int act = config_.widths.activation, grad = config_.widths.gradient;
  for (size_t i = 0; i < layers.size(); ++i) {
    const Layer& p = *layers[i];
    const int64_t out = element_count(p.out), in = element_count(p.in);
    address_of("act:" + p.name, bytes_of(out, act));
    address_of("grad:" + p.name, bytes_of(out, grad));
    for (size_t k = 0; k < std::max<size_t>(1, p.inputs.size()); ++k) {
      address_of(activation_of(p, k), bytes_of(in, act));
      address_of(gradient_of(p, k), bytes_of(in, grad));
    }
    TensorPolicy act_policy, grad_policy;
    const std::vector<std::string>& users = consumers_[p.name];
    if (config_.features.interlayer_glb_reuse && users.size() == 1 && i + 1 < layers.size() &&
        layers[i + 1]->name == users[0]) {
      if (bytes_of(out, act) <= glb_bytes) {
        act_policy.reads_on_chip = true;
        act_policy.writes_on_chip = !reads_input_in_backward(*layers[i + 1]);
      }
      // Backward runs in reverse: the consumer's input gradient is the very next thing p needs.
      if (bytes_of(out, grad) <= glb_bytes)
        grad_policy.reads_on_chip = grad_policy.writes_on_chip = true;
    }
    if (on_array(p) && trace.has(p, "dy") &&
        config_.features.gradient_compression != arch::GradientCompression::None) {
      const std::vector<float> dy = load_tensor(trace, p, "dy").data;
      const uint64_t raw = bytes_of(static_cast<int64_t>(dy.size()), grad);
      const uint64_t packed = dram::compressed_bytes(
          dy.data(), dy.size(), static_cast<uint64_t>(grad),
          scheme_of(config_.features.gradient_compression), config_.dram->compression);
      // A dense δ̂ (P = 0) is larger compressed than raw: the DMA keeps whichever form is smaller
      // (one format flag per tensor, as Eyeriss v2 does per data type), so compression never adds.
      grad_policy.gradient_ratio =
          std::min(1.0, static_cast<double>(packed) / static_cast<double>(raw));
    }
    set_policy("act:" + p.name, act_policy);
    set_policy("grad:" + p.name, grad_policy);
  }
}

void Controller::note_gradient_written(const Layer& layer) {
  // A second consumer adds its contribution to the first one's: read-modify-write from then on.
  for (size_t k = 0; k < layer.inputs.size(); ++k) {
    const std::string g = gradient_of(layer, k);
    if (++gradient_writers_[g] == 1 && tensors_.count(g)) {
      TensorPolicy p = tensors_.at(g).policy;
      p.accumulate_writes = true;
      set_policy(g, p);
    }
  }
}

void Controller::charge_dram(const dram::DramStats& before, PhaseFigures& fig) {
  fig.dram += dram_stats_() - before;
}

void Controller::idle_cycles(uint64_t from, PhaseFigures& fig) {
  const uint64_t cycles = clock_.now_cycles() - from;
  PeCycleClasses idle;
  idle.idle =
      checked_mul(cycles, static_cast<uint64_t>(config_.array.pe_count()), "idle PE-cycles");
  fig.pe_cycles += idle;
}

void Controller::run_array_phase(const trace::Trace& trace, const Layer& layer, int phase_index,
                                 bool check, PhaseFigures& fig, int64_t n0, int64_t n1) {
  const Phase phase = mapper::kAllPhases[phase_index];
  if (layer.grad_filter > 0 && phase != Phase::Forward) {
    run_filtered_phase(trace, layer, phase, check, fig);
    return;
  }
  const mapper::ConvView view = tile_view(layer, n0, n1);
  const mapper::ConvView whole = mapper::conv_view(layer);
  const bool tiled = view.n != whole.n;
  // A tile's samples: x and dy (conv view, NCHW) are contiguous per sample.
  auto load = [&](const char* role) {
    std::vector<float> v =
        trace.has(layer, role) ? load_tensor(trace, layer, role).data : std::vector<float>{};
    const std::string r = role;
    if (!tiled || v.empty() || (r != "x" && r != "dy")) return v;
    const int64_t per = r == "x" ? whole.c * whole.h * whole.w : whole.m * whole.e * whole.f;
    return std::vector<float>(v.begin() + n0 * per, v.begin() + n1 * per);
  };
  const uint64_t held_before = memory_.served_from_hold();
  const bool needs_x = phase != Phase::Backward, needs_dy = phase != Phase::Forward;
  const bool needs_w = phase == Phase::Forward || !trace.has(layer, "feedback");
  LayerOperands ops = make_layer_operands(
      view, needs_x ? load("x") : std::vector<float>{}, needs_w ? load("w") : std::vector<float>{},
      phase == Phase::Backward ? load("feedback") : std::vector<float>{},
      needs_dy ? load("dy") : std::vector<float>{});
  const bool psg = phase == Phase::WeightGradient && psg_layer(trace, layer);
  const PsgOperands psg_full = psg ? begin_psg(trace, ops) : PsgOperands{};

  const mapper::RowStationaryMapper& mapper = mapper_;
  const auto problems = mapper::canonical_problems(view, phase, config_.features);
  const uint64_t start = clock_.now_cycles();
  if (phase == Phase::Backward &&
      config_.features.feedback_source == arch::FeedbackSource::TransposedDram) {
    // Eyeriss-v2-style BP: the weights are read and written back transposed before the layer's
    // backward pass can stream them.
    const int64_t n = view.m * view.c * view.r * view.s;
    const uint64_t bytes = bytes_of(n, config_.widths.weight);
    engine_.transfer(false, address_of(own(layer, "w"), bytes), bytes, DataClass::Weights, fig);
    engine_.transfer(true, address_of(own(layer, "wT"), bytes), bytes, DataClass::Weights, fig);
    idle_cycles(start, fig);
    fig.cycles += clock_.now_cycles() - start;
  }
  std::vector<float> result(result_size(phase, view), 0.0f);
  // One pass over the phase's problems: `completion` (PSG only) is the second pass, on the full
  // operands for the masked weights (controller_psg.cpp).
  auto run_pass = [&](const LayerOperands& operands, std::vector<float>& out,
                      const std::vector<uint8_t>* completion) {
    for (size_t j = 0; j < problems.size(); ++j) {
      const mapper::CanonicalProblem& p = problems[j];
      const std::string context = "layer '" + layer.name + "' " + p.label();
      const mapper::Schedule schedule = ahead_ && ahead_->step == step_ && ahead_->problem == j
                                            ? std::move(ahead_->schedule)
                                            : mapper.map(p, context);
      ahead_.reset();
      CanonicalData data = build_canonical_data(p, operands);
      PeContext ctx = make_pe_context(config_, mapper, schedule, data);
      std::vector<uint8_t> mask;
      if (psg && !completion) psg_predictor_widths(trace, p, ctx);
      if (completion) {
        mask = psg_canonical_mask(p, view, *completion);
        ctx.output_mask = mask.data();
        ctx.output_bits = 1;  // the masked weights' signs
      }
      OperandAddresses addr;
      // Forward: x -> y; backward: δ̂ -> dx; weight gradient: x with δ̂ -> dw.
      const std::string x = activation_of(layer, 0), dy = "grad:" + layer.name;
      const std::string in_tensor = phase == Phase::Backward ? dy : x;
      const std::string filter_tensor = filter_tensor_of(layer, phase, p);
      const std::string out_tensor = phase == Phase::Forward    ? "act:" + layer.name
                                     : phase == Phase::Backward ? gradient_of(layer, 0)
                                                                : own(layer, "dw");
      addr.input = address_of(in_tensor, bytes_of(int64_t(data.input.size()), ctx.iact_bits));
      addr.filter =
          address_of(filter_tensor, bytes_of(int64_t(data.filter.size()), ctx.filter_bits));
      addr.transposed_kernel = transposed_kernel(view, phase, p);
      addr.output = address_of(out_tensor, bytes_of(int64_t(result.size()), ctx.output_bits));
      if (tiled) {  // the tile's samples within the whole tensors
        const TileOffsets o = tile_offsets(layer, n0);
        addr.input += phase == Phase::Backward ? o.dy : o.x;
        if (phase == Phase::WeightGradient) addr.filter += o.dy;
        if (phase == Phase::Backward) addr.output += o.dx;
      }
      // PSG's predictor pass is followed by the PPU's decision and the completion pass: nothing is
      // fetched ahead across them.
      const bool last_of_predictor = psg && !completion && j + 1 == problems.size();
      const std::optional<NextProblem> next =
          config_.features.cross_layer_prefetch && !last_of_predictor
              ? next_problem(j, problems, out_tensor)
              : std::nullopt;
      engine_.execute(schedule, ctx, addr, fig, next ? &*next : nullptr);
      scatter_output(p, data, view, out);
    }
  };
  run_pass(ops, result, nullptr);
  if (psg) {
    const PsgDecision decision = decide_psg(trace, layer, result, fig);
    LayerOperands full_ops = ops;
    full_ops.x = psg_full.x;
    full_ops.dy = psg_full.dy;
    std::vector<float> completed(result.size(), 0.0f);
    const MacCounts before = fig.macs;
    if (decision.masked > 0) run_pass(full_ops, completed, &decision.mask);
    return finish_psg(trace, layer, view, result, completed, decision,
                      MacCounts{fig.macs.issued - before.issued, fig.macs.skipped - before.skipped},
                      check, fig);
  }
  if (layer.grad_filter > 0) sum_pool_input(layer, fig);

  // Reads of the held δ tile served by the GLB instead of DRAM.
  fig.actions.glb_iact_read_bits += (memory_.served_from_hold() - held_before) * 8;
  if (!check) return;
  std::vector<float> got = to_trace_layout(phase, view, result);
  if (tiled && phase == Phase::WeightGradient) {
    // ΔW is the sum of the tiles' partial sums: checked once the last tile has added its own.
    if (n0 == 0) dw_sum_.assign(got.size(), 0.0f);
    for (size_t e = 0; e < got.size() && e < dw_sum_.size(); ++e) dw_sum_[e] += got[e];
    if (n1 < whole.n) return;
    got = dw_sum_;
  }
  // A tiled dx is compared tile by tile (its samples [n0, n1)) and counts as one tensor.
  const bool dx_tile = tiled && phase == Phase::Backward;
  check_result(trace, layer, phase,
               phase == Phase::Forward    ? "y"
               : phase == Phase::Backward ? "dx"
                                          : "dw",
               got, dx_tile ? SampleRange{n0, n1} : SampleRange{}, !dx_tile || n1 >= whole.n);
}

void Controller::check_result(const trace::Trace& trace, const Layer& layer, Phase phase,
                              const char* role, const std::vector<float>& got, SampleRange samples,
                              bool counts) {
  if (!trace.has(layer, role)) return;
  NdArray want = load_tensor(trace, layer, role);
  if (samples.end > samples.begin && !want.shape.empty() && want.shape[0] > 0) {
    const int64_t per = static_cast<int64_t>(want.data.size()) / want.shape[0];
    want.data = std::vector<float>(want.data.begin() + samples.begin * per,
                                   want.data.begin() + samples.end * per);
    want.shape[0] = samples.end - samples.begin;
  }
  if (got.size() != want.data.size())
    throw Error("layer '" + layer.name + "' " + mapper::to_string(phase) + ": computed " + role +
                " has " + std::to_string(got.size()) + " elements, the trace's (" +
                (trace.dir() / layer.tensors.at(role)).string() + ") " +
                std::to_string(want.data.size()));
  const CheckOutcome c = compare_tensors(got, want.data, config_.check);
  if (!c.ok) {
    std::ostringstream msg;
    msg << "layer '" << layer.name << "' " << mapper::to_string(phase) << ": computed " << role
        << " differs from the trace (" << (trace.dir() / layer.tensors.at(role)).string()
        << "); worst element " << role << index_string(c.worst_index, want.shape) << " = " << c.got
        << ", trace " << c.want << ", |diff| " << c.diff << " > tolerance " << c.tolerance
        << " (check.rtol " << config_.check.rtol << " x max|" << role << "| " << c.scale
        << " + check.atol " << config_.check.atol << ")";
    throw Error(msg.str());
  }
  if (counts) ++check_summary_.tensors;
  if (check_summary_.worst_layer.empty() ||
      c.relative_error > check_summary_.worst_relative_error) {
    check_summary_.worst_relative_error = c.relative_error;
    check_summary_.worst_layer = layer.name;
    check_summary_.worst_tensor = role;
  }
}

std::string Controller::filter_tensor_of(const Layer& layer, Phase phase,
                                         const mapper::CanonicalProblem& p) const {
  if (phase == Phase::Forward) return own(layer, "w");
  if (phase == Phase::WeightGradient) return "grad:" + layer.name;
  if (p.filter_in_feedback_spad) return own(layer, "feedback");
  // Back-propagation: Wᵀ re-laid-out in DRAM, or W itself read with transposed addressing.
  return config_.features.feedback_source == arch::FeedbackSource::TransposedRead
             ? own(layer, "w")
             : own(layer, "wT");
}

int64_t Controller::transposed_kernel(const mapper::ConvView& view, Phase phase,
                                      const mapper::CanonicalProblem& p) const {
  const bool transposed = phase == Phase::Backward && !p.filter_in_feedback_spad &&
                          config_.features.feedback_source == arch::FeedbackSource::TransposedRead;
  return transposed ? view.r * view.s : 0;
}

std::optional<NextProblem> Controller::next_problem(
    size_t problem, const std::vector<mapper::CanonicalProblem>& problems,
    const std::string& out_tensor) {
  // DRAM ranges written before the next problem starts: this problem's output, then whatever the
  // steps in between write. A tensor not allocated yet lies outside every range allocated now.
  std::vector<std::pair<uint64_t, uint64_t>> written;
  auto writes = [&](const std::string& tensor) {
    auto it = tensors_.find(tensor);
    if (it != tensors_.end())
      written.emplace_back(it->second.base, it->second.base + it->second.bytes);
  };
  writes(out_tensor);
  size_t step = step_, index = problem + 1;
  std::optional<mapper::CanonicalProblem> p;
  bool filters_written = false;
  if (index < problems.size()) p = problems[index];
  for (size_t s = step_ + 1; !p && s < steps_.size(); ++s) {
    const Step& st = steps_[s];
    const Layer& l = *layers_[st.layer];
    switch (st.kind) {
      case Step::Kind::Array: {
        const Phase phase = mapper::kAllPhases[st.phase];
        // A filtered phase starts with PPU work whose writes are not modelled here: no prefetch.
        if (l.grad_filter > 0 && phase != Phase::Forward) return std::nullopt;
        const auto next =
            mapper::canonical_problems(tile_view(l, st.n0, st.n1), phase, config_.features);
        if (next.empty()) break;
        p = next.front(), step = s, index = 0;
        // Eyeriss-v2-style BP writes the transposed weights just before the phase streams them.
        filters_written = phase == Phase::Backward &&
                          config_.features.feedback_source == arch::FeedbackSource::TransposedDram;
        break;
      }
      case Step::Kind::PpuForward:
        writes("act:" + l.name);
        break;
      case Step::Kind::PpuBackward:
        for (size_t k = 0; k < std::max<size_t>(1, l.inputs.size()); ++k) writes(gradient_of(l, k));
        break;
      case Step::Kind::WeightUpdate:
        for (const char* role : {"dw", "master_w", "momentum", "w"}) writes(own(l, role));
        break;
      case Step::Kind::ActivationsOffChip:
        // Their read policy changes: what a read of them does is decided only then.
        for (const Layer* x : layers_) writes("act:" + x->name);
        break;
    }
  }
  if (!p) return std::nullopt;
  const Layer& layer = *layers_[steps_[step].layer];
  const Phase phase = p->phase;
  NextProblem next;
  ahead_ = Ahead{step, index, mapper_.map(*p, "layer '" + layer.name + "' " + p->label())};
  next.schedule = &ahead_->schedule;
  next.iact_bits = mapper_.operand_bits(p->input);
  next.filter_bits = mapper_.operand_bits(p->filter);
  next.output_bits = mapper_.operand_bits(p->output);
  // The operands as run_array_phase names them.
  const std::string in_tensor =
      phase == Phase::Backward ? "grad:" + layer.name : activation_of(layer, 0);
  const std::string filter_tensor = filter_tensor_of(layer, phase, *p);
  // A filter tensor is allocated on first use, with the size run_array_phase gives it then.
  if (!tensors_.count(filter_tensor) && !filters_written) {
    const int64_t entries = phase == Phase::Forward ? element_count(layer.expected_shape("w"))
                                                    : p->b * p->k * p->rows.taps * p->cols.taps;
    address_of(filter_tensor, bytes_of(entries, next.filter_bits));
  }
  auto free_to_read = [&](const std::string& tensor) {
    auto it = tensors_.find(tensor);
    if (it == tensors_.end()) return false;
    const uint64_t lo = it->second.base, hi = lo + it->second.bytes;
    for (const auto& [wlo, whi] : written)
      if (lo < whi && wlo < hi) return false;
    return true;
  };
  next.inputs = free_to_read(in_tensor);
  next.filters = !filters_written && free_to_read(filter_tensor);
  if (next.inputs) next.addresses.input = tensors_.at(in_tensor).base;
  if (next.filters) next.addresses.filter = tensors_.at(filter_tensor).base;
  next.addresses.transposed_kernel = transposed_kernel(mapper::conv_view(layer), phase, *p);
  if (tile_view(layer, steps_[step].n0, steps_[step].n1).n != mapper::conv_view(layer).n) {
    // An interleaved layer's δ tile: its samples within the whole tensors.
    const TileOffsets o = tile_offsets(layer, steps_[step].n0);
    next.addresses.input += phase == Phase::Backward ? o.dy : o.x;
    if (phase == Phase::WeightGradient) next.addresses.filter += o.dy;
  }
  return next;
}

void Controller::run_ppu(const Layer& layer, bool backward, PhaseFigures& fig) {
  const uint64_t start = clock_.now_cycles();
  const int64_t in = element_count(layer.in), out = element_count(layer.out);
  const int act = config_.widths.activation, grad = config_.widths.gradient;
  const int inputs = static_cast<int>(std::max<size_t>(1, layer.inputs.size()));
  uint64_t ops = 0;
  if (!backward) {
    // Every input element is read; pooling reduces many inputs to one output.
    for (int i = 0; i < inputs; ++i) {
      const int64_t n = input_elements(layer, size_t(i));
      if (n == 0) continue;  // an unused SLU branch's output
      engine_.transfer(false, address_of(activation_of(layer, size_t(i)), bytes_of(n, act)),
                       bytes_of(n, act), DataClass::Activations, fig);
    }
    ops = static_cast<uint64_t>(std::max(in * inputs, out));
    clock_.wait_until(clock_.now_cycles() + ppu_.cycles_for(ops));
    engine_.transfer(true, address_of("act:" + layer.name, bytes_of(out, act)), bytes_of(out, act),
                     DataClass::Activations, fig);
  } else {
    engine_.transfer(false, address_of("grad:" + layer.name, bytes_of(out, grad)),
                     bytes_of(out, grad), DataClass::Gradients, fig);
    // ReLU, BN and max-pool backward need the forward input (mask, statistics, argmax).
    const bool needs_x = layer.type == LayerType::Relu || layer.type == LayerType::Bn ||
                         layer.type == LayerType::MaxPool;
    if (needs_x)
      engine_.transfer(false, address_of(activation_of(layer, 0), bytes_of(in, act)),
                       bytes_of(in, act), DataClass::Activations, fig);
    ops = static_cast<uint64_t>(std::max(in, out));
    clock_.wait_until(clock_.now_cycles() + ppu_.cycles_for(ops));
    for (int i = 0; i < inputs; ++i) {
      const int64_t n = input_elements(layer, size_t(i));
      if (n == 0) continue;
      engine_.transfer(true, address_of(gradient_of(layer, size_t(i)), bytes_of(n, grad)),
                       bytes_of(n, grad), DataClass::Gradients, fig);
    }
  }
  fig.actions.ppu_ops += ops;
  idle_cycles(start, fig);
  fig.cycles += clock_.now_cycles() - start;
}

void Controller::run_weight_update(const Layer& layer, PhaseFigures& fig) {
  const uint64_t start = clock_.now_cycles();
  const int64_t n = element_count(layer.expected_shape("w"));
  const arch::Widths& w = config_.widths;
  // PSG's ΔW is a sign: 1 bit per weight.
  const uint64_t wb = bytes_of(n, w.master_weight), mb = bytes_of(n, w.momentum),
                 gb = bytes_of(n, layer.psg ? 1 : w.gradient), qb = bytes_of(n, w.weight);
  // SGD with momentum on the PPU: W and momentum at master width in, ΔW in; W and momentum out,
  // plus the working copy at weight width that the next forward pass streams.
  engine_.transfer(false, address_of(own(layer, "dw"), gb), gb, DataClass::WeightGradients, fig);
  engine_.transfer(false, address_of(own(layer, "master_w"), wb), wb, DataClass::Weights, fig);
  engine_.transfer(false, address_of(own(layer, "momentum"), mb), mb, DataClass::Momentum, fig);
  const uint64_t ops = ppu_.update_ops(static_cast<uint64_t>(n));
  clock_.wait_until(clock_.now_cycles() + ppu_.cycles_for(ops));
  engine_.transfer(true, address_of(own(layer, "master_w"), wb), wb, DataClass::Weights, fig);
  engine_.transfer(true, address_of(own(layer, "momentum"), mb), mb, DataClass::Momentum, fig);
  engine_.transfer(true, address_of(own(layer, "w"), qb), qb, DataClass::Weights, fig);
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
  check_summary_ = CheckSummary{};
  filtered_gradients_.clear();
  engine_.set_step_every_cycle(options.step_every_cycle);
  std::vector<const Layer*> layers;
  for (const Layer& l : m.layers)
    if (options.layers.empty() ||
        std::find(options.layers.begin(), options.layers.end(), l.name) != options.layers.end())
      layers.push_back(&l);
  layers = apply_slu(trace, layers);
  result.layers.resize(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    result.layers[i].name = layers[i]->name;
    result.layers[i].type = layers[i]->type;
    result.layers[i].dense_macs = slu_unused(*layers[i]) ? 0 : layers[i]->dense_macs();
  }
  auto has = [&](const Layer& l, std::initializer_list<const char*> roles) {
    for (const char* r : roles)
      if (!trace.has(l, r)) return false;
    return true;
  };
  plan_traffic(trace, layers);
  engine_.observe(options.timeline, options.progress);
  // Progress is measured in dense MACs of the array phases still to run (the phases below).
  // A layer fed by the network input (no producer) has a dx that feeds nothing in training: its
  // backward phase runs only with features.first_layer_input_gradient.
  // A gated block's branch that no sample ran computes nothing (features.skip_unused_block_update
  // decides only whether its weight update still runs).
  // Nor has a layer whose producers are all frozen (fine-tuning): no gradient goes below the first
  // trainable layer.
  const auto producers_frozen = [&](const Layer& l) {
    for (const std::string& in : l.inputs)
      if (const Layer* p = m.find(in); p && !p->frozen) return false;
    return !l.inputs.empty();
  };
  const auto runs_backward = [&](const Layer& l) {
    if (slu_unused(l)) return false;
    if (l.inputs.empty() && !config_.features.first_layer_input_gradient) return false;
    if (producers_frozen(l)) return false;
    return has(l, {"dy"}) && (has(l, {"feedback"}) || has(l, {"w"}));
  };
  const auto runs_weight_gradient = [&](const Layer& l) {
    return !slu_unused(l) && has(l, {"dy", "x"});
  };
  uint64_t work_total = 0, work_done = 0;
  for (const Layer* l : layers)
    if (on_array(*l) && !slu_unused(*l))
      work_total += static_cast<uint64_t>(l->dense_macs()) *
                    (1u + runs_backward(*l) + runs_weight_gradient(*l));
  // Each phase is charged the DRAM activity between its start and end (transfers block until
  // their last burst has moved, so nothing spills into the next phase).
  // `samples`: the δ tile's share of the batch (0: all of it).
  auto charged = [&](size_t i, const char* phase, const std::function<void()>& body,
                     int64_t samples = 0) {
    PhaseFigures& fig = result.layers[i].phases[phase];
    const Layer& l = *layers[i];
    uint64_t work =
        on_array(l) && std::string(phase) != "weight_update" ? uint64_t(l.dense_macs()) : 0;
    if (samples > 0 && l.out[0] > 0)
      work = work / static_cast<uint64_t>(l.out[0]) * static_cast<uint64_t>(samples);
    const uint64_t begin = clock_.now_cycles();
    if (options.progress)
      options.progress->phase_started(i, layers.size(), l.name, phase, begin, work_done, work_total,
                                      work);
    if (options.timeline) options.timeline->begin_phase();
    const dram::DramStats before = dram_stats_();
    body();
    charge_dram(before, fig);
    work_done += work;
    if (options.timeline)
      options.timeline->phase(i, l.name, phase, begin, clock_.now_cycles(),
                              {{"macs_issued", fig.macs.issued},
                               {"macs_skipped", fig.macs.skipped},
                               {"dram_read_bytes", fig.dram.total.read_bytes},
                               {"dram_write_bytes", fig.dram.total.write_bytes}});
  };
  // Forward over the layers, then per layer in reverse its backward, weight-gradient and
  // weight-update phases (a layer with no gradient recorded was not trained).
  using Kind = Step::Kind;
  steps_.clear();
  for (size_t i = 0; i < layers.size(); ++i)
    if (!slu_unused(*layers[i]))
      steps_.push_back({on_array(*layers[i]) ? Kind::Array : Kind::PpuForward, i, 0});
  if (!layers.empty()) steps_.push_back({Kind::ActivationsOffChip, 0, 0});
  for (size_t i = layers.size(); i-- > 0;) {
    const Layer& l = *layers[i];
    if (l.frozen) continue;  // forward only
    if (!on_array(l)) {
      if (!slu_unused(l)) steps_.push_back({Kind::PpuBackward, i, 0});
      continue;
    }
    if (!has(l, {"dy"})) continue;
    if (slu_unused(l)) {
      if (!config_.features.skip_unused_block_update && has(l, {"x"}))
        steps_.push_back({Kind::WeightUpdate, i, 0});
      continue;
    }
    // features.backward_schedule "interleaved": per δ tile, its backward passes, then its
    // weight-gradient passes while the tile is in the GLB.
    if (const int64_t tile = delta_tile_samples(l, runs_backward(l), runs_weight_gradient(l))) {
      const int64_t n = l.out[0];
      for (int64_t n0 = 0; n0 < n; n0 += tile) {
        const int64_t n1 = std::min(n, n0 + tile);
        steps_.push_back({Kind::Array, i, 1, n0, n1});
        steps_.push_back({Kind::Array, i, 2, n0, n1});
      }
      steps_.push_back({Kind::WeightUpdate, i, 0});
      continue;
    }
    if (runs_backward(l)) steps_.push_back({Kind::Array, i, 1});
    if (runs_weight_gradient(l)) {
      steps_.push_back({Kind::Array, i, 2});
      steps_.push_back({Kind::WeightUpdate, i, 0});
    }
  }
  layers_ = layers;
  ahead_.reset();
  // Each δ tile is fetched from DRAM once; every later read of it is served by the GLB.
  for (const Step& st : steps_)
    if (st.kind == Kind::Array && st.phase == 1 && st.n1 > 0) {
      const Layer& l = *layers[st.layer];
      const mapper::ConvView v = tile_view(l, st.n0, st.n1);
      memory_.hold(
          tensors_.at("grad:" + l.name).base + tile_offsets(l, st.n0).dy,
          bytes_of(v.fc ? l.out[0] * v.m : v.n * v.m * v.e * v.f, config_.widths.gradient));
    }
  for (step_ = 0; step_ < steps_.size(); ++step_) {
    const Step& st = steps_[step_];
    const size_t i = st.layer;
    const Layer& l = *layers[i];
    LayerFigures& lf = result.layers[i];
    switch (st.kind) {
      case Kind::Array: {
        const char* phase = kReportPhases[st.phase];
        if (st.phase == 0 && !has(l, {"x", "w"}))
          throw Error((trace.dir() / "manifest.json").string() + ": layer '" + l.name +
                      "': tensors x and w are needed to simulate the forward phase");
        // A fused update takes dW from the array as it drains: it never goes to DRAM.
        if (st.phase == 2 && st.n1 > 0)
          weight_gradient_tile_policy(l, st.n0, st.n1);
        else if (st.phase == 2 && config_.features.fused_weight_update)
          keep_weight_gradient_on_chip(l);
        const int64_t samples = st.n1 > 0 ? st.n1 - st.n0 : 0;
        charged(
            i, phase,
            [&] {
              run_array_phase(trace, l, st.phase, options.check, lf.phases[phase], st.n0, st.n1);
            },
            samples);
        // The input gradient is complete (and a later consumer adds to it) after the last tile.
        if (st.phase == 1 && (st.n1 == 0 || st.n1 >= l.out[0])) note_gradient_written(l);
        break;
      }
      case Kind::PpuForward:
        charged(i, "forward", [&] { run_ppu(l, false, lf.phases["forward"]); });
        break;
      case Kind::PpuBackward:
        charged(i, "backward", [&] { run_ppu(l, true, lf.phases["backward"]); });
        note_gradient_written(l);
        break;
      case Kind::WeightUpdate:
        charged(i, "weight_update", [&] {
          // An unused SLU block's update has no weight-gradient phase to fuse with.
          if (config_.features.fused_weight_update && !slu_unused(l))
            run_fused_weight_update(l, lf.phases["weight_update"]);
          else
            run_weight_update(l, lf.phases["weight_update"]);
        });
        // An unused block's update (skip_unused_block_update false) is not the trainer's step.
        if (options.check && !slu_unused(l)) check_weight_update(trace, l);
        break;
      case Kind::ActivationsOffChip:
        // Activations kept in the GLB only served the next layer's forward pass; what backward
        // reads again was written to DRAM.
        for (const Layer* x : layers) {
          TensorPolicy p = tensors_.at("act:" + x->name).policy;
          p.reads_on_chip = false;
          set_policy("act:" + x->name, p);
        }
        break;
    }
  }
  // Every figure of the report rests on this: per layer and phase, each PE's each cycle is counted
  // in exactly one class.
  const uint64_t pes = static_cast<uint64_t>(config_.array.pe_count());
  for (const LayerFigures& lf : result.layers)
    for (const auto& [phase, fig] : lf.phases)
      check_pe_cycles_add_up(fig.pe_cycles, fig.cycles, pes,
                             "array: layer '" + lf.name + "' " + phase);
  if (options.progress) options.progress->finished();
  result.ticked_cycles = engine_.ticked_cycles();
  result.check = check_summary_;
  return result;
}

}  // namespace eg::hw::array
