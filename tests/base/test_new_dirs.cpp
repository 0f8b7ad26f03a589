// eg::NewDirs: output folders a failed run created are removed again, and nothing else is.
#include <catch2/catch.hpp>

#include <fstream>

#include "base/error.hpp"
#include "base/new_dirs.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using eg::testing::TempDir;

TEST_CASE("Folders created for a run that fails are removed, deepest first") {
  TempDir tmp;
  {
    eg::NewDirs dirs(tmp / "a" / "b" / "c");
    CHECK(fs::is_directory(tmp / "a" / "b" / "c"));
  }
  CHECK_FALSE(fs::exists(tmp / "a"));
}

TEST_CASE("Folders that existed before, or that hold something now, are never removed") {
  TempDir tmp;
  fs::create_directories(tmp / "mine");
  {
    eg::NewDirs dirs(tmp / "mine" / "out" / "deep");
    std::ofstream(tmp / "mine" / "out" / "user.txt") << "x";
  }
  CHECK_FALSE(fs::exists(tmp / "mine" / "out" / "deep"));  // created and empty: removed
  CHECK(fs::exists(tmp / "mine" / "out" / "user.txt"));    // no longer empty: kept
  { eg::NewDirs dirs(tmp / "mine"); }
  CHECK(fs::is_directory(tmp / "mine"));  // existed before
}

TEST_CASE("Folders of a run that succeeded are kept") {
  TempDir tmp;
  {
    eg::NewDirs dirs(tmp / "x" / "y");
    dirs.keep();
  }
  CHECK(fs::is_directory(tmp / "x" / "y"));
}

TEST_CASE("A file in the way of an output folder is an error naming it") {
  TempDir tmp;
  std::ofstream(tmp / "file") << "x";
  CHECK_THROWS_WITH(eg::NewDirs(tmp / "file" / "out"),
                    Catch::Contains("file: exists and is not a directory"));
  CHECK(fs::is_regular_file(tmp / "file"));
}
