// egsim compare A/report.json B/report.json [--out comparison.json]
#include "tools/compare/run_compare.hpp"
#include "tools/egsim/subcommand.hpp"

namespace eg::app {
namespace {
const RegisterSubcommand registered{
    {"compare", "put two reports side by side with ratios (B/A and A/B)", compare::run_compare}};
}  // namespace
}  // namespace eg::app
