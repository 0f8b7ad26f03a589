#pragma once
// What a run reports as it goes, for a progress display (`egsim run` on a terminal). The controller
// and the array engine call it through a pointer that is null when nobody listens.
#include <cstdint>
#include <string>

namespace eg::hw::array {

class RunProgress {
 public:
  virtual ~RunProgress() = default;
  // Layer `index` (0-based, forward order) of `count` starts `phase` at simulated `cycle`.
  // `work_done` of `work_total` units of work (dense MACs of the array phases) are behind it, and
  // the phase itself is `phase_work` of them.
  virtual void phase_started(size_t index, size_t count, const std::string& layer,
                             const std::string& phase, uint64_t cycle, uint64_t work_done,
                             uint64_t work_total, uint64_t phase_work) = 0;
  // `fraction` (0..1) of the current phase's array work is done at simulated `cycle`.
  virtual void advanced(double fraction, uint64_t cycle) = 0;
  // The run is over (or failed): the display goes away.
  virtual void finished() = 0;
};

}  // namespace eg::hw::array
