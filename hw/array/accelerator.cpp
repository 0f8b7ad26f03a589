#include "hw/array/accelerator.hpp"

#include <sstream>

#include "base/error.hpp"
#include "hw/described.hpp"
#include "hw/sim_context.hpp"
#include "hw/stats_group.hpp"

namespace eg::hw::array {

namespace {
const dram::DramConfig& dram_config_of(const arch::ArchConfig& config) {
  if (!config.dram)
    throw Error("config '" + config.name +
                "': /offchip/dram_config was not loaded (use load_arch_config or "
                "load_referenced_files)");
  return *config.dram;
}
}  // namespace

Accelerator::Accelerator(sc_core::sc_module_name name, const arch::ArchConfig& config,
                         const trace::Trace* trace, RunOptions options)
    : sc_module(name),
      config_(config),
      trace_(trace),
      options_(std::move(options)),
      period_(1.0 / config.clock_mhz, sc_core::SC_US),
      interface_(build_memory(),
                 config.features.feedback_magnitudes == arch::FeedbackMagnitudes::Seed,
                 dram_config_of(config).burst_bytes()),
      dmaq_(std::make_unique<DmaScheduler>("dmaq", interface_, period_,
                                           config.features.cross_layer_prefetch)),
      controller_(
          config, interface_, *this, [this] { return dram_stats(); }, dmaq_.get()) {
  if (TimelineRecorder* timeline = options_.timeline) {
    timeline->attach(period_);
    interface_.set_timeline(timeline);
    if (dram_) dram_->set_timeline(timeline);
    if (ideal_) ideal_->set_timeline(timeline);
  }
  SC_THREAD(main_thread);
}

MemoryPort& Accelerator::build_memory() {
  const dram::DramConfig& dram = dram_config_of(config_);
  if (config_.offchip.model == arch::OffchipModel::Ideal) {
    ideal_ = std::make_unique<IdealMemory>("memory", config_.offchip, period_);
    ideal_port_ = std::make_unique<TlmMemoryPort>("port");
    ideal_port_->socket.bind(ideal_->socket);
    return *ideal_port_;
  }
  dram_ = std::make_unique<Lpddr4Channel>("dram", dram);
  dma_ =
      std::make_unique<DmaEngine>("dma", DmaConfig{dram.burst_bytes(), dram.dma_max_outstanding});
  dma_->socket.bind(dram_->socket);
  return *dma_;
}

dram::DramStats Accelerator::dram_stats() const {
  return dram_ ? dram_->stats() : interface_.forwarded();
}

uint64_t Accelerator::now_cycles() const {
  return static_cast<uint64_t>(sc_core::sc_time_stamp().value() / period_.value());
}

void Accelerator::wait_until(uint64_t cycle) {
  // To the start of `cycle` exactly: waiting for a transfer can leave the time just past a cycle's
  // start (DmaScheduler::done_by).
  const sc_core::sc_time target = period_ * static_cast<double>(cycle);
  if (target > sc_core::sc_time_stamp()) wait(target - sc_core::sc_time_stamp());
}

Parameters Accelerator::parameters() const {
  std::ostringstream clock;
  clock << config_.clock_mhz;
  return {{"config", config_.name},
          {"clock_mhz", clock.str()},
          {"pc_rows", std::to_string(config_.array.pc_rows)},
          {"pc_cols", std::to_string(config_.array.pc_cols)},
          {"offchip", arch::to_string(config_.offchip.model)}};
}

void Accelerator::main_thread() {
  if (!trace_) return;
  try {
    result = controller_.run(*trace_, options_);
  } catch (...) {
    error = std::current_exception();
  }
  // No sc_stop(): with nothing left to do (the DRAM threads wait on events nobody notifies),
  // sc_start() returns by itself.
}

RunResult simulate(const arch::ArchConfig& config, const trace::Trace& trace,
                   const RunOptions& options) {
  // A fresh kernel context per simulation (SystemC 2.3 cannot elaborate again after a run), deleted
  // after top.
  SimContext context;
  Accelerator top("accelerator", config, &trace, options);
  context.start();
  if (top.error) std::rethrow_exception(top.error);
  top.result.blocks = collect_statistics();
  return std::move(top.result);
}

std::string describe(const arch::ArchConfig& config) {
  SimContext context;
  Accelerator top("accelerator", config, nullptr, RunOptions{});
  // Elaboration binds every port and socket (an unbound one is an error here, as in a run).
  context.start();
  return describe_hierarchy();
}

}  // namespace eg::hw::array
