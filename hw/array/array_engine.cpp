#include "hw/array/array_engine.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include "base/checked.hpp"
#include "base/error.hpp"
#include "hw/array/packed_bytes.hpp"
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

ArrayEngine::ArrayEngine(const arch::ArchConfig& config, MemoryPort& memory, SimClock& clock)
    : ArrayEngine(config, memory, clock, nullptr) {}

ArrayEngine::ArrayEngine(const arch::ArchConfig& config, MemoryPort& memory, SimClock& clock,
                         TransferQueue* queue)
    : config_(config), memory_(memory), clock_(clock) {
  if (!queue) {
    inline_queue_ = std::make_unique<InlineTransferQueue>(memory, clock);
    queue = inline_queue_.get();
  }
  queue_ = queue;
  // Built during the enclosing module's elaboration, so their names sit under it
  // (accelerator.glb.pc3, accelerator.noc.pc3.iact, accelerator.pc3.pe7).
  glb_ = std::make_unique<GlbCluster>("glb", config.glb, config.array.pc_count());
  noc_ = std::make_unique<NocCluster>("noc", config, config.array.pc_count());
  for (int i = 0; i < config.array.pc_count(); ++i) {
    clusters_.push_back(
        std::make_unique<ProcessingCluster>(("pc" + std::to_string(i)).c_str(), config));
    clusters_.back()->glb.bind(glb_->partition(i).target);
    clusters_.back()->noc.bind(noc_->partition(i).target);
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
                                                   const PeContext& ctx, RowMarks& marks,
                                                   int64_t transposed_kernel) const {
  PassTraffic t;
  const mapper::CanonicalProblem& p = *ctx.problem;
  // Filters and input rows shared by several clusters are fetched once and multicast over the
  // cluster mesh; each cluster still writes the rows it needs into its own GLB. A filter set
  // counts for the fold where it is first needed (in cluster, then PE order).
  struct FilterUse {
    std::array<int64_t, 4> key;  // b0, k0, row, t0
    size_t order;
    size_t fold;
    uint64_t bytes;
    int64_t lanes, channels, taps;
  };
  std::vector<FilterUse> filters;
  const size_t row_count = static_cast<size_t>(p.a * p.k * p.rows.in_len);
  if (marks.global.size() != row_count)
    marks.global.assign(row_count, 0), marks.local = marks.global;
  const uint64_t pass_mark = ++marks.pass_mark;
  uint64_t min_offset = UINT64_MAX;
  const size_t per_fold = static_cast<size_t>(s.pe_rows * s.pe_cols);
  const mapper::Pass ps = s.pass(static_cast<int64_t>(pass));
  t.fill_bits.assign(ps.pcs.size(), 0);
  t.drain_bits.assign(ps.pcs.size(), 0);
  for (size_t pc = 0; pc < ps.pcs.size(); ++pc) {
    const mapper::PcWork& w = ps.pcs[pc];
    const uint64_t cluster_mark = ++marks.cluster_mark;
    uint64_t local_rows = 0, local_bits = 0;
    for (size_t i = 0; i < w.pes.size(); ++i) {
      const mapper::PeTask& task = w.pes[i];
      if (!task.active) continue;
      filters.push_back(
          {{task.b0, task.k0, task.filter_row, task.t0},
           filters.size(),
           i / per_fold,
           bytes_of(static_cast<uint64_t>(task.lanes * task.channels * task.taps), ctx.filter_bits),
           task.lanes,
           task.channels,
           task.taps});
      if (!p.rows.in_range(task.in_row)) continue;
      for (int64_t k = task.k0; k < task.k0 + task.channels; ++k) {
        const size_t row = static_cast<size_t>((task.a * p.k + k) * p.rows.in_len + task.in_row);
        if (marks.local[row] != cluster_mark) {
          marks.local[row] = cluster_mark, ++local_rows;
          // In CSC form (features.onchip_compression) a row takes the bits its values give
          // (docs/DESIGN.md §5.3); computed once per row and problem.
          if (ctx.onchip.input) {
            if (marks.csc_bits.size() != row_count) marks.csc_bits.assign(row_count, kUnknownBits);
            uint64_t& bits = marks.csc_bits[row];
            if (bits == kUnknownBits)
              bits = csc_input_row(p, ctx.input, task.a, k, task.in_row, ctx.onchip.iact.count_bits)
                         .bits(ctx.onchip.iact);
            local_bits += bits;
          }
        }
        if (marks.global[row] == pass_mark) continue;
        marks.global[row] = pass_mark;
        t.input_bytes += bytes_of(static_cast<uint64_t>(p.cols.in_len), ctx.iact_bits);
        min_offset =
            std::min(min_offset, static_cast<uint64_t>(row) * static_cast<uint64_t>(p.cols.in_len));
      }
    }
    t.fill_bits[pc] = ctx.onchip.input
                          ? local_bits
                          : local_rows * static_cast<uint64_t>(p.cols.in_len * ctx.iact_bits);
    t.glb_iact_write_bits += t.fill_bits[pc];
    if (w.tile >= 0 && w.last_fold) {
      const uint64_t entries = static_cast<uint64_t>(mapper::tile_output_entries(s, w.tile));
      t.output_bytes += bytes_of(entries, ctx.output_bits);
      // The tile sits in the GLB as psums; the DMA reads them out at psum width.
      t.drain_bits[pc] = entries * static_cast<uint64_t>(ctx.psum_bits);
    }
  }
  std::sort(filters.begin(), filters.end(), [](const FilterUse& x, const FilterUse& y) {
    return x.key != y.key ? x.key < y.key : x.order < y.order;
  });
  t.filter_bytes.assign(1, 0);
  for (const FilterUse& f : filters)
    if (f.fold >= t.filter_bytes.size()) t.filter_bytes.resize(f.fold + 1, 0);
  if (transposed_kernel <= 0) {
    for (size_t i = 0; i < filters.size(); ++i)
      if (i == 0 || filters[i].key != filters[i - 1].key)
        t.filter_bytes[filters[i].fold] += filters[i].bytes;
  } else {
    // W read with transposed addressing: the backward problem's filter (b, k) is W's kernel
    // (m = k, c = b), stored at ((k * C + b) * R·S) in W's forward layout. Kernels of consecutive
    // c for one m are adjacent, so a fold reads one run per m and run of consecutive c, each run
    // the fold's taps of those kernels (taken as contiguous, as a plain read takes a whole fold),
    // and the runs lie C·R·S apart.
    struct Pair {
      size_t fold;
      int64_t k, b, elements;
    };
    std::vector<Pair> pairs;
    for (size_t i = 0; i < filters.size(); ++i) {
      if (i > 0 && filters[i].key == filters[i - 1].key) continue;
      const FilterUse& f = filters[i];
      for (int64_t k = f.key[1]; k < f.key[1] + f.channels; ++k)
        for (int64_t b = f.key[0]; b < f.key[0] + f.lanes; ++b)
          pairs.push_back({f.fold, k, b, f.taps});
    }
    std::sort(pairs.begin(), pairs.end(), [](const Pair& x, const Pair& y) {
      return std::tie(x.fold, x.k, x.b) < std::tie(y.fold, y.k, y.b);
    });
    t.filter_bytes.assign(t.filter_bytes.size(), 0);
    t.filter_runs.assign(t.filter_bytes.size(), {});
    const uint64_t c_count = static_cast<uint64_t>(p.b), kernel = uint64_t(transposed_kernel);
    for (size_t i = 0; i < pairs.size();) {
      const Pair& first = pairs[i];
      int64_t elements = 0, last_b = first.b;
      for (; i < pairs.size() && pairs[i].fold == first.fold && pairs[i].k == first.k &&
             pairs[i].b <= last_b + 1;
           ++i)
        elements += pairs[i].elements, last_b = pairs[i].b;
      const uint64_t offset = (uint64_t(first.k) * c_count + uint64_t(first.b)) * kernel;
      const uint64_t bytes = bytes_of(static_cast<uint64_t>(elements), ctx.filter_bits);
      t.filter_runs[first.fold].push_back(
          {offset * static_cast<uint64_t>(ctx.filter_bits) / 8, bytes});
      t.filter_bytes[first.fold] += bytes;
    }
  }
  t.first_input_offset = min_offset == UINT64_MAX ? 0 : bytes_of(min_offset, ctx.iact_bits);
  return t;
}

uint64_t ArrayEngine::run_pass(const mapper::Schedule& s, size_t pass, const PeContext& ctx,
                               const std::vector<size_t>& filter_ids) {
  const mapper::Pass ps = s.pass(static_cast<int64_t>(pass));
  std::vector<ProcessingCluster*> busy;
  for (size_t i = 0; i < clusters_.size(); ++i) {
    clusters_[i]->start(ps.pcs[i], s.tiling, ctx);
    // No filter set may start before its DMA transfer has completed.
    clusters_[i]->release_filter_sets(0, cycle_stamp_);
    busy.push_back(clusters_[i].get());
  }
  // The pass's cycles are counted on the shared stamp; cycle_ is the array's absolute cycle at
  // the pass start.
  const uint64_t base_stamp = cycle_stamp_, base_cycle = cycle_;
  auto cycle_at = [&](uint64_t stamp) { return base_cycle + (stamp - base_stamp); };
  auto stamp_at = [&](uint64_t cycle) {
    return std::max(cycle_stamp_,
                    cycle <= base_cycle ? base_stamp : base_stamp + (cycle - base_cycle));
  };
  size_t released = 0;  // folds whose filter transfer has completed and been released
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
    const bool forever =
        wake > cycle_stamp_ && wake - cycle_stamp_ >= static_cast<uint64_t>(PeCore::kQuietForever);
    // A weight router waiting for its fold's filters from DRAM: the stall lasts until the
    // transfer completes (its PEs count it as input stall, cycle by cycle).
    bool gated = false;
    if (released < filter_ids.size())
      for (const ProcessingCluster* c : busy) gated = gated || c->waits_for_filters();
    if (forever && !gated) {
      std::string stuck;
      for (const ProcessingCluster* c : remaining)
        stuck += (stuck.empty() ? "" : ", ") + std::string(c->name());
      throw Error("array: pass " + std::to_string(pass) + " (" +
                  mapper::to_string(s.problem.phase) +
                  ") cannot progress: every cluster waits forever (unfinished: " + stuck + ")");
    }
    uint64_t next = cycle_stamp_;
    if (!step_every_cycle_ && wake > cycle_stamp_ && !forever) next = wake;
    if (gated) {
      // The transfer may complete before the next cycle with work: tick then instead.
      const std::optional<uint64_t> done =
          forever && !step_every_cycle_
              ? std::optional<uint64_t>(queue_->completion(filter_ids[released]))
              : queue_->done_by(filter_ids[released], cycle_at(next));
      if (done) {
        next = std::min(next, stamp_at(*done));
        if (forever && !step_every_cycle_) next = stamp_at(*done);
        ++released;
        for (ProcessingCluster* c : busy)
          c->release_filter_sets(static_cast<int64_t>(released), next);
      }
    }
    if (next > cycle_stamp_) {
      cycles += next - cycle_stamp_;
      cycle_stamp_ = next;
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

uint64_t ArrayEngine::glb_ports_done(const std::vector<uint64_t>& bits_per_pc, bool drain,
                                     bool wgrad, uint64_t from) {
  uint64_t done = from;
  const uint64_t width = static_cast<uint64_t>(config_.glb.bank_width_bits);
  for (size_t pc = 0; pc < bits_per_pc.size() && pc < clusters_.size(); ++pc) {
    if (bits_per_pc[pc] == 0) continue;
    GlbPartition& part = glb_->partition(static_cast<int>(pc));
    GlbBanks& banks = !drain ? part.iact_banks() : wgrad ? part.grad_banks() : part.psum_banks();
    // The transfer's bits are spread evenly over the banks, each bank's share written (read) in
    // accesses of bank_width_bits: ceil(ceil(bits / banks) / width) = ceil(bits / (banks x
    // width)) accesses per bank, the banks in parallel.
    const uint64_t per_access =
        checked_mul(static_cast<uint64_t>(banks.banks()), width, "array: GLB bits per DMA access");
    const uint64_t accesses = (bits_per_pc[pc] + per_access - 1) / per_access;
    for (int b = 0; b < banks.banks(); ++b)
      done = std::max(done, banks.dma_access(b, from, accesses));
  }
  return done;
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
                          const OperandAddresses& addr, PhaseFigures& fig,
                          const NextProblem* next) {
  const mapper::CanonicalProblem& p = *caller_ctx.problem;
  PeContext ctx = caller_ctx;
  const std::vector<float> lane_major = lane_major_filter(p, ctx.filter);
  ctx.filter_lane_major = lane_major.data();
  const DataClass in_class = data_class_of(p.input), filter_class = data_class_of(p.filter),
                  out_class = data_class_of(p.output);
  for (auto& c : clusters_) c->reset_stats();
  const bool wgrad = p.phase == mapper::Phase::WeightGradient;
  auto for_banks = [&](const std::function<void(GlbBanks&)>& f) {
    for (int pc = 0; pc < glb_->partitions(); ++pc) {
      GlbPartition& part = glb_->partition(pc);
      f(part.iact_banks()), f(part.psum_banks()), f(part.grad_banks());
    }
  };
  for_banks([](GlbBanks& b) { b.reset_history(); });
  const uint64_t pes = static_cast<uint64_t>(config_.array.pe_count());
  const std::string phase = mapper::to_string(s.problem.phase);
  // While the array waits for memory at a pass start, the PEs with work in the pass stall (on
  // input or output) and the others idle: `active` <= pes (waiting_pes), so neither product can
  // go negative.
  auto memory_wait = [&](uint64_t cycles, uint64_t active, bool output) {
    PeCycleClasses wait;
    (output ? wait.wait_output : wait.wait_input) =
        checked_mul(cycles, active, "array: " + phase + " stall PE-cycles");
    wait.idle = checked_mul(cycles, pes - active, "array: " + phase + " idle PE-cycles");
    fig.pe_cycles += wait;
  };
  const uint64_t start = clock_.now_cycles();
  cycle_ = start;
  const size_t passes = static_cast<size_t>(s.pass_count);
  std::vector<PassTraffic> traffic(passes);
  RowMarks marks;
  for (size_t i = 0; i < passes; ++i)
    traffic[i] = pass_traffic(s, i, ctx, marks, addr.transposed_kernel);

  // The queue is one stream over the run: ids and pass numbers continue from the previous
  // problem's (pass_base_ is this problem's first pass).
  const size_t in_buffers = static_cast<size_t>(config_.glb.iact_buffers),
               out_buffers = static_cast<size_t>(config_.glb.psum_buffers);
  const int64_t base = pass_base_;
  // Pass i's input rows and filter sets go into the buffer that pass i - iact_buffers frees, in
  // the stream's numbering (a pass of an earlier problem has ended already).
  auto gate_of = [&](size_t i) {
    const int64_t g = base + static_cast<int64_t>(i) - static_cast<int64_t>(in_buffers);
    return g >= 0 ? g : int64_t{-1};
  };
  std::vector<size_t> input_id(passes), output_id(passes);
  std::vector<std::vector<size_t>> filter_ids(passes);
  std::vector<char> fetched_input(passes, 0), fetched_filters(passes, 0);
  // Earlier problems' transfers are never asked about again, except those the previous problem
  // prefetched for this one.
  size_t keep = next_id_;
  if (prefetched_) {
    for (size_t id : prefetched_->input_ids) keep = std::min(keep, id);
    for (const std::vector<size_t>& ids : prefetched_->filter_ids)
      for (size_t id : ids) keep = std::min(keep, id);
  }
  queue_->forget_before(keep);
  // What the previous problem prefetched for this one (cross_layer_prefetch).
  if (prefetched_) {
    const Prefetched& pf = *prefetched_;
    if (pf.label != s.problem.label() || pf.pass_count != s.pass_count ||
        (!pf.input_ids.empty() && pf.addresses.input != addr.input) ||
        (!pf.filter_ids.empty() && pf.addresses.filter != addr.filter))
      throw Error("array: " + s.problem.label() + " runs after " + pf.label +
                  " was prefetched for it");
    for (size_t i = 0; i < pf.input_ids.size() && i < passes; ++i)
      input_id[i] = pf.input_ids[i], fetched_input[i] = 1;
    for (size_t i = 0; i < pf.filter_ids.size() && i < passes; ++i)
      filter_ids[i] = pf.filter_ids[i], fetched_filters[i] = 1;
    prefetched_.reset();
  }
  // The next problem's first passes, prefetched: their traffic as its own execute() counts it.
  std::vector<PassTraffic> next_traffic;
  std::optional<Prefetched> ahead;
  if (next && (next->inputs || next->filters)) {
    PeContext nctx;
    nctx.problem = &next->schedule->problem;
    nctx.iact_bits = next->iact_bits, nctx.filter_bits = next->filter_bits;
    nctx.output_bits = next->output_bits;
    RowMarks next_marks;
    const size_t n = std::min(in_buffers, static_cast<size_t>(next->schedule->pass_count));
    for (size_t j = 0; j < n; ++j)
      next_traffic.push_back(
          pass_traffic(*next->schedule, j, nctx, next_marks, next->addresses.transposed_kernel));
    ahead = Prefetched{
        next->schedule->problem.label(), next->schedule->pass_count, next->addresses, {}, {}};
  }

  // The DMA's work, in schedule order. A pass's output tile drains after the pass, behind the
  // inputs prefetched into the buffer it freed. The next problem's first passes continue that
  // order as passes `passes`, `passes` + 1, ...; transfers the previous problem prefetched are not
  // made again.
  auto fold_runs = [](const PassTraffic& t, size_t fold) -> const std::vector<MemoryRun>* {
    return fold < t.filter_runs.size() ? &t.filter_runs[fold] : nullptr;
  };
  std::vector<QueuedTransfer> list;
  std::vector<size_t> own;  // this problem's transfers, which it waits for before it ends
  auto add = [&](bool write, uint64_t address, uint64_t bytes, DataClass c, int64_t after,
                 const std::vector<MemoryRun>* runs = nullptr) {
    MemoryRequest r;
    r.write = write;
    r.address = address;
    r.bytes = bytes;
    r.data_class = c;
    if (runs && !runs->empty()) {  // a gather: runs relative to `address`
      auto absolute = std::make_shared<std::vector<MemoryRun>>(*runs);
      for (MemoryRun& run : *absolute) run.address += address;
      r.address = absolute->front().address;
      r.runs = std::move(absolute);
    }
    if (bytes > 0) fig.offchip.add(r);
    list.push_back({r, after});
    return next_id_ + list.size() - 1;
  };
  auto add_output = [&](size_t j) {
    output_id[j] =
        add(true, addr.output, traffic[j].output_bytes, out_class, base + static_cast<int64_t>(j));
    own.push_back(output_id[j]);
  };
  for (size_t i = 0; i < passes + next_traffic.size(); ++i) {
    const int64_t gate = gate_of(i);
    if (i < passes) {
      if (!fetched_input[i])
        own.push_back(input_id[i] = add(false, addr.input + traffic[i].first_input_offset,
                                        traffic[i].input_bytes, in_class, gate));
      // One transfer per fold, each from the filter tensor's (aligned) start, as every filter
      // transfer was: each is rounded to whole DRAM bursts on its own. A transposed read's is
      // the gather of its runs in W.
      if (!fetched_filters[i])
        for (size_t f = 0; f < traffic[i].filter_bytes.size(); ++f)
          filter_ids[i].push_back(add(false, addr.filter, traffic[i].filter_bytes[f], filter_class,
                                      gate, fold_runs(traffic[i], f)));
    } else {
      const PassTraffic& t = next_traffic[i - passes];
      const mapper::CanonicalProblem& np = next->schedule->problem;
      if (next->inputs)
        ahead->input_ids.push_back(add(false, next->addresses.input + t.first_input_offset,
                                       t.input_bytes, data_class_of(np.input), gate));
      if (next->filters) {
        ahead->filter_ids.emplace_back();
        for (size_t f = 0; f < t.filter_bytes.size(); ++f)
          ahead->filter_ids.back().push_back(add(false, next->addresses.filter, t.filter_bytes[f],
                                                 data_class_of(np.filter), gate, fold_runs(t, f)));
      }
    }
    if (i >= in_buffers && i - in_buffers < passes) add_output(i - in_buffers);
  }
  const size_t issued = passes + next_traffic.size();
  for (size_t j = issued > in_buffers ? issued - in_buffers : 0; j < passes; ++j) add_output(j);
  next_id_ += list.size();
  queue_->append(std::move(list));
  prefetched_ = std::move(ahead);

  // A drain reads its tile out of the GLB from the end of its pass on; its buffer is free once
  // those reads and the DRAM write are both done.
  std::vector<uint64_t> pass_end(passes, start);
  auto drain_done = [&](size_t j) {
    return std::max(queue_->completion(output_id[j]),
                    glb_ports_done(traffic[j].drain_bits, true, wgrad, pass_end[j]));
  };
  for (size_t i = 0; i < passes; ++i) {
    const uint64_t active = waiting_pes(s.pass(static_cast<int64_t>(i)));
    // A pass starts when its input rows are in the GLB (the DMA has written them into each
    // cluster's iact banks, in the port cycles the array left free since the transfer completed)
    // and the output buffer it writes has drained; each wait is a stall of its PEs at that moment.
    const uint64_t pass_start = cycle_;
    const uint64_t in_done =
        glb_ports_done(traffic[i].fill_bits, false, wgrad, queue_->completion(input_id[i]));
    if (in_done > cycle_) memory_wait(in_done - cycle_, active, false), cycle_ = in_done;
    const uint64_t input_ready = cycle_;
    if (i >= out_buffers) {
      const uint64_t out_done = drain_done(i - out_buffers);
      if (out_done > cycle_) memory_wait(out_done - cycle_, active, true), cycle_ = out_done;
    }
    // No later DMA access goes before the end of the pass that gates the next input fill or
    // drain: the array's port use before it is no longer needed.
    const size_t gates = std::max(in_buffers, out_buffers);
    if (gates >= 2 && i + 1 >= gates) {
      const uint64_t before = pass_end[i + 1 - gates];
      for_banks([before](GlbBanks& b) { b.forget_before(before); });
    }
    const uint64_t compute_start = cycle_;
    fig.actions.glb_iact_write_bits += traffic[i].glb_iact_write_bits;
    // The banks store the array's port use in array cycles: this pass's ticks are cycle_ +
    // (stamp - the stamp it starts at).
    const uint64_t offset = cycle_ - cycle_stamp_;
    for_banks([offset](GlbBanks& b) { b.set_offset(offset); });
    cycle_ += run_pass(s, i, ctx, filter_ids[i]);
    for_banks([](GlbBanks& b) { b.flush_all(); });
    pass_end[i] = cycle_;
    queue_->pass_ended(base + static_cast<int64_t>(i), cycle_);
    if (timeline_ || progress_) observe_pass(s, i, pass_start, input_ready, compute_start, cycle_);
  }
  pass_base_ += static_cast<int64_t>(passes);
  // The last output tiles drain with every PE idle. (Transfers in flight together may complete
  // out of order: wait for every one of this problem's; the next problem's prefetched ones go on.)
  const uint64_t drain_start = cycle_;
  uint64_t drained = cycle_;
  for (size_t k : own) drained = std::max(drained, queue_->completion(k));
  for (size_t j = passes > out_buffers ? passes - out_buffers : 0; j < passes; ++j)
    drained = std::max(drained, drain_done(j));
  if (drained > cycle_) memory_wait(drained - cycle_, 0, false), cycle_ = drained;
  clock_.wait_until(cycle_);
  if (timeline_) observe_drain(drain_start);
  for (auto& c : clusters_) {
    const ClusterStats cs = c->collect();
    c->add_to_run(cs);
    fig.pe_cycles += cs.cycles;
    fig.macs += cs.macs;
    fig.actions += cs.actions;
    fig.glb_conflicts += cs.glb_conflicts;
  }
  fig.cycles += cycle_ - start;
}

}  // namespace eg::hw::array
