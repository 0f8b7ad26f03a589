// End-to-end sweeps with the fake trainer and simulator: serial vs parallel, resume after a crash
// or a kill, merge of separately run points and of emitted cluster jobs, trace cache, missing
// figures, and the report files.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "../render/markup_check.hpp"
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
  eg::testing::TempDir dir{"sweep-run"};
  fs::path config;
  explicit Sweep(const json& c = eg::testing::tiny_sweep_json()) {
    config = eg::testing::write_config(dir.path(), c);
  }
  eg::testing::CliRun run(const std::string& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--config", config.string(), "--out", (dir / out).string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_sweep_cli(args, dir / (out + ".log"));
  }
  json summary(const std::string& out) {
    return eg::sweep::read_json_file(dir / out / "summary.json");
  }
};

void require_same_summary(const fs::path& a, const fs::path& b) {
  REQUIRE(fs::exists(a / "summary.json"));
  REQUIRE(fs::exists(b / "summary.json"));
  CHECK(slurp(a / "summary.json") == slurp(b / "summary.json"));
  CHECK(slurp(a / "summary.csv") == slurp(b / "summary.csv"));
}

std::vector<fs::path> results_in(const fs::path& out) {
  std::vector<fs::path> found;
  if (!fs::exists(out / "points")) return found;
  for (const auto& entry : fs::directory_iterator(out / "points"))
    if (fs::exists(entry.path() / "result.json")) found.push_back(entry.path());
  return found;
}

// Every href/src in an HTML file must name an existing file (relative to the page).
void require_links_exist(const fs::path& html) {
  const auto links = eg::testing::html_links(slurp(html));
  for (const auto& target : links) {
    INFO(html.string() << " links " << target);
    CHECK(target.find("://") == std::string::npos);  // self-contained: nothing remote
    CHECK(fs::is_regular_file(html.parent_path() / target));
  }
  CHECK(!links.empty());
}

void require_valid_svg(const fs::path& file) {
  INFO(file.string());
  const std::string text = slurp(file);
  CHECK(text.size() > 200);
  CHECK(eg::testing::svg_problem(text) == "");
}

}  // namespace

TEST_CASE("serial and parallel sweeps give identical summaries") {
  Sweep s;
  const auto serial = s.run("serial", {"--jobs", "1"});
  INFO(serial.output);
  REQUIRE(serial.code == 0);
  const auto parallel = s.run("parallel", {"--jobs", "2"});
  INFO(parallel.output);
  REQUIRE(parallel.code == 0);
  require_same_summary(s.dir / "serial", s.dir / "parallel");

  const json summary = s.summary("serial");
  REQUIRE(summary["rows"].size() == 4);
  CHECK(summary["points_done"] == 4);
  CHECK(summary["missing_points"].empty());
  const auto& rows = summary["rows"];
  for (size_t i = 0; i < 4; ++i) CHECK(rows[i]["index"] == static_cast<int>(i));
  // Figures come from the fake simulator's reports: backward cycles 1000*(1-P) with zero-skip,
  // 1400 on the baseline; accuracy from the fake trainer's metrics.
  CHECK(rows[0]["cycles_backward"] == 1000);
  CHECK(rows[1]["cycles_backward"] == 500);
  CHECK(rows[3]["cycles_backward"] == 1400);
  CHECK(rows[3]["label"] == "reference");
  CHECK(rows[1]["test_accuracy"].get<double>() == Approx(0.91 - 0.2 * 0.25 + 0.001));
  CHECK(rows[1]["dram_bytes"].get<double>() == Approx(400.0 * 2000));
  CHECK(rows[1]["energy_pj_backward_dram"].get<double>() == Approx(20.0 * 500));
  CHECK(rows[1]["energy_pj_backward_leakage"].get<double>() == Approx(10.0 * 500));
  CHECK(rows[1]["chip_power_mw"].get<double>() == 90);
  CHECK(rows[1]["dram_power_mw"].get<double>() == 30);
  // Timings stay out of the summary and go to timing.json.
  CHECK(fs::exists(s.dir / "serial" / "timing.json"));
  CHECK(slurp(s.dir / "serial" / "summary.json").find("wall") == std::string::npos);
}

TEST_CASE("a crashed point is redone on restart and the summary matches an uninterrupted run") {
  Sweep s;
  REQUIRE(s.run("reference").code == 0);

  ::setenv("FAKE_EGSIM_DIE_AT_RATE", "0.5", 1);
  ::setenv("FAKE_EGTRAIN_DIE_AT_RATE", "0.9", 1);
  const auto crashed = s.run("resumed", {"--jobs", "2"});
  ::unsetenv("FAKE_EGSIM_DIE_AT_RATE");
  ::unsetenv("FAKE_EGTRAIN_DIE_AT_RATE");
  INFO(crashed.output);
  CHECK(crashed.code != 0);
  CHECK_THAT(crashed.output, Catch::Contains("FAILED efficientgrad-p0.5"));
  CHECK(results_in(s.dir / "resumed").size() == 2);
  CHECK(s.summary("resumed")["missing_points"].size() == 2);
  // The simulator died after writing a partial file into the point's scratch directory.
  bool partial_left = false;
  for (const auto& e : fs::recursive_directory_iterator(s.dir / "resumed"))
    partial_left = partial_left || e.path().filename() == "partial-report.json";
  CHECK(partial_left);

  const auto restarted = s.run("resumed", {"--jobs", "2"});
  INFO(restarted.output);
  REQUIRE(restarted.code == 0);
  CHECK_THAT(restarted.output, Catch::Contains("2 of 4 points already done"));
  for (const auto& e : fs::recursive_directory_iterator(s.dir / "resumed")) {
    CHECK(e.path().filename() != "partial-report.json");  // scratch cleaned before the redo
    CHECK(e.path().filename() != "partial.npy");  // interrupted training redone from scratch
  }
  require_same_summary(s.dir / "reference", s.dir / "resumed");
}

TEST_CASE("a sweep killed mid-way resumes to the same summary") {
  Sweep s;
  REQUIRE(s.run("reference").code == 0);
  const fs::path out = s.dir / "killed";
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group, so the kill reaches the points it started too
    ::setenv("FAKE_EGSIM_SLEEP", "0.3", 1);
    const int fd = ::open((s.dir / "killed.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    const std::string cli = eg::testing::sweep_cli().string();
    const std::string egtrain = eg::testing::sweep_fixture("fake_egtrain.sh").string();
    const std::string egsim = eg::testing::sweep_fixture("fake_egsim.sh").string();
    ::execl(cli.c_str(), cli.c_str(), "sweep", "--config", s.config.c_str(), "--out", out.c_str(),
            "--egtrain", egtrain.c_str(), "--egsim", egsim.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (results_in(out).empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ::kill(-pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const size_t done_before = results_in(out).size();
  CHECK(done_before >= 1);
  CHECK(done_before < 4);  // killed with points left to do
  CHECK(!fs::exists(out / "summary.json"));

  const auto restarted = s.run("killed");
  INFO(restarted.output);
  REQUIRE(restarted.code == 0);
  require_same_summary(s.dir / "reference", out);
}

TEST_CASE("merge of points run by separate processes equals the local sweep") {
  Sweep s;
  REQUIRE(s.run("local").code == 0);
  for (int k = 3; k >= 0; --k) {  // any order: the summary sorts by point index
    const auto point = s.run("separate", {"--point", std::to_string(k)});
    INFO(point.output);
    REQUIRE(point.code == 0);
  }
  CHECK(!fs::exists(s.dir / "separate" / "summary.json"));  // --point only runs the point
  const auto again = s.run("separate", {"--point", "2"});
  CHECK_THAT(again.output, Catch::Contains("already done"));
  const auto merged =
      run_sweep_cli({"--merge", (s.dir / "separate").string()}, s.dir / "merge.log");
  INFO(merged.output);
  REQUIRE(merged.code == 0);
  CHECK_THAT(merged.output, Catch::Contains("merged 4 of 4 points"));
  require_same_summary(s.dir / "local", s.dir / "separate");

  const auto bad_point = s.run("separate", {"--point", "4"});
  CHECK(bad_point.code != 0);
  CHECK_THAT(bad_point.output, Catch::Contains("--point: 4 is not a point"));
}

TEST_CASE("emitted Slurm array and GNU parallel job list run the points, and merge equals local") {
  Sweep s;
  REQUIRE(s.run("local").code == 0);

  const auto slurm = s.run("slurm", {"--emit", "slurm"});
  INFO(slurm.output);
  REQUIRE(slurm.code == 0);
  const fs::path script = s.dir / "slurm" / "slurm" / "sweep.sbatch";
  const std::string text = slurp(script);
  CHECK_THAT(text, Catch::Contains("#SBATCH --array=0-3\n"));
  CHECK_THAT(text, Catch::Contains("--point \"$SLURM_ARRAY_TASK_ID\""));
  CHECK(results_in(s.dir / "slurm").empty());  // emitting runs nothing
  // Play the cluster: each array task is the script with its task id.
  for (int k = 0; k < 4; ++k) {
    ::setenv("SLURM_ARRAY_TASK_ID", std::to_string(k).c_str(), 1);
    CHECK(eg::sweep::run_logged({"/bin/bash", script.string()}, s.dir / "task.log").ok());
  }
  ::unsetenv("SLURM_ARRAY_TASK_ID");
  REQUIRE(run_sweep_cli({"--merge", (s.dir / "slurm").string()}, s.dir / "m1.log").code == 0);
  require_same_summary(s.dir / "local", s.dir / "slurm");
  // Re-emitting after everything finished leaves nothing to run.
  REQUIRE(s.run("slurm", {"--emit", "parallel"}).code == 0);
  CHECK(slurp(s.dir / "slurm" / "parallel" / "jobs.txt").empty());

  REQUIRE(s.run("par", {"--emit", "parallel"}).code == 0);
  std::ifstream jobs(s.dir / "par" / "parallel" / "jobs.txt");
  std::string line;
  int lines = 0;
  while (std::getline(jobs, line)) {  // what GNU parallel does with each line
    CHECK(eg::sweep::run_logged({"/bin/sh", "-c", line}, s.dir / "job.log").ok());
    ++lines;
  }
  CHECK(lines == 4);
  REQUIRE(run_sweep_cli({"--merge", (s.dir / "par").string()}, s.dir / "m2.log").code == 0);
  require_same_summary(s.dir / "local", s.dir / "par");
}

TEST_CASE("points sharing a trace train it once, and a restart reuses cached traces") {
  json c = eg::testing::tiny_sweep_json();
  c["grids"].erase(1);
  c["grids"][0]["pruning_rates"] = json::array({0.0, 0.5});
  c["grids"][0]["hw_configs"].push_back(eg::testing::sweep_fixture("hw_baseline.json").string());
  Sweep s(c);
  const fs::path counter = s.dir / "trainings.txt";
  ::setenv("FAKE_EGTRAIN_COUNT_FILE", counter.c_str(), 1);
  const auto first = s.run("out", {"--jobs", "2"});
  INFO(first.output);
  REQUIRE(first.code == 0);
  auto count_lines = [&] {
    std::ifstream in(counter);
    return std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n');
  };
  CHECK(count_lines() == 2);  // 4 points, 2 traces
  const json summary = s.summary("out");
  REQUIRE(summary["rows"].size() == 4);
  CHECK(summary["rows"][0]["trace_key"] == summary["rows"][1]["trace_key"]);
  CHECK(summary["rows"][0]["cycles_backward"] != summary["rows"][1]["cycles_backward"]);

  fs::remove_all(s.dir / "out" / "points");
  REQUIRE(s.run("out", {"--jobs", "2"}).code == 0);
  ::unsetenv("FAKE_EGTRAIN_COUNT_FILE");
  CHECK(count_lines() == 2);
}

TEST_CASE("figures missing from reports are recorded as null and named in the HTML") {
  Sweep s;
  ::setenv("FAKE_EGSIM_NO_ENERGY", "1", 1);
  const auto run = s.run("out");
  ::unsetenv("FAKE_EGSIM_NO_ENERGY");
  INFO(run.output);
  REQUIRE(run.code == 0);
  const json summary = s.summary("out");
  REQUIRE(summary["rows"].size() == 4);
  CHECK(summary["rows"][0]["energy_pj_total"].is_null());
  CHECK(summary["rows"][0]["dram_bytes"].is_null());
  CHECK(summary["rows"][0]["cycles_total"] == 3350 - 1400 + 1000);
  CHECK(summary["missing_figures"]["energy_pj_total"] == 4);
  const std::string html = slurp(s.dir / "out" / "report.html");
  CHECK_THAT(html, Catch::Contains("4 of 4 points have no energy"));
  CHECK_THAT(html, Catch::Contains("No point has energy_pj_total"));
  CHECK(!fs::exists(s.dir / "out" / "plots" / "energy_vs_pruning.svg"));
  CHECK(fs::exists(s.dir / "out" / "plots" / "cycles_vs_pruning.svg"));
  require_links_exist(s.dir / "out" / "report.html");
}

TEST_CASE("the sweep report: plot files are valid SVG and the HTML links only existing files") {
  Sweep s;
  REQUIRE(s.run("out", {"--jobs", "2"}).code == 0);
  const fs::path out = s.dir / "out";
  const std::vector<std::string> plots{
      "accuracy_vs_pruning.svg",  "cycles_vs_pruning.svg", "backward_cycles_vs_pruning.svg",
      "energy_vs_pruning.svg",    "dram_vs_pruning.svg",   "energy_by_phase.svg",
      "run_energy_vs_pruning.svg"};
  for (const auto& p : plots) require_valid_svg(out / "plots" / p);
  require_links_exist(out / "report.html");
  const std::string html = slurp(out / "report.html");
  for (const auto& p : plots) CHECK_THAT(html, Catch::Contains("href=\"plots/" + p + "\""));
  CHECK_THAT(html, Catch::Contains("fake eyeriss v2 baseline"));  // the configs used are shown
  int point_pages = 0;
  for (const auto& e : fs::directory_iterator(out / "points")) {
    const fs::path page = e.path() / "sim" / "report.html";
    REQUIRE(fs::exists(page));
    require_links_exist(page);
    ++point_pages;
  }
  CHECK(point_pages == 4);
}
