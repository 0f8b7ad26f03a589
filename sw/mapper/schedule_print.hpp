#pragma once
// Human-readable rendering of a Schedule for `egsim map`.
#include <ostream>

#include "sw/mapper/schedule.hpp"

namespace eg::mapper {

// Prints the problem, tiling, folds, replication, pass count, the cycle lower bound and what each
// PE of cluster 0 holds in the first `passes_shown` passes.
void print_schedule(std::ostream& out, const Schedule& schedule, int passes_shown = 1);

}  // namespace eg::mapper
