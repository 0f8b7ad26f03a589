#pragma once
// Row-stationary mapping (Eyeriss, DESIGN.md §5.1) of a canonical problem onto the clusters.
#include "models/arch/arch_config.hpp"
#include "sw/mapper/schedule.hpp"

namespace eg::mapper {

class RowStationaryMapper {
 public:
  explicit RowStationaryMapper(const arch::ArchConfig& config) : config_(config) {}
  // Throws eg::Error naming `context` when no tiling fits the scratchpads and GLB.
  Schedule map(const CanonicalProblem& problem, const std::string& context) const;
  Tiling choose_tiling(const CanonicalProblem& problem, const std::string& context) const;

  int operand_bits(Operand o) const;

 private:
  const arch::ArchConfig& config_;
};

// Output entries (psums) of output tile `tile` of a schedule: what leaves for off-chip memory once
// its last fold is done.
int64_t tile_output_entries(const Schedule& schedule, int64_t tile);

}  // namespace eg::mapper
