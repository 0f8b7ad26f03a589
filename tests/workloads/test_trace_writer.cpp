// The trace writer replaces a folder only when it provably made it: its marker, manifest.json and
// the tensor files the marker lists, nothing else. A user's folder (even one with a manifest.json)
// and a trace a user has added to are refused by name and left exactly as they were.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <set>

#include "base/error.hpp"
#include "support/temp_dir.hpp"
#include "workloads/trace.hpp"

namespace fs = std::filesystem;
using eg::testing::TempDir;
using namespace eg::trace;

namespace {

// One fc layer with its seven tensors: the smallest complete trace.
Manifest one_layer_manifest() {
  Manifest m;
  m.network = "tiny";
  m.dataset = "synthetic";
  m.mode = "bp";
  m.iteration = 1;
  m.batch = 2;
  Layer fc;
  fc.name = "fc";
  fc.type = LayerType::Fc;
  fc.in = {2, 3};
  fc.out = {2, 4};
  m.layers = {fc};
  return m;
}

void write_trace(const fs::path& dir, float value = 1.0f) {
  Manifest m = one_layer_manifest();
  TraceWriter w(dir);
  for (const std::string& role : all_roles()) {
    std::vector<float> v(static_cast<size_t>(eg::element_count(m.layers[0].expected_shape(role))),
                         value);
    w.write_tensor(m.layers[0], role, v.data());
  }
  w.commit(m);
}

std::set<std::string> entries(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("a user folder that holds a manifest.json is refused and left intact",
          "[workloads][trace][safety]") {
  TempDir tmp;
  const fs::path mine = tmp / "results";
  fs::create_directories(mine);
  std::ofstream(mine / "manifest.json") << R"({"my": "shipping manifest"})";
  std::ofstream(mine / "notes.txt") << "keep me";
  CHECK_THROWS_WITH(check_trace_destination(mine),
                    Catch::Contains("results: exists and is not a trace") &&
                        Catch::Contains("found 'manifest.json'"));
  CHECK_THROWS_WITH(write_trace(mine), Catch::Contains("results: exists and is not a trace"));
  CHECK(entries(mine) == std::set<std::string>{"manifest.json", "notes.txt"});
  CHECK(slurp(mine / "manifest.json") == R"({"my": "shipping manifest"})");
  CHECK(entries(tmp.path()) == std::set<std::string>{"results"});  // no temporary left beside it
}

TEST_CASE("re-tracing into a trace that holds a user's sim folder refuses and keeps the folder",
          "[workloads][trace][safety]") {
  TempDir tmp;
  const fs::path trace = tmp / "trace";
  write_trace(trace);
  fs::create_directories(trace / "sim");
  std::ofstream(trace / "sim" / "report.json") << "{}";
  CHECK_THROWS_WITH(check_trace_destination(trace),
                    Catch::Contains("trace: holds 'sim', which the trace writer did not create"));
  CHECK_THROWS_WITH(write_trace(trace, 2.0f), Catch::Contains("holds 'sim'"));
  CHECK(slurp(trace / "sim" / "report.json") == "{}");
  CHECK(Trace::open(trace).load(Trace::open(trace).manifest().layers[0], "w").data[0] == 1.0f);
  // A user's file next to the tensors is refused the same way.
  fs::remove_all(trace / "sim");
  std::ofstream(trace / "README") << "mine";
  CHECK_THROWS_WITH(write_trace(trace), Catch::Contains("holds 'README'"));
  CHECK(slurp(trace / "README") == "mine");
}

TEST_CASE("an earlier trace is replaced whole and the new one holds only the writer's files",
          "[workloads][trace][safety]") {
  TempDir tmp;
  const fs::path trace = tmp / "trace";
  write_trace(trace, 1.0f);
  std::set<std::string> want{".egtrace", "manifest.json"};
  for (const std::string& role : all_roles()) want.insert("fc." + role + ".npy");
  CHECK(entries(trace) == want);
  const std::string marker = slurp(trace / ".egtrace");
  CHECK_THAT(marker, Catch::Contains("\"format\": \"egtrace\"") &&
                         Catch::Contains("\"version\": 1") && Catch::Contains("fc.dw.npy"));
  write_trace(trace, 2.0f);  // an earlier trace of ours: replaced
  CHECK(entries(trace) == want);
  const Trace t = Trace::open(trace);
  CHECK(t.load(t.manifest().layers[0], "dw").data[0] == 2.0f);
  CHECK(entries(tmp.path()) == std::set<std::string>{"trace"});  // nothing left beside it
  // An empty folder is replaced too.
  fs::create_directories(tmp / "empty");
  write_trace(tmp / "empty");
  CHECK(entries(tmp / "empty") == want);
}

TEST_CASE("a tensor written for a layer the manifest leaves out is not kept in the trace",
          "[workloads][trace][safety]") {
  TempDir tmp;
  Manifest m = one_layer_manifest();
  {
    TraceWriter w(tmp / "trace");
    Layer extra = m.layers[0];
    extra.name = "unused";
    std::vector<float> v(6, 1.0f);
    w.write_tensor(extra, "x", v.data());
    for (const std::string& role : all_roles()) {
      std::vector<float> t(static_cast<size_t>(eg::element_count(m.layers[0].expected_shape(role))),
                           0.5f);
      w.write_tensor(m.layers[0], role, t.data());
    }
    w.commit(m);
  }
  CHECK_FALSE(fs::exists(tmp / "trace" / "unused.x.npy"));
  CHECK_NOTHROW(check_trace_destination(tmp / "trace"));  // still provably ours
}

TEST_CASE("the writer's temporary folder is a fresh one and never a user's folder of that name",
          "[workloads][trace][safety]") {
  TempDir tmp;
  // The name earlier versions used for the temporary (and removed first): now just a user folder.
  const fs::path lookalike = tmp / (".trace.partial-" + std::to_string(::getpid()));
  fs::create_directories(lookalike);
  std::ofstream(lookalike / "data.bin") << "user data";
  write_trace(tmp / "trace");
  CHECK(slurp(lookalike / "data.bin") == "user data");
  CHECK(entries(tmp.path()) == std::set<std::string>{"trace", lookalike.filename().string()});
}

TEST_CASE("a trace write that never commits removes its temporary and the folders it created",
          "[workloads][trace][safety]") {
  TempDir tmp;
  { TraceWriter w(tmp / "a" / "b" / "trace"); }
  CHECK(entries(tmp.path()).empty());
  fs::create_directories(tmp / "kept");
  { TraceWriter w(tmp / "kept" / "trace"); }
  CHECK(entries(tmp.path()) == std::set<std::string>{"kept"});  // an existing folder stays
  CHECK(entries(tmp / "kept").empty());
}

TEST_CASE("a symbolic link, a file and a forged marker are refused", "[workloads][trace][safety]") {
  TempDir tmp;
  fs::create_directories(tmp / "target");
  std::ofstream(tmp / "target" / "keep.txt") << "x";
  fs::create_directory_symlink(tmp / "target", tmp / "link");
  CHECK_THROWS_WITH(check_trace_destination(tmp / "link"),
                    Catch::Contains("link: is a symbolic link"));
  std::ofstream(tmp / "file") << "x";
  CHECK_THROWS_WITH(check_trace_destination(tmp / "file"),
                    Catch::Contains("file: exists and is not a directory"));
  fs::create_directories(tmp / "forged");
  std::ofstream(tmp / "forged" / ".egtrace") << "not json";
  std::ofstream(tmp / "forged" / "thesis.tex") << "x";
  CHECK_THROWS_WITH(check_trace_destination(tmp / "forged"),
                    Catch::Contains("forged: has an unusable trace marker"));
  std::ofstream(tmp / "forged" / ".egtrace") << R"({"format": "egtrace", "files": []})";
  CHECK_THROWS_WITH(check_trace_destination(tmp / "forged"), Catch::Contains("holds 'thesis.tex'"));
  CHECK(fs::exists(tmp / "forged" / "thesis.tex"));
  CHECK(fs::exists(tmp / "target" / "keep.txt"));
}

TEST_CASE("a trace destination whose folder cannot be written is refused up front",
          "[workloads][trace][safety]") {
  TempDir tmp;
  // Root may write into a mode-0555 folder; sysfs refuses new files to everyone.
  const bool root = ::geteuid() == 0;
  const fs::path locked = root ? fs::path("/sys/kernel") : tmp / "locked";
  if (!root) {
    fs::create_directories(locked);
    fs::permissions(locked, fs::perms(0555));
  }
  CHECK_THROWS_WITH(check_trace_destination(locked / "new" / "trace"),
                    Catch::Contains(locked.string() + ": not writable ("));
  if (!root) fs::permissions(locked, fs::perms(0755));
  CHECK_NOTHROW(check_trace_destination(tmp / "absent" / "deeper" / "trace"));
  CHECK_FALSE(fs::exists(tmp / "absent"));  // checking creates nothing
}
