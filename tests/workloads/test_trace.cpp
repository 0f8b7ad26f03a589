#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <functional>

#include "base/error.hpp"
#include "support/temp_dir.hpp"
#include "workloads/trace.hpp"

using eg::testing::TempDir;
using namespace eg::trace;
using nlohmann::json;

namespace {

std::vector<float> ramp(int64_t n, float scale) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = scale * std::sin(0.37f * static_cast<float>(i));
  return v;
}

Layer make_layer(const std::string& name, LayerType type, std::vector<std::string> inputs,
                 eg::Shape in, eg::Shape out, int64_t k = 0, int64_t stride = 1, int64_t pad = 0) {
  Layer l;
  l.name = name;
  l.type = type;
  l.inputs = std::move(inputs);
  l.in = std::move(in);
  l.out = std::move(out);
  l.kernel_r = l.kernel_s = k;
  l.stride = stride;
  l.pad = pad;
  return l;
}

// A small but complete trace: conv (stride 2, pad 1) -> bn -> relu -> avgpool -> fc. With
// `version2`, an optimizer and the conv/fc update roles too.
Manifest write_small_trace(const std::filesystem::path& dir, bool version2 = false) {
  Manifest m;
  m.network = "tiny";
  m.dataset = "synthetic";
  m.mode = "efficientgrad";
  m.pruning_rate = 0.9;
  m.seed = 7;
  m.iteration = 3;
  m.batch = 2;
  Layer conv = make_layer("conv1", LayerType::Conv, {}, {2, 3, 8, 8}, {2, 4, 4, 4}, 3, 2, 1);
  conv.stats.dy_nonzero_fraction = 0.1;
  conv.stats.tau = 0.02;
  conv.stats.angle_to_bp_deg = 41.5;
  conv.stats.extra["dy_histogram"] = {1, 2, 3};
  Layer bn = make_layer("bn1", LayerType::Bn, {"conv1"}, {2, 4, 4, 4}, {2, 4, 4, 4});
  Layer relu = make_layer("relu1", LayerType::Relu, {"bn1"}, {2, 4, 4, 4}, {2, 4, 4, 4});
  Layer pool =
      make_layer("avgpool", LayerType::AvgPool, {"relu1"}, {2, 4, 4, 4}, {2, 4, 1, 1}, 4, 1, 0);
  Layer fc = make_layer("fc", LayerType::Fc, {"avgpool"}, {2, 4}, {2, 10});
  TraceWriter w(dir);
  std::vector<std::string> roles = all_roles();
  if (version2) {
    m.optimizer = Optimizer{"sgd", 0.05, 0.9, 5e-4};
    roles.insert(roles.end(), update_roles().begin(), update_roles().end());
  }
  for (Layer* l : {&conv, &fc})
    for (const std::string& role : roles) {
      auto v =
          ramp(eg::element_count(l->expected_shape(role)), 1.0f + static_cast<float>(role.size()));
      w.write_tensor(*l, role, v.data());
    }
  auto y = ramp(eg::element_count(relu.out), 2.0f);
  w.write_tensor(relu, "y", y.data());
  m.layers = {conv, bn, relu, pool, fc};
  w.commit(m);
  return m;
}

json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}
void write_json(const std::filesystem::path& p, const json& j) {
  std::ofstream(p, std::ios::trunc) << j.dump(1);
}

}  // namespace

TEST_CASE("trace round-trips manifest and tensors", "[workloads][trace]") {
  TempDir tmp;
  const auto dir = tmp / "trace";
  const Manifest written = write_small_trace(dir);
  Trace t = Trace::open(dir);
  const Manifest& m = t.manifest();
  CHECK(m.mode == "efficientgrad");
  CHECK(m.pruning_rate == Approx(0.9));
  CHECK(m.iteration == 3);
  REQUIRE(m.layers.size() == 5);
  const Layer& conv = m.layers[0];
  CHECK(conv.type == LayerType::Conv);
  CHECK(conv.stride == 2);
  CHECK(conv.pad == 1);
  CHECK(conv.tensors.size() == 7);
  CHECK(conv.stats.tau == Approx(0.02));
  CHECK(conv.stats.extra["dy_histogram"] == json({1, 2, 3}));
  CHECK(conv.dense_macs() == 2 * 4 * 4 * 4 * 3 * 3 * 3);
  CHECK(m.layers[4].dense_macs() == 2 * 10 * 4);
  eg::NdArray w = t.load(conv, "w");
  CHECK(w.shape == eg::Shape{4, 3, 3, 3});
  CHECK(w.data == ramp(4 * 3 * 3 * 3, 2.0f));
  CHECK(t.has(m.layers[2], "y"));
  CHECK_FALSE(t.has(m.layers[1], "y"));
  CHECK(to_json(m) == to_json(written));
}

TEST_CASE(
    "a version 2 trace round-trips its optimizer and update tensors and a version 1 trace "
    "still reads",
    "[workloads][trace]") {
  TempDir tmp;
  const Manifest written = write_small_trace(tmp / "v2", true);
  const json j2 = read_json(tmp / "v2" / "manifest.json");
  CHECK(j2["version"] == 2);
  CHECK(j2["optimizer"] ==
        json({{"type", "sgd"}, {"lr", 0.05}, {"momentum", 0.9}, {"weight_decay", 5e-4}}));
  const Trace t = Trace::open(tmp / "v2");
  REQUIRE(t.manifest().optimizer.has_value());
  CHECK(t.manifest().optimizer->lr == 0.05);
  CHECK(t.manifest().optimizer->momentum == 0.9);
  CHECK(t.manifest().optimizer->weight_decay == 5e-4);
  CHECK(t.manifest().version() == 2);
  const Layer& conv = t.manifest().layers[0];
  CHECK(conv.tensors.size() == 10);
  CHECK(t.load(conv, "w_next").shape == eg::Shape{4, 3, 3, 3});
  CHECK(t.load(conv, "momentum_next").data == ramp(4 * 3 * 3 * 3, 14.0f));
  CHECK(t.load(t.manifest().layers[4], "momentum").shape == eg::Shape{10, 4});
  CHECK(to_json(t.manifest()) == to_json(written));

  write_small_trace(tmp / "v1");
  const json j1 = read_json(tmp / "v1" / "manifest.json");
  CHECK(j1["version"] == 1);
  CHECK_FALSE(j1.contains("optimizer"));
  const Trace t1 = Trace::open(tmp / "v1");
  CHECK_FALSE(t1.manifest().optimizer.has_value());
  CHECK(t1.manifest().version() == 1);
}

TEST_CASE("bad version 2 fields are one-line errors naming the file and the field",
          "[workloads][trace]") {
  TempDir tmp;
  const auto dir = tmp / "trace";
  write_small_trace(dir, true);
  const auto manifest = dir / "manifest.json";
  const json good = read_json(manifest);
  auto error_with = [&](const std::function<void(json&)>& edit) {
    json j = good;
    edit(j);
    write_json(manifest, j);
    try {
      (void)Trace::open(dir);
    } catch (const eg::Error& e) {
      const std::string what = e.what();
      CHECK(what.find('\n') == std::string::npos);
      return what;
    }
    return std::string("accepted");
  };
  CHECK(error_with([](json& j) { j.erase("optimizer"); }) ==
        manifest.string() + ": /optimizer: missing");
  CHECK_THAT(error_with([](json& j) { j["optimizer"] = 0.1; }),
             Catch::Contains("manifest.json: /optimizer: must be an object"));
  CHECK_THAT(error_with([](json& j) { j["optimizer"]["type"] = "adam"; }),
             Catch::Contains("manifest.json: /optimizer/type: unknown optimizer 'adam'"));
  CHECK_THAT(error_with([](json& j) { j["optimizer"]["lr"] = -0.1; }),
             Catch::Contains("manifest.json: /optimizer/lr: must be >= 0"));
  CHECK_THAT(error_with([](json& j) { j["optimizer"]["lr"] = "0.1"; }),
             Catch::Contains("manifest.json: /optimizer/lr: must be a number"));
  CHECK_THAT(error_with([](json& j) { j["optimizer"]["momentum"] = 1.0; }),
             Catch::Contains("manifest.json: /optimizer/momentum: must be in [0, 1)"));
  CHECK_THAT(error_with([](json& j) { j["optimizer"].erase("weight_decay"); }),
             Catch::Contains("manifest.json: /optimizer/weight_decay: missing"));
  CHECK_THAT(error_with([](json& j) { j["optimizer"]["weight_decay"] = -1e-4; }),
             Catch::Contains("manifest.json: /optimizer/weight_decay: must be >= 0"));
  CHECK_THAT(error_with([](json& j) { j["optimizer"]["nesterov"] = true; }),
             Catch::Contains("manifest.json: /optimizer/nesterov: unknown key"));
  // A version 1 manifest has neither the optimizer nor the update roles.
  CHECK_THAT(error_with([](json& j) {
               j["version"] = 1;
               j.erase("optimizer");
               j["layers"][0]["tensors"].erase("w_next");
             }),
             Catch::Contains("manifest.json: /layers/0/tensors/momentum: is a version 2 tensor "
                             "role (this trace is version 1) (layer 'conv1')"));
  CHECK_THAT(error_with([](json& j) { j["version"] = 1; }),
             Catch::Contains("manifest.json: /optimizer: unknown key"));
  CHECK_THAT(error_with([](json& j) { j["layers"][1]["tensors"]["w_next"] = "bn1.w_next.npy"; }),
             Catch::Contains("manifest.json: /layers/1/tensors/w_next: is not a tensor role of a "
                             "bn layer (layer 'bn1')"));
  // A post-step tensor of the wrong shape names its file.
  const json conv = good["layers"][0];
  CHECK_THAT(
      error_with([&](json& j) { j["layers"][0]["tensors"]["w_next"] = conv["tensors"]["dx"]; }),
      Catch::Contains("conv1.dx.npy: shape [2,3,8,8] does not match layer 'conv1' tensor "
                      "'w_next' [4,3,3,3]"));
}

TEST_CASE("a failed trace write leaves no directory and keeps an existing trace",
          "[workloads][trace]") {
  TempDir tmp;
  const auto dir = tmp / "trace";
  write_small_trace(dir);
  {
    TraceWriter w(dir);
    Layer conv = make_layer("c", LayerType::Conv, {}, {1, 1, 4, 4}, {1, 1, 4, 4}, 3, 1, 1);
    Manifest bad;
    bad.mode = "nonsense";
    bad.batch = 1;
    bad.iteration = 1;
    bad.layers = {conv};
    CHECK_THROWS_WITH(w.commit(bad), Catch::Contains("mode: unknown mode 'nonsense'"));
  }
  CHECK(Trace::open(dir).manifest().layers.size() == 5);  // the old trace is intact
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(tmp.path()))
    entries += e.path().filename() != "trace";
  CHECK(entries == 0);  // no partial directory left behind
}

TEST_CASE("a trace never replaces a directory that is not a trace", "[workloads][trace]") {
  TempDir tmp;
  const auto mine = tmp / "results";
  std::filesystem::create_directories(mine);
  std::ofstream(mine / "thesis.tex") << "months of work";
  CHECK_THROWS_WITH(write_small_trace(mine), Catch::Contains("results: exists and is not a trace"));
  CHECK(std::filesystem::exists(mine / "thesis.tex"));
  std::ofstream(tmp / "file") << "x";
  CHECK_THROWS_WITH(TraceWriter(tmp / "file"),
                    Catch::Contains("file: exists and is not a directory"));
  // An empty directory and an earlier trace are fine to replace.
  std::filesystem::create_directories(tmp / "empty");
  write_small_trace(tmp / "empty");
  write_small_trace(tmp / "empty");
  CHECK(Trace::open(tmp / "empty").manifest().layers.size() == 5);
}

TEST_CASE("corrupt traces are rejected naming file and field", "[workloads][trace]") {
  TempDir tmp;
  const auto dir = tmp / "trace";
  write_small_trace(dir);
  const auto manifest = dir / "manifest.json";
  json j = read_json(manifest);

  SECTION("version") {
    j["version"] = 3;
    write_json(manifest, j);
    CHECK_THROWS_WITH(
        Trace::open(dir),
        Catch::Contains("manifest.json: /version: is 3, this reader supports 1 to 2"));
  }
  SECTION("unknown key") {
    j["layers"][1]["colour"] = "red";
    write_json(manifest, j);
    CHECK_THROWS_WITH(
        Trace::open(dir),
        Catch::Contains("manifest.json: /layers/1/colour: unknown key (layer 'bn1')"));
  }
  SECTION("declared shape inconsistent with geometry") {
    j["layers"][0]["out"] = {2, 4, 5, 4};
    write_json(manifest, j);
    CHECK_THROWS_WITH(Trace::open(dir),
                      Catch::Contains("manifest.json: /layers/0/out: spatial size"));
  }
  SECTION("input that is not an earlier layer") {
    j["layers"][1]["inputs"] = {"relu1"};
    write_json(manifest, j);
    CHECK_THROWS_WITH(Trace::open(dir), Catch::Contains("'relu1' is not an earlier layer"));
  }
  SECTION("missing tensor file") {
    std::filesystem::remove(dir / "conv1.dy.npy");
    CHECK_THROWS_WITH(Trace::open(dir),
                      Catch::Contains("conv1.dy.npy: missing (layer 'conv1' tensor 'dy')"));
  }
  SECTION("tensor of the wrong shape") {
    std::vector<float> v(4 * 3 * 3 * 3);
    eg::write_npy(dir / "conv1.w.npy", {4, 3, 9}, v.data());
    CHECK_THROWS_WITH(Trace::open(dir),
                      Catch::Contains("conv1.w.npy: shape [4,3,9] does not match"));
  }
  SECTION("truncated tensor") {
    std::filesystem::resize_file(dir / "fc.dx.npy",
                                 std::filesystem::file_size(dir / "fc.dx.npy") - 8);
    CHECK_THROWS_WITH(Trace::open(dir), Catch::Contains("fc.dx.npy: file size"));
  }
  SECTION("NaN in a tensor is caught on load") {
    std::vector<float> v(2 * 10, 0.0f);
    v[13] = std::nanf("");
    eg::write_npy(dir / "fc.dy.npy", {2, 10}, v.data());
    Trace t = Trace::open(dir);  // header and size are fine
    CHECK_THROWS_WITH(t.load(*t.manifest().find("fc"), "dy"),
                      Catch::Contains("fc.dy.npy: non-finite"));
  }
  SECTION("role a layer type lacks") {
    j["layers"][1]["tensors"]["w"] = "bn1.w.npy";
    write_json(manifest, j);
    CHECK_THROWS_WITH(Trace::open(dir),
                      Catch::Contains("/layers/1/tensors/w: is not a tensor role of a bn layer"));
  }
  SECTION("pruning rate out of range") {
    j["pruning_rate"] = 1.0;
    write_json(manifest, j);
    CHECK_THROWS_WITH(Trace::open(dir),
                      Catch::Contains("manifest.json: /pruning_rate: must be in [0, 1)"));
  }
  SECTION("invalid JSON") {
    std::ofstream(manifest, std::ios::trunc) << "{\"format\": ";
    CHECK_THROWS_WITH(
        Trace::open(dir),
        Catch::Contains("manifest.json: not valid JSON (parse error at line 1, column 12"));
  }
}
