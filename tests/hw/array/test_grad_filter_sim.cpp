// egsim on fine-tuning traces made here with egtrain (synthetic 2x16x16 images, ResNet-20 at width
// 0.25, batch 16; a second or two in all): pretrained on training images [0, 64), fine-tuned on
// [64, 128) with the last 4 conv layers trainable, once with plain back-propagation and once with
// gradient filtering (r = 2). Both pass the functional check; frozen layers run forward only; the
// filtered layers' backward and weight gradient issue the reduced 1x1 work (r²·K² fewer MACs) and
// read fewer activation bytes.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "support/shell.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {
using eg::testing::file_text;
const std::string kBin = std::string(EGSIM_BINARY_DIR) + "/bin/";
const std::string kConfigs = std::string(EGSIM_SOURCE_DIR) + "/configs/";
const std::string kData =
    " --dataset synthetic --synthetic-height 16 --synthetic-width 16 --synthetic-channels 2"
    " --synthetic-train-size 128 --synthetic-test-size 16 --batch 16 --width 0.25 --log-every 0"
    " --threads 1 --epochs 1";

void sh(const std::string& cmd, const fs::path& log) {
  const int rc = eg::testing::run_logged(cmd, log);
  INFO(cmd << "\n" << file_text(log));
  REQUIRE(rc == 0);
}

// report.csv rows by (layer, phase): the named columns.
using Rows = std::map<std::pair<std::string, std::string>, std::map<std::string, std::string>>;
Rows read_report(const fs::path& csv) {
  std::istringstream in(file_text(csv));
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  std::stringstream hs(line);
  for (std::string f; std::getline(hs, f, ',');) header.push_back(f);
  Rows rows;
  while (std::getline(in, line)) {
    std::stringstream ls(line);
    std::map<std::string, std::string> row;
    size_t i = 0;
    for (std::string f; std::getline(ls, f, ',') && i < header.size(); ++i) row[header[i]] = f;
    rows[{row["layer"], row["phase"]}] = row;
  }
  return rows;
}
int64_t number(const Rows& rows, const std::string& layer, const std::string& phase,
               const std::string& column) {
  const auto it = rows.find({layer, phase});
  REQUIRE(it != rows.end());
  return std::stoll(it->second.at(column));
}
}  // namespace

TEST_CASE("fine-tuning traces with and without gradient filtering simulate and pass the check",
          "[array][grad-filter]") {
  eg::testing::TempDir dir;
  sh(kBin + "egtrain" + kData + " --train-range 0:64 --out " + (dir / "pre").string(),
     dir / "pre.log");
  Rows report[2];
  for (int filtered = 0; filtered < 2; ++filtered) {
    const std::string name = filtered ? "gf" : "bp";
    sh(kBin + "egtrain" + kData + " --train-range 64:128 --init-from " +
           (dir / "pre" / "checkpoint.bin").string() + " --trainable-last 4 --grad-filter " +
           (filtered ? "2" : "0") + " --trace-out " + (dir / ("t" + name)).string() +
           " --trace-iteration 2 --out " + (dir / ("o" + name)).string(),
       dir / (name + ".train.log"));
    sh(kBin + "egsim run --config " + kConfigs + "hw/efficientgrad.json --trace " +
           (dir / ("t" + name)).string() + " --out " + (dir / ("s" + name)).string(),
       dir / (name + ".sim.log"));
    CHECK(file_text(dir / (name + ".sim.log")).find("functional check passed") !=
          std::string::npos);
    report[filtered] = read_report(dir / ("s" + name) / "report.csv");
  }
  for (const Rows& r : report) {
    // Frozen layers (everything before layer3.1.conv1) run forward only.
    for (const char* phase : {"backward", "weight_gradient", "weight_update"}) {
      CHECK(r.count({"layer3.0.conv2", phase}) == 0);
      CHECK(r.count({"layer3.0.bn2", phase}) == 0);
    }
    CHECK(r.count({"layer3.0.conv2", "forward"}) == 1);
    // The first trainable layer has no producer that trains: no dX, only its weight gradient.
    CHECK(r.count({"layer3.1.conv1", "backward"}) == 0);
    CHECK(r.count({"layer3.1.conv1", "weight_gradient"}) == 1);
  }
  // layer3.2.conv2: 3x3, 16 -> 16 channels on a 4x4 map, batch 16. Dense: 16·16·16·9·16 MACs per
  // phase; filtered: 16·16·16 on the 2x2 reduced map, 36x fewer.
  for (const char* phase : {"backward", "weight_gradient"}) {
    INFO(phase);
    const auto macs = [&](int i) {
      return number(report[i], "layer3.2.conv2", phase, "macs_issued") +
             number(report[i], "layer3.2.conv2", phase, "macs_skipped");
    };
    CHECK(macs(0) == 16 * 16 * 16 * 9 * 16);
    CHECK(macs(1) == 16 * 16 * 16 * 4);
  }
  // The weight gradient reads x~ (r² fewer activation bytes) and g~ instead of x and dy.
  for (const char* layer :
       {"layer3.1.conv1", "layer3.1.conv2", "layer3.2.conv1", "layer3.2.conv2"}) {
    INFO(layer);
    CHECK(number(report[1], layer, "weight_gradient", "dram_read_bytes") * 3 <
          number(report[0], layer, "weight_gradient", "dram_read_bytes"));
  }
  CHECK(number(report[1], "TOTAL", "all", "cycles") < number(report[0], "TOTAL", "all", "cycles"));
}
