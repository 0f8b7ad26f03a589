// egbase: bounded JSON, checked sizes, CSV quoting, atomic writes and owned output folders.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "base/checked.hpp"
#include "base/csv.hpp"
#include "base/error.hpp"
#include "base/files.hpp"
#include "base/json_io.hpp"
#include "base/owned_dir.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using eg::testing::TempDir;

namespace {
std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void put(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}
}  // namespace

TEST_CASE("JSON nested deeper than the limit is a one-line error, not a crash") {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  REQUIRE_THROWS_WITH(eg::parse_json(deep, "f.json"), "f.json: JSON nested deeper than 64 levels");
  const std::string ok = std::string(eg::kMaxJsonDepth, '[') + std::string(eg::kMaxJsonDepth, ']');
  REQUIRE_NOTHROW(eg::parse_json(ok, "f.json"));
  std::string nested;
  for (int i = 0; i < 70; ++i) nested += "{\"a\":";
  nested += "1" + std::string(70, '}');
  REQUIRE_THROWS_WITH(eg::parse_json(nested, "g.json"),
                      "g.json: JSON nested deeper than 64 levels");
}

TEST_CASE("Invalid JSON names the file and stays on one line") {
  try {
    eg::parse_json("{\"a\":\n tru}", "cfg.json");
    FAIL("accepted invalid JSON");
  } catch (const eg::Error& e) {
    const std::string m = e.what();
    REQUIRE(m.rfind("cfg.json: not valid JSON (", 0) == 0);
    REQUIRE(m.find('\n') == std::string::npos);
    REQUIRE(m.find("[json.exception") == std::string::npos);
  }
}

TEST_CASE("Reading a file larger than its limit fails before parsing") {
  TempDir dir;
  put(dir / "big.json", std::string(2000, ' ') + "{}");
  REQUIRE_THROWS_WITH(eg::load_json_file(dir / "big.json", 1000),
                      (dir / "big.json").string() + ": larger than 1000 bytes");
  REQUIRE_THROWS_WITH(
      eg::load_json_file(dir / "absent.json"),
      (dir / "absent.json").string() + ": missing or unreadable (No such file or directory)");
}

TEST_CASE("Checked arithmetic reports overflow instead of wrapping") {
  REQUIRE(eg::checked_mul(int64_t{1} << 31, int64_t{1} << 31, "x") == int64_t{1} << 62);
  REQUIRE_THROWS_WITH(eg::checked_mul(int64_t{1} << 32, int64_t{1} << 31, "layer 'c': elements"),
                      "layer 'c': elements: size overflows 64 bits");
  const std::vector<int64_t> wraps_to_zero{int64_t{1} << 32, int64_t{1} << 32};
  REQUIRE_THROWS(eg::checked_product(wraps_to_zero, "shape"));
  REQUIRE_THROWS_WITH(eg::checked_product(std::vector<int64_t>{2, -1}, "shape"),
                      "shape: negative extent -1");
}

TEST_CASE("CSV fields with separators, quotes or line breaks are quoted per RFC 4180") {
  REQUIRE(eg::csv_field("layer1.0.conv1") == "layer1.0.conv1");
  REQUIRE(eg::csv_field("a,b") == "\"a,b\"");
  REQUIRE(eg::csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  REQUIRE(eg::csv_field("x\ny") == "\"x\ny\"");
}

TEST_CASE("Atomic writes leave no temporary behind and replace the old content whole") {
  TempDir dir;
  eg::write_file_atomic(dir / "a.txt", "one");
  eg::write_file_atomic(dir / "a.txt", "two");
  REQUIRE(slurp(dir / "a.txt") == "two");
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  REQUIRE(entries == 1);
}

TEST_CASE("A multi-file write that fails part-way restores every earlier file") {
  TempDir dir;
  put(dir / "report.json", "old json");
  // The second destination is a non-empty directory: renaming a file over it fails.
  fs::create_directories(dir / "report.csv" / "inside");
  REQUIRE_THROWS(
      eg::write_files_atomic({{dir / "report.json", "new json"}, {dir / "report.csv", "new csv"}}));
  REQUIRE(slurp(dir / "report.json") == "old json");
  REQUIRE(fs::is_directory(dir / "report.csv" / "inside"));
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  REQUIRE(entries == 2);
}

TEST_CASE("An output folder never overwrites a file its tool did not write") {
  TempDir dir;
  put(dir / "report.json", "the user's own");
  REQUIRE_THROWS_WITH(eg::OwnedDir::claim(dir.path(), "egsim run", {"report.json", "report.csv"}),
                      (dir / "report.json").string() +
                          ": exists and was not written by egsim run; refusing to overwrite it "
                          "(choose another output folder)");
  REQUIRE(slurp(dir / "report.json") == "the user's own");

  TempDir dir2;
  put(dir2 / "notes.txt", "keep");
  auto out = eg::OwnedDir::claim(dir2.path(), "egsim run", {"report.json"});
  out.write("report.json", "first");
  // A second run of the same tool may replace what the first wrote; another tool may not.
  auto again = eg::OwnedDir::claim(dir2.path(), "egsim run", {"report.json"});
  again.write("report.json", "second");
  REQUIRE(slurp(dir2 / "report.json") == "second");
  REQUIRE(slurp(dir2 / "notes.txt") == "keep");
  REQUIRE_THROWS(eg::OwnedDir::claim(dir2.path(), "egtrain", {"report.json"}));
  REQUIRE_THROWS(again.write("notes.txt", "x"));
  REQUIRE(slurp(dir2 / "notes.txt") == "keep");
}

TEST_CASE("A wholly owned folder must be new, empty or already that tool's") {
  TempDir dir;
  auto sweep = eg::OwnedDir::claim_whole(dir / "sweep", "egsim sweep");
  sweep.write("summary.csv", "a\n");
  REQUIRE_NOTHROW(eg::OwnedDir::claim_whole(dir / "sweep", "egsim sweep"));
  REQUIRE_THROWS(eg::OwnedDir::claim_whole(dir / "sweep", "egsim run"));
  fs::create_directories(dir / "user");
  put(dir / "user" / "report.html", "mine");
  REQUIRE_THROWS_WITH(eg::OwnedDir::claim_whole(dir / "user", "egsim sweep"),
                      (dir / "user").string() +
                          ": not empty and not an output folder of egsim sweep (found "
                          "'report.html'); choose a new or empty folder");
  REQUIRE(slurp(dir / "user" / "report.html") == "mine");
}

TEST_CASE("An unwritable output folder is refused before any work, with the reason") {
  if (::geteuid() == 0) {
    // root writes through permission bits; a file in the way shows the same up-front check.
    TempDir dir;
    put(dir / "file", "x");
    REQUIRE_THROWS_WITH(eg::OwnedDir::claim(dir / "file", "egsim run", {}),
                        (dir / "file").string() + ": exists and is not a directory");
    return;
  }
  TempDir dir;
  fs::create_directories(dir / "ro");
  ::chmod((dir / "ro").c_str(), 0555);
  REQUIRE_THROWS_WITH(eg::OwnedDir::claim(dir / "ro", "egsim run", {}),
                      (dir / "ro").string() + ": not writable (Permission denied)");
}

TEST_CASE("Reading a FIFO is refused at once instead of waiting for a writer") {
  TempDir dir;
  REQUIRE(::mkfifo((dir / "pipe").c_str(), 0644) == 0);
  REQUIRE_THROWS_WITH(eg::read_file(dir / "pipe", 100),
                      (dir / "pipe").string() + ": not a regular file");
}

TEST_CASE("A claim killed before its marker was renamed does not lock the folder out") {
  TempDir dir;
  fs::create_directories(dir / "sweep");
  put(dir / "sweep" / "..egsim-owned.tmp-Ab12Cd", "{\"files\":");
  put(dir / "sweep" / ".egsim-write-probe.Xy34Zw", "");
  REQUIRE_NOTHROW(eg::OwnedDir::claim_whole(dir / "sweep", "egsim sweep"));
  REQUIRE_FALSE(fs::exists(dir / "sweep" / "..egsim-owned.tmp-Ab12Cd"));
  REQUIRE_FALSE(fs::exists(dir / "sweep" / ".egsim-write-probe.Xy34Zw"));
  REQUIRE(fs::exists(dir / "sweep" / ".egsim-owned"));
}

TEST_CASE("An output the run no longer makes is removed only if the tool wrote it") {
  TempDir dir;
  auto out = eg::OwnedDir::claim(dir.path(), "egsim run", {"report.html"});
  out.write("report.html", "old page");
  put(dir / "notes.html", "the user's");
  out.remove_own("report.html");
  out.remove_own("notes.html");
  REQUIRE_FALSE(fs::exists(dir / "report.html"));
  REQUIRE(slurp(dir / "notes.html") == "the user's");
}
