// `egsim run --out`: writes only its own report files, refuses up front (before simulating) to
// overwrite a file it did not write, leaves nothing behind when it fails, and quotes CSV fields so
// a crafted layer name cannot add rows or columns.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
const std::string kBin = std::string(EGSIM_BINARY_DIR) + "/bin/";
const std::string kConfig = std::string(EGSIM_SOURCE_DIR) + "/configs/hw/efficientgrad.json";

int sh(const std::string& cmd, const fs::path& log) {
  const int status = std::system((cmd + " >" + log.string() + " 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
std::set<std::string> entries(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

struct Fixture {
  eg::testing::TempDir dir{"egsim-run-out"};
  Fixture() {
    REQUIRE(sh(kBin + "egsim_make_trace " + (dir / "trace").string() + " tiny 0.5",
               dir / "gen.log") == 0);
  }
  int run(const fs::path& out, const std::string& extra = "") {
    return sh(kBin + "egsim run --config " + kConfig + " --trace " + (dir / "trace").string() +
                  " --out " + out.string() + " " + extra,
              dir / "run.log");
  }
  std::string log() const { return slurp(dir / "run.log"); }
};

// RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, at_field_start = true;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"' && at_field_start) {
      quoted = true;
      at_field_start = false;
    } else if (c == ',') {
      record.push_back(field);
      field.clear();
      at_field_start = true;
    } else if (c == '\n') {
      record.push_back(field);
      records.push_back(record);
      record.clear();
      field.clear();
      at_field_start = true;
    } else {
      REQUIRE(c != '"');  // a bare quote inside an unquoted field is not RFC 4180
      field += c;
      at_field_start = false;
    }
  }
  REQUIRE_FALSE(quoted);
  REQUIRE(record.empty());
  REQUIRE(field.empty());
  return records;
}

}  // namespace

TEST_CASE("egsim run refuses an out folder holding a user's report.json and leaves it intact",
          "[array][cli][safety]") {
  Fixture f;
  const fs::path out = f.dir / "mine";
  fs::create_directories(out);
  std::ofstream(out / "report.json") << "my own report";
  CHECK(f.run(out) == 1);
  CHECK_THAT(f.log(), Catch::Contains((out / "report.json").string() +
                                      ": exists and was not written by egsim run"));
  CHECK_THAT(f.log(), !Catch::Contains("cycles/s"));  // refused before simulating
  CHECK(slurp(out / "report.json") == "my own report");
  CHECK(entries(out) == std::set<std::string>{"report.json"});  // no marker, no temporary
  // The same for report.html, but only when --html asks for it.
  fs::remove(out / "report.json");
  std::ofstream(out / "report.html") << "my page";
  CHECK(f.run(out, "--html") == 1);
  CHECK_THAT(f.log(), Catch::Contains("report.html: exists and was not written by egsim run"));
  CHECK(slurp(out / "report.html") == "my page");
}

TEST_CASE("egsim run replaces its own reports and keeps a user's other files",
          "[array][cli][safety]") {
  Fixture f;
  const fs::path out = f.dir / "out";
  REQUIRE(f.run(out, "--html") == 0);
  std::ofstream(out / "notes.txt") << "my notes";
  REQUIRE(f.run(out, "--html") == 0);
  CHECK(slurp(out / "notes.txt") == "my notes");
  CHECK(entries(out) == std::set<std::string>{".egsim-owned", "notes.txt", "report.csv",
                                              "report.html", "report.json"});
  // The page links the reports written with it.
  CHECK_THAT(slurp(out / "report.html"),
             Catch::Contains("href=\"report.json\"") && Catch::Contains("href=\"report.csv\""));
}

TEST_CASE("a failed egsim run leaves no folder, no temporary and no partial report",
          "[array][cli][safety]") {
  Fixture f;
  // Break the weight-gradient check: the run fails after simulating.
  {
    std::fstream dw(f.dir / "trace" / "fc.dw.npy", std::ios::in | std::ios::out | std::ios::binary);
    dw.seekp(-4, std::ios::end);
    const float big = 1000.0f;
    dw.write(reinterpret_cast<const char*>(&big), 4);
  }
  CHECK(f.run(f.dir / "new" / "deeper") == 1);
  CHECK_FALSE(fs::exists(f.dir / "new"));  // the folders it created are gone again
  fs::create_directories(f.dir / "existing");
  std::ofstream(f.dir / "existing" / "keep.txt") << "x";
  CHECK(f.run(f.dir / "existing") == 1);
  CHECK(entries(f.dir / "existing") == std::set<std::string>{"keep.txt"});
}

TEST_CASE("an unwritable out folder is refused before the simulation, naming the reason",
          "[array][cli][safety]") {
  Fixture f;
  // Root may write into a mode-0555 folder; sysfs refuses new files to everyone.
  const bool root = ::geteuid() == 0;
  const fs::path locked = root ? fs::path("/sys/kernel") : f.dir / "locked";
  if (root) REQUIRE(fs::is_directory(locked));
  if (!root) {
    fs::create_directories(locked);
    ::chmod(locked.c_str(), 0555);
  }
  const int code = f.run(locked);
  if (!root) ::chmod(locked.c_str(), 0755);
  CHECK(code == 1);
  CHECK_THAT(f.log(), Catch::Contains(locked.string() + ": not writable ("));
  CHECK_THAT(f.log(), !Catch::Contains("cycles/s"));
}

TEST_CASE("a layer name with a comma, a quote and a line break stays one CSV field",
          "[array][cli][safety]") {
  Fixture f;
  const std::string evil = "conv2,\"x\"\nTOTAL,,all,1";
  const fs::path manifest = f.dir / "trace" / "manifest.json";
  json m = json::parse(slurp(manifest));
  for (json& l : m["layers"]) {
    if (l["name"] == "conv2") l["name"] = evil;
    for (json& in : l["inputs"])
      if (in == "conv2") in = evil;
  }
  std::ofstream(manifest, std::ios::trunc) << m.dump(1);
  REQUIRE(f.run(f.dir / "out") == 0);
  const json report = json::parse(slurp(f.dir / "out" / "report.json"));
  size_t want_rows = 1 + report["phases"].size() + 1;  // header, phase totals, grand total
  for (const json& l : report["layers"]) want_rows += l["phases"].size();
  const auto records = parse_csv(slurp(f.dir / "out" / "report.csv"));
  CHECK(records.size() == want_rows);
  size_t evil_rows = 0;
  for (const auto& r : records) {
    CHECK(r.size() == records.front().size());
    evil_rows += r.front() == evil;
  }
  CHECK(evil_rows == report["layers"][3]["phases"].size());
}
