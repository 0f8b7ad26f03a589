// scripts/schemes_study.sh's own checks, which run before any training: bad arguments, ranges that
// overlap or hold less than a mini-batch, a folder the script did not make, and a folder made with
// other options all give a one-line error, exit code 1 and write nothing.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

const std::string kScript = std::string(EGSIM_SOURCE_DIR) + "/scripts/schemes_study.sh";
const std::string kBuild = std::string(EGSIM_BINARY_DIR);

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int study(const std::string& args, const fs::path& err_log) {
  const std::string cmd =
      kScript + " --build " + kBuild + " " + args + " >/dev/null 2>" + err_log.string();
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

size_t count_lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace

TEST_CASE("schemes_study.sh rejects bad arguments with one line and exit code 1 and writes nothing",
          "[scripts][study]") {
  eg::testing::TempDir dir("egschemes");
  fs::create_directories(dir / "mine");
  std::ofstream(dir / "mine" / "notes.txt") << "user file\n";
  const fs::path fresh = dir / "fresh";
  const std::string out = "--out " + fresh.string();
  const std::vector<std::pair<std::string, std::string>> cases{
      {out + " --jobs 0", "--jobs: '0' must be a whole number"},
      {out + " --epochs two", "--epochs: 'two' must be a whole number"},
      {out + " --width -1", "--width: '-1' must be a positive number"},
      {out + " --train-range 60000:30000", "--train-range: '60000:30000' must be BEGIN:END"},
      {out + " --pretrain-range 0:x", "--pretrain-range: '0:x' must be BEGIN:END"},
      {out + " --train-range 20000:50000", "--train-range: 20000:50000 overlaps --pretrain-range"},
      {out + " --train-range 30000:30010", "holds fewer images than one mini-batch of 64"},
      {out + " --data-dir " + (dir / "none").string(), "is not a folder"},
      {out + " --bogus", "unknown argument '--bogus'"},
      {out + " --epochs", "--epochs: needs a value"},
      {"--out " + (dir / "mine").string(), "is not empty and was not made by this script"},
  };
  for (const auto& [args, message] : cases) {
    INFO(args);
    CHECK(study(args, dir / "bad.err") == 1);
    const std::string err = slurp(dir / "bad.err");
    CHECK(err.find(message) != std::string::npos);
    CHECK(count_lines(err) == 1);
    CHECK_FALSE(fs::exists(fresh));
  }
  CHECK(slurp(dir / "mine" / "notes.txt") == "user file\n");
  CHECK_FALSE(fs::exists(dir / "mine" / ".schemes-study"));
}

TEST_CASE("schemes_study.sh resumes only the study its folder was made for", "[scripts][study]") {
  eg::testing::TempDir dir("egschemes-settings");
  const fs::path made = dir / "made";
  fs::create_directories(made);
  std::ofstream(made / ".schemes-study")
      << "made by scripts/schemes_study.sh: it replaces only the files it wrote here\n";
  std::ofstream(made / "settings.txt") << "epochs 1, width 0.25, pretraining images 0:30000, "
                                          "training images 30000:60000, data the training "
                                          "config's\n";
  CHECK(study("--out " + made.string() + " --epochs 2", dir / "bad.err") == 1);
  const std::string err = slurp(dir / "bad.err");
  CHECK(err.find("was made with other options (epochs 1,") != std::string::npos);
  CHECK(count_lines(err) == 1);
  CHECK_FALSE(fs::exists(made / "logs"));
  CHECK_FALSE(fs::exists(made / "pretrain"));
}
