// egtrain's command line and config files: unknown keys and bad values are rejected with the key's
// name and a non-zero exit; a good config runs.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "base/error.hpp"
#include "run_helpers.hpp"
#include "support/temp_dir.hpp"
#include "sw/train/config.hpp"

using namespace eg::train;
using eg::testing::TempDir;

namespace {

const std::string kEgtrain = std::string(EGSIM_BINARY_DIR) + "/bin/egtrain";

using RunResult = testing::EgtrainRun;
RunResult run(const std::string& args, const TempDir& dir) {
  return testing::run_egtrain(kEgtrain, args, dir / "stderr.txt");
}

void write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

}  // namespace

TEST_CASE("config file with an unknown key is rejected naming key and file", "[train][cli]") {
  TempDir dir("egtrain-cli");
  write(dir / "bad.json", R"({"network": "resnet20", "learning-rate": 0.1})");
  const RunResult r = run("--config " + (dir / "bad.json").string(), dir);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("learning-rate") && Catch::Contains("bad.json") &&
                        Catch::Contains("unknown key"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("bad values are rejected naming the key", "[train][cli]") {
  TempDir dir("egtrain-cli");
  write(dir / "bad.json", R"({"pruning-rate": 1.0})");
  RunResult r = run("--config " + (dir / "bad.json").string(), dir);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("pruning-rate") && Catch::Contains("bad.json"));
  r = run("--mode backprop", dir);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("'mode'") && Catch::Contains("backprop"));
  r = run("--batch 12x", dir);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("'batch'"));
  r = run("--no-such-flag 3", dir);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("no-such-flag"));
  write(dir / "type.json", R"({"epochs": "three"})");
  r = run("--config " + (dir / "type.json").string(), dir);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("'epochs'") && Catch::Contains("integer"));
}

TEST_CASE("command-line flags override the config file", "[train][cli]") {
  TempDir dir("egtrain-cli");
  write(dir / "c.json", R"({"mode": "fa", "lr": 0.2, "batch": 8})");
  const std::string path = (dir / "c.json").string();
  const char* argv[] = {"egtrain", "--config", path.c_str(), "--lr", "0.05"};
  const ParsedCommandLine cl = parse_command_line(5, argv);
  CHECK(cl.config.mode == "fa");
  CHECK(cl.config.lr == 0.05);
  CHECK(cl.config.batch == 8);
  CHECK(cl.config.epochs == TrainConfig{}.epochs);
}

TEST_CASE("the shipped training configs load", "[train][cli]") {
  for (const char* f : {"resnet20_fashion_mnist.json", "resnet18_cifar10.json"}) {
    INFO(f);
    const TrainConfig c = load_config_file(std::string(EGSIM_SOURCE_DIR) + "/configs/train/" + f);
    CHECK(c.epochs >= 1);
  }
}

TEST_CASE("egtrain runs a tiny synthetic training end to end", "[train][cli]") {
  TempDir dir("egtrain-cli");
  const RunResult r =
      run("--dataset synthetic --width 0.25 --batch 16 --synthetic-train-size 64 "
          "--synthetic-test-size 16 --epochs 1 --mode sign --out " +
              (dir / "out").string(),
          dir);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(std::filesystem::exists(dir / "out" / "metrics.csv"));
}

TEST_CASE("a --trace-out that is not a trace is refused before training and left intact",
          "[train][cli]") {
  TempDir dir("egtrain-cli");
  std::filesystem::create_directories(dir / "results");
  write(dir / "results" / "notes.txt", "keep me");
  const RunResult r =
      run("--dataset synthetic --width 0.25 --batch 16 --synthetic-train-size 64 "
          "--synthetic-test-size 16 --epochs 1 --trace-iteration 3 --checkpoint-every 1 --out " +
              (dir / "out").string() + " --trace-out " + (dir / "results").string(),
          dir);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("results: exists and is not a trace"));
  CHECK(testing::read_bytes(dir / "results" / "notes.txt") == "keep me");
  // Refused up front: a late refusal (at iteration 3) would have left per-iteration checkpoints.
  CHECK_FALSE(std::filesystem::exists(dir / "out" / "checkpoint.bin"));
}
