#pragma once
// Writes one training iteration of a network as a trace (docs/DESIGN.md §3) with
// eg::trace::TraceWriter: every node in forward order; conv/fc with all seven tensors and their
// stats, other layers with their shapes. Call after the backward pass of the iteration and before
// the SGD step; with an optimizer in `manifest` (a version 2 trace) the function runs `sgd_step`
// itself, between writing the step's inputs (with each conv/fc layer's momentum) and its results
// (`w_next`, `momentum_next`).
#include <filesystem>
#include <functional>

#include "sw/train/network.hpp"
#include "workloads/trace.hpp"

namespace eg::train {

// `manifest` carries the run fields (network, dataset, mode, ...); its layers are filled here.
void write_trace(const std::filesystem::path& dir, Network& net, trace::Manifest manifest,
                 const std::function<void()>& sgd_step = {});

// The stats of a weighted layer as recorded by its last backward with ctx.record.
trace::LayerStats layer_stats(const WeightedLayer& layer);

}  // namespace eg::train
