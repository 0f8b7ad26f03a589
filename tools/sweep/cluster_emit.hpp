#pragma once
// Beyond one machine: the same points as a Slurm job array or a GNU parallel job list. Every job
// runs `egsim sweep --config C --out DIR --point K` into the shared DIR; `egsim sweep --merge DIR`
// then builds the summary from whatever points exist.
#include <filesystem>
#include <string>
#include <vector>

#include "tools/sweep/sweep_config.hpp"
#include "tools/sweep/sweep_layout.hpp"

namespace eg::sweep {

// Quotes one argument for a POSIX shell (the job scripts are read by a shell on the cluster).
std::string shell_quote(const std::string& arg);
// "0-3,5,7-9" from sorted indices.
std::string array_ranges(const std::vector<int>& indices);

// Writes <out>/slurm/sweep.sbatch and <out>/slurm/points.tsv (index, id, state) for the unfinished
// points; returns the script path. `point_command` is the argv prefix before "--point K".
std::filesystem::path emit_slurm(const Sweep& sweep, const SweepLayout& layout,
                                 const std::vector<std::string>& point_command);
// Writes <out>/parallel/jobs.txt: one shell command line per unfinished point.
std::filesystem::path emit_parallel(const Sweep& sweep, const SweepLayout& layout,
                                    const std::vector<std::string>& point_command);

}  // namespace eg::sweep
