#include "hw/array/array_engine.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "base/checked.hpp"
#include "base/error.hpp"
#include "sw/mapper/row_stationary_mapper.hpp"

namespace eg::hw::array {

using mapper::Operand;

DataClass data_class_of(Operand o) {
  switch (o) {
    case Operand::Activation:
      return DataClass::Activations;
    case Operand::Weight:
      return DataClass::Weights;
    case Operand::Feedback:
      return DataClass::Feedback;
    case Operand::Gradient:
      return DataClass::Gradients;
    case Operand::WeightGradient:
      return DataClass::WeightGradients;
  }
  return DataClass::Activations;
}

namespace {
uint64_t bytes_of(uint64_t entries, int bits) {
  return (entries * static_cast<uint64_t>(bits) + 7) / 8;
}
}  // namespace

ArrayEngine::ArrayEngine(const arch::ArchConfig& config, MemoryPort& memory, SimClock& clock)
    : config_(config), memory_(memory), clock_(clock) {
  // Built during the enclosing module's elaboration, so their names sit under it
  // (accelerator.glb.pc3, accelerator.pc3.pe7).
  glb_ = std::make_unique<GlbCluster>("glb", config.glb, config.array.pc_count());
  for (int i = 0; i < config.array.pc_count(); ++i) {
    clusters_.push_back(
        std::make_unique<ProcessingCluster>(("pc" + std::to_string(i)).c_str(), config, i));
    clusters_.back()->glb.bind(glb_->partition(i).target);
  }
}

void ArrayEngine::set_step_every_cycle(bool on) {
  step_every_cycle_ = on;
  for (auto& c : clusters_) c->set_step_every_cycle(on);
}

uint64_t ArrayEngine::simulated_cluster_cycles() const {
  uint64_t n = 0;
  for (const auto& c : clusters_) n += c->simulated_cycles();
  return n;
}

void ArrayEngine::transfer(bool write, uint64_t address, uint64_t bytes, DataClass data_class,
                           PhaseFigures& figures) {
  if (bytes == 0) return;
  MemoryRequest r;
  r.write = write;
  r.address = address;
  r.bytes = bytes;
  r.data_class = data_class;
  figures.offchip.add(r);
  memory_.transfer(r);
}

ArrayEngine::PassTraffic ArrayEngine::pass_traffic(const mapper::Schedule& s, size_t pass,
                                                   const PeContext& ctx, RowMarks& marks) const {
  PassTraffic t;
  const mapper::CanonicalProblem& p = *ctx.problem;
  // Filters and input rows shared by several clusters are fetched once and multicast over the
  // cluster mesh; each cluster still writes the rows it needs into its own GLB. A filter set
  // counts for the fold where it is first needed (in cluster, then PE order).
  struct FilterUse {
    std::array<int64_t, 4> key;  // b0, k0, row, t0
    size_t order;
    bool first_fold;
    uint64_t bytes;
  };
  std::vector<FilterUse> filters;
  const size_t row_count = static_cast<size_t>(p.a * p.k * p.rows.in_len);
  if (marks.global.size() != row_count)
    marks.global.assign(row_count, 0), marks.local = marks.global;
  const uint64_t pass_mark = ++marks.pass_mark;
  uint64_t min_offset = UINT64_MAX;
  const size_t per_fold = static_cast<size_t>(s.pe_rows * s.pe_cols);
  const mapper::Pass ps = s.pass(static_cast<int64_t>(pass));
  for (const mapper::PcWork& w : ps.pcs) {
    const uint64_t cluster_mark = ++marks.cluster_mark;
    uint64_t local_rows = 0;
    for (size_t i = 0; i < w.pes.size(); ++i) {
      const mapper::PeTask& task = w.pes[i];
      if (!task.active) continue;
      filters.push_back({{task.b0, task.k0, task.filter_row, task.t0},
                         filters.size(),
                         i < per_fold,
                         bytes_of(static_cast<uint64_t>(task.lanes * task.channels * task.taps),
                                  ctx.filter_bits)});
      if (!p.rows.in_range(task.in_row)) continue;
      for (int64_t k = task.k0; k < task.k0 + task.channels; ++k) {
        const size_t row = static_cast<size_t>((task.a * p.k + k) * p.rows.in_len + task.in_row);
        if (marks.local[row] != cluster_mark) marks.local[row] = cluster_mark, ++local_rows;
        if (marks.global[row] == pass_mark) continue;
        marks.global[row] = pass_mark;
        t.input_bytes += bytes_of(static_cast<uint64_t>(p.cols.in_len), ctx.iact_bits);
        min_offset =
            std::min(min_offset, static_cast<uint64_t>(row) * static_cast<uint64_t>(p.cols.in_len));
      }
    }
    t.glb_iact_write_bits += local_rows * static_cast<uint64_t>(p.cols.in_len * ctx.iact_bits);
    if (w.tile >= 0 && w.last_fold)
      t.output_bytes +=
          bytes_of(static_cast<uint64_t>(mapper::tile_output_entries(s, w.tile)), ctx.output_bits);
  }
  std::sort(filters.begin(), filters.end(), [](const FilterUse& x, const FilterUse& y) {
    return x.key != y.key ? x.key < y.key : x.order < y.order;
  });
  for (size_t i = 0; i < filters.size(); ++i)
    if (i == 0 || filters[i].key != filters[i - 1].key)
      (filters[i].first_fold ? t.first_filter_bytes : t.later_filter_bytes) += filters[i].bytes;
  t.first_input_offset = min_offset == UINT64_MAX ? 0 : bytes_of(min_offset, ctx.iact_bits);
  return t;
}

uint64_t ArrayEngine::run_pass(const mapper::Schedule& s, size_t pass, const PeContext& ctx) {
  const mapper::Pass ps = s.pass(static_cast<int64_t>(pass));
  std::vector<ProcessingCluster*> busy;
  for (size_t i = 0; i < clusters_.size(); ++i) {
    clusters_[i]->start(ps.pcs[i], s.tiling, ctx);
    busy.push_back(clusters_[i].get());
  }
  uint64_t cycles = 0;
  if (timeline_) finished_at_.assign(clusters_.size(), 0);
  std::vector<ProcessingCluster*> remaining;
  for (ProcessingCluster* c : busy)
    if (!c->done()) remaining.push_back(c);
  // Finished clusters keep ticking (their PEs count idle cycles) until the pass barrier.
  while (!remaining.empty()) {
    // Cycles in which every cluster is quiet (see ProcessingCluster::tick) are jumped over,
    // unless every cycle is to be stepped (then the clusters simulate them one by one).
    uint64_t wake = UINT64_MAX;
    for (const ProcessingCluster* c : busy) wake = std::min(wake, c->wake());
    if (wake > cycle_stamp_) {
      if (wake - cycle_stamp_ >= static_cast<uint64_t>(Pe::kQuietForever)) {
        std::string stuck;
        for (const ProcessingCluster* c : remaining)
          stuck += (stuck.empty() ? "" : ", ") + std::string(c->name());
        throw Error("array: pass " + std::to_string(pass) + " (" +
                    mapper::to_string(s.problem.phase) +
                    ") cannot progress: every cluster waits forever (unfinished: " + stuck + ")");
      }
      if (!step_every_cycle_) {
        cycles += wake - cycle_stamp_;
        cycle_stamp_ = wake;
      }
    }
    const uint64_t stamp = cycle_stamp_++;
    for (ProcessingCluster* c : busy) c->tick(stamp);
    ++cycles;
    for (size_t i = 0; i < remaining.size();) {
      if (remaining[i]->done()) {
        if (timeline_)
          for (size_t c = 0; c < clusters_.size(); ++c)
            if (clusters_[c].get() == remaining[i]) finished_at_[c] = cycles;
        remaining[i] = remaining.back();
        remaining.pop_back();
      } else {
        ++i;
      }
    }
  }
  for (ProcessingCluster* c : busy) c->settle(cycle_stamp_);
  ticked_cycles_ += cycles;
  return cycles;
}

uint64_t ArrayEngine::waiting_pes(const mapper::Pass& ps) const {
  // A cluster's task list holds one task per PE and fold (segment-major, as
  // ProcessingCluster::start reads it): task j runs on PE j % (PEs per cluster), which runs its
  // folds one after another. A PE waits for memory when any of its folds has work, so it counts
  // once however many folds it has; a cluster without work idles whole (ProcessingCluster).
  const size_t per_pc = static_cast<size_t>(config_.array.pes_per_pc());
  uint64_t n = 0;
  std::vector<char> has_work(per_pc);
  for (const mapper::PcWork& w : ps.pcs) {
    const size_t folds = static_cast<size_t>(std::max<int64_t>(1, w.folds));
    if (!w.active || w.pes.size() < folds * per_pc) continue;
    std::fill(has_work.begin(), has_work.end(), 0);
    for (size_t q = 0; q < folds; ++q)
      for (size_t j = 0; j < per_pc; ++j) has_work[j] |= w.pes[q * per_pc + j].active ? 1 : 0;
    for (char h : has_work) n += static_cast<uint64_t>(h);
  }
  const uint64_t pes = static_cast<uint64_t>(config_.array.pe_count());
  if (n > pes || ps.pcs.size() > clusters_.size())
    throw Error("array: a pass gives work to " + std::to_string(n) + " PEs in " +
                std::to_string(ps.pcs.size()) + " clusters, the config has " + std::to_string(pes) +
                " PEs in " + std::to_string(clusters_.size()));
  return n;
}

void ArrayEngine::execute(const mapper::Schedule& s, const PeContext& caller_ctx,
                          const OperandAddresses& addr, PhaseFigures& fig) {
  const mapper::CanonicalProblem& p = *caller_ctx.problem;
  PeContext ctx = caller_ctx;
  const std::vector<float> lane_major = lane_major_filter(p, ctx.filter);
  ctx.filter_lane_major = lane_major.data();
  const DataClass in_class = data_class_of(p.input), filter_class = data_class_of(p.filter),
                  out_class = data_class_of(p.output);
  for (auto& c : clusters_) c->reset_stats();
  const uint64_t pes = static_cast<uint64_t>(config_.array.pe_count());
  const std::string phase = mapper::to_string(s.problem.phase);
  // While the array waits for memory, the PEs with work in the pass stall on input and the
  // others idle: `active` <= pes (waiting_pes), so neither product can go negative.
  auto memory_wait = [&](uint64_t cycles, uint64_t active) {
    PeCycleClasses wait;
    wait.wait_input = checked_mul(cycles, active, "array: " + phase + " input-stall PE-cycles");
    wait.idle = checked_mul(cycles, pes - active, "array: " + phase + " idle PE-cycles");
    fig.pe_cycles += wait;
  };
  const uint64_t start = clock_.now_cycles();
  uint64_t pending_output_bytes = 0;
  const size_t passes = static_cast<size_t>(s.pass_count);
  std::vector<PassTraffic> traffic(passes);
  RowMarks marks;
  for (size_t i = 0; i < passes; ++i) traffic[i] = pass_traffic(s, i, ctx, marks);
  for (size_t i = 0; i < passes; ++i) {
    const PassTraffic& t = traffic[i];
    const uint64_t active = waiting_pes(s.pass(static_cast<int64_t>(i)));
    const uint64_t pass_start = clock_.now_cycles();
    transfer(false, addr.filter, t.first_filter_bytes, filter_class, fig);
    if (i == 0) transfer(false, addr.input + t.first_input_offset, t.input_bytes, in_class, fig);
    fig.actions.glb_iact_write_bits += t.glb_iact_write_bits;
    const uint64_t compute_start = clock_.now_cycles();
    memory_wait(compute_start - pass_start, active);
    // Overlapped with this pass: its later folds' filters and the next pass's inputs in, the
    // previous pass's outputs out. The pass cannot end before they are done (an input stall).
    transfer(false, addr.filter, t.later_filter_bytes, filter_class, fig);
    if (i + 1 < passes)
      transfer(false, addr.input + traffic[i + 1].first_input_offset, traffic[i + 1].input_bytes,
               in_class, fig);
    transfer(true, addr.output, pending_output_bytes, out_class, fig);
    pending_output_bytes = t.output_bytes;
    const uint64_t memory_done = clock_.now_cycles();
    const uint64_t cycles = run_pass(s, i, ctx);
    const uint64_t compute_end = compute_start + cycles;
    if (memory_done > compute_end) memory_wait(memory_done - compute_end, active);
    clock_.wait_until(compute_end);
    if (timeline_ || progress_)
      observe_pass(s, i, pass_start, compute_start, compute_end, memory_done);
  }
  const uint64_t drain_start = clock_.now_cycles();
  transfer(true, addr.output, pending_output_bytes, out_class, fig);
  memory_wait(clock_.now_cycles() - drain_start, 0);
  if (timeline_) observe_drain(drain_start);
  for (auto& c : clusters_) {
    const ClusterStats cs = c->collect();
    c->add_to_run(cs);
    fig.pe_cycles += cs.cycles;
    fig.macs += cs.macs;
    fig.actions += cs.actions;
    fig.glb_conflicts += cs.glb_conflicts;
  }
  fig.cycles += clock_.now_cycles() - start;
}

}  // namespace eg::hw::array
