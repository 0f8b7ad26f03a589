#pragma once
// The float tensors of one conv/FC layer in conv view (NCHW / MCRS; an FC layer's [N,C] tensors
// become [1,C,1,N]), and the canonical I/W/O planes each phase's problems read and write.
#include <vector>

#include "sw/mapper/canonical_problem.hpp"

namespace eg::hw::array {

struct LayerOperands {
  mapper::ConvView view;
  std::vector<float> x, w, feedback, dy;  // conv view layouts; empty when the trace lacks them
};

// Converts trace layouts ([N,C] for FC) into conv view.
LayerOperands make_layer_operands(const mapper::ConvView& view, std::vector<float> x,
                                  std::vector<float> w, std::vector<float> feedback,
                                  std::vector<float> dy);

struct CanonicalData {
  std::vector<float> input;   // [a][k][rows.in_len][cols.in_len]
  std::vector<float> filter;  // [b][k][rows.taps][cols.taps]
  std::vector<float> output;  // [a][b][rows.out_len][cols.out_len], accumulated by the PEs
};

CanonicalData build_canonical_data(const mapper::CanonicalProblem& problem,
                                   const LayerOperands& operands);

// Adds a problem's output into the phase result in conv view: y [n,m,e,f], dx [n,c,h,w] (only the
// positions inside the unpadded input), dw [m,c,r,s].
void scatter_output(const mapper::CanonicalProblem& problem, const CanonicalData& data,
                    const mapper::ConvView& view, std::vector<float>& result);
size_t result_size(mapper::Phase phase, const mapper::ConvView& view);
// Conv-view result -> the trace's layout (FC: [1,M,1,N] -> [N,M], etc.).
std::vector<float> to_trace_layout(mapper::Phase phase, const mapper::ConvView& view,
                                   const std::vector<float>& result);

}  // namespace eg::hw::array
