#pragma once
// `egsim run`'s progress line on stderr: one line rewritten in place, at most every
// kRefreshSeconds, "layer k/n <name> <phase>  <simulated cycles>  <host Mcycles/s>  ETA ...". The
// estimate assumes the dense MACs still to run go at the speed the done ones went.
#include <chrono>
#include <ostream>
#include <string>

#include "hw/array/run_progress.hpp"

namespace eg::app {

class TerminalProgress : public hw::array::RunProgress {
 public:
  // A terminal redraws about this often; more would cost host time for nothing a reader can see.
  static constexpr double kRefreshSeconds = 0.25;

  explicit TerminalProgress(std::ostream& out) : out_(out) {}
  ~TerminalProgress() override { finished(); }

  void phase_started(size_t index, size_t count, const std::string& layer, const std::string& phase,
                     uint64_t cycle, uint64_t work_done, uint64_t work_total,
                     uint64_t phase_work) override;
  void advanced(double fraction, uint64_t cycle) override;
  void finished() override;

 private:
  void show(bool force);

  std::ostream& out_;
  std::string where_;  // "layer k/n <name> <phase>"
  uint64_t cycle_ = 0, work_done_ = 0, work_total_ = 0, phase_work_ = 0;
  double fraction_ = 0;
  bool shown_ = false;
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_ = Clock::now(), last_shown_;
};

}  // namespace eg::app
