#pragma once
// A processing cluster (DESIGN.md §3): pe_rows x pe_cols PEs in row-stationary order, its weight
// routers (one per PE row, filter rows shared along the row), iact routers (input rows multicast
// to every PE that needs them, i.e. along the anti-diagonals), psum columns with their psum
// routers, and its GLB banks. Plain C++, ticked once per cycle by the array's SystemC thread.
#include <memory>
#include <vector>

#include "hw/array/glb_banks.hpp"
#include "hw/array/iact_router.hpp"
#include "hw/array/pe.hpp"
#include "hw/array/psum_column.hpp"
#include "hw/array/weight_router.hpp"
#include "models/arch/arch_config.hpp"

namespace eg::hw::array {

struct ClusterStats {
  PeCycleClasses cycles;
  MacCounts macs;
  ActionCounts actions;
  uint64_t glb_conflicts = 0;
  ClusterStats& operator+=(const ClusterStats& o) {
    cycles += o.cycles, macs += o.macs, actions += o.actions, glb_conflicts += o.glb_conflicts;
    return *this;
  }
};

class ProcessingCluster {
 public:
  explicit ProcessingCluster(const arch::ArchConfig& config);

  // Sets up one pass: `work` (may be inactive: the cluster idles), sharing `ctx`.
  void start(const mapper::PcWork& work, const mapper::Tiling& tiling, const PeContext& ctx);
  void tick(uint64_t cycle);
  bool done() const;
  // Folds PE, router and bank counters into a snapshot (call after a pass).
  ClusterStats collect() const;
  void reset_stats();
  const std::vector<Pe>& pes() const { return pes_; }

 private:
  const arch::ArchConfig& config_;
  int rows_, cols_;
  std::vector<Pe> pes_;
  std::vector<WeightRouter> weight_routers_;
  std::vector<IactRouter> iact_routers_;
  std::vector<PsumColumn> columns_;
  std::vector<std::unique_ptr<MulticastGroup>> groups_;
  std::vector<int> pe_group_;  // group index per PE (-1: idle)
  GlbBanks iact_banks_, psum_banks_, grad_banks_;
  GlbBanks* psum_target_ = nullptr;
  bool wgrad_ = false;
  int iact_bits_ = 8, filter_bits_ = 8;
  bool filter_in_feedback_ = false;
  int64_t iact_capacity_ = 0;
  bool active_ = false;
  // Counters carried over from earlier passes (routers and columns are rebuilt per pass).
  ClusterStats carried_;
};

}  // namespace eg::hw::array
