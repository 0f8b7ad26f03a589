// features.backward_schedule "interleaved" (InterGrad, docs/DESIGN.md §5.7): the δ tiles of a
// layer, their views and offsets, and where each tile's partial ΔW goes. Kept apart from
// controller.cpp, which runs the steps these describe.
#include <algorithm>
#include <cmath>

#include "hw/array/controller.hpp"
#include "hw/array/packed_bytes.hpp"

namespace eg::hw::array {

using trace::Layer;

namespace {
bool on_array(const Layer& l) {
  return l.type == trace::LayerType::Conv || l.type == trace::LayerType::Fc;
}
}  // namespace

mapper::ConvView Controller::tile_view(const Layer& layer, int64_t n0, int64_t n1) const {
  mapper::ConvView view = mapper::conv_view(layer);
  if (n1 > 0 && !view.fc) view.n = n1 - n0;
  return view;
}

Controller::TileOffsets Controller::tile_offsets(const Layer& layer, int64_t n0) const {
  TileOffsets o;
  if (n0 == 0) return o;
  const mapper::ConvView v = mapper::conv_view(layer);
  o.x = bytes_of(n0 * v.c * v.h * v.w, config_.widths.activation);
  o.dy = bytes_of(n0 * v.m * v.e * v.f, config_.widths.gradient);
  o.dx = bytes_of(n0 * v.c * v.h * v.w, config_.widths.gradient);
  return o;
}

int64_t Controller::delta_tile_samples(const Layer& layer, bool backward,
                                       bool weight_gradient) const {
  if (config_.features.backward_schedule != arch::BackwardSchedule::Interleaved ||
      !on_array(layer) || !backward || !weight_gradient)
    return 0;
  // A filtered layer's backward works on the reduced g̃, which the PPU makes from the whole δ
  // (run_filtered_phase): it has no δ tiles to share, so it keeps the separate order.
  if (layer.grad_filter > 0) return 0;
  // A PSG layer's weight gradient reads δ̂ twice at two widths (predictor MSBs, then the full
  // operand for the completion pass; controller_psg.cpp): not modelled as a held tile.
  if (layer.psg) return 0;
  // The tile is held where a tensor handed over between layers is (plan_traffic): the iact GLBs
  // of all clusters. (It shares them with the passes' input buffers; like the hand-over, the
  // model does not take their room off.) It is held raw, or, when δ̂ is compressed both in DRAM
  // and on chip (features.gradient_compression and onchip_compression.gradients), at the size
  // the DMA delivers it: the layer's compressed/raw ratio (plan_traffic, from the trace's dy)
  // taken as uniform over the samples.
  const uint64_t glb_bytes = static_cast<uint64_t>(config_.array.pc_count()) *
                             static_cast<uint64_t>(config_.glb.iact_banks) *
                             static_cast<uint64_t>(config_.glb.iact_bank_bytes);
  double ratio = 1.0;
  auto grad = tensors_.find("grad:" + layer.name);
  if (grad != tensors_.end() && config_.features.onchip_compression.gradients &&
      config_.features.gradient_compression != arch::GradientCompression::None)
    ratio = grad->second.policy.gradient_ratio;
  auto held = [&](int64_t entries) {
    return std::ceil(static_cast<double>(bytes_of(entries, config_.widths.gradient)) * ratio);
  };
  const mapper::ConvView v = mapper::conv_view(layer);
  const int64_t n = layer.out[0];
  if (v.fc) return held(n * v.m) <= static_cast<double>(glb_bytes) ? n : 0;
  const double per_sample = std::max(1.0, held(v.m * v.e * v.f));
  const int64_t tile =
      std::min<int64_t>(n, static_cast<int64_t>(static_cast<double>(glb_bytes) / per_sample));
  if (tile <= 0 || tile >= n) return tile;
  // Several tiles: each tile after the first streams the backward's filter again (W, Wᵀ or the
  // feedback: the whole tensor at least once per tile) and adds its partial ΔW to the sum in DRAM
  // (written, then read back). Interleave only when that costs fewer DRAM bytes than it saves: at
  // least δ's second stream, at its DRAM size (none when δ is handed over in the GLB anyway).
  const int64_t extra_tiles = (n + tile - 1) / tile - 1;
  const int64_t weights = v.m * v.c * v.r * v.s;
  const bool feedback = config_.features.feedback_source == arch::FeedbackSource::PeSpad;
  const uint64_t filter =
      feedback && config_.features.feedback_magnitudes == arch::FeedbackMagnitudes::Seed
          ? 0
          : bytes_of(weights, feedback ? config_.widths.feedback : config_.widths.weight);
  const double added = static_cast<double>(extra_tiles) *
                       static_cast<double>(filter + 2 * bytes_of(weights, config_.widths.gradient));
  double saved = 0;
  if (grad != tensors_.end() && !grad->second.policy.reads_on_chip)
    saved = std::ceil(static_cast<double>(bytes_of(n * v.m * v.e * v.f, config_.widths.gradient)) *
                      grad->second.policy.gradient_ratio);
  return added < saved ? tile : 0;
}

void Controller::weight_gradient_tile_policy(const Layer& layer, int64_t n0, int64_t n1) {
  // Each δ tile's weight gradient is a partial ΔW over its samples: the first is written, the
  // next ones add to it (read-modify-write). With the fused update the last tile's sum drains
  // into the PPU: it reads the partial sum back and writes nothing.
  const int64_t n = layer.out[0];
  const bool whole = n1 == 0 || (n0 == 0 && n1 >= n) || mapper::conv_view(layer).fc;
  if (whole) {
    if (config_.features.fused_weight_update) keep_weight_gradient_on_chip(layer);
    return;
  }
  const std::string dw = own(layer, "dw");
  address_of(dw, bytes_of(element_count(layer.expected_shape("w")), config_.widths.gradient));
  TensorPolicy p;
  p.accumulate_writes = n0 > 0;
  if (n1 >= n && config_.features.fused_weight_update)
    p.reads_on_chip = p.writes_on_chip = p.partial_sum_in_dram = true;
  set_policy(dw, p);
}

}  // namespace eg::hw::array
