// The trace's selective-layer-update record ("slu"): it round-trips through the manifest and
// through a written trace (masks and probabilities as files), a trace without it reads as "no
// block gated", and malformed records or files are one-line errors naming the field or file.
#include <catch2/catch.hpp>

#include <fstream>

#include "base/error.hpp"
#include "manifest_test_support.hpp"
#include "support/temp_dir.hpp"
#include "workloads/trace.hpp"

using namespace eg::trace;
using nlohmann::json;

namespace {

// Two relu layers, the second one "gated".
Manifest small_manifest() {
  Manifest m = eg::testing::bare_manifest(4, 4);
  Layer a;
  a.name = "pool";
  a.type = LayerType::Relu;
  a.in = a.out = {4, 2, 1, 1};
  Layer b = a;
  b.name = "branch";
  b.inputs = {"pool"};
  m.layers = {a, b};
  return m;
}

Slu small_slu() {
  Slu s;
  s.alpha = -0.25;
  s.target_skip = 0.3;
  s.blocks = {SluBlock{"blk", {"branch"}, {"pool"}, "blk.mask.npy", "blk.prob.npy"}};
  return s;
}

}  // namespace

TEST_CASE("a manifest's slu record round-trips", "[workloads][trace][slu]") {
  Manifest m = small_manifest();
  m.slu = small_slu();
  const Manifest back = manifest_from_json(to_json(m), "manifest.json");
  REQUIRE(back.slu);
  CHECK(back.slu->alpha == -0.25);
  REQUIRE(back.slu->target_skip);
  CHECK(*back.slu->target_skip == 0.3);
  REQUIRE(back.slu->blocks.size() == 1);
  CHECK(back.slu->blocks[0].name == "blk");
  CHECK(back.slu->blocks[0].layers == std::vector<std::string>{"branch"});
  CHECK(back.slu->blocks[0].gate_layers == std::vector<std::string>{"pool"});
  CHECK(back.slu->blocks[0].mask == "blk.mask.npy");
  CHECK(back.slu->blocks[0].probabilities == "blk.prob.npy");
  CHECK(to_json(back) == to_json(m));
}

TEST_CASE("a manifest without an slu record reads as no block gated", "[workloads][trace][slu]") {
  const json j = to_json(small_manifest());
  CHECK_FALSE(j.contains("slu"));
  CHECK_FALSE(manifest_from_json(j, "manifest.json").slu);
}

TEST_CASE("malformed slu records are one-line errors naming the field", "[workloads][trace][slu]") {
  Manifest m = small_manifest();
  m.slu = small_slu();
  const json good = to_json(m);
  auto with = [&](const std::function<void(json&)>& edit) {
    json j = good;
    edit(j);
    return eg::testing::manifest_error(j);
  };
  CHECK_THAT(with([](json& j) { j["slu"]["blocks"][0]["layers"] = {"nope"}; }),
             Catch::Contains("/slu/blocks/0/layers") && Catch::Contains("'nope'"));
  CHECK_THAT(with([](json& j) { j["slu"]["blocks"][0]["gate_layers"] = {"branch"}; }),
             Catch::Contains("more than one gated block"));
  CHECK_THAT(with([](json& j) { j["slu"]["target_skip"] = 1.0; }),
             Catch::Contains("/slu/target_skip"));
  CHECK_THAT(with([](json& j) { j["slu"]["blocks"][0]["mask"] = "../x.npy"; }),
             Catch::Contains("/slu/blocks/0/mask"));
  CHECK_THAT(with([](json& j) { j["slu"]["extra"] = 1; }), Catch::Contains("/slu/extra"));
  CHECK_THAT(with([](json& j) { j["slu"]["alpha"] = "big"; }), Catch::Contains("/slu/alpha"));
}

TEST_CASE("a written trace's slu masks read back as each layer's active samples",
          "[workloads][trace][slu]") {
  eg::testing::TempDir dir;
  Manifest m = small_manifest();
  m.slu = small_slu();
  {
    TraceWriter w(dir / "t");
    const float mask[4] = {1, 0, 0, 1}, prob[4] = {0.9f, 0.1f, 0.4f, 0.5f};
    w.write_array("blk.mask.npy", {4}, mask);
    w.write_array("blk.prob.npy", {4}, prob);
    w.commit(m);
  }
  const Trace t = Trace::open(dir / "t");
  REQUIRE(t.manifest().slu);
  REQUIRE(t.active_samples("branch"));
  CHECK(*t.active_samples("branch") == std::vector<int64_t>{0, 3});
  CHECK(t.active_samples("pool") == nullptr);  // a gate layer runs for every sample
  REQUIRE(t.slu_mask("blk"));
  CHECK(*t.slu_mask("blk") == std::vector<uint8_t>{1, 0, 0, 1});
}

TEST_CASE("an slu mask that is not 0 or 1 is refused naming the file", "[workloads][trace][slu]") {
  eg::testing::TempDir dir;
  Manifest m = small_manifest();
  m.slu = small_slu();
  {
    TraceWriter w(dir / "t");
    const float mask[4] = {1, 0.5f, 0, 1}, prob[4] = {0.9f, 0.1f, 0.4f, 0.5f};
    w.write_array("blk.mask.npy", {4}, mask);
    w.write_array("blk.prob.npy", {4}, prob);
    w.commit(m);
  }
  try {
    (void)Trace::open(dir / "t");
    FAIL("accepted");
  } catch (const eg::Error& e) {
    const std::string what = e.what();
    CHECK(what.find('\n') == std::string::npos);
    CHECK_THAT(what, Catch::Contains("blk.mask.npy") && Catch::Contains("not 0 or 1"));
  }
}

TEST_CASE("a trace whose slu files were never written is not committed",
          "[workloads][trace][slu]") {
  eg::testing::TempDir dir;
  Manifest m = small_manifest();
  m.slu = small_slu();
  TraceWriter w(dir / "t");
  CHECK_THROWS_WITH(w.commit(m), Catch::Contains("blk.mask.npy"));
}
