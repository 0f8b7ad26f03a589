// `egsim sweep` never touches what it did not make: a folder that is not a sweep's is refused
// (run, emit and merge alike), two sweeps on one folder cannot both run, a corrupt result.json or
// a broken cached trace is redone instead of trusted, and summary.csv quotes its text fields.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "support/temp_dir.hpp"
#include "sweep_test_support.hpp"
#include "tools/sweep/json_file.hpp"
#include "tools/sweep/subprocess.hpp"

namespace fs = std::filesystem;
using eg::testing::run_sweep_cli;
using eg::testing::slurp;
using nlohmann::json;

namespace {

struct Sweep {
  eg::testing::TempDir dir{"sweep-safety"};
  fs::path config;
  explicit Sweep(const json& c = eg::testing::tiny_sweep_json()) {
    config = eg::testing::write_config(dir.path(), c);
  }
  std::vector<std::string> args(const std::string& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> a{"--config", config.string(), "--out", (dir / out).string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  eg::testing::CliRun run(const std::string& out, std::vector<std::string> extra = {}) {
    return run_sweep_cli(args(out, std::move(extra)), dir / (out + ".log"));
  }
  eg::testing::CliRun merge(const std::string& out) {
    return run_sweep_cli({"--merge", (dir / out).string()}, dir / (out + "-merge.log"));
  }
  json summary(const std::string& out) {
    return eg::sweep::read_json_file(dir / out / "summary.json");
  }
};

std::set<std::string> entries(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

void put(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

// The id of each point, by index, from the sweep's own record.
std::vector<std::string> point_ids(const fs::path& out) {
  std::vector<std::string> ids;
  const json sweep = eg::sweep::read_json_file(out / "sweep.json");
  for (const json& p : sweep["points"]) ids.push_back(p["id"].get<std::string>());
  return ids;
}

// RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted && c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
      field += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && c == ',') {
      record.push_back(field);
      field.clear();
    } else if (!quoted && c == '\n') {
      record.push_back(field);
      records.push_back(record);
      record.clear();
      field.clear();
    } else {
      field += c;
    }
  }
  REQUIRE_FALSE(quoted);
  REQUIRE(field.empty());
  return records;
}

}  // namespace

TEST_CASE("a sweep refuses an existing folder that is not a sweep's and keeps its report.html") {
  Sweep s;
  const fs::path mine = s.dir / "mine";
  fs::create_directories(mine);
  put(mine / "report.html", "my report");
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{}, {"--emit", "slurm"}, {"--point", "0"}}) {
    const auto r = s.run("mine", extra);
    INFO(r.output);
    CHECK(r.code != 0);
    CHECK_THAT(r.output, Catch::Contains(mine.string() +
                                         ": not empty and not an output folder of egsim sweep "
                                         "(found 'report.html')"));
  }
  // --merge of a folder that looks like a sweep (it has a sweep.json) but was not made by one.
  put(mine / "sweep.json", R"({"points": []})");
  const auto merged = s.merge("mine");
  CHECK(merged.code != 0);
  CHECK_THAT(merged.output, Catch::Contains("not an output folder of egsim sweep"));
  CHECK(slurp(mine / "report.html") == "my report");
  CHECK(entries(mine) == std::set<std::string>{"report.html", "sweep.json"});
  // A --trace-cache that is a user's folder is refused the same way, before any point runs.
  fs::create_directories(s.dir / "cache");
  put(s.dir / "cache" / "thesis.tex", "x");
  const auto cached = s.run("out", {"--trace-cache", (s.dir / "cache").string()});
  CHECK(cached.code != 0);
  CHECK_THAT(cached.output, Catch::Contains("cache: not empty and not an output folder"));
  CHECK(entries(s.dir / "cache") == std::set<std::string>{"thesis.tex"});
}

TEST_CASE("a second sweep on the same folder fails at once while the first one runs") {
  Sweep s;
  const fs::path out = s.dir / "out";
  std::vector<std::string> argv{eg::testing::sweep_cli().string(),
                                "sweep",
                                "--egtrain",
                                eg::testing::sweep_fixture("fake_egtrain.sh").string(),
                                "--egsim",
                                eg::testing::sweep_fixture("fake_egsim.sh").string()};
  for (const std::string& a : s.args("out")) argv.push_back(a);
  // The first sweep's points wait for `go`, so it certainly runs while the others try.
  const fs::path go = s.dir / "go";
  ::setenv("FAKE_EGSIM_WAIT_FOR", go.c_str(), 1);
  const pid_t first = eg::sweep::spawn_logged(argv, s.dir / "first.log");
  ::unsetenv("FAKE_EGSIM_WAIT_FOR");
  struct Release {  // whatever happens below, the first sweep is let go and reaped
    fs::path go;
    pid_t pid;
    ~Release() {
      put(go, "");
      ::waitpid(pid, nullptr, 0);
    }
  } release{go, first};
  // sweep.json is written once the first sweep holds the lock.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!fs::exists(out / "sweep.json") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(fs::exists(out / "sweep.json"));
  const std::string message = out.string() + ": another egsim sweep is running on this folder";
  const auto second = s.run("out");
  CHECK(second.code != 0);
  CHECK_THAT(second.output, Catch::Contains(message) && Catch::Contains("sweep.lock"));
  const auto merged = s.merge("out");
  CHECK(merged.code != 0);
  CHECK_THAT(merged.output, Catch::Contains(message));
  const auto emitted = s.run("out", {"--emit", "parallel"});
  CHECK(emitted.code != 0);
  CHECK_THAT(emitted.output, Catch::Contains(message));

  put(go, "");
  const eg::sweep::ExitStatus done = eg::sweep::wait_child(first);
  INFO(slurp(s.dir / "first.log"));
  REQUIRE(done.ok());  // the first sweep was not disturbed
  CHECK(s.summary("out")["points_done"] == 4);
  const auto after = s.run("out");  // the lock went with the first process
  INFO(after.output);
  CHECK(after.code == 0);
  CHECK_THAT(after.output, Catch::Contains("4 of 4 points already done"));
}

TEST_CASE("a point another process is running is not run twice") {
  Sweep s;
  REQUIRE(s.run("out").code == 0);
  const std::string id = point_ids(s.dir / "out")[1];
  fs::remove(s.dir / "out" / "points" / id / "result.json");
  const eg::sweep::FileLock held(s.dir / "out" / "locks" / (id + ".lock"));
  const auto r = s.run("out", {"--point", "1"});
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains("point 1 (" + id + ") is being run by another process"));
}

TEST_CASE("a point whose result.json is corrupt is redone, not skipped forever") {
  Sweep s;
  REQUIRE(s.run("out").code == 0);
  const std::string reference = slurp(s.dir / "out" / "summary.csv");
  const std::vector<std::string> ids = point_ids(s.dir / "out");
  put(s.dir / "out" / "points" / ids[2] / "result.json", "{\"schema\": \"egsweep-po");
  // Valid JSON, but another point's row: not this point's result either.
  const json other = eg::sweep::read_json_file(s.dir / "out" / "points" / ids[0] / "result.json");
  put(s.dir / "out" / "points" / ids[3] / "result.json", other.dump());

  const auto merged = s.merge("out");  // counted as not done, not a crash
  INFO(merged.output);
  REQUIRE(merged.code == 0);
  CHECK(s.summary("out")["missing_points"] == json({ids[2], ids[3]}));

  const auto again = s.run("out");
  INFO(again.output);
  REQUIRE(again.code == 0);
  CHECK_THAT(again.output, Catch::Contains("2 of 4 points already done"));
  CHECK(slurp(s.dir / "out" / "summary.csv") == reference);
}

TEST_CASE("a broken cached trace is trained again before a point uses it") {
  Sweep s;
  const fs::path counter = s.dir / "trainings.txt";
  ::setenv("FAKE_EGTRAIN_COUNT_FILE", counter.c_str(), 1);
  auto trainings = [&] {
    std::ifstream in(counter);
    return std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n');
  };
  REQUIRE(s.run("out").code == 0);
  const std::string reference = slurp(s.dir / "out" / "summary.csv");
  CHECK(trainings() == 4);
  const json sweep = eg::sweep::read_json_file(s.dir / "out" / "sweep.json");
  const std::string id = sweep["points"][1]["id"];
  const std::string key = sweep["points"][1]["trace_key"];
  // The trace's manifest is damaged after training finished (complete.json is still there).
  put(s.dir / "out" / "traces" / key / "trace" / "manifest.json", "{\"format\": \"egtr");
  fs::remove(s.dir / "out" / "points" / id / "result.json");
  const auto again = s.run("out");
  ::unsetenv("FAKE_EGTRAIN_COUNT_FILE");
  INFO(again.output);
  REQUIRE(again.code == 0);
  CHECK(trainings() == 5);  // that one trace was trained again
  CHECK_NOTHROW(
      eg::sweep::read_json_file(s.dir / "out" / "traces" / key / "trace" / "manifest.json"));
  CHECK(slurp(s.dir / "out" / "summary.csv") == reference);
}

TEST_CASE("a point folder the sweep did not make is never removed") {
  Sweep s;
  REQUIRE(s.run("out").code == 0);
  const std::string id = point_ids(s.dir / "out")[0];
  const fs::path point = s.dir / "out" / "points" / id;
  fs::remove_all(point);
  fs::create_directories(point);
  put(point / "mine.txt", "placed here by hand");
  const auto r = s.run("out");
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains("FAILED"));
  CHECK(slurp(point / "mine.txt") == "placed here by hand");
  CHECK(entries(point) == std::set<std::string>{"mine.txt"});
}

TEST_CASE("summary.csv quotes a label holding a comma, a quote and a line break") {
  json c = eg::testing::tiny_sweep_json();
  const std::string label = "ref, \"quoted\"\nnext,row";
  c["grids"][1]["label"] = label;
  Sweep s(c);
  const auto r = s.run("out");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto records = parse_csv(slurp(s.dir / "out" / "summary.csv"));
  REQUIRE(records.size() == 5);  // header and four points
  for (const auto& record : records) CHECK(record.size() == records.front().size());
  const auto column = std::find(records[0].begin(), records[0].end(), "label") - records[0].begin();
  CHECK(records[4][static_cast<size_t>(column)] == label);
}
