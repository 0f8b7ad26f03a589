#include "sweep_test_support.hpp"

#include <fstream>
#include <sstream>

#include "base/error.hpp"
#include "tools/sweep/subprocess.hpp"
#include "tools/sweep/sweep_config.hpp"

namespace eg::testing {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path sweep_cli() {
  return fs::path(EGSIM_BINARY_DIR) / "tests" / "egsweep_test_cli";
}

fs::path sweep_fixture(const std::string& name) {
  return fs::path(EGSIM_SOURCE_DIR) / "tests" / "tools" / "sweep" / "fixtures" / name;
}

std::string rejection(const nlohmann::json& config) {
  try {
    sweep::parse_sweep(config, fs::path(EGSIM_SOURCE_DIR) / "tests/tools/sweep/virtual.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "accepted";
}

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

CliRun run_sweep_cli(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<std::string> argv{sweep_cli().string(),
                                "sweep",
                                "--egtrain",
                                sweep_fixture("fake_egtrain.sh").string(),
                                "--egsim",
                                sweep_fixture("fake_egsim.sh").string()};
  if (!args.empty() && args.front() == "--merge") argv.resize(2);  // merge takes no tools
  argv.insert(argv.end(), args.begin(), args.end());
  fs::remove(log);
  CliRun run;
  run.code = eg::sweep::run_logged(argv, log).code;
  run.output = slurp(log);
  return run;
}

json tiny_sweep_json() {
  return json{{"name", "tiny"},
              {"training", {{"epochs", 1}, {"iterations", 2}, {"batch", 4}, {"width", 0.25}}},
              {"grids",
               {{{"label", "efficientgrad"},
                 {"networks", {"resnet20"}},
                 {"datasets", {"synthetic"}},
                 {"modes", {"efficientgrad"}},
                 {"pruning_rates", {0.0, 0.5, 0.9}},
                 {"hw_configs", {sweep_fixture("hw_efficientgrad.json").string()}},
                 {"seeds", {1}}},
                {{"label", "reference"},
                 {"networks", {"resnet20"}},
                 {"datasets", {"synthetic"}},
                 {"modes", {"bp"}},
                 {"pruning_rates", {0.0}},
                 {"hw_configs", {sweep_fixture("hw_baseline.json").string()}},
                 {"seeds", {1}}}}}};
}

fs::path write_config(const fs::path& dir, const json& config, const std::string& name) {
  const fs::path file = dir / name;
  std::ofstream(file) << config.dump(2);
  return file;
}

}  // namespace eg::testing
