// egtrain's outputs: --out gets only egtrain's own files (never over a user's), --trace-out
// replaces only a trace the trace writer made, and both are checked before any training step.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>

#include "base/error.hpp"
#include "run_helpers.hpp"
#include "support/temp_dir.hpp"
#include "sw/train/trainer.hpp"
#include "workloads/trace.hpp"

using namespace eg::train;
using eg::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// Two iterations, a checkpoint after each: a refusal after the first step would leave one.
TrainConfig short_run(const fs::path& out) {
  TrainConfig c = testing::tiny_config(out);
  c.iterations = 2;
  c.checkpoint_every = 1;
  return c;
}

std::set<std::string> entries(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

void put(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

}  // namespace

TEST_CASE("egtrain --out refuses a folder holding a user's metrics.csv and leaves it intact",
          "[train][outputs]") {
  TempDir dir("egtrain-out");
  fs::create_directories(dir / "mine");
  put(dir / "mine" / "metrics.csv", "my own metrics");
  std::ostringstream log;
  CHECK_THROWS_WITH(
      run_training(short_run(dir / "mine"), log),
      Catch::Contains("metrics.csv: exists and was not written by egtrain; refusing to overwrite"));
  CHECK(testing::read_bytes(dir / "mine" / "metrics.csv") == "my own metrics");
  CHECK(entries(dir / "mine") == std::set<std::string>{"metrics.csv"});
  CHECK(log.str().empty());  // refused before the first step
  // A user's checkpoint.bin is not resumed from, nor overwritten.
  fs::remove(dir / "mine" / "metrics.csv");
  put(dir / "mine" / "checkpoint.bin", "not ours");
  TrainConfig resume = short_run(dir / "mine");
  resume.resume = true;
  CHECK_THROWS_WITH(run_training(resume, log),
                    Catch::Contains("checkpoint.bin: exists and was not written by egtrain"));
  CHECK(testing::read_bytes(dir / "mine" / "checkpoint.bin") == "not ours");
}

TEST_CASE("egtrain writes its own files, keeps a user's others, and replaces its own on a rerun",
          "[train][outputs]") {
  TempDir dir("egtrain-out");
  std::ostringstream log;
  run_training(short_run(dir / "out"), log);
  const std::set<std::string> ours{".egsim-owned", "checkpoint.bin", "layer_stats.csv",
                                   "metrics.csv", "metrics.json"};
  CHECK(entries(dir / "out") == ours);
  put(dir / "out" / "notes.txt", "my notes");
  run_training(short_run(dir / "out"), log);
  CHECK(testing::read_bytes(dir / "out" / "notes.txt") == "my notes");
  std::set<std::string> with_notes = ours;
  with_notes.insert("notes.txt");
  CHECK(entries(dir / "out") == with_notes);
}

TEST_CASE("a failed egtrain run removes the --out folders it created", "[train][outputs]") {
  TempDir dir("egtrain-out");
  TrainConfig c = short_run(dir / "new" / "run");
  c.batch = 1000;  // larger than the training set: an error after the folder was claimed
  std::ostringstream log;
  CHECK_THROWS_AS(run_training(c, log), eg::Error);
  CHECK_FALSE(fs::exists(dir / "new"));
}

TEST_CASE("egtrain --trace-out refuses a user folder holding a manifest.json before training",
          "[train][outputs]") {
  TempDir dir("egtrain-out");
  fs::create_directories(dir / "results");
  put(dir / "results" / "manifest.json", R"({"format": "egtrace"})");
  put(dir / "results" / "data.csv", "1,2,3");
  TrainConfig c = short_run(dir / "out");
  c.trace_out = (dir / "results").string();
  c.trace_iteration = 2;
  std::ostringstream log;
  CHECK_THROWS_WITH(run_training(c, log), Catch::Contains("results: exists and is not a trace"));
  CHECK(entries(dir / "results") == std::set<std::string>{"data.csv", "manifest.json"});
  CHECK(testing::read_bytes(dir / "results" / "manifest.json") == R"({"format": "egtrace"})");
  CHECK_FALSE(fs::exists(dir / "out"));  // refused before anything was written
}

TEST_CASE("re-tracing into a trace holding a user's sim folder refuses and keeps the folder",
          "[train][outputs]") {
  TempDir dir("egtrain-out");
  TrainConfig c = short_run(dir / "out");
  c.trace_out = (dir / "trace").string();
  c.trace_iteration = 1;
  std::ostringstream log;
  run_training(c, log);
  REQUIRE(eg::trace::Trace::open(dir / "trace").manifest().iteration == 1);
  run_training(c, log);  // an earlier trace of egtrain's own is replaced
  fs::create_directories(dir / "trace" / "sim");
  put(dir / "trace" / "sim" / "report.json", "{}");
  CHECK_THROWS_WITH(run_training(c, log), Catch::Contains("trace: holds 'sim'"));
  CHECK(testing::read_bytes(dir / "trace" / "sim" / "report.json") == "{}");
  CHECK_NOTHROW(eg::trace::Trace::open(dir / "trace"));
}

TEST_CASE("an --out inside --trace-out is refused before training", "[train][outputs]") {
  TempDir dir("egtrain-out");
  TrainConfig c = short_run(dir / "trace" / "train");
  c.trace_out = (dir / "trace").string();
  c.trace_iteration = 1;
  std::ostringstream log;
  CHECK_THROWS_WITH(run_training(c, log), Catch::Contains("lies inside --trace-out"));
  CHECK_FALSE(fs::exists(dir / "trace"));
}
