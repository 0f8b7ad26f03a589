#include "tools/sweep/local_scheduler.hpp"

#include <sys/wait.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>

#include "base/error.hpp"
#include "tools/sweep/point_runner.hpp"
#include "tools/sweep/progress.hpp"
#include "tools/sweep/subprocess.hpp"

namespace eg::sweep {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// The child's last line names what went wrong (its eg::Error message).
std::string last_line(const fs::path& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last.empty() ? "no output" : last;
}

struct Running {
  const Point* point;
  Clock::time_point start;
};

}  // namespace

LocalRunResult run_local(const Sweep& sweep, const SweepLayout& layout,
                         const LocalRunOptions& options) {
  LocalRunResult result;
  const auto start = Clock::now();
  std::deque<const Point*> pending;
  for (const auto& p : sweep.points) {
    if (point_done(layout, p))
      ++result.skipped;
    else
      pending.push_back(&p);
  }
  Progress progress(options.progress, options.tty, static_cast<int>(sweep.points.size()),
                    result.skipped, options.jobs);
  nlohmann::json point_seconds = nlohmann::json::object();
  std::map<pid_t, Running> running;
  const int jobs = std::max(1, options.jobs);

  while (!pending.empty() || !running.empty()) {
    while (!pending.empty() && static_cast<int>(running.size()) < jobs) {
      const Point* p = pending.front();
      pending.pop_front();
      std::vector<std::string> argv = options.point_command;
      argv.insert(argv.end(), {"--point", std::to_string(p->index)});
      fs::remove(layout.log_file(*p));
      const pid_t pid = spawn_logged(argv, layout.log_file(*p));
      running[pid] = Running{p, Clock::now()};
      progress.started(p->id);
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw Error("sweep: waitpid: " + std::string(std::strerror(errno)));
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;  // not one of ours
    const Point& p = *it->second.point;
    const double seconds = std::chrono::duration<double>(Clock::now() - it->second.start).count();
    running.erase(it);
    const ExitStatus exit = decode_wait_status(status);
    if (exit.ok() && point_done(layout, p)) {
      ++result.finished;
      point_seconds[p.id] = seconds;
      progress.finished(p.id, seconds);
    } else {
      ++result.failed;
      progress.failed(p.id, exit.describe() + ": " + last_line(layout.log_file(p)) + " (log " +
                                layout.log_file(p).string() + ")");
    }
  }
  progress.close();
  result.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.timing = {{"wall_seconds", result.wall_seconds}, {"jobs", jobs},
                   {"points_run", result.finished},       {"points_skipped", result.skipped},
                   {"points_failed", result.failed},      {"point_seconds", point_seconds}};
  return result;
}

}  // namespace eg::sweep
