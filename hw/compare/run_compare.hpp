#pragma once
// Entry point for `egsim compare A/report.json B/report.json [--out comparison.json]`, for the
// egsim CLI (hw/app) to call with its arguments after the subcommand: argv[0] is "compare" (or any
// name), argv[1..] the arguments. Prints the table to stdout; with --out also writes the JSON
// (atomically). Returns 0 on success, 1 on a bad report (one-line error on stderr), 2 on bad usage.
namespace eg::compare {

int run_compare(int argc, char** argv);

}  // namespace eg::compare
