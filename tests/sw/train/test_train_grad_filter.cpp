// Gradient filtering (sw/train/grad_filter.hpp) and fine-tuning (--trainable-last, --init-from,
// --train-range): the filtered gradients against direct dense references on tiny layers, the
// paper's Table 2 stored-activation memory, the backward MACs of Eq. (1) against Eq. (15), frozen
// layers left untouched by training, and bad flags refused with one line.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "base/error.hpp"
#include "run_helpers.hpp"
#include "support/temp_dir.hpp"
#include "sw/train/checkpoint.hpp"
#include "sw/train/conv2d.hpp"
#include "sw/train/grad_filter.hpp"
#include "sw/train/layout.hpp"
#include "sw/train/resnet.hpp"
#include "sw/train/trainer.hpp"

using namespace eg::train;
using eg::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::vector<float> random_values(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (float& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<float>(double(s >> 11) / double(1ull << 53) * 2.0 - 1.0);
  }
  return v;
}

// The dense back-propagation of g_y replaced by its patch means broadcast over each patch (the
// "upsampled" g~): dW and dX of the conv as they would be computed from that g_y directly.
struct Dense {
  std::vector<float> gy_up, dw, dx;
};
Dense dense_reference(const FilterShape& s, const std::vector<float>& x,
                      const std::vector<float>& w, const std::vector<float>& gy) {
  std::vector<float> g(size_t(s.n * s.m * s.ef() * s.ff()));
  filter_output_gradient(s, gy.data(), g.data());
  Dense d;
  d.gy_up.resize(gy.size());
  for (int64_t nm = 0; nm < s.n * s.m; ++nm)
    for (int64_t i = 0; i < s.e; ++i)
      for (int64_t j = 0; j < s.f; ++j)
        d.gy_up[size_t((nm * s.e + i) * s.f + j)] =
            g[size_t((nm * s.ef() + i / s.r) * s.ff() + j / s.r)];
  const int64_t k = s.kernel;
  d.dw.assign(size_t(s.m * s.c * k * k), 0.0f);
  d.dx.assign(size_t(s.n * s.c * s.h * s.w), 0.0f);
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t m = 0; m < s.m; ++m)
      for (int64_t c = 0; c < s.c; ++c)
        for (int64_t u = 0; u < k; ++u)
          for (int64_t v = 0; v < k; ++v)
            for (int64_t i = 0; i < s.e; ++i)
              for (int64_t j = 0; j < s.f; ++j) {
                const int64_t a = i * s.stride + u - s.pad, b = j * s.stride + v - s.pad;
                if (a < 0 || a >= s.h || b < 0 || b >= s.w) continue;
                const float gv = d.gy_up[size_t(((n * s.m + m) * s.e + i) * s.f + j)];
                const size_t xi = size_t(((n * s.c + c) * s.h + a) * s.w + b);
                d.dw[size_t(((m * s.c + c) * k + u) * k + v)] += gv * x[xi];
                d.dx[xi] += gv * w[size_t(((m * s.c + c) * k + u) * k + v)];
              }
  return d;
}

struct Filtered {
  std::vector<float> dw, dx;
};
Filtered filtered(const FilterShape& s, const std::vector<float>& x, const std::vector<float>& w,
                  const std::vector<float>& gy) {
  const size_t red_out = size_t(s.n * s.m * s.ef() * s.ff()),
               red_in = size_t(s.n * s.c * s.ef() * s.ff());
  std::vector<float> g(red_out), xs(red_in), ws(size_t(s.m * s.c)), dxr(red_in);
  filter_output_gradient(s, gy.data(), g.data());
  sum_pool_input(s, x.data(), xs.data());
  sum_kernel(s, w.data(), ws.data());
  Filtered f;
  f.dw.resize(size_t(s.m * s.c * s.kernel * s.kernel));
  f.dx.resize(size_t(s.n * s.c * s.h * s.w));
  filtered_weight_gradient(s, g.data(), xs.data(), f.dw.data());
  reduced_input_gradient(s, ws.data(), g.data(), dxr.data());
  broadcast_input_gradient(s, dxr.data(), f.dx.data());
  return f;
}

FilterShape shape(int64_t n, int64_t c, int64_t m, int64_t h, int64_t kernel, int64_t stride,
                  int64_t pad, int64_t r) {
  FilterShape s;
  s.n = n, s.c = c, s.m = m, s.h = s.w = h, s.kernel = kernel, s.stride = stride, s.pad = pad;
  s.e = s.f = (h + 2 * pad - kernel) / stride + 1;
  s.r = r;
  return s;
}

void check_close(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  double scale = 0;
  for (float v : want) scale = std::max(scale, std::fabs(double(v)));
  REQUIRE(scale > 0);
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    CHECK(std::fabs(double(got[i]) - want[i]) <= 1e-5 * scale);
  }
}

}  // namespace

TEST_CASE("patch means count only the positions inside the map at the borders",
          "[train][grad-filter]") {
  const FilterShape s = shape(1, 1, 1, 5, 1, 1, 0, 2);  // 5x5 output: 3x3 patches, last cut
  std::vector<float> gy(25);
  for (size_t i = 0; i < gy.size(); ++i) gy[i] = float(i);
  std::vector<float> g(9);
  filter_output_gradient(s, gy.data(), g.data());
  CHECK(g[0] == Approx((0 + 1 + 5 + 6) / 4.0));
  CHECK(g[2] == Approx((4 + 9) / 2.0));    // a 2x1 patch at the right border
  CHECK(g[8] == Approx(24.0));             // the 1x1 corner patch
  CHECK(g[6] == Approx((20 + 21) / 2.0));  // a 1x2 patch at the bottom border
}

TEST_CASE("filtered dW and dX of a 1x1 stride-1 layer equal the dense ones from the upsampled g~",
          "[train][grad-filter]") {
  for (int64_t r : {2, 3}) {
    const FilterShape s = shape(2, 3, 4, 7, 1, 1, 0, r);
    const auto x = random_values(s.n * s.c * s.h * s.w, 1), w = random_values(s.m * s.c, 2),
               gy = random_values(s.n * s.m * s.e * s.f, 3);
    const Dense d = dense_reference(s, x, w, gy);
    const Filtered f = filtered(s, x, w, gy);
    INFO("r = " << r);
    check_close(f.dw, d.dw);
    check_close(f.dx, d.dx);
  }
}

TEST_CASE("a filtered 3x3 stride-1 layer's dW is the dense centre tap at every tap",
          "[train][grad-filter]") {
  const FilterShape s = shape(2, 3, 4, 8, 3, 1, 1, 2);
  const auto x = random_values(s.n * s.c * s.h * s.w, 4), w = random_values(s.m * s.c * 9, 5),
             gy = random_values(s.n * s.m * s.e * s.f, 6);
  const Dense d = dense_reference(s, x, w, gy);
  const Filtered f = filtered(s, x, w, gy);
  std::vector<float> centre(size_t(s.m * s.c)), got(centre.size());
  for (int64_t mc = 0; mc < s.m * s.c; ++mc) {
    centre[size_t(mc)] = d.dw[size_t(mc * 9 + 4)];
    got[size_t(mc)] = f.dw[size_t(mc * 9 + 4)];
    for (int t = 0; t < 9; ++t) CHECK(f.dw[size_t(mc * 9 + t)] == f.dw[size_t(mc * 9 + 4)]);
  }
  check_close(got, centre);
  // dX is an approximation for a 3x3 kernel (a pixel's taps reach neighbouring patches); the 1x1
  // cases check the broadcast itself.
}

TEST_CASE("a filtered 1x1 stride-2 layer has the exact dW and dX's region sums",
          "[train][grad-filter]") {
  const FilterShape s = shape(2, 3, 4, 8, 1, 2, 0, 2);  // 4x4 output, 2x2 patches
  const auto x = random_values(s.n * s.c * s.h * s.w, 7), w = random_values(s.m * s.c, 8),
             gy = random_values(s.n * s.m * s.e * s.f, 9);
  const Dense d = dense_reference(s, x, w, gy);
  const Filtered f = filtered(s, x, w, gy);
  check_close(f.dw, d.dw);
  // Each output patch covers a 4x4 input region; the dense dX puts the patch's value on its
  // stride-2 lattice, the filtered one spreads it (divided by stride²) over the whole region.
  std::vector<float> dense_sums(size_t(s.n * s.c * 4)), filtered_sums(dense_sums.size());
  for (int64_t plane = 0; plane < s.n * s.c; ++plane)
    for (int64_t a = 0; a < s.h; ++a)
      for (int64_t b = 0; b < s.w; ++b) {
        const size_t region = size_t(plane * 4 + (a / 4) * 2 + b / 4);
        dense_sums[region] += d.dx[size_t((plane * s.h + a) * s.w + b)];
        filtered_sums[region] += f.dx[size_t((plane * s.h + a) * s.w + b)];
      }
  check_close(filtered_sums, dense_sums);
}

TEST_CASE("a gradient-filtered Conv2d computes the filtered equations in either backend",
          "[train][grad-filter]") {
  for (ConvBackend backend : {ConvBackend::Onednn, ConvBackend::Im2col}) {
    conv_backend() = backend;
    Conv2d conv({16, 16, 3, 2, 1}, 1, 0);  // 16 channels: oneDNN's blocked layout
    conv.set_grad_filter(2);
    Tensor x({2, 16, 9, 9});
    const auto xv = random_values(x.size(), 10);
    x.data.assign(xv.begin(), xv.end());
    Tensor y;
    conv.forward({&x}, y, true);
    Tensor dy(y.shape), dx(x.shape, 0.0f);
    dx.layout = x.layout;
    const auto gy = random_values(dy.size(), 11);
    Tensor plain_dy(y.shape);
    plain_dy.data.assign(gy.begin(), gy.end());
    convert_layout(plain_dy, y.layout, dy);
    BackwardContext ctx;
    ctx.assign_din[0] = true;
    conv.backward({&x}, y, dy, {&dx}, ctx);
    FilterShape s = shape(2, 16, 16, 9, 3, 2, 1, 2);
    const Filtered f = filtered(
        s, std::vector<float>(x.data.begin(), x.data.end()),
        std::vector<float>(conv.weight().value.data.begin(), conv.weight().value.data.end()), gy);
    Tensor plain_dx;
    convert_layout(dx, Layout::Nchw, plain_dx);
    check_close(std::vector<float>(conv.weight().grad.data.begin(), conv.weight().grad.data.end()),
                f.dw);
    check_close(std::vector<float>(plain_dx.data.begin(), plain_dx.data.end()), f.dx);
  }
  conv_backend() = ConvBackend::Onednn;
}

// ImageNet ResNet-18 at 224 x 224: the stem (stride-2 conv, stride-2 max-pool) leaves 56 x 56, so
// stage 4 works on 7 x 7 maps (its first block's conv1 and shortcut read stage 3's 14 x 14 map).
// Its last four conv layers in forward order, as the paper counts them (batch 1, float32).
TEST_CASE("stored activations follow the paper's Table 2 for ResNet-18's last 2 and 4 layers",
          "[train][grad-filter]") {
  const std::vector<FilterShape> last = {
      shape(1, 512, 512, 7, 3, 1, 1, 2),   // layer4.1.conv2
      shape(1, 512, 512, 7, 3, 1, 1, 2),   // layer4.1.conv1
      shape(1, 256, 512, 14, 1, 2, 0, 2),  // layer4.0.shortcut (downsample)
      shape(1, 512, 512, 7, 3, 1, 1, 2),   // layer4.0.conv2
  };
  const auto kib = [&](size_t layers, bool filtered_layers) {
    int64_t bytes = 0;
    for (size_t i = 0; i < layers; ++i) bytes += stored_activation_bytes(last[i], filtered_layers);
    return double(bytes) / 1024.0;
  };
  CHECK(kib(2, false) == 196.0);
  CHECK(kib(2, true) == 64.0);
  CHECK(kib(4, false) == 490.0);
  CHECK(kib(4, true) == 112.0);
  // layer4.0.conv1 (256 x 14 x 14 -> 7 x 7, stride 2) in place of the shortcut gives the same.
  CHECK(stored_activation_bytes(shape(1, 256, 512, 14, 3, 2, 1, 2), true) ==
        stored_activation_bytes(last[2], true));
}

TEST_CASE("backward MACs of Eq. (1) and Eq. (15) for ResNet-18's last layers",
          "[train][grad-filter]") {
  const FilterShape conv = shape(1, 512, 512, 7, 3, 1, 1, 2);
  const BackwardCost plain = backward_cost(conv, false), filt = backward_cost(conv, true);
  // Eq. (1): dX and dW each C·M·K²·E·F = 512·512·9·49.
  CHECK(plain.dx_macs == 512LL * 512 * 9 * 49);
  CHECK(plain.total_macs() == 2 * 512LL * 512 * 9 * 49);
  // Eq. (15): each C·M·E'·F' = 512·512·16, plus additions for the patch means and sums.
  CHECK(filt.total_macs() == 2 * 512LL * 512 * 16);
  CHECK(filt.filter_adds == 512LL * 49 * 2 + 512LL * 512 * 9);
  // 9·49/16 = 27.6x fewer MACs at r = 2; r = 4 (2 x 2 reduced map) 110x.
  CHECK(double(plain.total_macs()) / filt.total_macs() == Approx(9.0 * 49 / 16));
  FilterShape r4 = conv;
  r4.r = 4;
  CHECK(double(plain.total_macs()) / backward_cost(r4, true).total_macs() == Approx(9.0 * 49 / 4));
}

TEST_CASE("fine-tuning updates only the last layers and leaves the frozen ones bit-identical",
          "[train][grad-filter]") {
  TempDir dir;
  std::ostringstream log;
  TrainConfig pre = testing::tiny_config(dir / "pre");
  pre.mode = "bp";
  pre.pruning_rate = 0;
  pre.epochs = 1;
  pre.train_range = "0:48";
  run_training(pre, log);
  TrainConfig ft = testing::tiny_config(dir / "ft");
  ft.mode = "bp";
  ft.pruning_rate = 0;
  ft.epochs = 1;
  ft.train_range = "48:96";
  ft.init_from = (dir / "pre" / "checkpoint.bin").string();
  ft.grad_filter = 2;
  ft.trainable_last = 2;
  run_training(ft, log);
  CHECK(log.str().find("the last 2 of 21 conv layers train") != std::string::npos);

  ResNetSpec spec;
  spec.arch = "resnet20";
  spec.channels = 2;
  spec.height = spec.width_px = 8;
  spec.width = 0.25;
  spec.seed = 3;
  Network a = build_resnet(spec), b = build_resnet(spec);
  load_checkpoint(dir / "pre" / "checkpoint.bin", a);
  load_checkpoint(dir / "ft" / "checkpoint.bin", b);
  int changed = 0, same = 0;
  for (size_t i = 1; i < a.nodes().size(); ++i) {
    const std::string& name = a.nodes()[i].name;
    const bool trains = name.rfind("layer3.2.", 0) == 0 || name == "fc";
    auto pa = a.nodes()[i].layer->params(), pb = b.nodes()[i].layer->params();
    auto ba = a.nodes()[i].layer->buffers(), bb = b.nodes()[i].layer->buffers();
    for (size_t k = 0; k < pa.size(); ++k) {
      INFO(name << "." << pa[k]->name);
      if (trains) {
        CHECK(pa[k]->value.data != pb[k]->value.data);
        ++changed;
      } else {
        CHECK(pa[k]->value.data == pb[k]->value.data);
        ++same;
      }
    }
    // BN statistics are frozen everywhere, trainable layers included.
    for (size_t k = 0; k < ba.size(); ++k) {
      INFO(name << " buffer " << k);
      CHECK(ba[k]->data == bb[k]->data);
    }
  }
  CHECK(changed == 2 + 4 + 1);  // two convs, their two BNs' scale and shift, the fc head
  CHECK(same > 0);
}

TEST_CASE("bad gradient filtering and fine-tuning flags are refused with one line",
          "[train][grad-filter][bad-input]") {
  TempDir dir;
  const std::string egtrain = std::string(EGSIM_BINARY_DIR) + "/bin/egtrain";
  const std::string common =
      "--dataset synthetic --width 0.25 --batch 16 --synthetic-train-size 64 "
      "--synthetic-test-size 16 --epochs 1 --log-every 0 --out ";
  const std::string tiny = common + (dir / "o").string();
  // A checkpoint of ResNet-18 to offer to a ResNet-20 run.
  REQUIRE(testing::run_egtrain(egtrain, common + (dir / "r18").string() + " --network resnet18",
                               dir / "e0")
              .exit_code == 0);
  struct Case {
    std::string args, expect;
  };
  const std::vector<Case> cases = {
      {"--grad-filter 1", "key 'grad-filter'"},
      {"--grad-filter -2", "key 'grad-filter'"},
      {"--grad-filter 65", "key 'grad-filter'"},
      {"--grad-filter two", "key 'grad-filter'"},
      {"--trainable-last 22", "key 'trainable-last': 22 exceeds the 21 conv layers"},
      {"--trainable-last -1", "key 'trainable-last'"},
      {"--train-range 5:2", "key 'train-range'"},
      {"--train-range 5", "key 'train-range'"},
      {"--train-range a:b", "key 'train-range'"},
      {"--train-range 0:65", "key 'train-range': END 65 is beyond the training set"},
      {"--init-from " + (dir / "absent.bin").string(), "absent.bin"},
      {"--init-from " + (dir / "r18" / "checkpoint.bin").string(), "different network"},
  };
  for (const Case& c : cases) {
    const testing::EgtrainRun r = testing::run_egtrain(egtrain, tiny + " " + c.args, dir / "err");
    INFO(c.args << " -> " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find(c.expect) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.find("internal error") == std::string::npos);
  }
}
