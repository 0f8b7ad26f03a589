// Whole runs: determinism (same bytes twice) and resume after an interruption.
#include <catch2/catch.hpp>

#include <sstream>

#include "run_helpers.hpp"
#include "support/temp_dir.hpp"
#include "sw/train/trainer.hpp"

using namespace eg::train;
using eg::testing::TempDir;
namespace fs = std::filesystem;

TEST_CASE("two runs with the same seed write identical metrics and traces", "[train][runs]") {
  TempDir dir("egtrain-det");
  for (const char* name : {"a", "b"}) {
    TrainConfig c = testing::tiny_config(dir / name);
    c.trace_out = (dir / (std::string(name) + "-trace")).string();
    c.trace_iteration = 7;
    std::ostringstream log;
    run_training(c, log);
  }
  for (const char* f : {"metrics.json", "metrics.csv", "layer_stats.csv", "checkpoint.bin"}) {
    INFO(f);
    const std::string a = testing::read_bytes(dir / "a" / f);
    CHECK(!a.empty());
    CHECK(a == testing::read_bytes(dir / "b" / f));
  }
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir / "a-trace")) {
    INFO(e.path().filename());
    CHECK(testing::read_bytes(e.path()) ==
          testing::read_bytes(dir / "b-trace" / e.path().filename()));
    ++files;
  }
  CHECK(files > 100);
}

TEST_CASE("a different seed gives different metrics", "[train][runs]") {
  TempDir dir("egtrain-seed");
  TrainConfig a = testing::tiny_config(dir / "a"), b = testing::tiny_config(dir / "b");
  b.seed = 4;
  std::ostringstream log;
  run_training(a, log);
  run_training(b, log);
  CHECK(testing::read_bytes(dir / "a" / "metrics.csv") !=
        testing::read_bytes(dir / "b" / "metrics.csv"));
}

TEST_CASE("resume after an interruption gives the uninterrupted run's final metrics",
          "[train][runs]") {
  TempDir dir("egtrain-resume");
  std::ostringstream log;
  TrainConfig whole = testing::tiny_config(dir / "whole");
  whole.epochs = 3;
  run_training(whole, log);
  // Stop mid-epoch 2 (6 mini-batches per epoch), then resume with a new process-like run.
  TrainConfig part = testing::tiny_config(dir / "part");
  part.epochs = 3;
  part.iterations = 8;
  run_training(part, log);
  const std::string partial = testing::read_bytes(dir / "part" / "metrics.json");
  CHECK(partial != testing::read_bytes(dir / "whole" / "metrics.json"));
  CHECK(partial.find("\"partial\": true") != std::string::npos);
  TrainConfig resumed = testing::tiny_config(dir / "part");
  resumed.epochs = 3;
  resumed.resume = true;
  run_training(resumed, log);
  CHECK(log.str().find("resuming from") != std::string::npos);
  CHECK(testing::read_bytes(dir / "part" / "metrics.json") ==
        testing::read_bytes(dir / "whole" / "metrics.json"));
  CHECK(testing::read_bytes(dir / "part" / "checkpoint.bin") ==
        testing::read_bytes(dir / "whole" / "checkpoint.bin"));
}

TEST_CASE("resume refuses a checkpoint made with a different configuration", "[train][runs]") {
  TempDir dir("egtrain-resume-bad");
  std::ostringstream log;
  TrainConfig c = testing::tiny_config(dir / "o");
  c.iterations = 2;
  run_training(c, log);
  c.mode = "fa";
  c.resume = true;
  c.iterations = 0;
  CHECK_THROWS_WITH(run_training(c, log), Catch::Contains("key 'mode'"));
}
