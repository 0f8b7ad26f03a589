#pragma once
// `egsim <subcommand> ...`: each subcommand lives in its own cmd_*.cpp and registers itself here,
// so adding one (compare, sweep) is a new file and no edit elsewhere.
#include <string>
#include <vector>

namespace eg::app {

struct Subcommand {
  const char* name;
  const char* summary;
  // argv[0] is the subcommand name; returns the process exit code. Throw eg::Error for user errors.
  int (*run)(int argc, char** argv);
};

std::vector<Subcommand>& subcommands();

struct RegisterSubcommand {
  explicit RegisterSubcommand(Subcommand s) { subcommands().push_back(s); }
};

}  // namespace eg::app
