#include "hw/app/terminal_progress.hpp"

#include <cstdio>

#include "hw/sweep/progress.hpp"

namespace eg::app {

namespace {
std::string cycles_text(uint64_t cycles) {
  char text[32];
  if (cycles >= 1000000)
    std::snprintf(text, sizeof text, "%.1f M cycles", static_cast<double>(cycles) / 1e6);
  else
    std::snprintf(text, sizeof text, "%llu cycles", static_cast<unsigned long long>(cycles));
  return text;
}
// A name from a trace is shown as text only: a control character (an escape sequence) could
// otherwise rewrite the user's terminal.
std::string printable(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}
}  // namespace

void TerminalProgress::phase_started(size_t index, size_t count, const std::string& layer,
                                     const std::string& phase, uint64_t cycle, uint64_t work_done,
                                     uint64_t work_total, uint64_t phase_work) {
  where_ = "layer " + std::to_string(index + 1) + "/" + std::to_string(count) + " " +
           printable(layer) + " " + phase;
  cycle_ = cycle;
  work_done_ = work_done, work_total_ = work_total, phase_work_ = phase_work;
  fraction_ = 0;
  show(!shown_);  // the first line at once, later ones at the refresh rate
}

void TerminalProgress::advanced(double fraction, uint64_t cycle) {
  fraction_ = fraction;
  cycle_ = cycle;
  show(false);
}

void TerminalProgress::show(bool force) {
  const Clock::time_point now = Clock::now();
  if (!force && std::chrono::duration<double>(now - last_shown_).count() < kRefreshSeconds) return;
  last_shown_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double done =
      static_cast<double>(work_done_) + fraction_ * static_cast<double>(phase_work_);
  std::string eta = "?";
  if (work_total_ > 0 && done > 0 && elapsed > 0)
    eta = sweep::format_duration(elapsed * (static_cast<double>(work_total_) - done) / done);
  char speed[48];
  std::snprintf(speed, sizeof speed, "%.2f Mcycles/s",
                elapsed > 0 ? static_cast<double>(cycle_) / elapsed / 1e6 : 0.0);
  out_ << "\r\x1b[K" << where_ << "  " << cycles_text(cycle_) << "  " << speed << "  ETA " << eta
       << std::flush;
  shown_ = true;
}

void TerminalProgress::finished() {
  if (shown_) out_ << "\r\x1b[K" << std::flush;  // the summary on stdout follows on a clean line
  shown_ = false;
}

}  // namespace eg::app
