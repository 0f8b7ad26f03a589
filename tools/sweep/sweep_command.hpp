#pragma once
// `egsim sweep`: the command-line entry point (tools/egsim dispatches to it).
//
//   egsim sweep --config C --out DIR [--jobs N]           run every unfinished point locally
//   egsim sweep --config C --out DIR --point K            run point K only (a cluster task)
//   egsim sweep --config C --out DIR --emit slurm|parallel   write job scripts instead of running
//   egsim sweep --merge DIR                               summary + report from the points that
//   exist
// Common: --egtrain PATH, --egsim PATH (defaults: $EGSIM_EGTRAIN / $EGSIM_EGSIM, else the programs
// next to the running executable), --trace-cache DIR (default DIR/traces).
namespace eg::sweep {

// argv[0] is the subcommand name ("sweep"); options follow. Returns the process exit code.
int sweep_command(int argc, char** argv);

}  // namespace eg::sweep
