#include "hw/array/processing_cluster.hpp"

#include <algorithm>
#include <map>
#include <tuple>

namespace eg::hw::array {

ProcessingCluster::ProcessingCluster(sc_core::sc_module_name name, const arch::ArchConfig& c)
    : sc_module(name),
      glb("glb"),
      noc("noc"),
      config_(c),
      rows_(c.array.pe_rows),
      cols_(c.array.pe_cols) {
  pes_.resize(static_cast<size_t>(rows_ * cols_));
  for (size_t i = 0; i < pes_.size(); ++i)
    views_.push_back(std::make_unique<Pe>(("pe" + std::to_string(i)).c_str(), pes_[i], &c.pe));
}

Parameters ProcessingCluster::parameters() const {
  return {{"pe_rows", std::to_string(rows_)}, {"pe_cols", std::to_string(cols_)}};
}

nlohmann::json ProcessingCluster::statistics() const {
  return {{"pe_cycles",
           {{"busy", run_.cycles.busy},
            {"input", run_.cycles.wait_input},
            {"output", run_.cycles.wait_output},
            {"idle", run_.cycles.idle}}},
          {"macs_issued", run_.macs.issued},
          {"macs_skipped", run_.macs.skipped},
          {"glb_bank_conflicts", run_.glb_conflicts}};
}

void ProcessingCluster::start(const mapper::PcWork& work, const mapper::Tiling& tiling,
                              const PeContext& ctx) {
  resolve_ports();
  carried_ = collect();
  for (PeCore& pe : pes_) pe.cycles_ = {}, pe.macs_ = {}, pe.actions_ = {};
  weight_->begin_pass();
  iact_->begin_pass(work.active ? ctx.iact_bits : 0, pes_.size());
  psum_->begin_pass(static_cast<size_t>(cols_));
  pe_feed_.assign(pes_.size(), PeFeed{});
  iact_banks_->accesses = iact_banks_->conflicts = 0;
  psum_banks_->accesses = psum_banks_->conflicts = 0;
  grad_banks_->accesses = grad_banks_->conflicts = 0;
  active_ = work.active;
  hold_left_ = active_ ? noc->mesh_delay_cycles() : 0;
  settled_ = kNoCycle;
  wake_ = 0;
  const mapper::CanonicalProblem& p = *ctx.problem;
  wgrad_ = p.phase == mapper::Phase::WeightGradient;
  psum_target_ = wgrad_ ? grad_banks_ : psum_banks_;
  filter_in_feedback_ = ctx.filter_in_feedback_spad;
  iact_capacity_ = config_.pe.spad_iact_entries;
  const int64_t psum_slots = std::max<int64_t>(1, config_.pe.spad_psum_entries / tiling.lanes);
  const size_t pe_count = pes_.size();
  const int64_t folds = std::max<int64_t>(1, work.folds);
  for (size_t i = 0; i < pe_count; ++i) {
    std::vector<mapper::PeTask> segments;
    if (work.pes.size() >= static_cast<size_t>(folds) * pe_count)
      for (int64_t q = 0; q < folds; ++q)
        segments.push_back(work.pes[static_cast<size_t>(q) * pe_count + i]);
    else
      segments.push_back(mapper::PeTask{});
    pes_[i].start(ctx, std::move(segments), psum_slots, tiling.psum_stationary);
  }
  done_ = !active_;
  if (!active_) return;

  const arch::NocConfig& noc_config = config_.noc;
  for (int r = 0; r < rows_; ++r) {
    WeightRouter& router = weight_->add_row(ctx.filter_bits);
    std::vector<PeCore*> row;
    std::vector<int64_t> entries(static_cast<size_t>(folds), 0);
    std::vector<const mapper::PeTask*> sets(static_cast<size_t>(folds), nullptr);
    for (int c = 0; c < cols_; ++c) {
      PeCore& pe = pes_[static_cast<size_t>(r * cols_ + c)];
      if (!pe.active()) continue;
      row.push_back(&pe);
      // The row shares its filter rows: each set is sent once and multicast along the row.
      for (int64_t q = 0; q < folds; ++q) {
        const mapper::PeTask& t = pe.segments()[static_cast<size_t>(q)];
        const size_t qi = static_cast<size_t>(q);
        if (t.active && t.lanes * t.channels * t.taps > entries[qi])
          entries[qi] = t.lanes * t.channels * t.taps, sets[qi] = &t;
      }
    }
    std::vector<int64_t> cycles;
    std::vector<uint64_t> bits;
    if (ctx.onchip.filter)
      for (const mapper::PeTask* t : sets) {
        // A set in CSC form: its transfers and bits from its values (docs/DESIGN.md §5.3).
        const CscSize size =
            t ? csc_filter_set(p, ctx.filter, *t, ctx.onchip.weight.count_bits) : CscSize{};
        cycles.push_back(t ? size.link_cycles(ctx.onchip.weight, noc_config.weight_link_bits) : 0);
        bits.push_back(size.bits(ctx.onchip.weight));
      }
    router.start(std::move(row), std::move(entries), static_cast<int>(tiling.filter_buffers),
                 std::move(cycles), std::move(bits));
  }

  // Multicast groups: PEs streaming the same sequence of input rows (plane, channels, row, taps).
  using RowKey = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>;
  std::map<std::vector<RowKey>, std::vector<int>> by_rows;
  for (size_t i = 0; i < pe_count; ++i) {
    if (!pes_[i].active()) continue;
    std::vector<RowKey> key;
    int64_t q = 0;
    for (const mapper::PeTask& t : pes_[i].segments()) {
      if (t.active) key.emplace_back(q, t.a, t.k0, t.channels, t.in_row, t.t0);
      ++q;
    }
    by_rows[key].push_back(static_cast<int>(i));
  }
  for (auto& [key, members] : by_rows) {
    std::vector<const PeCore*> ptrs;
    for (int i : members) ptrs.push_back(&pes_[static_cast<size_t>(i)]);
    const PeCore& first = pes_[static_cast<size_t>(members.front())];
    std::vector<int64_t> ends, cycles;
    std::vector<uint64_t> bits;
    std::vector<int> banks;
    int64_t end = 0;
    for (const mapper::PeTask& t : first.segments()) {
      if (!t.active) continue;
      end += iact_stream(p, t).total;
      ends.push_back(end);
      // Rows are interleaved over the banks; padding rows are generated, not read.
      banks.push_back(
          p.rows.in_range(t.in_row) ? static_cast<int>(t.in_row % config_.glb.iact_banks) : -1);
      if (ctx.onchip.input) {
        // The segment in CSC form: its transfers (each one bank access) and bits from its values
        // (docs/DESIGN.md §5.3).
        const CscSize size = csc_stream_segment(p, ctx.input, t, ctx.onchip.iact.count_bits);
        cycles.push_back(size.link_cycles(
            ctx.onchip.iact, std::min(noc_config.iact_link_bits, config_.glb.bank_width_bits)));
        bits.push_back(size.bits(ctx.onchip.iact));
      }
    }
    MulticastGroup& g = iact_->add_group(std::move(ptrs), std::move(ends), std::move(banks));
    if (ctx.onchip.input) g.set_compressed(std::move(cycles), std::move(bits));
    for (int i : members) pe_feed_[static_cast<size_t>(i)].group = &g;
  }

  const int psums_per_transfer =
      link_entries(noc_config.psum_link_bits, config_.glb.bank_width_bits, ctx.psum_bits);
  for (int c = 0; c < cols_; ++c) {
    std::vector<const PeCore*> members;
    std::vector<int> hops;  // the psum router sits below the column's bottom PE
    int64_t lanes = 0;
    for (int r = 0; r < rows_; ++r) {
      const PeCore& pe = pes_[static_cast<size_t>(r * cols_ + c)];
      if (pe.active())
        members.push_back(&pe), hops.push_back(rows_ - 1 - r), lanes = pe.task().lanes;
    }
    psum_->column(static_cast<size_t>(c))
        .start(std::move(members), p.cols.out_len, lanes, psums_per_transfer, !work.first_fold,
               c % psum_target_->banks(), psum_->link(c), std::move(hops), noc_config.hop_cycles);
  }
  for (size_t i = 0; i < pe_count; ++i) {
    pe_feed_[i].column_index = i % static_cast<size_t>(cols_);
    pe_feed_[i].column = &psum_->column(pe_feed_[i].column_index);
  }
  column_produced_.assign(static_cast<size_t>(cols_), 0);
  done_ = compute_done();
}

void ProcessingCluster::tick(uint64_t cycle) {
  if (cycle < wake_ && !step_every_cycle_) return;
  settle(cycle);
  if (simulate_cycle(cycle)) done_ = compute_done();
  ++simulated_cycles_;
  settled_ = cycle + 1;
  wake_ = settled_ + static_cast<uint64_t>(quiet_ticks(cycle));
}

void ProcessingCluster::resolve_ports() {
  if (iact_banks_) return;
  iact_banks_ = &glb->iact_banks();
  psum_banks_ = &glb->psum_banks();
  grad_banks_ = &glb->grad_banks();
  iact_ = &noc->iact_routers();
  weight_ = &noc->weight_routers();
  psum_ = &noc->psum_routers();
}

void ProcessingCluster::release_filter_sets(int64_t n, uint64_t cycle) {
  weight_->release(n);
  wake_ = std::min(wake_, cycle);
}

bool ProcessingCluster::waits_for_filters() const {
  return weight_->waits_for_dram();
}

void ProcessingCluster::settle(uint64_t end) {
  if (settled_ == kNoCycle || end <= settled_) return;
  skip_quiet(static_cast<int64_t>(end - settled_));
  settled_ = end;
}

bool ProcessingCluster::simulate_cycle(uint64_t cycle) {
  if (!active_) {
    for (PeCore& pe : pes_) ++pe.cycles_.idle;
    return false;
  }
  if (hold_left_ > 0) {
    // Nothing has crossed the mesh yet: PEs with work wait for input, the others idle.
    --hold_left_;
    for (PeCore& pe : pes_) pe.tick(0, 0);
    return false;
  }
  weight_->tick(cycle);
  iact_->advance(cycle);
  iact_->tick(cycle, *iact_banks_, iact_capacity_);
  const size_t pe_count = pes_.size();
  PeCore* pes = pes_.data();
  PeFeed* feed = pe_feed_.data();
  uint8_t* produced = column_produced_.data();
  bool finished = false;
  for (size_t i = 0; i < pe_count; ++i) {
    PeCore& pe = pes[i];
    // A PE in the middle of a position reads neither its input nor its column this cycle.
    const bool position_done =
        pe.computing()
            ? pe.tick(0, 0)
            : pe.tick(feed[i].group ? feed[i].group->arrived() : 0, feed[i].column->sent());
    if (!position_done) continue;
    // Only now can its produced() and released() have moved: its column and group look again.
    finished = true;
    produced[feed[i].column_index] = 1;
    if (feed[i].group) feed[i].group->refresh_space();
  }
  return psum_->step(cycle, *psum_target_, produced) || finished;
}

// Quiet ticks are those in which, with the state left by cycle `now`, every block would only
// count: no PE starts or finishes a position, no router sends to a group or starts a filter set,
// no psum transfer starts or completes, nothing arrives. All those are what any other block
// reacts to, so until the first of them the state only advances by counting.
int64_t ProcessingCluster::quiet_ticks(uint64_t now) const {
  if (!active_) return PeCore::kQuietForever;
  if (hold_left_ > 0) return hold_left_ - 1;
  // Cheapest and most frequent blockers first: an arrival due next cycle, a PE about to start or
  // finish a position.
  int64_t ticks = iact_->ticks_before_arrival(now);
  if (ticks == 0) return 0;
  for (size_t i = 0; i < pes_.size(); ++i)
    if ((ticks = std::min(ticks, pes_[i].quiet_ticks(arrived(i), drained(i)))) == 0) return 0;
  if ((ticks = std::min(ticks, psum_->quiet_ticks(now, psum_target_->ports()))) == 0) return 0;
  if ((ticks = std::min(ticks, weight_->quiet_ticks(now))) == 0) return 0;
  if (!iact_->quiet(iact_capacity_)) return 0;
  return ticks;
}

void ProcessingCluster::skip_quiet(int64_t ticks) {
  const uint64_t n = static_cast<uint64_t>(ticks);
  if (!active_) {
    for (PeCore& pe : pes_) pe.cycles_.idle += n;
    return;
  }
  if (hold_left_ > 0) {
    hold_left_ -= ticks;  // ticks <= hold_left_ - 1 (quiet_ticks)
    for (PeCore& pe : pes_) pe.skip_quiet(ticks, 0);
    return;
  }
  weight_->skip_quiet(ticks);
  for (size_t i = 0; i < pes_.size(); ++i) pes_[i].skip_quiet(ticks, arrived(i));
  // settled_ is the first skipped cycle (settle() moves it after this).
  psum_->skip_quiet(ticks, *psum_target_, settled_);
}

bool ProcessingCluster::compute_done() const {
  if (!active_) return true;
  for (const PeCore& pe : pes_)
    if (!pe.finished()) return false;
  return psum_->drained();
}

ClusterStats ProcessingCluster::collect() const {
  ClusterStats s = carried_;
  for (const PeCore& pe : pes_) {
    s.cycles += pe.cycles_;
    s.macs += pe.macs_;
    s.actions += pe.actions_;
  }
  const arch::Widths& w = config_.widths;
  ActionCounts& a = s.actions;
  if (!weight_) return s;  // before the first pass
  for (const WeightRouter& r : weight_->rows()) {
    const uint64_t bits = r.bit_hops;
    a.noc_weight_bit_hops += bits;
    (filter_in_feedback_ ? a.spad_feedback_write_bits : a.spad_weight_write_bits) += bits;
  }
  for (const IactRouter& r : iact_->routers()) {
    a.noc_iact_bit_hops += r.traffic.bit_hops;
    a.glb_iact_read_bits += r.traffic.glb_read_bits;
    a.spad_iact_write_bits += r.traffic.bit_hops;
  }
  for (const PsumColumn& c : psum_->columns()) {
    const uint64_t bits = static_cast<uint64_t>(w.psum);
    a.noc_psum_bit_hops += (c.psums_moved + c.vertical_psum_hops) * bits;
    if (wgrad_) {
      a.glb_grad_write_bits += c.psums_moved * bits;
      a.glb_grad_read_bits += c.psums_accumulated * bits;
    } else {
      a.glb_psum_write_bits += c.psums_moved * bits;
      a.glb_psum_read_bits += c.psums_accumulated * bits;
    }
  }
  if (iact_banks_)
    s.glb_conflicts += iact_banks_->conflicts + psum_banks_->conflicts + grad_banks_->conflicts;
  return s;
}

void ProcessingCluster::reset_stats() {
  carried_ = {};
  settled_ = kNoCycle;
  wake_ = 0;
  for (PeCore& pe : pes_) pe.cycles_ = {}, pe.macs_ = {}, pe.actions_ = {};
  if (weight_) weight_->begin_pass(), iact_->begin_pass(0, 0), psum_->begin_pass(0);
  if (iact_banks_) iact_banks_->conflicts = psum_banks_->conflicts = grad_banks_->conflicts = 0;
}

}  // namespace eg::hw::array
