// Hostile sweep configs: grids that would expand into too many points, names that would land in
// job scripts or folder names, and deeply nested files are rejected naming the field.
#include <catch2/catch.hpp>

#include <fstream>

#include "base/error.hpp"
#include "support/temp_dir.hpp"
#include "sweep_test_support.hpp"
#include "tools/sweep/sweep_config.hpp"

using eg::sweep::parse_sweep;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = fs::path(EGSIM_SOURCE_DIR) / "tests/tools/sweep/virtual.json";

using eg::testing::rejection;

json seeds(int64_t count) {
  json list = json::array();
  for (int64_t i = 0; i < count; ++i) list.push_back(i);
  return list;
}

}  // namespace

TEST_CASE("a grid of more than 10000 points is refused before it is expanded") {
  json c = eg::testing::tiny_sweep_json();
  // 3 pruning rates x 3400 seeds = 10200 points in grid 0 alone.
  c["grids"][0]["seeds"] = seeds(3400);
  CHECK(rejection(c) == kSource.string() +
                            ": /grids/0: the sweep would have more than 10000 points (this grid "
                            "alone has 10200)");
  // The limit counts every grid: grid 0 fits, grid 1 takes the sweep over it.
  c["grids"][0]["seeds"] = seeds(3333);
  c["grids"][1]["seeds"] = seeds(2);
  CHECK_THAT(rejection(c), Catch::StartsWith(kSource.string() + ": /grids/1: the sweep would "
                                                                "have more than 10000 points"));
  c["grids"][1]["seeds"] = seeds(1);
  CHECK(parse_sweep(c, kSource).points.size() == 10000);
}

TEST_CASE("names that would reach a job script or a folder name are refused or made safe") {
  json c = eg::testing::tiny_sweep_json();
  SECTION("a sweep name that would add a line to the Slurm script") {
    c["name"] = "x\nrm -rf ~";
    CHECK(rejection(c) == kSource.string() + ": /name: must not contain control characters");
    c["name"] = "a b";
    CHECK(rejection(c) ==
          kSource.string() + ": /name: must be at most 64 letters, digits, '.', '_' or '-'");
  }
  SECTION("a Slurm field that would add an #SBATCH line") {
    c["slurm"] = {{"partition", "gpu --wrap=evil"}};
    CHECK(rejection(c) ==
          kSource.string() +
              ": /slurm/partition: may contain only letters, digits and . : , + _ -");
    c["slurm"] = {{"time", "1-02:00:00"}, {"mem", "4G"}, {"partition", "a,b"}};
    CHECK(rejection(c) == "accepted");
  }
  SECTION("a trainer argument with a newline") {
    c["training"]["extra_args"] = {"--x", "a\nb"};
    CHECK(rejection(c) ==
          kSource.string() + ": /training/extra_args/1: must not contain control characters");
  }
  SECTION("an unknown key with a newline") {
    c["grids"][0]["a\nb"] = 1;
    CHECK_THAT(rejection(c), Catch::StartsWith(kSource.string() + ": /grids/0/a\\x0ab: unknown"));
  }
  SECTION("a hardware config file name with spaces and quotes becomes a safe id") {
    eg::testing::TempDir dir("sweep-names");
    const fs::path odd = dir / "my 'odd' config$.json";
    fs::copy_file(eg::testing::sweep_fixture("hw_baseline.json"), odd);
    c["grids"][0]["hw_configs"] = {odd.string()};
    const auto sweep = parse_sweep(c, kSource);
    CHECK_THAT(sweep.points[0].id, Catch::Contains("-s1-my__odd__config_-"));
    CHECK(sweep.points[0].id.find_first_of(" '$\n/") == std::string::npos);
  }
  SECTION("a hardware config that is not a regular file") {
    c["grids"][0]["hw_configs"] = {"/dev/zero"};
    CHECK(rejection(c) ==
          kSource.string() + ": /grids/0/hw_configs/0: hardware config '/dev/zero' does not exist");
  }
}

TEST_CASE("sweep numbers are finite and seeds may use all 64 bits") {
  json c = eg::testing::tiny_sweep_json();
  c["grids"][0]["seeds"] = {UINT64_MAX};
  CHECK(parse_sweep(c, kSource).points[0].seed == UINT64_MAX);
  c["training"]["batch"] = UINT64_MAX;
  CHECK(rejection(c) == kSource.string() + ": /training/batch: must be <= 9223372036854775807");
}

TEST_CASE("a deeply nested sweep file is a one-line error, not a crash") {
  eg::testing::TempDir dir("sweep-deep");
  const fs::path file = dir / "sweep.json";
  std::ofstream(file) << R"({"name": "x", "description": )" << std::string(100000, '[')
                      << std::string(100000, ']') << "}";
  CHECK_THROWS_WITH(eg::sweep::load_sweep(file),
                    fs::absolute(file).string() + ": JSON nested deeper than 64 levels");
}
