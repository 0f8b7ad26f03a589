#pragma once
// Runs a training trace on the array (DESIGN.md §5): forward over the layers in order, then for
// each layer in reverse its backward, weight-gradient and weight-update phases. Conv and FC layers
// go through the mapper and the PE array (values checked against the trace); BN, ReLU, add and
// pooling run on the post-processing unit.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "hw/array/array_engine.hpp"
#include "hw/array/figures.hpp"
#include "models/arch/arch_config.hpp"
#include "workloads/trace.hpp"

namespace eg::hw::array {

inline constexpr const char* kReportPhases[] = {"forward", "backward", "weight_gradient",
                                                "weight_update"};

struct RunOptions {
  bool check = true;                // compare y, dx, dw with the trace
  std::vector<std::string> layers;  // empty: all
};

struct LayerFigures {
  std::string name;
  trace::LayerType type = trace::LayerType::Conv;
  int64_t dense_macs = 0;                      // forward MACs (trace definition)
  std::map<std::string, PhaseFigures> phases;  // only phases the layer has
};

struct RunResult {
  std::vector<LayerFigures> layers;  // forward order
  uint64_t ticked_cycles = 0;        // simulated cycle by cycle (the rest jumped over memory waits)
};

class Controller {
 public:
  Controller(const arch::ArchConfig& config, MemoryPort& memory, SimClock& clock);
  // Throws eg::Error for a bad trace, a layer that cannot be mapped or a check mismatch.
  RunResult run(const trace::Trace& trace, const RunOptions& options);

 private:
  void run_array_phase(const trace::Trace& trace, const trace::Layer& layer, int phase_index,
                       bool check, PhaseFigures& fig);
  void run_ppu(const trace::Layer& layer, bool backward, PhaseFigures& fig);
  void run_weight_update(const trace::Layer& layer, PhaseFigures& fig);
  uint64_t address_of(const std::string& layer, const std::string& role, uint64_t bytes);
  void idle_cycles(uint64_t from, PhaseFigures& fig);

  const arch::ArchConfig& config_;
  SimClock& clock_;
  ArrayEngine engine_;
  std::map<std::string, uint64_t> addresses_;
  uint64_t next_address_ = 0;
};

}  // namespace eg::hw::array
