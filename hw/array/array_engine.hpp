#pragma once
// Runs one schedule on the clusters (docs/DESIGN.md §5.6). The DMA queue fetches each pass's input
// rows and its filter sets fold by fold, ahead of the array by at most glb.iact_buffers passes,
// and drains each pass's output tile while later passes compute. The array ticks all clusters
// cycle by cycle, ahead of simulated time; a pass starts when its input rows have arrived and
// been written into the GLB banks, and the output buffer it will write has drained (read out of
// the banks and written to DRAM; the DMA's bank accesses take the ports the array leaves free,
// docs/DESIGN.md §5.4), and a weight router starts a fold's filter set when that set's transfer
// has completed. Those waits are stalls of the PEs with work at that moment (input, or output for
// a drain); PEs without work idle.
#include <functional>
#include <memory>
#include <optional>
#include <string>
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
  // > 0: the filter is W read in place with transposed addressing (features.feedback_source
  // "transposed_read", a backward problem), `filter` being W's base in its forward layout
  // [M][C][R·S] and this R·S. Each fold's filter transfer is then a gather of W's runs (one per
  // output channel m and run of consecutive input channels c, docs/DESIGN.md §5.7). 0: the
  // filter tensor is laid out in the order the folds read it, one contiguous range per fold.
  int64_t transposed_kernel = 0;
};

// The array problem that runs next (features.cross_layer_prefetch, docs/DESIGN.md §5.6): the
// transfers of its first passes, those whose GLB buffers the current problem frees before it ends,
// are issued during the current one. The caller decides which operands may go early: one may
// only if nothing written before the next problem starts (the current problem's outputs, PPU
// writes, a weight update) overlaps what it reads.
struct NextProblem {
  const mapper::Schedule* schedule = nullptr;
  int iact_bits = 0, filter_bits = 0, output_bits = 0;
  OperandAddresses addresses;
  bool inputs = false, filters = false;  // may go early
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
  // With `next`, the DMA also prefetches `next`'s first glb.iact_buffers passes (those of its
  // operands marked as free to go early), continuing this problem's schedule order; their
  // requested bytes count in `figures`. This problem does not wait for them; the next execute(),
  // which must be of `next`, waits for them instead of issuing them.
  void execute(const mapper::Schedule& schedule, const PeContext& ctx,
               const OperandAddresses& addresses, PhaseFigures& figures,
               const NextProblem* next = nullptr);

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
    // With a transposed read, per fold: its gather's runs, addresses relative to W's base.
    std::vector<std::vector<MemoryRun>> filter_runs;
    uint64_t input_bytes = 0, output_bytes = 0;
    uint64_t glb_iact_write_bits = 0;
    uint64_t first_input_offset = 0;
    // Per cluster: bits the input fill writes into its iact banks (the rows it needs) and bits
    // the output drain reads out of its psum (grad) banks (the psums of its tile), for the DMA's
    // GLB port cycles.
    std::vector<uint64_t> fill_bits, drain_bits;
  };
  // Marks of input rows (a, k, in_row) already counted: the pass (globally) and the cluster
  // (locally) that last counted each, so no set is rebuilt per pass.
  struct RowMarks {
    std::vector<uint64_t> global, local;
    uint64_t pass_mark = 0, cluster_mark = 0;
    // Per row, its bits in CSC form when the input is compressed on chip (kUnknownBits: not yet
    // computed).
    std::vector<uint64_t> csc_bits;
  };
  static constexpr uint64_t kUnknownBits = UINT64_MAX;
  PassTraffic pass_traffic(const mapper::Schedule& s, size_t pass, const PeContext& ctx,
                           RowMarks& marks, int64_t transposed_kernel) const;
  // The DMA's GLB side of a transfer that moves `bits_per_pc` (per cluster) into the iact banks
  // (`drain` false) or out of the psum or grad banks (`drain` true), from array cycle `from` on,
  // in the port cycles the array leaves free: the cycle after its last bank access
  // (docs/DESIGN.md §5.4).
  uint64_t glb_ports_done(const std::vector<uint64_t>& bits_per_pc, bool drain, bool wgrad,
                          uint64_t from);
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
  // What the previous execute() prefetched for the problem after it: that problem, and the queue's
  // ids of the transfers of its first passes (input rows per pass, filter sets per pass and fold;
  // empty where not prefetched).
  struct Prefetched {
    std::string label;
    int64_t pass_count = 0;
    OperandAddresses addresses;
    std::vector<size_t> input_ids;
    std::vector<std::vector<size_t>> filter_ids;
  };
  size_t next_id_ = 0;     // the queue's id of the next transfer appended
  int64_t pass_base_ = 0;  // the queue's number of this problem's first pass
  std::optional<Prefetched> prefetched_;
  std::vector<uint64_t> finished_at_;   // per cluster: cycles into the pass it finished
  std::vector<ClusterStats> observed_;  // per cluster: its counters at the last pass observed
};

DataClass data_class_of(mapper::Operand operand);

}  // namespace eg::hw::array
