#pragma once
// Shared option parsing for the egsim subcommands: --help prints the options and stops; otherwise
// required options are enforced (boost reports a missing one by name).
#include <iostream>

#include <boost/program_options.hpp>

namespace eg::app {

// Returns false when --help was given (the caller exits 0), true when `vm` is ready to use.
inline bool parse_options(int argc, char** argv,
                          const boost::program_options::options_description& opts,
                          boost::program_options::variables_map& vm) {
  boost::program_options::store(boost::program_options::parse_command_line(argc, argv, opts), vm);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return false;
  }
  boost::program_options::notify(vm);
  return true;
}

}  // namespace eg::app
