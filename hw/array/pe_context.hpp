#pragma once
// What every PE shares for one mapped problem, filled from the config and the mapper exactly as a
// run does: the controller and the test benches build it here, so they cannot drift apart.
#include "hw/array/layer_operands.hpp"
#include "hw/array/pe.hpp"
#include "models/arch/arch_config.hpp"
#include "sw/mapper/row_stationary_mapper.hpp"

namespace eg::hw::array {

// `schedule` and `data` must outlive the context (it points into them).
inline PeContext make_pe_context(const arch::ArchConfig& config,
                                 const mapper::RowStationaryMapper& mapper,
                                 const mapper::Schedule& schedule, CanonicalData& data) {
  const mapper::CanonicalProblem& p = schedule.problem;
  PeContext ctx;
  ctx.problem = &p;
  ctx.input = data.input.data();
  ctx.filter = data.filter.data();
  ctx.output = data.output.data();
  ctx.simd_lanes = config.pe.macs_per_cycle;
  // The operands whose zeros this problem's phase exploits (features.sparse_operands): the input
  // is δ̂ in backward, the activations in forward and in the weight gradient; the filter is δ̂ in
  // the weight gradient (mapper::DeltaOperand says which operand is δ̂), weights or feedback
  // otherwise, which nothing prunes.
  const arch::SparseOperands& so = config.features.sparse_operands;
  const bool exploit = config.pe.sparsity != arch::Sparsity::None;
  ctx.sparsity = config.pe.sparsity;
  ctx.csc = config.pe.csc;
  ctx.input_sparse = exploit && (p.delta == mapper::DeltaOperand::Input ? so.backward_input
                                 : p.phase == mapper::Phase::Forward    ? so.forward_input
                                                                        : so.weight_gradient_input);
  ctx.filter_sparse =
      exploit && p.delta == mapper::DeltaOperand::Filter && so.weight_gradient_filter;
  ctx.pipeline_extra_cycles = config.pe.mac_pipeline_depth - 1;
  ctx.iact_bits = mapper.operand_bits(p.input);
  ctx.filter_bits = mapper.operand_bits(p.filter);
  ctx.output_bits = mapper.operand_bits(p.output);
  ctx.psum_bits = config.widths.psum;
  ctx.filter_in_feedback_spad = p.filter_in_feedback_spad;
  ctx.wide_mac = p.phase != mapper::Phase::Forward;
  ctx.onchip = onchip_compression(config, p, ctx.input, ctx.iact_bits, ctx.filter, ctx.filter_bits);
  return ctx;
}

}  // namespace eg::hw::array
