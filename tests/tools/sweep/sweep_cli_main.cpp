// `egsweep_test_cli sweep ...`: the sweep command on its own, standing in for `egsim sweep` in
// tests (the scheduler re-runs this executable with --point K, exactly as egsim re-runs itself).
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "tools/sweep/sweep_command.hpp"

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "sweep") != 0) {
    std::cerr << "usage: egsweep_test_cli sweep [options]\n";
    return 2;
  }
  return eg::sweep::sweep_command(argc - 1, argv + 1);
}
