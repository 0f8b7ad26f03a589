// egsim run's functional check on a real training trace: ResNet-20 on Fashion-MNIST (1x28x28
// inputs), batch 16, after 30 iterations of training, produced here with egtrain. The unmodified
// trace passes on both hardware configs; one layer's dx scaled by 0.97 fails, naming the layer and
// the tensor. Each TEST_CASE is its own CTest, so the two configs run in parallel; each takes
// about 25-30 s of one core (egtrain ~3 s, a full egsim run ~20 s, the failing run ~6 s).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>

#include "support/temp_dir.hpp"
#include "workloads/npy.hpp"

namespace fs = std::filesystem;

namespace {
const std::string kBin = std::string(EGSIM_BINARY_DIR) + "/bin/";
const std::string kConfigs = std::string(EGSIM_SOURCE_DIR) + "/configs/";
// Installed by scripts/setup.sh.
const fs::path kFashionMnist = "/usr/share/datasets/fashion-mnist";

int sh(const std::string& cmd, const fs::path& log) {
  return std::system((cmd + " >" + log.string() + " 2>&1").c_str());
}
std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A trace of `mode` at iteration 30 (batch 16: 480 training images, one epoch) in dir/trace.
fs::path train_trace(const eg::testing::TempDir& dir, const std::string& mode) {
  REQUIRE(fs::exists(kFashionMnist / "train-images-idx3-ubyte.gz"));  // scripts/setup.sh
  const fs::path trace = dir / "trace";
  const std::string cmd = kBin + "egtrain --config " + kConfigs +
                          "train/resnet20_fashion_mnist.json --data-dir " + kFashionMnist.string() +
                          " --mode " + mode +
                          " --batch 16 --iterations 30 --trace-iteration 30 --train-subset 480"
                          " --test-subset 16 --threads 1 --log-every 0 --trace-out " +
                          trace.string() + " --out " + (dir / "train").string();
  INFO(cmd);
  const int rc = sh(cmd, dir / "train.log");
  INFO(slurp(dir / "train.log"));
  REQUIRE(rc == 0);
  return trace;
}

std::string run_cmd(const std::string& config, const fs::path& trace, const fs::path& out) {
  return kBin + "egsim run --config " + kConfigs + "hw/" + config + " --trace " + trace.string() +
         " --out " + out.string();
}
}  // namespace

TEST_CASE("a real EfficientGrad trace passes the check and one layer's dx scaled by 0.97 fails it",
          "[array][check][slow]") {
  eg::testing::TempDir dir;
  const fs::path trace = train_trace(dir, "efficientgrad");
  const std::string run = run_cmd("efficientgrad.json", trace, dir / "ok");
  {
    const int rc = sh(run, dir / "ok.log");
    INFO(slurp(dir / "ok.log"));
    REQUIRE(rc == 0);
    CHECK(slurp(dir / "ok.log").find("functional check passed") != std::string::npos);
    // egtrain writes version 2: every conv/fc layer's update (master W, momentum, weight copy).
    CHECK(slurp(dir / "ok.log").find("weight update check: 66 tensors") != std::string::npos);
  }

  // The layer's dx is gradient-sized: a 3% error is far below any absolute floor of 1e-4.
  const std::string layer = "layer3.2.conv1";  // checked early in the backward pass
  const fs::path dx = trace / (layer + ".dx.npy");
  eg::NdArray a = eg::read_npy(dx);
  double scale = 0;
  for (float v : a.data) scale = std::max(scale, std::fabs(static_cast<double>(v)));
  INFO("max|dx| = " << scale);
  CHECK(scale > 0);
  CHECK(0.03 * scale < 1e-4);
  for (float& v : a.data) v *= 0.97f;
  eg::write_npy(dx, a.shape, a.data.data());

  const fs::path out = dir / "bad";
  CHECK(sh(run_cmd("efficientgrad.json", trace, out), dir / "bad.log") != 0);
  const std::string err = slurp(dir / "bad.log");
  INFO(err);
  CHECK(err.find("layer '" + layer + "' backward: computed dx differs from the trace") !=
        std::string::npos);
  CHECK(err.find(dx.string()) != std::string::npos);
  CHECK(err.find("check.rtol") != std::string::npos);
  CHECK(!fs::exists(out / "report.json"));
}

TEST_CASE(
    "a real BP trace passes the check on the Eyeriss v2 BP config and fc's w_next scaled by "
    "1.03 fails it",
    "[array][check][slow]") {
  eg::testing::TempDir dir;
  const fs::path trace = train_trace(dir, "bp");
  const int rc = sh(run_cmd("eyeriss_v2_bp.json", trace, dir / "ok"), dir / "ok.log");
  INFO(slurp(dir / "ok.log"));
  REQUIRE(rc == 0);
  CHECK(slurp(dir / "ok.log").find("functional check passed") != std::string::npos);
  CHECK(slurp(dir / "ok.log").find("weight update check: 66 tensors") != std::string::npos);
  CHECK(fs::exists(dir / "ok" / "report.json"));

  // fc's post-step weights scaled by 1.03: 3% of max|w_next| is beyond check.rtol (0.2%) plus
  // the rounding of the bfloat16 master W and the 8-bit copy (0.39%). fc alone runs in a second.
  const fs::path w_next = trace / "fc.w_next.npy";
  eg::NdArray a = eg::read_npy(w_next);
  for (float& v : a.data) v *= 1.03f;
  eg::write_npy(w_next, a.shape, a.data.data());
  const std::string bad = run_cmd("eyeriss_v2_bp.json", trace, dir / "bad") + " --layers fc";
  CHECK(sh(bad, dir / "bad.log") != 0);
  const std::string err = slurp(dir / "bad.log");
  INFO(err);
  CHECK(err.find("layer 'fc' weight update: computed master W differs from the trace's w_next") !=
        std::string::npos);
  CHECK(err.find(w_next.string()) != std::string::npos);
  CHECK(!fs::exists(dir / "bad" / "report.json"));
}
