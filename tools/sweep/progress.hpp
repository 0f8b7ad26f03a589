#pragma once
// The sweep's progress display: points done, running, failed, and the estimated time left. On a
// terminal one line rewritten in place; otherwise (logs, CI, Slurm) one plain line per event.
#include <chrono>
#include <ostream>
#include <string>

namespace eg::sweep {

class Progress {
 public:
  Progress(std::ostream* out, bool tty, int total, int already_done, int jobs);
  void started(const std::string& id);
  void finished(const std::string& id, double seconds);
  void failed(const std::string& id, const std::string& why);
  void close();  // ends the in-place line
  int done() const { return done_; }
  int failures() const { return failed_; }

 private:
  std::string status() const;
  void show(const std::string& event);

  std::ostream* out_;
  bool tty_;
  int total_, done_, running_ = 0, failed_ = 0, jobs_;
  int finished_here_ = 0;
  double seconds_here_ = 0.0;  // sum of this session's point durations, for the estimate
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

std::string format_duration(double seconds);  // "1h02m", "3m05s", "12s"

}  // namespace eg::sweep
