// scripts/paper_study.sh on a tiny setting (batch 1, width 0.125, two layers): every ablation row
// and every pruning rate with numeric ratios, the chart page and the conclusion; bad arguments and
// a folder the script did not make give a one-line error, exit code 1 and no output.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"
#include "tools/render/markup_check.hpp"

namespace fs = std::filesystem;

namespace {
const std::string kScript = std::string(EGSIM_SOURCE_DIR) + "/scripts/paper_study.sh";
const std::string kBuild = std::string(EGSIM_BINARY_DIR);

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs the script with `args`; returns its exit code, with stdout and stderr in the two files.
int study(const std::string& args, const fs::path& out_log, const fs::path& err_log) {
  const std::string cmd = kScript + " --build " + kBuild + " " + args + " >" + out_log.string() +
                          " 2>" + err_log.string();
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// RFC 4180 rows (quoted fields may hold commas and doubled quotes; no newlines in ours).
std::vector<std::vector<std::string>> read_csv(const fs::path& p) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(slurp(p));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> row(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        row.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        row.emplace_back();
      } else {
        row.back() += c;
      }
    }
    rows.push_back(row);
  }
  return rows;
}

double number(const std::string& s) {
  size_t used = 0;
  const double v = std::stod(s, &used);
  REQUIRE(used == s.size());
  return v;
}

size_t count_lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}
}  // namespace

TEST_CASE("paper_study.sh writes every ablation row and every pruning rate with numeric ratios",
          "[scripts][study]") {
  eg::testing::TempDir dir("egstudy");
  const fs::path out = dir / "study";
  const std::string args = "--out " + out.string() +
                           " --batch 1 --iterations 1 --width 0.125 --jobs 1"
                           " --layers layer4.1.conv2,fc";
  REQUIRE(study(args, dir / "run.out", dir / "run.err") == 0);
  const std::string printed = slurp(dir / "run.out");
  CHECK(printed.find("wall time") != std::string::npos);

  const auto ab = read_csv(out / "ablation.csv");
  REQUIRE(ab.size() >= 7);  // header + rows 0..5 (+ 0b when transposed_read exists)
  CHECK(ab[0][0] == "row");
  CHECK(ab[0][3] == "throughput_ratio");
  std::vector<std::string> ids;
  for (size_t i = 1; i < ab.size(); ++i) {
    INFO("ablation row " << ab[i][0]);
    REQUIRE(ab[i].size() == ab[0].size());
    ids.push_back(ab[i][0]);
    CHECK(number(ab[i][2]) > 0);  // cycles
    for (size_t c = 3; c <= 6; ++c) {
      const double r = number(ab[i][c]);
      CHECK(std::isfinite(r));
      CHECK(r > 0);
    }
    CHECK(number(ab[i][7]) > 0);  // DRAM bytes
  }
  const std::vector<std::string> cumulative{"0", "1", "2", "3", "4", "5"};
  CHECK(std::vector<std::string>(ids.begin(), ids.begin() + 6) == cumulative);
  for (size_t c = 3; c <= 6; ++c) CHECK(number(ab[1][c]) == 1.0);  // row 0 against itself

  const auto pt = read_csv(out / "p_table.csv");
  REQUIRE(pt.size() == 7);
  const std::vector<std::string> ps{"0", "0.5", "0.7", "0.8", "0.9", "0.95"};
  for (size_t i = 1; i < pt.size(); ++i) {
    INFO("P " << pt[i][0]);
    CHECK(pt[i][0] == ps[i - 1]);
    for (size_t c = 1; c <= 7; ++c) {
      const double r = number(pt[i][c]);
      CHECK(std::isfinite(r));
      CHECK(r > 0);
    }
  }
  // P = 0.9 on efficientgrad.json is the same run as the full ablation's row 4.
  CHECK(pt[5][2] == ab[5][3]);

  const std::string page = slurp(out / "study.html");
  const size_t svg_at = page.find("<svg");
  const size_t svg_end = page.find("</svg>");
  REQUIRE(svg_at != std::string::npos);
  REQUIRE(svg_end != std::string::npos);
  CHECK(eg::testing::svg_problem(page.substr(svg_at, svg_end + 6 - svg_at)) == "");
  CHECK(eg::testing::html_links(page).empty());  // self-contained
  CHECK(page.find("</html>") != std::string::npos);
  const std::string concl = slurp(out / "conclusion.md");
  CHECK(concl.find("- Direction: throughput") != std::string::npos);
  CHECK(concl.find("the batch size") != std::string::npos);
  CHECK(concl.find("process and leakage") != std::string::npos);

  // A second run into the same folder reuses every trace and simulation, with the same tables.
  const std::string first_table = slurp(out / "ablation.csv");
  REQUIRE(study(args, dir / "again.out", dir / "again.err") == 0);
  const std::string again = slurp(dir / "again.out");
  CHECK(again.find("training: 0 of 7") != std::string::npos);
  CHECK(again.find("simulating: 0 of") != std::string::npos);
  CHECK(slurp(out / "ablation.csv") == first_table);

  // Deterministic: a fresh study with the same options in another folder writes the same files.
  const fs::path out2 = dir / "study2";
  const std::string args2 = "--out " + out2.string() +
                            " --batch 1 --iterations 1 --width 0.125 --jobs 2"
                            " --layers layer4.1.conv2,fc";
  REQUIRE(study(args2, dir / "fresh.out", dir / "fresh.err") == 0);
  for (const char* f : {"ablation.md", "ablation.csv", "p_table.md", "p_table.csv", "study.html",
                        "conclusion.md"}) {
    INFO(f);
    CHECK(slurp(out2 / f) == slurp(out / f));
  }
}

TEST_CASE("paper_study.sh trains on the CIFAR-10 binary files of --data-dir", "[scripts][study]") {
  eg::testing::TempDir dir("egstudy");
  const fs::path data = dir / "cifar";
  fs::create_directories(data);
  // Two records per file (label byte + 3072 pixel bytes), a pattern per record.
  for (const std::string name : {"data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                                 "data_batch_5", "test_batch"}) {
    std::ofstream f(data / (name + ".bin"), std::ios::binary);
    for (int r = 0; r < 2; ++r) {
      f.put(static_cast<char>(r * 3));
      for (int i = 0; i < 3072; ++i) f.put(static_cast<char>((i * 7 + r * 31) % 251));
    }
  }
  const fs::path out = dir / "study";
  REQUIRE(study("--out " + out.string() + " --data-dir " + data.string() +
                    " --batch 1 --iterations 2 --width 0.125 --jobs 1 --layers fc",
                dir / "run.out", dir / "run.err") == 0);
  CHECK(slurp(out / "conclusion.md").find("CIFAR-10 (" + data.string() + ")") != std::string::npos);
  CHECK(read_csv(out / "ablation.csv").size() >= 7);
  CHECK(read_csv(out / "p_table.csv").size() == 7);
}

TEST_CASE("paper_study.sh rejects bad arguments with one line and exit code 1 and writes nothing",
          "[scripts][study]") {
  eg::testing::TempDir dir("egstudy");
  fs::create_directories(dir / "mine");
  std::ofstream(dir / "mine" / "notes.txt") << "user file\n";
  const fs::path fresh = dir / "fresh";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"--out " + fresh.string() + " --batch 0", "--batch: '0' must be a whole number"},
      {"--out " + fresh.string() + " --jobs two", "--jobs: 'two' must be a whole number"},
      {"--out " + fresh.string() + " --width -1", "--width: '-1' must be a positive number"},
      {"--out " + fresh.string() + " --layers 'a;b'", "--layers: 'a;b' must be layer names"},
      {"--out " + fresh.string() + " --data-dir " + (dir / "none").string(), "is not a folder"},
      {"--out " + fresh.string() + " --bogus", "unknown argument '--bogus'"},
      {"--out " + fresh.string() + " --batch", "--batch: needs a value"},
      {"--out " + (dir / "mine").string(), "is not empty and was not made by this script"},
  };
  for (const auto& [args, message] : cases) {
    INFO(args);
    CHECK(study(args, dir / "bad.out", dir / "bad.err") == 1);
    const std::string err = slurp(dir / "bad.err");
    CHECK(err.find(message) != std::string::npos);
    CHECK(count_lines(err) == 1);
    CHECK_FALSE(fs::exists(fresh));
  }
  CHECK(slurp(dir / "mine" / "notes.txt") == "user file\n");
  CHECK(fs::directory_iterator(dir / "mine") != fs::directory_iterator());
  CHECK_FALSE(fs::exists(dir / "mine" / ".paper-study"));
}
