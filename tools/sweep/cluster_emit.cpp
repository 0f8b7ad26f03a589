#include "tools/sweep/cluster_emit.hpp"

#include <sys/stat.h>

#include "base/files.hpp"
#include "tools/sweep/point_runner.hpp"

namespace eg::sweep {

namespace fs = std::filesystem;

std::string shell_quote(const std::string& arg) {
  if (!arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789_-./=:,+@%") == std::string::npos)
    return arg;
  std::string quoted = "'";
  for (char c : arg) quoted += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string array_ranges(const std::vector<int>& indices) {
  std::string text;
  for (size_t i = 0; i < indices.size();) {
    size_t j = i;
    while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1) ++j;
    if (!text.empty()) text += ",";
    text += std::to_string(indices[i]);
    if (j > i) text += "-" + std::to_string(indices[j]);
    i = j + 1;
  }
  return text;
}

namespace {

std::string command_line(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& a : argv) text += (text.empty() ? "" : " ") + shell_quote(a);
  return text;
}

std::vector<int> unfinished(const Sweep& sweep, const SweepLayout& layout) {
  std::vector<int> indices;
  for (const auto& p : sweep.points)
    if (!point_done(layout, p)) indices.push_back(p.index);
  return indices;
}

}  // namespace

fs::path emit_slurm(const Sweep& sweep, const SweepLayout& layout,
                    const std::vector<std::string>& point_command) {
  const fs::path dir = layout.out / "slurm";
  const std::vector<int> todo = unfinished(sweep, layout);
  std::string points;
  for (const auto& p : sweep.points)
    points += std::to_string(p.index) + "\t" + p.id + "\t" +
              (point_done(layout, p) ? "done" : "todo") + "\n";
  fs::create_directories(dir / "logs");
  write_file_atomic(dir / "points.tsv", points);

  std::string script = "#!/bin/bash\n";
  script += "# Sweep '" + sweep.name + "': one array task per unfinished point (" +
            std::to_string(todo.size()) + " of " + std::to_string(sweep.points.size()) + ").\n";
  script += "# Submit: sbatch " + shell_quote((dir / "sweep.sbatch").string()) + "\n";
  script += "# Then:   " + shell_quote(point_command.front()) + " sweep --merge " +
            shell_quote(layout.out.string()) + "\n";
  script += "# Resubmitting is safe: finished points are skipped, interrupted ones redone.\n";
  script += "#SBATCH --job-name=" + shell_quote("egsweep-" + sweep.name) + "\n";
  script += "#SBATCH --array=" + (todo.empty() ? std::string("0") : array_ranges(todo)) + "\n";
  script += "#SBATCH --output=" + (dir / "logs" / "%A_%a.out").string() + "\n";
  if (!sweep.slurm.partition.empty())
    script += "#SBATCH --partition=" + sweep.slurm.partition + "\n";
  if (!sweep.slurm.time.empty()) script += "#SBATCH --time=" + sweep.slurm.time + "\n";
  if (!sweep.slurm.mem.empty()) script += "#SBATCH --mem=" + sweep.slurm.mem + "\n";
  if (sweep.slurm.cpus_per_task > 0)
    script += "#SBATCH --cpus-per-task=" + std::to_string(sweep.slurm.cpus_per_task) + "\n";
  script += "set -euo pipefail\n";
  script += "export SC_COPYRIGHT_MESSAGE=DISABLE\n";
  script += "exec " + command_line(point_command) + " --point \"$SLURM_ARRAY_TASK_ID\"\n";
  const fs::path file = dir / "sweep.sbatch";
  write_file_atomic(file, script);
  ::chmod(file.c_str(), 0755);
  return file;
}

fs::path emit_parallel(const Sweep& sweep, const SweepLayout& layout,
                       const std::vector<std::string>& point_command) {
  std::string jobs;
  for (int index : unfinished(sweep, layout))
    jobs += command_line(point_command) + " --point " + std::to_string(index) + "\n";
  const fs::path file = layout.out / "parallel" / "jobs.txt";
  fs::create_directories(file.parent_path());
  write_file_atomic(file, jobs);
  return file;
}

}  // namespace eg::sweep
