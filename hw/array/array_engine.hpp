#pragma once
// Runs one schedule on the clusters (docs/DESIGN.md §5.6). The DMA queue fetches each pass's input
// rows and its filter sets fold by fold, ahead of the array by at most glb.iact_buffers passes,
// and drains each pass's output tile while later passes compute. The array ticks all clusters
// cycle by cycle, ahead of simulated time; a pass starts when its input rows have arrived and the
// output buffer it will write has drained, and a weight router starts a fold's filter set when
// that set's transfer has completed. Those waits are stalls of the PEs with work at that moment
// (input, or output for a drain); PEs without work idle.
#include <functional>
#include <memory>
#include <vector>

#include "hw/array/figures.hpp"
#include "hw/array/glb_cluster.hpp"
#include "hw/array/processing_cluster.hpp"
#include "hw/array/run_progress.hpp"
#include "hw/array/sim_clock.hpp"
#include "hw/array/transfer_queue.hpp"
#include "hw/memory_port.hpp"
#include "hw/timeline/timeline_recorder.hpp"
#include "sw/mapper/schedule.hpp"

namespace eg::hw::array {

// Where a problem's operands live off-chip.
struct OperandAddresses {
  uint64_t input = 0, filter = 0, output = 0;
};

class ArrayEngine {
 public:
  // Builds the GLB cluster, the router cluster and the processing clusters as sc_modules under the
  // module being elaborated; each cluster's GLB and NoC ports are bound to its own partitions when
  // the kernel elaborates (before execute()).
  // The DMA work of each problem goes through `queue` (the SystemC DmaScheduler); without one,
  // an InlineTransferQueue makes each transfer when the array first needs it (tests without the
  // kernel).
  ArrayEngine(const arch::ArchConfig& config, MemoryPort& memory, SimClock& clock,
              TransferQueue* queue);
  ArrayEngine(const arch::ArchConfig& config, MemoryPort& memory, SimClock& clock);

  // Executes `schedule` (values into ctx.output) and adds what it measured to `figures`.
  void execute(const mapper::Schedule& schedule, const PeContext& ctx,
               const OperandAddresses& addresses, PhaseFigures& figures);

  // Blocking off-chip transfer, counted in `figures`.
  void transfer(bool write, uint64_t address, uint64_t bytes, DataClass data_class,
                PhaseFigures& figures);

  // Cycles of the passes, simulated at cycle accuracy, for the speed report: cycles in which a
  // cluster provably only counts are accounted in bulk (ProcessingCluster::tick), with the same
  // results; memory waits between passes are jumped over and not included.
  uint64_t ticked_cycles() const { return ticked_cycles_; }

  // With `on`, no fast-forward: run_pass does not jump over cycles in which every cluster is
  // quiet, and each cluster simulates every cycle instead of accounting quiet ones in bulk
  // (egsim run --step-every-cycle). The figures must not change; only host speed does.
  void set_step_every_cycle(bool on);
  // Cluster-cycles simulated one by one, summed over the clusters: cycles x clusters with
  // step_every_cycle, fewer with the fast-forward.
  uint64_t simulated_cluster_cycles() const;
  // Where to report passes (array_engine_observe.cpp); either may be null.
  void observe(TimelineRecorder* timeline, RunProgress* progress) {
    timeline_ = timeline, progress_ = progress;
  }

 private:
  struct PassTraffic {
    // Filter bytes per fold (each set counted in the fold where it is first needed), fetched
    // fold by fold: a weight router starts a fold's set once its transfer has completed.
    std::vector<uint64_t> filter_bytes;
    uint64_t input_bytes = 0, output_bytes = 0;
    uint64_t glb_iact_write_bits = 0;
    uint64_t first_input_offset = 0;
  };
  // Marks of input rows (a, k, in_row) already counted: the pass (globally) and the cluster
  // (locally) that last counted each, so no set is rebuilt per pass.
  struct RowMarks {
    std::vector<uint64_t> global, local;
    uint64_t pass_mark = 0, cluster_mark = 0;
  };
  PassTraffic pass_traffic(const mapper::Schedule& s, size_t pass, const PeContext& ctx,
                           RowMarks& marks) const;
  // PEs that wait while the array waits for pass `ps`'s memory: those with work in any fold.
  uint64_t waiting_pes(const mapper::Pass& ps) const;
  // Ticks pass `pass` from cycle_ on; fold q's filter sets wait for transfer filter_ids[q].
  uint64_t run_pass(const mapper::Schedule& s, size_t pass, const PeContext& ctx,
                    const std::vector<size_t>& filter_ids);
  // Pass `pass` waited for its input rows from `start` to `input_ready`, for the output buffer it
  // writes to drain until `compute_start`, and computed until `compute_end` (filter sets arriving
  // late are input stalls inside it): the timeline's cluster intervals, the progress.
  void observe_pass(const mapper::Schedule& s, size_t pass, uint64_t start, uint64_t input_ready,
                    uint64_t compute_start, uint64_t compute_end);
  // The last outputs drained from `start` to now while the array idled.
  void observe_drain(uint64_t start);

  const arch::ArchConfig& config_;
  MemoryPort& memory_;
  SimClock& clock_;
  std::unique_ptr<InlineTransferQueue> inline_queue_;
  TransferQueue* queue_ = nullptr;
  // The array's own cycle while it runs ahead of simulated time (temporal decoupling); simulated
  // time is brought up to it only to wait for a transfer and at the end of each problem.
  uint64_t cycle_ = 0;
  std::unique_ptr<GlbCluster> glb_;
  std::unique_ptr<NocCluster> noc_;
  std::vector<std::unique_ptr<ProcessingCluster>> clusters_;
  uint64_t cycle_stamp_ = 0;  // monotonically increasing tick counter (GLB port bookkeeping)
  uint64_t ticked_cycles_ = 0;
  bool step_every_cycle_ = false;
  TimelineRecorder* timeline_ = nullptr;
  RunProgress* progress_ = nullptr;
  std::vector<uint64_t> finished_at_;   // per cluster: cycles into the pass it finished
  std::vector<ClusterStats> observed_;  // per cluster: its counters at the last pass observed
};

DataClass data_class_of(mapper::Operand operand);

}  // namespace eg::hw::array
