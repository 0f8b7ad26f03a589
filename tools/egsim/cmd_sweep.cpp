// egsim sweep --config C --out DIR [--jobs N | --point K | --emit slurm|parallel] | --merge DIR
#include "tools/egsim/subcommand.hpp"
#include "tools/sweep/sweep_command.hpp"

namespace eg::app {
namespace {
const RegisterSubcommand registered{
    {"sweep", "train and simulate a grid of points (pruning rate x mode x config x ...)",
     sweep::sweep_command}};
}  // namespace
}  // namespace eg::app
