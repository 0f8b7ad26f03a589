// egsim describe --config C: the module hierarchy a config elaborates, with each module's
// parameters.
#include <iostream>

#include <boost/program_options.hpp>

#include "hw/array/accelerator.hpp"
#include "models/arch/arch_config.hpp"
#include "tools/egsim/parse_options.hpp"
#include "tools/egsim/subcommand.hpp"

namespace po = boost::program_options;

namespace eg::app {
namespace {

int describe(int argc, char** argv) {
  po::options_description opts(
      "egsim describe: print the SystemC module hierarchy a hardware config builds, with each "
      "module's parameters");
  std::string config;
  opts.add_options()("help,h", "this help")("config", po::value(&config)->required(),
                                            "hardware config JSON");
  po::variables_map vm;
  if (!parse_options(argc, argv, opts, vm)) return 0;
  const arch::ArchConfig cfg = arch::load_arch_config(config);
  std::cout << hw::array::describe(cfg);
  return 0;
}

const RegisterSubcommand registered{
    {"describe", "print the module hierarchy a hardware config elaborates, with parameters",
     describe}};

}  // namespace
}  // namespace eg::app
