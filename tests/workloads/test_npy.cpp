#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>

#include "base/error.hpp"
#include "support/temp_dir.hpp"
#include "workloads/npy.hpp"

using eg::testing::TempDir;

TEST_CASE("npy round-trips shape and values", "[workloads][npy]") {
  TempDir dir;
  std::vector<float> v(2 * 3 * 4);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.5f * static_cast<float>(i) - 3.0f;
  eg::write_npy(dir / "a.npy", {2, 3, 4}, v.data());
  eg::NdArray a = eg::read_npy(dir / "a.npy");
  CHECK(a.shape == eg::Shape{2, 3, 4});
  CHECK(a.data == v);
  // header + data is 64-byte aligned at the data start, as numpy writes it
  CHECK((std::filesystem::file_size(dir / "a.npy") - v.size() * 4) % 64 == 0);
}

TEST_CASE("npy files open in numpy with the same values", "[workloads][npy]") {
  // scripts/setup.sh installs python3-numpy for Debian's python3; fail loudly rather than skip.
  REQUIRE(std::system("/usr/bin/python3 -c 'import numpy'") == 0);
  TempDir dir;
  std::vector<float> v{1.0f, -2.5f, 3.25f, 0.0f, 7.0f, -0.125f};
  eg::write_npy(dir / "b.npy", {3, 2}, v.data());
  const std::string cmd =
      "/usr/bin/python3 -c \"import numpy as n; a=n.load('" + (dir / "b.npy").string() +
      "'); assert a.shape==(3,2) and a.dtype==n.float32; "
      "assert (a.ravel()==n.array([1,-2.5,3.25,0,7,-0.125],dtype=n.float32)).all(); "
      "n.save('" +
      (dir / "c.npy").string() + "', (a*2).astype('<f4'))\"";
  REQUIRE(std::system(cmd.c_str()) == 0);
  eg::NdArray c = eg::read_npy(dir / "c.npy");
  REQUIRE(c.shape == eg::Shape{3, 2});
  for (size_t i = 0; i < v.size(); ++i) CHECK(c.data[i] == 2 * v[i]);
}

TEST_CASE("npy reader rejects bad files with the file name", "[workloads][npy]") {
  TempDir dir;
  std::vector<float> v(6, 1.0f);
  eg::write_npy(dir / "ok.npy", {2, 3}, v.data());
  const auto path = dir / "ok.npy";

  SECTION("missing") {
    CHECK_THROWS_WITH(
        eg::read_npy(dir / "nope.npy"),
        Catch::Contains("nope.npy: missing or unreadable (No such file or directory)"));
  }
  SECTION("truncated") {
    std::filesystem::resize_file(path, std::filesystem::file_size(path) - 4);
    CHECK_THROWS_WITH(eg::read_npy_shape(path), Catch::Contains("ok.npy: file size"));
  }
  SECTION("not npy") {
    std::ofstream(path, std::ios::trunc) << "hello world, not numpy";
    CHECK_THROWS_WITH(eg::read_npy(path), Catch::Contains("bad magic"));
  }
  SECTION("NaN") {
    v[4] = std::nanf("");
    eg::write_npy(path, {2, 3}, v.data());
    CHECK_THROWS_WITH(eg::read_npy(path), Catch::Contains("flat index 4"));
  }
  SECTION("Inf") {
    v[1] = INFINITY;
    eg::write_npy(path, {2, 3}, v.data());
    CHECK_THROWS_WITH(eg::read_npy(path), Catch::Contains("non-finite"));
  }
  SECTION("float64") {
    std::string bytes;
    {
      std::ifstream in(path, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    bytes.replace(bytes.find("<f4"), 3, "<f8");
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    CHECK_THROWS_WITH(eg::read_npy(path), Catch::Contains("not little-endian float32"));
  }
}
