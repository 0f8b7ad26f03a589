// The trace manifest's PSG fields (E²-Train's predictive sign gradient): the top-level
// weight_gradient record, the per-layer psg record and the psg_mask role round-trip through JSON
// and through a written trace, a manifest without them reads as the exact weight gradient, and
// records no run can produce are one-line errors naming the field.
#include <catch2/catch.hpp>

#include <functional>
#include <vector>

#include "base/error.hpp"
#include "manifest_test_support.hpp"
#include "support/temp_dir.hpp"
#include "workloads/trace.hpp"

using namespace eg::trace;
using nlohmann::json;

namespace {

// An fc layer (2 samples, 3 -> 2) after a relu.
Manifest psg_manifest() {
  Manifest m = eg::testing::bare_manifest(2, 4);
  Layer relu;
  relu.name = "relu";
  relu.type = LayerType::Relu;
  relu.in = relu.out = {2, 3, 1, 1};
  Layer fc;
  fc.name = "fc";
  fc.type = LayerType::Fc;
  fc.inputs = {"relu"};
  fc.in = {2, 3};
  fc.out = {2, 2};
  fc.psg = PsgLayer{0.125, 1.0 / 3.0};
  m.layers = {relu, fc};
  m.weight_gradient = WeightGradientRule{"psg", 0.05};
  return m;
}

}  // namespace

TEST_CASE("a manifest's PSG records round-trip in either version", "[workloads][trace][psg]") {
  for (const bool v2 : {false, true}) {
    Manifest m = psg_manifest();
    if (v2) m.optimizer = Optimizer{"sgd", 0.05, 0.9, 5e-4};
    const json j = to_json(m);
    CHECK(j["weight_gradient"] ==
          json({{"rule", "psg"},
                {"beta", 0.05},
                {"bits", {{"x", 8}, {"w", 8}, {"gy", 16}, {"x_msb", 4}, {"gy_msb", 10}}}}));
    CHECK(j["layers"][1]["psg"] == json({{"tau", 0.125}, {"full_precision_fraction", 1.0 / 3.0}}));
    CHECK_FALSE(j["layers"][0].contains("psg"));
    const Manifest back = manifest_from_json(j, "manifest.json");
    REQUIRE(back.weight_gradient);
    CHECK(back.weight_gradient->beta == 0.05);
    CHECK(back.weight_gradient->bits_gy_msb == 10);
    REQUIRE(back.layers[1].psg);
    CHECK(back.layers[1].psg->tau == 0.125);
    CHECK_FALSE(back.layers[0].psg);
    CHECK(to_json(back) == j);
  }
}

TEST_CASE("a written PSG trace reads back with its mask and sign dw", "[workloads][trace][psg]") {
  eg::testing::TempDir dir;
  Manifest m = psg_manifest();
  const std::vector<float> x(6, 0.5f), w(6, 0.25f), dy(4, 0.125f);
  const std::vector<float> dw{1, -1, 0, 1, 1, -1}, mask{0, 1, 0, 0, 1, 0};
  {
    TraceWriter writer(dir / "t");
    for (const auto& [role, data] : std::vector<std::pair<std::string, const std::vector<float>*>>{
             {"x", &x}, {"w", &w}, {"dy", &dy}, {"dw", &dw}, {kPsgMaskRole, &mask}})
      writer.write_tensor(m.layers[1], role, data->data());
    writer.commit(m);
  }
  const Trace t = Trace::open(dir / "t");
  const Layer& fc = t.manifest().layers[1];
  REQUIRE(t.has(fc, kPsgMaskRole));
  CHECK(t.load(fc, kPsgMaskRole).data == mask);
  CHECK(t.load(fc, kPsgMaskRole).shape == eg::Shape{2, 3});
  CHECK(t.load(fc, "dw").data == dw);
  CHECK(t.manifest().weight_gradient->rule == "psg");
}

TEST_CASE("a manifest without PSG records reads as the exact weight gradient",
          "[workloads][trace][psg]") {
  Manifest m = psg_manifest();
  m.weight_gradient.reset();
  m.layers[1].psg.reset();
  const json j = to_json(m);
  CHECK_FALSE(j.contains("weight_gradient"));
  CHECK_FALSE(j["layers"][1].contains("psg"));
  const Manifest back = manifest_from_json(j, "manifest.json");
  CHECK_FALSE(back.weight_gradient);
  CHECK_FALSE(back.layers[1].psg);
}

TEST_CASE("PSG records no run can produce are refused naming the field",
          "[workloads][trace][psg]") {
  const json good = to_json(psg_manifest());
  auto with = [&](const std::function<void(json&)>& edit) {
    json j = good;
    edit(j);
    return eg::testing::manifest_error(j);
  };
  CHECK(eg::testing::manifest_error(good) == "accepted");
  CHECK(with([](json& j) {
          j["weight_gradient"]["rule"] = "exact";
        }).find("/weight_gradient/rule: unknown rule 'exact'") != std::string::npos);
  CHECK(with([](json& j) {
          j["weight_gradient"]["beta"] = -0.1;
        }).find("/weight_gradient/beta: must be in [0, 1]") != std::string::npos);
  CHECK(with([](json& j) {
          j["weight_gradient"]["bits"]["x_msb"] = 9;
        }).find("/weight_gradient/bits/x_msb") != std::string::npos);
  CHECK(with([](json& j) {
          j["weight_gradient"]["bits"]["gy"] = 64;
        }).find("/weight_gradient/bits/gy") != std::string::npos);
  CHECK(with([](json& j) { j["weight_gradient"]["extra"] = 1; }).find("/weight_gradient") !=
        std::string::npos);
  CHECK(with([](json& j) {
          j["layers"][1]["psg"]["full_precision_fraction"] = 1.5;
        }).find("/layers/1/psg/full_precision_fraction: must be in [0, 1]") != std::string::npos);
  CHECK(with([](json& j) {
          j["layers"][1]["psg"]["tau"] = -1;
        }).find("/layers/1/psg/tau: must be >= 0") != std::string::npos);
  CHECK(with([](json& j) {
          j["layers"][0]["psg"] = j["layers"][1]["psg"];
        }).find("only conv and fc layers have a psg record") != std::string::npos);
  CHECK(with([](json& j) {
          j.erase("weight_gradient");
        }).find("needs the top-level weight_gradient record") != std::string::npos);
  CHECK(with([](json& j) {
          j["layers"][0]["tensors"][kPsgMaskRole] = "relu.psg_mask.npy";
        }).find("is not a tensor role of a relu layer") != std::string::npos);
  CHECK(with([](json& j) {
          j["layers"][1].erase("psg");
          j["layers"][1]["tensors"][kPsgMaskRole] = "fc.psg_mask.npy";
        }).find("needs the layer's psg record") != std::string::npos);
}
