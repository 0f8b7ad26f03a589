// SLU traces (E²-Train's selective layer update, the trace's `slu` record): a gated block's branch
// layers run for the block's active samples only. The controller simulates them as layers whose
// batch is N_active and whose per-sample operands are the active samples' rows, compacted in
// sample order (what a DMA gathering those rows would stream): the mapper, the PE array, the
// PPU and the traffic all see a batch of N_active, so their cycles, traffic and energy are those of
// N_active samples, not a full batch scaled down.
#include <algorithm>

#include "base/error.hpp"
#include "hw/array/controller.hpp"

namespace eg::hw::array {

using trace::Layer;

namespace {

// Roles that hold one row per sample (the batch is their outermost dimension).
bool per_sample(const std::string& role) {
  return role == "x" || role == "y" || role == "dy" || role == "dx";
}

}  // namespace

std::vector<const Layer*> Controller::apply_slu(const trace::Trace& trace,
                                                const std::vector<const Layer*>& layers) {
  slu_layers_.clear();
  slu_active_.clear();
  slu_unused_.clear();
  std::vector<const Layer*> out;
  for (const Layer* l : layers) {
    const std::vector<int64_t>* active = trace.active_samples(l->name);
    if (!active) {
      out.push_back(l);
      continue;
    }
    const int64_t n = static_cast<int64_t>(active->size());
    slu_active_[l->name] = n;
    if (n == 0) {  // nothing to compute; the shapes stay (only an optional update runs)
      slu_unused_.insert(l->name);
      out.push_back(l);
      continue;
    }
    Layer copy = *l;
    copy.in[0] = n;
    copy.out[0] = n;
    slu_layers_.push_back(std::move(copy));
    out.push_back(&slu_layers_.back());
  }
  return out;
}

NdArray Controller::load_tensor(const trace::Trace& trace, const Layer& layer,
                                const std::string& role) const {
  const std::vector<int64_t>* active = trace.active_samples(layer.name);
  const Layer* original = trace.manifest().find(layer.name);
  if (!original) throw Error("layer '" + layer.name + "' is not in the trace");
  NdArray full = trace.load(*original, role);
  if (!active || !per_sample(role)) return full;
  const int64_t batch = full.shape.at(0);
  const int64_t row = batch ? static_cast<int64_t>(full.data.size()) / batch : 0;
  NdArray compact;
  compact.shape = full.shape;
  compact.shape[0] = static_cast<int64_t>(active->size());
  compact.data.resize(active->size() * static_cast<size_t>(row));
  for (size_t j = 0; j < active->size(); ++j)
    std::copy(full.data.begin() + (*active)[j] * row, full.data.begin() + ((*active)[j] + 1) * row,
              compact.data.begin() + static_cast<int64_t>(j) * row);
  return compact;
}

int64_t Controller::input_elements(const Layer& layer, size_t k) const {
  const int64_t in = element_count(layer.in);
  if (k >= layer.inputs.size()) return in;
  const auto it = slu_active_.find(layer.inputs[k]);
  // A layer fed by a gated branch but not in it (the block's add) reads or writes that input's
  // N_active rows only; every input of an add has the add's shape.
  if (it == slu_active_.end() || layer.in.at(0) == it->second) return in;
  return in / layer.in[0] * it->second;
}

}  // namespace eg::hw::array
