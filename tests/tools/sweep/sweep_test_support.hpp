#pragma once
// Helpers for the sweep tests: the stand-in CLI, the fake trainer/simulator, tiny sweep configs.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace eg::testing {

std::filesystem::path sweep_cli();                             // build/tests/egsweep_test_cli
std::filesystem::path sweep_fixture(const std::string& name);  // tests/tools/sweep/fixtures/<name>

struct CliRun {
  int code = 0;
  std::string output;  // stdout + stderr
};
// Runs `egsweep_test_cli sweep <args>` with the fake egtrain/egsim, waits, returns its exit code.
CliRun run_sweep_cli(const std::vector<std::string>& args, const std::filesystem::path& log);

// Four points: efficientgrad at P = 0, 0.5, 0.9 on the fake EfficientGrad config, and bp at P = 0
// on the fake baseline labelled "reference".
nlohmann::json tiny_sweep_json();
std::filesystem::path write_config(const std::filesystem::path& dir, const nlohmann::json& config,
                                   const std::string& name = "sweep.json");
std::string slurp(const std::filesystem::path& file);
// The error parse_sweep gives `config` (read as if from tests/tools/sweep/virtual.json), or
// "accepted".
std::string rejection(const nlohmann::json& config);

}  // namespace eg::testing
