#pragma once
// A processing cluster (docs/DESIGN.md §2, §5.5): pe_rows x pe_cols PEs in row-stationary order.
// Its GLB banks are its partition of the GLB cluster, reached through the `glb` port; its routers
// (weight routers, one path per PE row with filter rows shared along the row; iact routers,
// input rows multicast to every PE that needs them, i.e. along the anti-diagonals; psum columns
// with their psum routers) are its partition of the router cluster, reached through the `noc`
// port. An sc_module without a process: the array's SystemC thread ticks it once per cycle as
// plain C++, and it steps its PEs and routers in that tick.
#include <memory>
#include <vector>

#include <systemc>

#include "hw/array/glb_cluster.hpp"
#include "hw/array/noc_cluster.hpp"
#include "hw/array/pe.hpp"
#include "hw/described.hpp"
#include "hw/stats_group.hpp"
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

class ProcessingCluster : public sc_core::sc_module, public Described, public StatsGroup {
 public:
  ProcessingCluster(sc_core::sc_module_name name, const arch::ArchConfig& config);
  const char* kind() const override { return "ProcessingCluster"; }
  Parameters parameters() const override;
  // Over the whole run: what its PEs did in the passes, its MACs, GLB conflicts (hardware figures
  // only: how many cycles the host simulated one by one depends on --step-every-cycle).
  nlohmann::json statistics() const override;
  // Adds one problem's collect() to the run totals (the array engine, after each problem).
  void add_to_run(const ClusterStats& s) { run_ += s; }

  // This cluster's GLB partition and NoC partition (bound at elaboration; resolved at the first
  // pass).
  sc_core::sc_port<GlbPartitionIf> glb;
  sc_core::sc_port<NocPartitionIf> noc;

  // Sets up one pass: `work` (may be inactive: the cluster idles), sharing `ctx`.
  void start(const mapper::PcWork& work, const mapper::Tiling& tiling, const PeContext& ctx);
  // Cycle `cycle` (strictly increasing across calls). After each cycle the cluster works out how
  // many following cycles provably change nothing but counters (every PE computing, waiting or
  // idle, routers blocked or mid-transfer without bank contention, no arrival due) and does not
  // simulate them one by one: tick() returns at once before wake(), and the skipped cycles are
  // accounted exactly when the cluster next works or at settle().
  void tick(uint64_t cycle);
  // First cycle at which the cluster's state can change other than by counting (tick() does
  // work again then, or every cycle with step_every_cycle).
  uint64_t wake() const { return wake_; }
  // With `on`, tick() simulates every cycle and nothing is accounted in bulk (no fast-forward):
  // the reference the quiet-cycle skipping must match exactly.
  void set_step_every_cycle(bool on) { step_every_cycle_ = on; }
  // Cycles tick() has simulated one by one (not those accounted in bulk), since construction.
  uint64_t simulated_cycles() const { return simulated_cycles_; }
  // Accounts the skipped cycles before `end` (one past the pass's last cycle); call at pass end.
  void settle(uint64_t end);
  bool done() const { return done_; }
  // Filter sets [0, n) of the pass have arrived from off-chip (from `cycle` on, >= every cycle
  // ticked so far): the weight routers may start them, and the cluster wakes at `cycle`.
  void release_filter_sets(int64_t n, uint64_t cycle);
  // A weight router would start a filter set now but for its DRAM transfer.
  bool waits_for_filters() const;
  // Folds PE, router and bank counters into a snapshot (call after a pass).
  ClusterStats collect() const;
  void reset_stats();
  const Pe& pe(size_t i) const { return *views_[i]; }
  size_t pe_count() const { return pes_.size(); }

 private:
  const arch::ArchConfig& config_;
  int rows_, cols_;
  int64_t hold_left_ = 0;  // cycles of the current pass before the first data arrives
  // The PEs' state, contiguous (stepped every cycle), and their sc_module views (hierarchy and
  // describe only). Sized once at construction: routers and views keep pointers into it.
  std::vector<PeCore> pes_;
  std::vector<std::unique_ptr<Pe>> views_;
  // The NoC partition's router groups, resolved from `noc` at the first pass.
  IactRouters* iact_ = nullptr;
  WeightRouters* weight_ = nullptr;
  PsumRouters* psum_ = nullptr;
  // The partition's banks, resolved from `glb` at the first pass.
  GlbBanks* iact_banks_ = nullptr;
  GlbBanks* psum_banks_ = nullptr;
  GlbBanks* grad_banks_ = nullptr;
  GlbBanks* psum_target_ = nullptr;

  bool wgrad_ = false;
  bool filter_in_feedback_ = false;
  int64_t iact_capacity_ = 0;
  bool active_ = false;
  bool done_ = true;
  bool step_every_cycle_ = false;
  uint64_t simulated_cycles_ = 0;
  static constexpr uint64_t kNoCycle = UINT64_MAX;
  uint64_t settled_ = kNoCycle;  // cycles before this one are accounted
  uint64_t wake_ = 0;
  // Counters carried over from earlier passes (routers and columns are rebuilt per pass).
  ClusterStats carried_;
  ClusterStats run_;  // whole run (statistics())

  void resolve_ports();
  // Returns true when a PE finished a position or a column sent one (done() may have changed).
  bool simulate_cycle(uint64_t cycle);
  bool compute_done() const;
  int64_t quiet_ticks(uint64_t now) const;
  void skip_quiet(int64_t ticks);
  int64_t arrived(size_t pe) const {
    const MulticastGroup* g = pe_feed_[pe].group;
    return g ? g->arrived() : 0;
  }
  int64_t drained(size_t pe) const { return pe_feed_[pe].column->sent(); }
  // Per PE: its multicast group (null: idle) and psum column, resolved once per pass.
  struct PeFeed {
    MulticastGroup* group = nullptr;
    const PsumColumn* column = nullptr;
    size_t column_index = 0;
  };
  std::vector<PeFeed> pe_feed_;
  // Per column, within a cycle: a member finished a position (the column observes only then).
  std::vector<uint8_t> column_produced_;
};

}  // namespace eg::hw::array
