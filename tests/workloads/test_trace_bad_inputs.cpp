// Hostile traces: every bad manifest or .npy file is one eg::Error naming the file, the field and
// the problem, raised before anything large is allocated or any long loop starts.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>

#include "base/error.hpp"
#include "support/temp_dir.hpp"
#include "workloads/trace.hpp"

using eg::testing::TempDir;
using namespace eg::trace;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A one-conv manifest: x [2,3,8,8] -> y [2,4,8,8], kernel 3, stride 1, pad 1, no tensor files.
json conv_manifest() {
  json layer = {{"name", "conv1"},
                {"type", "conv"},
                {"inputs", json::array()},
                {"in", {2, 3, 8, 8}},
                {"out", {2, 4, 8, 8}},
                {"kernel", {3, 3}},
                {"stride", 1},
                {"pad", 1},
                {"tensors", json::object()},
                {"stats",
                 {{"dy_nonzero_fraction", 1.0},
                  {"dy_nonzero_fraction_before_pruning", 1.0},
                  {"tau", 0.0},
                  {"angle_to_bp_deg", 0.0}}}};
  return {{"format", "egtrace"},
          {"version", 1},
          {"network", "tiny"},
          {"dataset", "synthetic"},
          {"mode", "bp"},
          {"pruning_rate", 0.0},
          {"sigma_estimator", "mean_abs"},
          {"seed", 1},
          {"iteration", 1},
          {"batch", 2},
          {"layers", {layer}}};
}

std::string error_of(const json& manifest) {
  try {
    (void)manifest_from_json(manifest, "m.json");
  } catch (const eg::Error& e) {
    return e.what();
  }
  return "accepted";
}

std::string open_error(const fs::path& dir) {
  try {
    (void)Trace::open(dir);
  } catch (const eg::Error& e) {
    return e.what();
  }
  return "accepted";
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

// A version-1.0 .npy file with header `dict` (padded to 64 bytes as numpy does) and `payload`.
std::string npy_bytes(std::string dict, const std::string& payload, char major = 1) {
  const size_t prefix = major == 1 ? 10 : 12;
  dict.append((64 - (prefix + dict.size() + 1) % 64) % 64, ' ');
  dict += '\n';
  std::string out = std::string("\x93NUMPY", 6) + major + '\0';
  const size_t n = dict.size();
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  if (major != 1) out += std::string(2, '\0');
  return out + dict + payload;
}

std::string npy_error(const std::string& bytes) {
  TempDir dir("egnpy");
  write_text(dir / "t.npy", bytes);
  try {
    (void)eg::read_npy(dir / "t.npy");
  } catch (const eg::Error& e) {
    const std::string msg = e.what();
    const std::string prefix = (dir / "t.npy").string() + ": ";
    return msg.rfind(prefix, 0) == 0 ? msg.substr(prefix.size()) : "(no file name) " + msg;
  }
  return "accepted";
}

}  // namespace

TEST_CASE("the hand-written conv manifest is valid") {
  CHECK(error_of(conv_manifest()) == "accepted");
}

TEST_CASE("a stride of 2^63-1 is rejected at once instead of looping stride squared times") {
  json m = conv_manifest();
  m["layers"][0]["stride"] = INT64_MAX;
  m["layers"][0]["out"] = {2, 4, 1, 1};
  const auto start = std::chrono::steady_clock::now();
  CHECK(error_of(m) ==
        "m.json: /layers/0/stride: 9223372036854775807 is larger than the padded input height 10 "
        "(layer 'conv1')");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  m["layers"][0]["stride"] = UINT64_MAX;  // beyond int64: never wraps to -1
  CHECK(error_of(m) ==
        "m.json: /layers/0/stride: must be <= 9223372036854775807, got 18446744073709551615 "
        "(layer 'conv1')");
}

TEST_CASE("trace geometry that no real layer has is rejected naming the field") {
  json m = conv_manifest();
  json& l = m["layers"][0];
  SECTION("a stride larger than the padded input") {
    l["stride"] = 11;
    l["out"] = {2, 4, 1, 1};
    CHECK(error_of(m) ==
          "m.json: /layers/0/stride: 11 is larger than the padded input height 10 "
          "(layer 'conv1')");
  }
  SECTION("a kernel larger than the padded input") {
    l["kernel"] = {11, 3};
    l["pad"] = 0;
    CHECK(error_of(m) ==
          "m.json: /layers/0/kernel: kernel height 11 is larger than the padded "
          "input height 8 (layer 'conv1')");
  }
  SECTION("a conv kernel beyond the 64 x 64 limit") {
    l["in"] = {2, 3, 100, 100};
    l["kernel"] = {65, 1};
    l["pad"] = 0;
    l["out"] = {2, 4, 36, 100};
    CHECK(error_of(m) ==
          "m.json: /layers/0/kernel: conv kernel [65,1] exceeds the limit of 64 "
          "per side (layer 'conv1')");
  }
  SECTION("a padding as large as the kernel") {
    l["pad"] = 3;
    CHECK(error_of(m) == "m.json: /layers/0/pad: must be smaller than the kernel (layer 'conv1')");
  }
  SECTION("an extent beyond the per-tensor limit") {
    l["in"] = {2, 4294967296, 1, 1};
    CHECK(error_of(m) ==
          "m.json: /layers/0/in: extent 4294967296 exceeds the limit of 268435456 "
          "elements per tensor (layer 'conv1')");
  }
  SECTION("extents whose product overflows 64 bits (it used to wrap to 0 bytes)") {
    l["in"] = {2, 65536, 65536, 65536};
    CHECK(error_of(m) ==
          "m.json: /layers/0/in: [2,65536,65536,65536] has more than 268435456 "
          "elements (the per-tensor limit) (layer 'conv1')");
  }
  SECTION("a weight tensor beyond the per-tensor limit") {
    m["batch"] = 1;
    l["in"] = {1, 16384, 3, 3};
    l["out"] = {1, 16384, 3, 3};
    l["kernel"] = {3, 3};
    CHECK(error_of(m) ==
          "m.json: /layers/0/kernel: weight shape [16384,16384,3,3] has more than "
          "268435456 elements (the per-tensor limit) (layer 'conv1')");
  }
  SECTION("more multiply-accumulates than any real layer") {
    // y has 2^26 elements and each needs C*R*S = 4096*9 MACs: 2.5e12 > 2^40.
    m["batch"] = 64;
    l["in"] = {64, 4096, 32, 32};
    l["out"] = {64, 1024, 32, 32};
    CHECK_THAT(error_of(m),
               Catch::Equals("m.json: /layers/0/out: 2473901162496 multiply-accumulates per pass "
                             "exceed the limit of 1099511627776 per layer (layer 'conv1')"));
  }
  SECTION("a batch of 2^64-1") {
    m["batch"] = UINT64_MAX;
    CHECK(error_of(m) == "m.json: /batch: must be <= 268435456, got 18446744073709551615");
  }
  SECTION("a zero or negative extent") {
    l["out"] = {2, 0, 8, 8};
    CHECK(error_of(m) ==
          "m.json: /layers/0/out: must be an array of 1 to 4 positive integers "
          "(layer 'conv1')");
  }
}

TEST_CASE("hostile names in a manifest cannot break a message or escape the trace folder") {
  json m = conv_manifest();
  SECTION("a layer name with a slash, a NUL or too many bytes") {
    m["layers"][0]["name"] = "a/b";
    CHECK(error_of(m) == "m.json: /layers/0/name: must be 1 to 200 bytes without '/' or NUL");
    m["layers"][0]["name"] = std::string("a\0b", 3);
    CHECK(error_of(m) == "m.json: /layers/0/name: must be 1 to 200 bytes without '/' or NUL");
    m["layers"][0]["name"] = std::string(201, 'x');
    CHECK(error_of(m) == "m.json: /layers/0/name: must be 1 to 200 bytes without '/' or NUL");
  }
  SECTION("a layer name with a line break is kept and escaped in messages") {
    m["layers"][0]["name"] = "a\nb";
    m["layers"][0]["pad"] = 3;
    CHECK(error_of(m) ==
          "m.json: /layers/0/pad: must be smaller than the kernel (layer \"a\\nb\")");
  }
  SECTION("a tensor file name with a NUL byte") {
    m["layers"][0]["tensors"]["x"] = std::string("x\0.npy", 6);
    CHECK(error_of(m) ==
          "m.json: /layers/0/tensors/x: must be a file name inside the trace "
          "directory (layer 'conv1')");
  }
  SECTION("a tensor file in another folder") {
    m["layers"][0]["tensors"]["x"] = "../x.npy";
    CHECK_THAT(error_of(m), Catch::Contains("/layers/0/tensors/x: must be a file name"));
  }
  SECTION("an unknown key with a newline and a slash") {
    m["layers"][0]["a/b\nc"] = 1;
    CHECK(error_of(m) == "m.json: /layers/0/a~1b\\x0ac: unknown key (layer 'conv1')");
  }
  SECTION("an unknown mode with a quote") {
    m["mode"] = "b'p";
    CHECK(error_of(m) == "m.json: /mode: unknown mode \"b'p\"");
  }
  SECTION("a seed of 2^64-1 is a valid seed") {
    m["seed"] = UINT64_MAX;
    CHECK(error_of(m) == "accepted");
  }
}

TEST_CASE("a deeply nested manifest is a one-line error, not a crash") {
  TempDir dir("egtrace");
  const fs::path trace = dir / "t";
  fs::create_directories(trace);
  // stats.extra 100000 levels deep: the JSON reader stops at 64 levels before anything recurses.
  std::string text = conv_manifest().dump();
  const std::string extra =
      R"("extra":{"h":)" + std::string(100000, '[') + std::string(100000, ']') + "},";
  text.insert(text.find("\"tau\""), extra);
  write_text(trace / "manifest.json", text);
  CHECK(open_error(trace) ==
        (trace / "manifest.json").string() + ": JSON nested deeper than 64 levels");
  // Within the limit, a nested stats.extra is kept as it is.
  json m = conv_manifest();
  m["layers"][0]["stats"]["extra"] = {{"h", {{{1}}}}};
  write_text(trace / "manifest.json", m.dump());
  CHECK(open_error(trace) == "accepted");
}

TEST_CASE("a manifest larger than the limit is refused before it is parsed") {
  TempDir dir("egtrace");
  const fs::path trace = dir / "t";
  fs::create_directories(trace);
  {
    std::ofstream out(trace / "manifest.json");
    out << "{\"pad\":\"";
    const std::string chunk(1 << 20, ' ');
    for (size_t i = 0; i <= kMaxManifestBytes >> 20; ++i) out << chunk;
    out << "\"}";
  }
  CHECK(open_error(trace) == (trace / "manifest.json").string() + ": larger than " +
                                 std::to_string(kMaxManifestBytes) + " bytes");
}

TEST_CASE("npy headers are checked strictly with checked arithmetic") {
  const std::string ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  const std::string data(24, '\0');
  CHECK(npy_error(npy_bytes(ok, data)) == "accepted");
  CHECK(npy_error(npy_bytes(ok, data, 2)) == "accepted");  // version 2.0: 4-byte length
  SECTION("a shape whose byte size overflows 64 bits") {
    CHECK(npy_error(npy_bytes(
              "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }",
              data)) == "npy header: 'shape' [4611686018427387904,4]: size overflows 64 bits");
    CHECK(npy_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, "
                              "4294967296, 16), }",
                              data)) ==
          "npy header: 'shape' [4294967296,4294967296,16]: size overflows 64 bits");
  }
  SECTION("a shape entry beyond 64 bits") {
    CHECK(npy_error(npy_bytes(
              "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, ), }",
              data)) == "npy header: 'shape' entry 99999999999999999999 is out of range");
  }
  SECTION("a file size that does not match the shape") {
    CHECK(npy_error(npy_bytes(ok, data + "xxxx")) ==
          "file size 156 bytes, expected 152 for shape [2,3]");
  }
  SECTION("a header length beyond the limit") {
    std::string bytes = std::string("\x93NUMPY\x02\x00", 8) + std::string("\xff\xff\xff\xff", 4);
    CHECK(npy_error(bytes) == "npy header length 4294967295 exceeds the limit of 65535 bytes");
  }
  SECTION("an unsupported version") {
    CHECK(npy_error(std::string("\x93NUMPY\x09\x00", 8) + std::string(40, ' ')) ==
          "unsupported .npy version 9.0 (expected 1.0, 2.0 or 3.0)");
  }
  SECTION("another dtype or Fortran order") {
    CHECK(
        npy_error(npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", data)) ==
        "npy header: 'descr' is '>f4', not little-endian float32 '<f4'");
    CHECK(
        npy_error(npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", data)) ==
        "npy header: 'fortran_order' is True; only C order (False) is supported");
  }
  SECTION("duplicate, unknown or missing keys") {
    CHECK(npy_error(npy_bytes("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
                              "'shape': (2, 3), }",
                              data)) == "npy header: key 'descr' appears twice");
    CHECK(npy_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), "
                              "'x': 1}",
                              data)) ==
          "npy header: unknown key 'x' (expected 'descr', 'fortran_order' and 'shape')");
    CHECK(npy_error(npy_bytes("{'descr': '<f4', 'shape': (2, 3), }", data)) ==
          "npy header: lacks 'fortran_order'");
  }
  SECTION("a rank above 32") {
    std::string dims;
    for (int i = 0; i < 33; ++i) dims += "1, ";
    CHECK(npy_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }",
                              "")) == "npy header: 'shape' has more than 32 dimensions");
  }
  SECTION("a directory or an empty file") {
    CHECK(npy_error("") == "not a .npy file (bad magic)");
    TempDir dir("egnpy");
    CHECK_THROWS_WITH(eg::read_npy(dir.path()), dir.path().string() + ": not a regular file");
  }
}
