// Replays every seed (tests/fuzz/corpus/<harness>/) and every input a fuzzer once crashed on
// (tests/fuzz/regressions/<harness>/) through the same entry functions the fuzzers call: each must
// be accepted or rejected with eg::Error, never anything else.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/fuzz/fuzz_entries.hpp"

namespace fs = std::filesystem;

namespace {

using Entry = bool (*)(const uint8_t*, std::size_t);

const fs::path kFuzzDir = fs::path(EGSIM_SOURCE_DIR) / "tests" / "fuzz";

std::vector<fs::path> inputs_in(const fs::path& dir) {
  std::vector<fs::path> files;
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string bytes_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Replays `files`; fails naming the file whose replay threw. When `valid_seeds_must_pass`, a file
// named valid* must be accepted: a seed the reader rejects means the format changed and the corpus
// must be regenerated (scripts/make_fuzz_seeds.py), or the fuzzer would start from rejected inputs.
void replay(const std::vector<fs::path>& files, Entry entry, bool valid_seeds_must_pass) {
  for (const fs::path& file : files) {
    INFO("input " << file.string());
    const std::string bytes = bytes_of(file);
    bool accepted = false;
    CHECK_NOTHROW(accepted = entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    if (valid_seeds_must_pass && file.filename().string().rfind("valid", 0) == 0) CHECK(accepted);
  }
}

void require_replayed(const std::string& harness, Entry entry) {
  const std::vector<fs::path> seeds = inputs_in(kFuzzDir / "corpus" / harness);
  // Every harness has a seed corpus: none found means the folder moved or was renamed.
  REQUIRE(!seeds.empty());
  replay(seeds, entry, true);
  replay(inputs_in(kFuzzDir / "regressions" / harness), entry, false);
}

}  // namespace

TEST_CASE("npy seeds and past findings are read or rejected with eg::Error", "[fuzz]") {
  require_replayed("npy", eg::fuzz::npy_one);
}
TEST_CASE("trace seeds and past findings are read or rejected with eg::Error", "[fuzz]") {
  require_replayed("trace", eg::fuzz::trace_one);
}
TEST_CASE("trace geometry seeds and past findings are mapped or rejected with eg::Error",
          "[fuzz]") {
  require_replayed("trace_map", eg::fuzz::trace_map_one);
}
TEST_CASE("hardware config seeds and past findings are read or rejected with eg::Error", "[fuzz]") {
  require_replayed("hw_config", eg::fuzz::hw_config_one);
}
TEST_CASE("DRAM config seeds and past findings are read or rejected with eg::Error", "[fuzz]") {
  require_replayed("dram_config", eg::fuzz::dram_config_one);
}
TEST_CASE("energy table seeds and past findings are read or rejected with eg::Error", "[fuzz]") {
  require_replayed("energy", eg::fuzz::energy_one);
}
TEST_CASE("sweep config seeds and past findings are read or rejected with eg::Error", "[fuzz]") {
  require_replayed("sweep", eg::fuzz::sweep_one);
}
TEST_CASE("compare report seeds and past findings are read or rejected with eg::Error", "[fuzz]") {
  require_replayed("report", eg::fuzz::report_one);
}
TEST_CASE("Fashion-MNIST IDX seeds and past findings are read or rejected with eg::Error",
          "[fuzz]") {
  require_replayed("idx", eg::fuzz::idx_one);
}
TEST_CASE("CIFAR-10 seeds and past findings are read or rejected with eg::Error", "[fuzz]") {
  require_replayed("cifar", eg::fuzz::cifar_one);
}
TEST_CASE("egtrain config seeds and past findings are read or rejected with eg::Error", "[fuzz]") {
  require_replayed("train_config", eg::fuzz::train_config_one);
}
TEST_CASE("checkpoint seeds and past findings are read or rejected with eg::Error", "[fuzz]") {
  require_replayed("checkpoint", eg::fuzz::checkpoint_one);
}
