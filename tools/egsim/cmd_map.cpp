// egsim map --config C --trace DIR --layer L [--phase P] [--passes N]
#include <iostream>

#include <boost/program_options.hpp>

#include "base/error.hpp"
#include "models/arch/arch_config.hpp"
#include "sw/mapper/row_stationary_mapper.hpp"
#include "sw/mapper/schedule_print.hpp"
#include "tools/egsim/parse_options.hpp"
#include "tools/egsim/subcommand.hpp"
#include "workloads/trace.hpp"

namespace po = boost::program_options;

namespace eg::app {
namespace {

int map(int argc, char** argv) {
  po::options_description opts("egsim map: show how a layer's phases are mapped onto the array");
  std::string config, trace_dir, layer_name, phase;
  int passes = 1;
  opts.add_options()("help,h", "this help")("config", po::value(&config)->required(),
                                            "hardware config JSON")(
      "trace", po::value(&trace_dir)->required(), "trace directory")(
      "layer", po::value(&layer_name)->required(), "conv or fc layer name")(
      "phase", po::value(&phase), "forward, backward or weight_gradient (default: all three)")(
      "passes", po::value(&passes)->default_value(1), "passes to show PE by PE");
  po::variables_map vm;
  if (!parse_options(argc, argv, opts, vm)) return 0;
  // Each pass shown prints every PE of every cluster; more than a schedule has prints nothing more.
  if (passes < 0) throw Error("--passes: must be >= 0 (got " + std::to_string(passes) + ")");
  const arch::ArchConfig cfg = arch::load_arch_config(config);
  const trace::Trace trace = trace::Trace::open(trace_dir);
  const trace::Layer* layer = trace.manifest().find(layer_name);
  if (!layer) throw Error("--layer: no layer '" + layer_name + "' in " + trace_dir);
  const mapper::ConvView view = mapper::conv_view(*layer);
  std::vector<mapper::Phase> phases(std::begin(mapper::kAllPhases), std::end(mapper::kAllPhases));
  if (vm.count("phase")) phases = {mapper::phase_from_string(phase, "--phase")};
  const mapper::RowStationaryMapper mapper(cfg);
  std::cout << "layer " << layer->name << " (" << trace::to_string(layer->type) << "), config "
            << cfg.name << "\n";
  for (mapper::Phase p : phases)
    for (const mapper::CanonicalProblem& prob : mapper::canonical_problems(view, p, cfg.features)) {
      std::cout << "\n";
      mapper::print_schedule(std::cout, mapper.map(prob, "layer '" + layer->name + "'"), passes);
    }
  return 0;
}

const RegisterSubcommand registered{
    {"map", "print the row-stationary schedule of a layer (what each PE holds, folds, passes)",
     map}};

}  // namespace
}  // namespace eg::app
