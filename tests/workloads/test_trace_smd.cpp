// The trace manifest's mini-batch dropping record ("smd"): it round-trips, a manifest without it
// (every trace written before it existed, and every run without dropping) reads as "nothing
// dropped", and counts no run can produce are one-line errors naming the field.
#include <catch2/catch.hpp>

#include <functional>

#include "base/error.hpp"
#include "manifest_test_support.hpp"
#include "workloads/trace.hpp"

using namespace eg::trace;
using nlohmann::json;

namespace {

// A manifest of one relu layer: enough for the top-level fields.
Manifest small_manifest() {
  Manifest m = eg::testing::bare_manifest(2, 40);
  Layer relu;
  relu.name = "relu";
  relu.type = LayerType::Relu;
  relu.in = relu.out = {2, 1, 1, 1};
  m.layers = {relu};
  return m;
}

}  // namespace

TEST_CASE("a manifest's mini-batch dropping record round-trips in either version",
          "[workloads][trace][smd]") {
  for (const bool v2 : {false, true}) {
    Manifest m = small_manifest();
    if (v2) m.optimizer = Optimizer{"sgd", 0.05, 0.9, 5e-4};
    m.smd = MiniBatchDropping{0.5, 19, 100, 52};
    const json j = to_json(m);
    CHECK(j["version"] == (v2 ? 2 : 1));
    CHECK(j["smd"] == json({{"drop_prob", 0.5},
                            {"executed_iteration", 19},
                            {"nominal_iterations", 100},
                            {"executed_iterations", 52}}));
    const Manifest back = manifest_from_json(j, "manifest.json");
    REQUIRE(back.smd);
    CHECK(back.smd->drop_prob == 0.5);
    CHECK(back.smd->executed_iteration == 19);
    CHECK(back.smd->nominal_iterations == 100);
    CHECK(back.smd->executed_iterations == 52);
    CHECK(to_json(back) == j);
  }
}

TEST_CASE("a manifest without the dropping record reads as a run that dropped nothing",
          "[workloads][trace][smd]") {
  const json j = to_json(small_manifest());
  CHECK_FALSE(j.contains("smd"));
  // As written before the record existed: the same keys, version 1.
  CHECK(j["version"] == 1);
  const Manifest back = manifest_from_json(j, "manifest.json");
  CHECK_FALSE(back.smd.has_value());
  CHECK(to_json(back) == j);
}

TEST_CASE("dropping records no run can produce are refused naming the field",
          "[workloads][trace][smd]") {
  Manifest m = small_manifest();  // traced at nominal iteration 40
  m.smd = MiniBatchDropping{0.5, 19, 100, 52};
  const json good = to_json(m);
  auto with = [&](const std::function<void(json&)>& edit) {
    json j = good;
    edit(j);
    return eg::testing::manifest_error(j);
  };
  CHECK(with([](json&) {}) == "accepted");
  CHECK(with([](json& j) { j["smd"] = 0.5; }) == "manifest.json: /smd: must be an object");
  CHECK(with([](json& j) { j["smd"]["drop_prob"] = 1.0; }) ==
        "manifest.json: /smd/drop_prob: must be in [0, 1)");
  CHECK(with([](json& j) { j["smd"]["drop_prob"] = -0.1; }) ==
        "manifest.json: /smd/drop_prob: must be in [0, 1)");
  CHECK(with([](json& j) { j["smd"].erase("nominal_iterations"); }) ==
        "manifest.json: /smd/nominal_iterations: missing");
  CHECK(with([](json& j) { j["smd"]["skipped"] = 3; }) ==
        "manifest.json: /smd/skipped: unknown key");
  // More executed mini-batches up to the traced one than nominal iterations up to it.
  CHECK(with([](json& j) { j["smd"]["executed_iteration"] = 41; }) ==
        "manifest.json: /smd/executed_iteration: must be <= 40, got 41");
  CHECK(with([](json& j) { j["smd"]["executed_iteration"] = 0; }) ==
        "manifest.json: /smd/executed_iteration: must be >= 1, got 0");
  // The traced iteration lies beyond the run's nominal schedule.
  CHECK(with([](json& j) { j["smd"]["nominal_iterations"] = 39; }) ==
        "manifest.json: /smd/nominal_iterations: must be >= 40, got 39");
  // Fewer executed in the run than up to the traced step, or more than could follow it.
  CHECK(with([](json& j) { j["smd"]["executed_iterations"] = 18; }) ==
        "manifest.json: /smd/executed_iterations: must be >= 19, got 18");
  CHECK(with([](json& j) { j["smd"]["executed_iterations"] = 80; }) ==
        "manifest.json: /smd/executed_iterations: must be <= 79, got 80");
}
