#pragma once
// Runs a training trace on the array (docs/DESIGN.md §5.7): forward over the layers in order, then
// for each layer in reverse its backward, weight-gradient and weight-update phases. Conv and FC
// layers go through the mapper and the PE array (values checked against the trace); BN, ReLU, add
// and pooling run on the post-processing unit.
//
// Data movement between layers is decided here (docs/DESIGN.md §5.8, issue 4): every tensor has one
// DRAM address range (a layer's input is its producer's output; a layer's output gradient is what
// its consumers' backward passes write), and before each layer the controller tells the
// MemoryInterface which of them stay in the GLB, which move compressed and which accumulate.
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hw/array/array_engine.hpp"
#include "hw/array/figures.hpp"
#include "hw/array/layer_operands.hpp"
#include "hw/array/memory_interface.hpp"
#include "hw/array/pe.hpp"
#include "hw/array/ppu.hpp"
#include "hw/array/run_progress.hpp"
#include "hw/timeline/timeline_recorder.hpp"
#include "models/arch/arch_config.hpp"
#include "sw/mapper/row_stationary_mapper.hpp"
#include "workloads/trace.hpp"

namespace eg::hw::array {

inline constexpr const char* kReportPhases[] = {"forward", "backward", "weight_gradient",
                                                "weight_update"};

struct RunOptions {
  bool check = true;                // compare y, dx, dw with the trace
  std::vector<std::string> layers;  // empty: all
  // Simulate every array cycle one by one, with no fast-forward over quiet cycles (a check of the
  // fast-forward's exactness: the figures are the same, the run slower).
  bool step_every_cycle = false;
  TimelineRecorder* timeline = nullptr;  // records the run's timeline (null: none)
  RunProgress* progress = nullptr;       // told what runs (null: nobody)
};

struct LayerFigures {
  std::string name;
  trace::LayerType type = trace::LayerType::Conv;
  int64_t dense_macs = 0;                      // forward MACs (trace definition)
  std::map<std::string, PhaseFigures> phases;  // only phases the layer has
};

// How close the run came to failing the functional check (what check.rtol was chosen from).
struct CheckSummary {
  int64_t tensors = 0;                    // y, dx and dw tensors compared with the trace
  double worst_relative_error = 0;        // largest max|got - want| / max|want| among them
  std::string worst_layer, worst_tensor;  // where it occurred
  // The weight update's results (version 2 traces): master W, momentum and the weight copy
  // against the trace's w_next, momentum_next and w_next. Their allowance adds the rounding of
  // each one's storage format to check.rtol (hw/array/sgd_update.hpp), so they are kept apart.
  int64_t update_tensors = 0;
  double worst_update_error = 0;    // largest max|got - want| / max|want|
  double worst_update_allowed = 0;  // that tensor's allowance: check.rtol + its format's rounding
  std::string worst_update_layer, worst_update_tensor;
};

struct RunResult {
  std::vector<LayerFigures> layers;  // forward order
  CheckSummary check;                // empty when the check was off
  uint64_t ticked_cycles = 0;        // simulated cycle by cycle (the rest jumped over memory waits)
  nlohmann::json blocks;             // statistics groups by hierarchical name (hw/stats_group.hpp)
};

using DramStatsSource = std::function<dram::DramStats()>;

// Samples [begin, end) of a tensor's leading (batch) dimension; empty = the whole tensor.
struct SampleRange {
  int64_t begin = 0;
  int64_t end = 0;
};

class Controller {
 public:
  // `dram_stats` reads the DRAM counters; the controller charges their change to each layer x
  // phase.
  // `queue`: the DMA queue the array's passes use (null: transfers made inline, for tests).
  Controller(const arch::ArchConfig& config, MemoryInterface& memory, SimClock& clock,
             DramStatsSource dram_stats, TransferQueue* queue = nullptr);
  // Throws eg::Error for a bad trace, a layer that cannot be mapped or a check mismatch.
  RunResult run(const trace::Trace& trace, const RunOptions& options);

 private:
  // Samples [n0, n1) of the batch (n1 0: all of them): one δ tile of an interleaved layer.
  void run_array_phase(const trace::Trace& trace, const trace::Layer& layer, int phase_index,
                       bool check, PhaseFigures& fig, int64_t n0 = 0, int64_t n1 = 0);
  // features.backward_schedule "interleaved": the samples per δ tile of `layer` (the most whose
  // δ fits the GLB), or 0 when the layer runs its backward products separately (not both of
  // them, or one sample's δ does not fit, or an FC layer's whole δ does not).
  int64_t delta_tile_samples(const trace::Layer& layer, bool backward, bool weight_gradient) const;
  // The conv view of samples [n0, n1) (n1 0: all), and the byte offsets of their x, δ and dx in
  // the whole tensors.
  mapper::ConvView tile_view(const trace::Layer& layer, int64_t n0, int64_t n1) const;
  struct TileOffsets {
    uint64_t x = 0, dy = 0, dx = 0;
  };
  TileOffsets tile_offsets(const trace::Layer& layer, int64_t n0) const;
  // Before an interleaved layer's weight-gradient tile: where ΔW's partial sums go.
  void weight_gradient_tile_policy(const trace::Layer& layer, int64_t n0, int64_t n1);
  // features.cross_layer_prefetch: the array problem after problem `problem` of the running step
  // (the next of the same phase, or the first of the next array step), mapped now, with which of
  // its operands may be fetched early (nothing written before it starts overlaps them). Nothing
  // when no array problem follows.
  std::optional<NextProblem> next_problem(size_t problem,
                                          const std::vector<mapper::CanonicalProblem>& problems,
                                          const std::string& out_tensor);
  // The DRAM tensor a problem streams as its filter, and (features.feedback_source
  // "transposed_read", backward) the R·S of W read in place with transposed addressing, else 0.
  std::string filter_tensor_of(const trace::Layer& layer, mapper::Phase phase,
                               const mapper::CanonicalProblem& p) const;
  int64_t transposed_kernel(const mapper::ConvView& view, mapper::Phase phase,
                            const mapper::CanonicalProblem& p) const;
  void run_ppu(const trace::Layer& layer, bool backward, PhaseFigures& fig);
  // controller_filter.cpp, gradient filtering (trace::Layer::grad_filter): the PPU's sum-pooling
  // of x into x~ after a filtered layer's forward pass, and its backward and weight-gradient phases
  // as the reduced 1x1 problems on the E' x F' map.
  void sum_pool_input(const trace::Layer& layer, PhaseFigures& fig);
  void run_filtered_phase(const trace::Trace& trace, const trace::Layer& layer, mapper::Phase phase,
                          bool check, PhaseFigures& fig);
  // Compares a phase's result with the trace's tensor `role` (when the trace has it), restricted
  // to `samples` (an interleaved δ tile's dx), and records the outcome in the check summary;
  // `counts` is false for all but a tensor's last tile, so a tiled tensor counts once.
  void check_result(const trace::Trace& trace, const trace::Layer& layer, mapper::Phase phase,
                    const char* role, const std::vector<float>& got, SampleRange samples = {},
                    bool counts = true);
  void run_weight_update(const trace::Layer& layer, PhaseFigures& fig);
  // controller_update.cpp: the fused update's timing, and the PPU's SGD step computed and
  // compared with a version 2 trace's post-step tensors.
  void keep_weight_gradient_on_chip(const trace::Layer& layer);
  void run_fused_weight_update(const trace::Layer& layer, PhaseFigures& fig);
  void check_weight_update(const trace::Trace& trace, const trace::Layer& layer);
  void idle_cycles(uint64_t from, PhaseFigures& fig);
  // controller_psg.cpp: E²-Train's predictive sign gradient. A layer of a PSG trace (with its
  // psg record and mask) runs its weight-gradient phase as a predictor pass on the array over
  // all weights at the predictor widths, then a completion pass for the masked weights.
  struct PsgOperands {
    std::vector<float> x, dy;  // full precision (8-bit x, 16-bit dy), conv view
  };
  bool psg_layer(const trace::Trace& trace, const trace::Layer& layer) const;
  // Keeps the full-precision operands and truncates ops.x and ops.dy to the predictor's MSBs.
  PsgOperands begin_psg(const trace::Trace& trace, LayerOperands& ops) const;
  void psg_predictor_widths(const trace::Trace& trace, const mapper::CanonicalProblem& p,
                            PeContext& ctx) const;
  // The trace's mask (conv-view dw order, 1 = the weight needs full precision) and the PPU's work
  // between the passes: the predictor values read back, τ̃, the signs and the mask written.
  struct PsgDecision {
    std::vector<uint8_t> mask;
    uint64_t masked = 0;
  };
  PsgDecision decide_psg(const trace::Trace& trace, const trace::Layer& layer,
                         const std::vector<float>& predictor, PhaseFigures& fig);
  // The mask in the canonical output layout of weight-gradient problem `p`.
  static std::vector<uint8_t> psg_canonical_mask(const mapper::CanonicalProblem& p,
                                                 const mapper::ConvView& view,
                                                 const std::vector<uint8_t>& mask);
  void finish_psg(const trace::Trace& trace, const trace::Layer& layer,
                  const mapper::ConvView& view, const std::vector<float>& predictor,
                  const std::vector<float>& completed, const PsgDecision& decision,
                  const MacCounts& completion_macs, bool check, PhaseFigures& fig);

  // DRAM address of a tensor, allocated (page aligned) on first use.
  uint64_t address_of(const std::string& tensor, uint64_t bytes);
  void set_policy(const std::string& tensor, const TensorPolicy& policy);
  // Tensor names: a layer's forward output, the loss gradient with respect to it, its own tensors.
  std::string activation_of(const trace::Layer& layer, size_t input) const;
  std::string gradient_of(const trace::Layer& layer, size_t input) const;
  static std::string own(const trace::Layer& layer, const char* role);

  // controller_slu.cpp (SLU traces): a gated block's branch layers replaced by copies whose batch
  // is the block's N_active (a block no sample ran keeps its shapes and is listed as unused); the
  // trace's tensors of a layer with its per-sample tensors compacted to the active samples' rows;
  // and the elements a PPU layer moves for its input k (a gated branch's output holds N_active
  // samples).
  std::vector<const trace::Layer*> apply_slu(const trace::Trace& trace,
                                             const std::vector<const trace::Layer*>& layers);
  NdArray load_tensor(const trace::Trace& trace, const trace::Layer& layer,
                      const std::string& role) const;
  int64_t input_elements(const trace::Layer& layer, size_t k) const;
  bool slu_unused(const trace::Layer& layer) const { return slu_unused_.count(layer.name) > 0; }

  void plan_traffic(const trace::Trace& trace, const std::vector<const trace::Layer*>& layers);
  void note_gradient_written(const trace::Layer& layer);
  void charge_dram(const dram::DramStats& before, PhaseFigures& fig);

  // What the run does, in order. run() lists every step first, so that an array problem can see
  // the next one and what runs in between (features.cross_layer_prefetch).
  struct Step {
    enum class Kind { Array, PpuForward, PpuBackward, WeightUpdate, ActivationsOffChip };
    Kind kind = Kind::Array;
    size_t layer = 0;  // index into layers_
    int phase = 0;     // Array: index into mapper::kAllPhases
    // Array backward and weight gradient of an interleaved layer (features.backward_schedule):
    // the δ tile, samples [n0, n1); n1 0: the whole batch.
    int64_t n0 = 0, n1 = 0;
  };

  const arch::ArchConfig& config_;
  MemoryInterface& memory_;
  SimClock& clock_;
  DramStatsSource dram_stats_;
  ArrayEngine engine_;
  Ppu ppu_;
  struct Tensor {
    uint64_t base = 0, bytes = 0;
    TensorPolicy policy;
  };
  std::map<std::string, Tensor> tensors_;
  uint64_t next_address_ = 0;
  std::map<std::string, std::vector<std::string>> consumers_;  // among the simulated layers
  std::map<std::string, int> gradient_writers_;  // consumers that have written each gradient
  std::set<std::string> filtered_gradients_;     // filtered layers whose g~ the PPU has made
  CheckSummary check_summary_;
  mapper::RowStationaryMapper mapper_;
  std::vector<const trace::Layer*> layers_;  // the simulated layers, forward order
  std::vector<Step> steps_;
  size_t step_ = 0;  // the step running
  // The next array problem, mapped ahead for the prefetch; its step maps it no second time.
  struct Ahead {
    size_t step = 0, problem = 0;
    mapper::Schedule schedule;
  };
  std::optional<Ahead> ahead_;
  // SLU (apply_slu): the compacted copies, each gated layer's N_active, the unused ones.
  std::deque<trace::Layer> slu_layers_;
  std::map<std::string, int64_t> slu_active_;
  std::set<std::string> slu_unused_;
  // An interleaved layer's ΔW summed over its δ tiles so far (conv view), for the check.
  std::vector<float> dw_sum_;
};

}  // namespace eg::hw::array
