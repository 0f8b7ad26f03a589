#include "tools/sweep/progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace eg::sweep {

std::string format_duration(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char text[32];
  if (s >= 3600)
    std::snprintf(text, sizeof text, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  else if (s >= 60)
    std::snprintf(text, sizeof text, "%ldm%02lds", s / 60, s % 60);
  else
    std::snprintf(text, sizeof text, "%lds", s);
  return text;
}

Progress::Progress(std::ostream* out, bool tty, int total, int already_done, int jobs)
    : out_(out), tty_(tty), total_(total), done_(already_done), jobs_(std::max(1, jobs)) {
  if (out_ && already_done > 0)
    *out_ << "sweep: " << already_done << " of " << total
          << " points already done, skipping them\n";
}

std::string Progress::status() const {
  const int remaining = total_ - done_ - failed_;
  std::string eta = "?";
  if (remaining == 0) {
    eta = "0s";
  } else if (finished_here_ > 0) {
    // Points run in waves of `jobs`; the mean duration so far stands in for the ones left.
    const double mean = seconds_here_ / finished_here_;
    eta = format_duration(mean * std::ceil(double(remaining) / jobs_));
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string text = std::to_string(done_) + "/" + std::to_string(total_) + " done, " +
                     std::to_string(running_) + " running";
  if (failed_) text += ", " + std::to_string(failed_) + " failed";
  return text + ", elapsed " + format_duration(elapsed) + ", ETA " + eta;
}

void Progress::show(const std::string& event) {
  if (!out_) return;
  if (tty_)
    *out_ << "\r\x1b[K" << (event.empty() ? "" : event + "\n") << "sweep: " << status()
          << std::flush;
  else if (!event.empty())
    *out_ << event << " | " << status() << "\n" << std::flush;
}

void Progress::started(const std::string& id) {
  ++running_;
  show(tty_ ? "" : "sweep: started " + id);
}

void Progress::finished(const std::string& id, double seconds) {
  --running_;
  ++done_;
  ++finished_here_;
  seconds_here_ += seconds;
  show("sweep: finished " + id + " in " + format_duration(seconds));
}

void Progress::failed(const std::string& id, const std::string& why) {
  --running_;
  ++failed_;
  show("sweep: FAILED " + id + ": " + why);
}

void Progress::close() {
  if (out_ && tty_) *out_ << "\n" << std::flush;
}

}  // namespace eg::sweep
