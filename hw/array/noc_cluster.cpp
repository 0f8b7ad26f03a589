#include "hw/array/noc_cluster.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace eg::hw::array {

namespace {
Parameters router_parameters(int routers, int link_bits, int hop_cycles) {
  return {{"routers", std::to_string(routers)},
          {"link_bits", std::to_string(link_bits)},
          {"hop_cycles", std::to_string(hop_cycles)}};
}
}  // namespace

// --- iact -------------------------------------------------------------------------------------

IactRouters::IactRouters(sc_core::sc_module_name name, const arch::NocConfig& noc,
                         const arch::GlbConfig& glb)
    : sc_module(name), noc_(noc), glb_(glb) {}

Parameters IactRouters::parameters() const {
  return router_parameters(noc_.iact_routers, noc_.iact_link_bits, noc_.hop_cycles);
}

nlohmann::json IactRouters::statistics() const {
  RouterTraffic t = run_;
  for (const IactRouter& r : routers_) t += r.traffic;
  return {{"entries", t.entries},         {"entry_hops", t.entry_hops},
          {"glb_reads", t.glb_reads},     {"bits", t.bits},
          {"bit_hops", t.bit_hops},       {"glb_read_bits", t.glb_read_bits},
          {"busy_cycles", t.busy_cycles}, {"bank_blocked_cycles", t.blocked_cycles}};
}

void IactRouters::begin_pass(int entry_bits, size_t max_groups) {
  for (const IactRouter& r : routers_) run_ += r.traffic;
  routers_.clear();
  groups_.clear();
  in_flight_.clear();
  if (entry_bits <= 0) return;
  // Routers point at their groups: the vector must never reallocate within the pass.
  groups_.reserve(max_groups);
  for (int r = 0; r < noc_.iact_routers; ++r)
    routers_.emplace_back(link_entries(noc_.iact_link_bits, glb_.bank_width_bits, entry_bits),
                          noc_.hop_cycles, entry_bits);
}

MulticastGroup& IactRouters::add_group(std::vector<const PeCore*> members,
                                       std::vector<int64_t> segment_ends, std::vector<int> banks) {
  if (groups_.size() >= groups_.capacity() || routers_.empty())
    throw std::logic_error("IactRouters::add_group: more groups than begin_pass reserved");
  groups_.emplace_back(std::move(members), std::move(segment_ends), std::move(banks));
  routers_[(groups_.size() - 1) % routers_.size()].add(&groups_.back());
  return groups_.back();
}

int64_t IactRouters::ticks_before_arrival(uint64_t now) const {
  int64_t ticks = PeCore::kQuietForever;
  for (const MulticastGroup* g : in_flight_)
    if ((ticks = std::min(ticks, g->ticks_before_arrival(now))) == 0) return 0;
  return ticks;
}

bool IactRouters::quiet(int64_t spad_capacity) const {
  for (const IactRouter& r : routers_)
    if (!r.quiet(spad_capacity)) return false;
  return true;
}

// --- weight -----------------------------------------------------------------------------------

WeightRouters::WeightRouters(sc_core::sc_module_name name, const arch::NocConfig& noc, int pe_rows)
    : sc_module(name), noc_(noc), links_(noc.weight_routers, 1) {
  if (noc.weight_routers < pe_rows) arbiter_ = &links_;
  rows_.reserve(static_cast<size_t>(pe_rows));
}

Parameters WeightRouters::parameters() const {
  return router_parameters(noc_.weight_routers, noc_.weight_link_bits, noc_.hop_cycles);
}

nlohmann::json WeightRouters::statistics() const {
  uint64_t entries = run_entries_, hops = run_entry_hops_, busy = run_busy_, blocked = run_blocked_,
           bits = run_bits_;
  for (const WeightRouter& w : rows_)
    entries += w.entries_moved, hops += w.entry_hops, busy += w.busy_cycles,
        blocked += w.blocked_cycles, bits += w.bits_moved;
  return {{"entries", entries},
          {"entry_hops", hops},
          {"bits", bits},
          {"busy_cycles", busy},
          {"link_blocked_cycles", blocked}};
}

void WeightRouters::begin_pass() {
  for (const WeightRouter& w : rows_)
    run_entries_ += w.entries_moved, run_entry_hops_ += w.entry_hops, run_busy_ += w.busy_cycles,
        run_blocked_ += w.blocked_cycles, run_bits_ += w.bits_moved;
  rows_.clear();
  idle_ = true;
}

WeightRouter& WeightRouters::add_row(int entry_bits) {
  const int row = static_cast<int>(rows_.size());
  idle_ = false;
  rows_.emplace_back(std::max(1, noc_.weight_link_bits / entry_bits), noc_.hop_cycles,
                     row % noc_.weight_routers, entry_bits);
  return rows_.back();
}

bool WeightRouters::waits_for_dram() const {
  if (idle_) return false;
  for (const WeightRouter& w : rows_)
    if (w.waits_for_dram()) return true;
  return false;
}

int64_t WeightRouters::quiet_ticks(uint64_t now) const {
  int64_t ticks = PeCore::kQuietForever;
  if (idle_) return ticks;
  for (const WeightRouter& w : rows_)
    if ((ticks = std::min(ticks, w.quiet_ticks(now))) == 0) return 0;
  if (arbiter_)
    for (const WeightRouter& w : rows_)
      for (const WeightRouter& o : rows_)
        if (&o != &w && w.sending() && o.sending() && o.link() == w.link()) return 0;
  return ticks;
}

// --- psum -------------------------------------------------------------------------------------

PsumRouters::PsumRouters(sc_core::sc_module_name name, const arch::NocConfig& noc, int pe_cols)
    : sc_module(name), noc_(noc), links_(noc.psum_routers, 1) {
  if (noc.psum_routers < pe_cols) arbiter_ = &links_;
}

Parameters PsumRouters::parameters() const {
  return router_parameters(noc_.psum_routers, noc_.psum_link_bits, noc_.hop_cycles);
}

nlohmann::json PsumRouters::statistics() const {
  uint64_t moved = run_moved_, accumulated = run_accumulated_, accesses = run_accesses_,
           vertical = run_vertical_;
  for (const PsumColumn& c : columns_)
    moved += c.psums_moved, accumulated += c.psums_accumulated, accesses += c.glb_accesses,
        vertical += c.vertical_psum_hops;
  return {{"psums_moved", moved},
          {"psums_accumulated", accumulated},
          {"glb_accesses", accesses},
          {"vertical_psum_hops", vertical}};
}

void PsumRouters::begin_pass(size_t columns) {
  for (const PsumColumn& c : columns_)
    run_moved_ += c.psums_moved, run_accumulated_ += c.psums_accumulated,
        run_accesses_ += c.glb_accesses, run_vertical_ += c.vertical_psum_hops;
  columns_.assign(columns, PsumColumn{});
}

bool PsumRouters::drained() const {
  for (const PsumColumn& c : columns_)
    if (!c.drained()) return false;
  return true;
}

int64_t PsumRouters::quiet_ticks(uint64_t now, int bank_ports) const {
  int64_t ticks = PeCore::kQuietForever;
  for (const PsumColumn& c : columns_)
    if ((ticks = std::min(ticks, c.quiet_ticks(now))) == 0) return 0;
  // Transfers in progress are only predictable while every port request is granted ...
  for (const PsumColumn& c : columns_) {
    if (!c.transferring()) continue;
    int sharing = 0;
    for (const PsumColumn& o : columns_) sharing += o.transferring() && o.bank() == c.bank();
    if (sharing > bank_ports) return 0;
    // ... and while no other column wants its router.
    if (arbiter_)
      for (const PsumColumn& o : columns_)
        if (&o != &c && o.transferring() && o.link() == c.link()) return 0;
  }
  return ticks;
}

// --- partition and cluster --------------------------------------------------------------------

NocPartition::NocPartition(sc_core::sc_module_name name, const arch::ArchConfig& c, int index)
    : sc_module(name),
      target("target"),
      mesh_delay_(static_cast<int64_t>(index / c.array.pc_cols + index % c.array.pc_cols) *
                  c.noc.hop_cycles),
      iact_("iact", c.noc, c.glb),
      weight_("weight", c.noc, c.array.pe_rows),
      psum_("psum", c.noc, c.array.pe_cols) {
  target.bind(*this);
}

Parameters NocPartition::parameters() const {
  return {{"mesh_delay_cycles", std::to_string(mesh_delay_)}};
}

NocCluster::NocCluster(sc_core::sc_module_name name, const arch::ArchConfig& config, int clusters)
    : sc_module(name), config_(config) {
  for (int i = 0; i < clusters; ++i)
    partitions_.push_back(
        std::make_unique<NocPartition>(("pc" + std::to_string(i)).c_str(), config, i));
}

Parameters NocCluster::parameters() const {
  return {{"pc_rows", std::to_string(config_.array.pc_rows)},
          {"pc_cols", std::to_string(config_.array.pc_cols)},
          {"hop_cycles", std::to_string(config_.noc.hop_cycles)}};
}

}  // namespace eg::hw::array
