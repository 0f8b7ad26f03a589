#pragma once
// Row-stationary mapping (Eyeriss, docs/DESIGN.md §4) of a canonical problem onto the clusters.
#include "models/arch/arch_config.hpp"
#include "sw/mapper/schedule.hpp"

namespace eg::mapper {

// Limits of one schedule; beyond them the mapper throws eg::Error instead of exhausting memory.
// Passes of one canonical problem: the engine keeps ~50 bytes of traffic figures per pass (200 MB
// at the limit), and a pass costs at least a few cycles of simulation. A batch-16 ResNet-18 layer
// on the EfficientGrad array needs at most 3.5e4 (batch 128: ~3e5).
inline constexpr int64_t kMaxSchedulePasses = int64_t{1} << 22;
// PE tasks of one pass (clusters x PEs x folds in the pass, ~100 bytes each): 2^20 is ~100 MB.
// The EfficientGrad array has 72 PEs and runs at most a few dozen folds per pass.
inline constexpr int64_t kMaxPassTasks = int64_t{1} << 20;

// Mapping choices that are design decisions rather than array parameters; set from the hardware
// config's "mapping" section (models/arch), or explicitly by tests comparing the two dataflows.
struct MappingOptions {
  // Run the folds of a tile back to back in one pass with psums kept in the PE when its psum row
  // fits the psum spad (Eyeriss keeps psums in the spad while channels stream).
  bool psum_stationary_folds = true;
  // Split the filter spad in two halves so the next fold's filters load while the current fold
  // computes (only meaningful with psum-stationary folding: folds then follow each other in a
  // pass). Off: one filter set at a time, each load exposed.
  bool double_buffer_filter_spad = true;
};

class RowStationaryMapper {
 public:
  // Mapping switches from the config's "mapping" section.
  explicit RowStationaryMapper(const arch::ArchConfig& config)
      : RowStationaryMapper(config, MappingOptions{config.mapping.psum_stationary_folds,
                                                   config.mapping.double_buffer_filter_spad}) {}
  RowStationaryMapper(const arch::ArchConfig& config, MappingOptions options)
      : config_(config), options_(options) {}
  // Throws eg::Error naming `context` when no tiling fits the scratchpads and GLB.
  Schedule map(const CanonicalProblem& problem, const std::string& context) const;
  Tiling choose_tiling(const CanonicalProblem& problem, const std::string& context) const;

  int operand_bits(Operand o) const;

 private:
  // Spad-bounded per-PE work (taps, channels, lanes) for a filter capacity and a psum lane cap.
  void fit_pe_work(const CanonicalProblem& p, Tiling& t, int64_t filter_cap,
                   int64_t lane_cap) const;
  // Largest input-row footprint (rows x planes, one channel) of any column chunk.
  int64_t max_chunk_input_rows(const CanonicalProblem& p, const Tiling& t) const;

  const arch::ArchConfig& config_;
  MappingOptions options_;
};

// Output entries (psums) of output tile `tile` of a schedule: what leaves for off-chip memory once
// its last fold is done.
int64_t tile_output_entries(const Schedule& schedule, int64_t tile);

}  // namespace eg::mapper
