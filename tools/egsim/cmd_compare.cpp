// egsim compare A/report.json B/report.json [--out comparison.json]
#include "tools/egsim/subcommand.hpp"
#include "tools/compare/run_compare.hpp"

namespace eg::app {
namespace {
const RegisterSubcommand registered{
    {"compare", "put two reports side by side with ratios (B/A and A/B)", compare::run_compare}};
}  // namespace
}  // namespace eg::app
