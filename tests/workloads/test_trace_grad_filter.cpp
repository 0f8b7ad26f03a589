// The trace manifest's fine-tuning fields: per layer "frozen" and, for conv layers,
// "grad_filter": {"r": R} with the roles gy_filtered, x_filtered and w_summed. They round-trip,
// a manifest without them (every earlier trace) reads as unfrozen and unfiltered, and values no
// run can produce are one-line errors naming the field.
#include <catch2/catch.hpp>

#include "base/error.hpp"
#include "manifest_test_support.hpp"
#include "workloads/trace.hpp"

using namespace eg::trace;
using nlohmann::json;

namespace {

// A 3x3 conv (2 -> 4 channels, 5x5, stride 1, pad 1) and a ReLU after it, batch 2.
Manifest small_manifest() {
  Manifest m = eg::testing::bare_manifest(2, 1);
  Layer conv;
  conv.name = "conv";
  conv.type = LayerType::Conv;
  conv.in = {2, 2, 5, 5};
  conv.out = {2, 4, 5, 5};
  conv.kernel_r = conv.kernel_s = 3;
  conv.stride = conv.pad = 1;
  Layer relu;
  relu.name = "relu";
  relu.type = LayerType::Relu;
  relu.inputs = {"conv"};
  relu.in = relu.out = {2, 4, 5, 5};
  m.layers = {conv, relu};
  return m;
}

}  // namespace

TEST_CASE("frozen flags and gradient filters round-trip with their tensor shapes",
          "[workloads][trace][grad-filter]") {
  Manifest m = small_manifest();
  m.layers[0].grad_filter = 2;
  m.layers[0].tensors = {{"gy_filtered", "conv.gy_filtered.npy"},
                         {"x_filtered", "conv.x_filtered.npy"},
                         {"w_summed", "conv.w_summed.npy"}};
  m.layers[1].frozen = true;
  const json j = to_json(m);
  CHECK(j["layers"][0]["grad_filter"] == json({{"r", 2}}));
  CHECK_FALSE(j["layers"][0].contains("frozen"));
  CHECK(j["layers"][1]["frozen"] == true);
  const Manifest back = manifest_from_json(j, "manifest.json");
  CHECK(back.layers[0].grad_filter == 2);
  CHECK_FALSE(back.layers[0].frozen);
  CHECK(back.layers[1].frozen);
  CHECK(to_json(back) == j);
  // 5x5 output in 2x2 patches: a 3x3 reduced map, the last patches cut by the border.
  CHECK(back.layers[0].expected_shape("gy_filtered") == eg::Shape{2, 4, 3, 3});
  CHECK(back.layers[0].expected_shape("x_filtered") == eg::Shape{2, 2, 3, 3});
  CHECK(back.layers[0].expected_shape("w_summed") == eg::Shape{4, 2, 1, 1});
}

TEST_CASE("a manifest without the fine-tuning fields reads as unfrozen and unfiltered",
          "[workloads][trace][grad-filter]") {
  const json j = to_json(small_manifest());
  CHECK_FALSE(j["layers"][0].contains("grad_filter"));
  CHECK_FALSE(j["layers"][0].contains("frozen"));
  const Manifest back = manifest_from_json(j, "manifest.json");
  CHECK(back.layers[0].grad_filter == 0);
  CHECK_FALSE(back.layers[0].frozen);
  CHECK(to_json(back) == j);
}

TEST_CASE("fine-tuning fields no run can produce are refused naming the field",
          "[workloads][trace][grad-filter]") {
  const json good = to_json(small_manifest());
  auto with = [&](const std::function<void(json&)>& edit) {
    json j = good;
    edit(j);
    return eg::testing::manifest_error(j);
  };
  CHECK(with([](json& j) {
          j["layers"][0]["grad_filter"] = {{"r", 1}};
        }).find("/layers/0/grad_filter/r: must be >= 2") != std::string::npos);
  CHECK(with([](json& j) {
          j["layers"][0]["grad_filter"] = {{"r", 65}};
        }).find("/layers/0/grad_filter/r: must be <= 64") != std::string::npos);
  CHECK(with([](json& j) {
          j["layers"][0]["grad_filter"] = {{"r", 2}, {"q", 1}};
        }).find("/layers/0/grad_filter/q: unknown key") != std::string::npos);
  CHECK(with([](json& j) {
          j["layers"][0]["grad_filter"] = 2;
        }).find("/layers/0/grad_filter: must be an object") != std::string::npos);
  CHECK(with([](json& j) {
          j["layers"][1]["grad_filter"] = {{"r", 2}};
        }).find("/layers/1/grad_filter: unknown key") != std::string::npos);
  CHECK(with([](json& j) {
          j["layers"][1]["frozen"] = "yes";
        }).find("/layers/1/frozen: must be true or false") != std::string::npos);
  CHECK(with([](json& j) { j["layers"][0]["tensors"]["gy_filtered"] = "g.npy"; })
            .find("/layers/0/tensors/gy_filtered: is a gradient filtering role, but the layer "
                  "has no grad_filter") != std::string::npos);
}
