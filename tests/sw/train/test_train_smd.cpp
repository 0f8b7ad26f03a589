// Stochastic mini-batch dropping (--smd-drop-prob): the fraction dropped, determinism, that the
// other random streams and the schedule stay nominal, the counts in metrics and the trace, resume,
// and bad values.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "run_helpers.hpp"
#include "support/temp_dir.hpp"
#include "sw/train/smd.hpp"
#include "sw/train/trainer.hpp"
#include "workloads/trace.hpp"

using namespace eg::train;
using eg::testing::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

using testing::kEgtrain;
using testing::kTiny;

using RunResult = testing::EgtrainRun;
RunResult run(const std::string& args, const TempDir& dir) {
  return testing::run_egtrain(kEgtrain, args, dir / "stderr.txt");
}

json read_json(const fs::path& p) {
  return json::parse(testing::read_bytes(p));
}

// The tiny run (2 epochs of 6 mini-batches) with mini-batch dropping at `p`, on one thread (these
// runs are small enough that a second thread only waits).
TrainConfig tiny_smd(const fs::path& out, double p) {
  TrainConfig c = testing::tiny_config(out);
  c.smd_drop_prob = p;
  c.threads = 1;
  return c;
}

// Rewrites the JSON header of a checkpoint (magic, 64-bit length, header, tensors) in place.
void edit_checkpoint_header(const fs::path& ckpt, const std::function<void(json&)>& edit) {
  const std::string bytes = testing::read_bytes(ckpt);
  REQUIRE(bytes.size() > 16);
  uint64_t len = 0;
  std::memcpy(&len, bytes.data() + 8, sizeof len);
  REQUIRE(16 + len <= bytes.size());
  json header = json::parse(bytes.substr(16, len));
  edit(header);
  const std::string text = header.dump();
  const uint64_t new_len = text.size();
  std::string out = bytes.substr(0, 8);
  out.append(reinterpret_cast<const char*>(&new_len), sizeof new_len);
  std::ofstream(ckpt, std::ios::binary | std::ios::trunc) << out + text + bytes.substr(16 + len);
}

}  // namespace

TEST_CASE("mini-batch dropping skips the drop probability's share of a long run's mini-batches",
          "[train][smd]") {
  // Binomial(n, p): the count lies within 5 standard deviations of n·p with probability
  // 1 - 6e-7 for a correct generator; the bound is under 0.6% of n, so a drop rate off by one
  // percentage point (a biased comparison, a draw shared with another stream) fails it.
  const int64_t n = 200000;
  for (const double p : {0.1, 0.5, 0.67})
    for (const uint64_t seed : {1ull, 2ull, 12345ull}) {
      const MiniBatchDropper d(seed, p);
      int64_t dropped = 0, dropped_odd = 0;
      for (int64_t i = 1; i <= n; ++i)
        if (d.dropped(i)) {
          ++dropped;
          dropped_odd += i % 2;
        }
      const double sd = std::sqrt(n * p * (1 - p));
      INFO("p " << p << " seed " << seed << " dropped " << dropped);
      CHECK(5 * sd / n < 0.006);
      CHECK(std::fabs(dropped - n * p) <= 5 * sd);
      // Odd and even iterations alike (no alternation pattern in the draws).
      CHECK(std::fabs(dropped_odd - n / 2 * p) <= 5 * std::sqrt(n / 2 * p * (1 - p)));
      CHECK(d.executed_through(n) == n - dropped);
    }
  const MiniBatchDropper off(1, 0.0);
  for (int64_t i = 1; i <= 1000; ++i) CHECK_FALSE(off.dropped(i));
  CHECK(off.executed_through(1000) == 1000);
}

TEST_CASE("the same seed drops the same mini-batches and another seed others", "[train][smd]") {
  const MiniBatchDropper a(7, 0.5), b(7, 0.5), other(8, 0.5);
  int differ = 0;
  for (int64_t i = 1; i <= 1000; ++i) {
    CHECK(a.dropped(i) == b.dropped(i));
    differ += a.dropped(i) != other.dropped(i);
  }
  // Independent seeds disagree on about half the iterations (500 ± 16).
  CHECK(differ > 400);
  CHECK(differ < 600);
  // A larger p drops a superset: the draws are shared and only the threshold moves.
  const MiniBatchDropper more(7, 0.8);
  for (int64_t i = 1; i <= 1000; ++i)
    if (a.dropped(i)) CHECK(more.dropped(i));
}

TEST_CASE("two runs with dropping and the same seed write identical files, and count what ran",
          "[train][smd]") {
  TempDir dir("egtrain-smd-det");
  for (const char* name : {"a", "b"}) {
    TrainConfig c = tiny_smd(dir / name, 0.5);
    std::ostringstream log;
    run_training(c, log);
    CHECK_THAT(log.str(), Catch::Contains("mini-batch dropping: p = 0.5"));
  }
  for (const char* f : {"metrics.json", "metrics.csv", "layer_stats.csv", "checkpoint.bin"}) {
    INFO(f);
    CHECK(testing::read_bytes(dir / "a" / f) == testing::read_bytes(dir / "b" / f));
  }
  const MiniBatchDropper d(testing::tiny_config(dir.path()).seed, 0.5);
  const json m = read_json(dir / "a" / "metrics.json");
  CHECK(m["config"]["smd-drop-prob"] == 0.5);
  REQUIRE(m["epochs"].size() == 2);
  for (int e = 0; e < 2; ++e) {
    CHECK(m["epochs"][e]["iterations"] == 6 * (e + 1));
    CHECK(m["epochs"][e]["executed_iterations"] == d.executed_through(6 * (e + 1)));
  }
  // Seed 3 drops some but not all of the 12 (a test of nothing otherwise).
  CHECK(d.executed_through(12) > 0);
  CHECK(d.executed_through(12) < 12);
  const std::string csv = testing::read_bytes(dir / "a" / "metrics.csv");
  CHECK_THAT(csv, Catch::StartsWith("epoch,iterations,partial,lr,train_loss,train_acc,test_loss,"
                                    "test_acc,executed_iterations\n"));
  CHECK_THAT(csv, Catch::EndsWith("," + std::to_string(d.executed_through(12)) + "\n"));
  // Dropping changes the training.
  TrainConfig full = tiny_smd(dir / "full", 0.0);
  std::ostringstream log;
  run_training(full, log);
  CHECK(testing::read_bytes(dir / "full" / "checkpoint.bin") !=
        testing::read_bytes(dir / "a" / "checkpoint.bin"));
  CHECK(read_json(dir / "full" / "metrics.json")["epochs"][1]["executed_iterations"] == 12);
}

TEST_CASE("a drop probability of 0 is the run without the flag, byte for byte", "[train][smd]") {
  TempDir dir("egtrain-smd-zero");
  REQUIRE(run(kTiny + " --out " + (dir / "none").string(), dir).exit_code == 0);
  REQUIRE(run(kTiny + " --smd-drop-prob 0 --out " + (dir / "zero").string(), dir).exit_code == 0);
  for (const char* f : {"metrics.json", "metrics.csv", "layer_stats.csv", "checkpoint.bin"}) {
    INFO(f);
    CHECK(testing::read_bytes(dir / "none" / f) == testing::read_bytes(dir / "zero" / f));
  }
}

TEST_CASE("dropping leaves the data order and the learning rate on the nominal schedule",
          "[train][smd]") {
  TempDir dir("egtrain-smd-nominal");
  const TrainConfig base = testing::tiny_config(dir.path());
  const MiniBatchDropper d(base.seed, 0.5);
  // An executed iteration after a dropped one: a shifted stream would give it another batch.
  int64_t at = 0;
  for (int64_t i = 2; i <= 12 && at == 0; ++i)
    if (d.dropped(i - 1) && !d.dropped(i)) at = i;
  REQUIRE(at > 0);
  for (const double p : {0.0, 0.5}) {
    TrainConfig c = tiny_smd(dir / ("out" + std::to_string(p)), p);
    c.trace_out = (dir / ("trace" + std::to_string(p))).string();
    c.trace_iteration = at;
    std::ostringstream log;
    run_training(c, log);
  }
  const auto plain = eg::trace::Trace::open(dir / ("trace" + std::to_string(0.0)));
  const auto dropping = eg::trace::Trace::open(dir / ("trace" + std::to_string(0.5)));
  CHECK(plain.manifest().iteration == at);
  CHECK(dropping.manifest().iteration == at);
  // The first layer's input is the mini-batch itself.
  const eg::trace::Layer& first = plain.manifest().layers.front();
  REQUIRE(first.tensors.count("x"));
  CHECK(testing::read_bytes(plain.dir() / first.tensors.at("x")) ==
        testing::read_bytes(dropping.dir() / dropping.manifest().layers.front().tensors.at("x")));
  REQUIRE(plain.manifest().optimizer);
  REQUIRE(dropping.manifest().optimizer);
  CHECK(plain.manifest().optimizer->lr == dropping.manifest().optimizer->lr);
  // The counts: none without dropping; with it, the traced step's and the run's.
  CHECK_FALSE(plain.manifest().smd);
  REQUIRE(dropping.manifest().smd);
  CHECK(dropping.manifest().smd->drop_prob == 0.5);
  CHECK(dropping.manifest().smd->executed_iteration == d.executed_through(at));
  CHECK(dropping.manifest().smd->nominal_iterations == 12);
  CHECK(dropping.manifest().smd->executed_iterations == d.executed_through(12));
}

TEST_CASE("a dropped trace iteration is traced at the last executed one before it",
          "[train][smd]") {
  TempDir dir("egtrain-smd-trace");
  const TrainConfig base = testing::tiny_config(dir.path());
  const MiniBatchDropper d(base.seed, 0.5);
  int64_t want = 0;
  for (int64_t i = 2; i <= 12 && want == 0; ++i)
    if (d.dropped(i) && d.executed_through(i - 1) > 0) want = i;
  REQUIRE(want > 0);
  TrainConfig c = tiny_smd(dir / "out", 0.5);
  c.trace_out = (dir / "trace").string();
  c.trace_iteration = want;
  std::ostringstream log;
  run_training(c, log);
  const int64_t traced = d.trace_iteration_at(want);
  CHECK(traced < want);
  CHECK_FALSE(d.dropped(traced));
  CHECK(eg::trace::Trace::open(dir / "trace").manifest().iteration == traced);
  CHECK_THAT(log.str(),
             Catch::Contains("iteration " + std::to_string(want) +
                             " is dropped, so the trace is taken at " + std::to_string(traced)));
}

TEST_CASE("a trace iteration with every mini-batch up to it dropped is refused at start-up",
          "[train][smd]") {
  TempDir dir("egtrain-smd-notrace");
  uint64_t seed = 1;
  while (!MiniBatchDropper(seed, 0.5).dropped(1)) ++seed;
  TrainConfig c = tiny_smd(dir / "out", 0.5);
  c.seed = seed;
  c.trace_out = (dir / "trace").string();
  c.trace_iteration = 1;
  std::ostringstream log;
  CHECK_THROWS_WITH(run_training(c, log),
                    Catch::Contains("key 'trace-iteration': smd-drop-prob 0.5 drops every "
                                    "mini-batch up to iteration 1"));
  CHECK_FALSE(fs::exists(dir / "trace"));
}

TEST_CASE("resume of a run with dropping gives the uninterrupted run's files", "[train][smd]") {
  TempDir dir("egtrain-smd-resume");
  std::ostringstream log;
  TrainConfig whole = tiny_smd(dir / "whole", 0.5);
  whole.epochs = 3;
  run_training(whole, log);
  TrainConfig part = tiny_smd(dir / "part", 0.5);
  part.epochs = 3;
  part.iterations = 8;
  run_training(part, log);
  TrainConfig resumed = tiny_smd(dir / "part", 0.5);
  resumed.epochs = 3;
  resumed.resume = true;
  run_training(resumed, log);
  CHECK(testing::read_bytes(dir / "part" / "metrics.json") ==
        testing::read_bytes(dir / "whole" / "metrics.json"));
  CHECK(testing::read_bytes(dir / "part" / "checkpoint.bin") ==
        testing::read_bytes(dir / "whole" / "checkpoint.bin"));
  // With dropping, an epoch row must say how many of its iterations ran, and say it right.
  TrainConfig again = tiny_smd(dir / "again", 0.5);
  again.epochs = 3;
  again.iterations = 8;
  run_training(again, log);
  const fs::path ckpt = dir / "again" / "checkpoint.bin";
  const std::string saved = testing::read_bytes(ckpt);
  again.iterations = 0;
  again.resume = true;
  edit_checkpoint_header(ckpt,
                         [](json& h) { h["progress"]["history"][0].erase("executed_iterations"); });
  CHECK_THROWS_WITH(run_training(again, log),
                    Catch::EndsWith("/progress/history/0/executed_iterations: missing"));
  std::ofstream(ckpt, std::ios::binary | std::ios::trunc) << saved;
  edit_checkpoint_header(ckpt, [](json& h) {
    h["progress"]["history"][0]["executed_iterations"] = h["progress"]["history"][0]["iterations"];
  });
  CHECK_THROWS_WITH(run_training(again, log),
                    Catch::Contains("/progress/history/0/executed_iterations"));
  // Another drop probability is another run: its checkpoint is not continued.
  TrainConfig other = tiny_smd(dir / "part", 0.25);
  other.epochs = 3;
  other.iterations = 18;
  other.resume = true;
  CHECK_THROWS_WITH(run_training(other, log),
                    Catch::Contains("key 'smd-drop-prob' is 0.5 in the checkpoint but 0.25"));
}

TEST_CASE("a checkpoint from before mini-batch dropping resumes as a run without it",
          "[train][smd]") {
  TempDir dir("egtrain-smd-legacy");
  std::ostringstream log;
  TrainConfig whole = tiny_smd(dir / "whole", 0.0);
  whole.epochs = 3;
  run_training(whole, log);
  TrainConfig part = tiny_smd(dir / "part", 0.0);
  part.epochs = 3;
  part.iterations = 8;  // one completed epoch in the history
  run_training(part, log);
  // Rewrite the header as an earlier trainer wrote it: no drop probability, no executed counts.
  const fs::path ckpt = dir / "part" / "checkpoint.bin";
  edit_checkpoint_header(ckpt, [](json& header) {
    REQUIRE(header["config"].erase("smd-drop-prob") == 1);
    REQUIRE(header["progress"]["history"].size() == 1);
    REQUIRE(header["progress"]["history"][0].erase("executed_iterations") == 1);
  });
  TrainConfig resumed = tiny_smd(dir / "part", 0.0);
  resumed.epochs = 3;
  resumed.resume = true;
  run_training(resumed, log);
  CHECK(testing::read_bytes(dir / "part" / "metrics.json") ==
        testing::read_bytes(dir / "whole" / "metrics.json"));
  CHECK(testing::read_bytes(ckpt) == testing::read_bytes(dir / "whole" / "checkpoint.bin"));
}

TEST_CASE("a drop probability below 0, of 1 or more, or not a number is refused in one line",
          "[train][smd]") {
  TempDir dir("egtrain-smd-bad");
  for (const std::string value : {"1", "1.5", "-0.1", "nan", "half"}) {
    INFO(value);
    const RunResult r =
        run(kTiny + " --smd-drop-prob " + value + " --out " + (dir / "out").string(), dir);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::StartsWith("egtrain: error: command line (--smd-drop-prob): key "
                                        "'smd-drop-prob': "));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_FALSE(fs::exists(dir / "out"));
  }
  const RunResult one = run(kTiny + " --smd-drop-prob 1", dir);
  CHECK(one.err ==
        "egtrain: error: command line (--smd-drop-prob): key 'smd-drop-prob': value 1 out of "
        "range (must be >= 0 and < 1)\n");
  std::ofstream(dir / "c.json") << R"({"smd-drop-prob": "0.5"})";
  const RunResult typed = run("--config " + (dir / "c.json").string(), dir);
  CHECK(typed.exit_code == 1);
  CHECK_THAT(typed.err, Catch::Contains("key 'smd-drop-prob': must be a number"));
}
