// What the array engine reports about each pass, apart from its timing: the timeline's per-cluster
// intervals and the progress display. Runs only when one of them is asked for.
#include "hw/array/array_engine.hpp"

namespace eg::hw::array {

void ArrayEngine::observe_pass(const mapper::Schedule& s, size_t pass, uint64_t start,
                               uint64_t input_ready, uint64_t compute_start, uint64_t compute_end) {
  if (progress_)
    progress_->advanced(static_cast<double>(pass + 1) / static_cast<double>(s.pass_count),
                        compute_end);
  if (!timeline_) return;
  if (pass == 0) observed_.assign(clusters_.size(), ClusterStats{});  // execute() reset them
  const mapper::Pass ps = s.pass(static_cast<int64_t>(pass));
  for (size_t c = 0; c < clusters_.size(); ++c) {
    mapper::Pass one;  // this cluster's PEs with work, counted as the stall accounting does
    one.pcs.push_back(ps.pcs[c]);
    const uint64_t active = waiting_pes(one);
    // The cluster's PEs with work stall while the pass's input rows arrive (input), then while the
    // output buffer it will write drains (output). Filter sets that arrive late are input stalls
    // inside the compute interval.
    if (active > 0) {
      if (input_ready > start)
        timeline_->cluster(c, clusters_[c]->name(), "wait DRAM", start, input_ready,
                           {{"stalled_pe_cycles", (input_ready - start) * active}});
      if (compute_start > input_ready)
        timeline_->cluster(c, clusters_[c]->name(), "wait drain", input_ready, compute_start,
                           {{"output_stalled_pe_cycles", (compute_start - input_ready) * active}});
    }
    // Its compute interval ends when it finished; its PE-cycle classes run to the pass barrier.
    const ClusterStats now = clusters_[c]->collect();
    const ClusterStats& was = observed_[c];
    timeline_->cluster(c, clusters_[c]->name(), "compute", compute_start,
                       compute_start + finished_at_[c],
                       {{"passes", 1},
                        {"busy_pe_cycles", now.cycles.busy - was.cycles.busy},
                        {"wait_input_pe_cycles", now.cycles.wait_input - was.cycles.wait_input},
                        {"wait_output_pe_cycles", now.cycles.wait_output - was.cycles.wait_output},
                        {"idle_pe_cycles", now.cycles.idle - was.cycles.idle},
                        {"macs_issued", now.macs.issued - was.macs.issued},
                        {"macs_skipped", now.macs.skipped - was.macs.skipped}});
    observed_[c] = now;
  }
}

void ArrayEngine::observe_drain(uint64_t start) {
  const uint64_t end = clock_.now_cycles();
  for (size_t c = 0; c < clusters_.size(); ++c)
    timeline_->cluster(c, clusters_[c]->name(), "drain outputs", start, end, {});
}

}  // namespace eg::hw::array
