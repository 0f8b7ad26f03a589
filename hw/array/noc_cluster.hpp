#pragma once
// The router cluster (network on chip, docs/DESIGN.md §2, §5.5): the mesh of processing clusters
// and, per cluster, its iact, weight and psum routers (configs/hw/README.md, "noc"). Each cluster
// reaches its own partition (accelerator.noc.pc3) through an sc_port bound at elaboration, as it
// reaches its GLB partition, so a different NoC is a different module bound in its place.
//
// The routers are sc_modules without processes: their cluster steps them as plain C++ in its own
// per-cycle loop (non-virtual calls into the partition's children, resolved once at the first
// pass), so the hierarchy costs no host time per cycle. Each router group keeps its counters over
// the whole run as a statistics group (report "blocks"); the cluster folds the current pass's into
// its own energy actions.
#include <memory>
#include <vector>

#include <systemc>

#include "hw/array/glb_banks.hpp"
#include "hw/array/iact_router.hpp"
#include "hw/array/psum_column.hpp"
#include "hw/array/weight_router.hpp"
#include "hw/described.hpp"
#include "hw/stats_group.hpp"
#include "models/arch/arch_config.hpp"

namespace eg::hw::array {

// accelerator.noc.pc3.iact: `noc.iact_routers` routers, each serving its multicast groups
// round-robin (IactRouter).
class IactRouters : public sc_core::sc_module, public Described, public StatsGroup {
 public:
  IactRouters(sc_core::sc_module_name name, const arch::NocConfig& noc, const arch::GlbConfig& glb);
  const char* kind() const override { return "IactRouters"; }
  Parameters parameters() const override;
  nlohmann::json statistics() const override;

  // Drops the pass's routers and groups (their counters go to the run totals); the next pass's
  // routers carry entries of `entry_bits` (0: none until begin_pass is called again). At most
  // `max_groups` groups may be added (their addresses stay fixed).
  void begin_pass(int entry_bits, size_t max_groups);
  // A multicast group, served by router (groups so far) % routers.
  MulticastGroup& add_group(std::vector<const PeCore*> members, std::vector<int64_t> segment_ends,
                            std::vector<int> banks);
  const std::vector<MulticastGroup>& groups() const { return groups_; }
  const std::vector<IactRouter>& routers() const { return routers_; }

  // Per cycle: arrivals due, then each router's transfer. Only groups with entries in flight are
  // visited for arrivals (a group's arrivals are its own: the order among groups is immaterial).
  void advance(uint64_t cycle) {
    for (size_t i = 0; i < in_flight_.size();) {
      in_flight_[i]->advance(cycle);
      if (in_flight_[i]->in_flight()) {
        ++i;
      } else {
        in_flight_[i] = in_flight_.back();
        in_flight_.pop_back();
      }
    }
  }
  void tick(uint64_t cycle, GlbBanks& banks, int64_t spad_capacity) {
    for (IactRouter& r : routers_)
      if (MulticastGroup* g = r.tick(cycle, banks, spad_capacity)) in_flight_.push_back(g);
  }
  // Cycle skipping: ticks after `now` before the first arrival; whether every router would idle.
  int64_t ticks_before_arrival(uint64_t now) const;
  bool quiet(int64_t spad_capacity) const;

 private:
  const arch::NocConfig& noc_;
  const arch::GlbConfig& glb_;
  std::vector<IactRouter> routers_;
  std::vector<MulticastGroup> groups_;
  std::vector<MulticastGroup*> in_flight_;  // the groups with entries in flight
  RouterTraffic run_;                       // passes already dropped
};

// accelerator.noc.pc3.weight: one WeightRouter per PE row, the rows sharing `noc.weight_routers`
// routers (one row per router and cycle when fewer routers than rows).
class WeightRouters : public sc_core::sc_module, public Described, public StatsGroup {
 public:
  WeightRouters(sc_core::sc_module_name name, const arch::NocConfig& noc, int pe_rows);
  const char* kind() const override { return "WeightRouters"; }
  Parameters parameters() const override;
  nlohmann::json statistics() const override;

  // Drops the pass's rows (their counters go to the run totals).
  void begin_pass();
  // The next PE row's filter path, with entries of `entry_bits`.
  WeightRouter& add_row(int entry_bits);
  const std::vector<WeightRouter>& rows() const { return rows_; }

  void tick(uint64_t cycle) {
    if (idle_) return;
    bool idle = true;
    for (WeightRouter& w : rows_) w.tick(cycle, arbiter_), idle = idle && w.idle();
    idle_ = idle;
  }
  void release(int64_t sets) {
    for (WeightRouter& w : rows_) w.release(sets);
  }
  bool waits_for_dram() const;
  // Every row has sent and announced its last set (the common case for most of a pass): nothing
  // to step, wait for or account.
  bool idle() const { return idle_; }
  // Cycle skipping: quiet ticks of every row (WeightRouter::quiet_ticks), 0 when two rows sending
  // contend for a shared router (its grants are then not predictable).
  int64_t quiet_ticks(uint64_t now) const;
  void skip_quiet(int64_t ticks) {
    if (idle_) return;
    for (WeightRouter& w : rows_) w.skip_quiet(ticks, arbiter_);
  }

 private:
  const arch::NocConfig& noc_;
  // Routers shared by several rows: one transfer per router and cycle (null: one per row).
  GlbBanks links_;
  GlbBanks* arbiter_ = nullptr;
  std::vector<WeightRouter> rows_;
  bool idle_ = true;  // idle() (checked after each tick(), reset by add_row())
  uint64_t run_entries_ = 0, run_entry_hops_ = 0, run_busy_ = 0, run_blocked_ = 0, run_bits_ = 0;
};

// accelerator.noc.pc3.psum: one PsumColumn per PE column (vertical accumulation, then its psum
// router to a GLB bank), the columns sharing `noc.psum_routers` routers.
class PsumRouters : public sc_core::sc_module, public Described, public StatsGroup {
 public:
  PsumRouters(sc_core::sc_module_name name, const arch::NocConfig& noc, int pe_cols);
  const char* kind() const override { return "PsumRouters"; }
  Parameters parameters() const override;
  nlohmann::json statistics() const override;

  // Drops the pass's columns (their counters go to the run totals); with `columns` > 0, that many
  // fresh columns, to start with column(c).start(...).
  void begin_pass(size_t columns);
  PsumColumn& column(size_t c) { return columns_[c]; }
  const std::vector<PsumColumn>& columns() const { return columns_; }
  // Router of column c.
  int link(int c) const { return c % noc_.psum_routers; }

  // Per cycle, after the PEs: `produced[c]` says a member of column c finished a position this
  // cycle; cleared on return. Returns true when a column completed a position.
  bool step(uint64_t cycle, GlbBanks& banks, uint8_t* produced) {
    bool sent = false;
    for (size_t c = 0; c < columns_.size(); ++c) {
      sent |= columns_[c].step(cycle, banks, arbiter_, produced[c] != 0);
      produced[c] = 0;
    }
    return sent;
  }
  bool drained() const;
  // Cycle skipping: quiet ticks of every column, 0 when transfers in progress contend for a bank
  // port (more than `bank_ports` on one bank) or for a shared router.
  int64_t quiet_ticks(uint64_t now, int bank_ports) const;
  // `first`: the first skipped cycle (the GLB banks record the columns' port use for the DMA).
  void skip_quiet(int64_t ticks, GlbBanks& banks, uint64_t first) {
    for (PsumColumn& c : columns_) c.skip_quiet(ticks, banks, arbiter_, first);
  }

 private:
  const arch::NocConfig& noc_;
  GlbBanks links_;
  GlbBanks* arbiter_ = nullptr;
  std::vector<PsumColumn> columns_;
  uint64_t run_moved_ = 0, run_accumulated_ = 0, run_accesses_ = 0, run_vertical_ = 0;
};

// What a processing cluster sees of its NoC partition.
class NocPartitionIf : public virtual sc_core::sc_interface {
 public:
  virtual IactRouters& iact_routers() = 0;
  virtual WeightRouters& weight_routers() = 0;
  virtual PsumRouters& psum_routers() = 0;
  // Cycles off-chip data takes over the mesh to reach the cluster.
  virtual int64_t mesh_delay_cycles() const = 0;
};

// One cluster's routers: accelerator.noc.pc3 with children iact, weight and psum.
class NocPartition : public sc_core::sc_module, public NocPartitionIf, public Described {
 public:
  // `index`: the cluster's place on the pc_rows x pc_cols mesh, row-major; off-chip data enters
  // the mesh at cluster 0 and reaches cluster (r, c) after r + c hops (noc.hop_cycles each).
  NocPartition(sc_core::sc_module_name name, const arch::ArchConfig& config, int index);
  const char* kind() const override { return "NocPartition"; }
  Parameters parameters() const override;

  IactRouters& iact_routers() override { return iact_; }
  WeightRouters& weight_routers() override { return weight_; }
  PsumRouters& psum_routers() override { return psum_; }
  int64_t mesh_delay_cycles() const override { return mesh_delay_; }

  // Bound to this partition itself; a cluster's port binds here.
  sc_core::sc_export<NocPartitionIf> target;

 private:
  int64_t mesh_delay_;
  IactRouters iact_;
  WeightRouters weight_;
  PsumRouters psum_;
};

// accelerator.noc: the cluster mesh and one partition per cluster.
class NocCluster : public sc_core::sc_module, public Described {
 public:
  NocCluster(sc_core::sc_module_name name, const arch::ArchConfig& config, int clusters);
  const char* kind() const override { return "NocCluster"; }
  Parameters parameters() const override;
  NocPartition& partition(int cluster) { return *partitions_.at(static_cast<size_t>(cluster)); }

 private:
  const arch::ArchConfig& config_;
  std::vector<std::unique_ptr<NocPartition>> partitions_;
};

}  // namespace eg::hw::array
