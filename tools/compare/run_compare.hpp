#pragma once
// Entry point for `egsim compare A/report.json B/report.json [--out comparison.json]`, for the
// egsim CLI (tools/egsim) to call with its arguments after the subcommand: argv[0] is "compare" (or
// any name), argv[1..] the arguments. Prints the table to stdout; with --out also writes the JSON
// (temporary file + rename). --out is checked before any work: its folder must exist and be
// writable, and the file must be absent or written earlier by egsim compare (recorded in the
// folder's .egsim-owned marker), so a user's file is never overwritten. Returns 0 on success, 1 on
// a bad report or output (one-line error on stderr, nothing written), 2 on bad usage.
namespace eg::compare {

int run_compare(int argc, char** argv);

}  // namespace eg::compare
