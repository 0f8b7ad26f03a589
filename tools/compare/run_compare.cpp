#include "tools/compare/run_compare.hpp"

#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/json_io.hpp"
#include "base/owned_dir.hpp"
#include "tools/compare/report_compare.hpp"

namespace eg::compare {

namespace fs = std::filesystem;

namespace {

constexpr const char* kOwner = "egsim compare";

int usage() {
  std::cerr << "usage: egsim compare A/report.json B/report.json [--out comparison.json]\n";
  return 2;
}

// Claims the --out file before any work: its folder must exist and be writable, and the file must
// be absent or one this command wrote earlier (recorded in the folder's ownership marker), so a
// user's file of the same name is never overwritten.
OwnedDir claim_output(const fs::path& out) {
  if (out.filename().empty() || out.filename() == "." || out.filename() == "..")
    throw Error(out.string() + ": --out must name a file");
  const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(out.string() + ": --out: folder " + dir.string() + " does not exist");
  return OwnedDir::claim(dir, kOwner, {out.filename().string()});
}

}  // namespace

int run_compare(int argc, char** argv) {
  std::vector<std::string> files;
  std::string out_path;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--out") {
      if (++i >= argc) return usage();
      out_path = argv[i];
      if (out_path.empty()) return usage();
    } else if (arg == "-h" || arg == "--help") {
      usage();
      return 0;
    } else if (!arg.empty() && arg[0] == '-') {
      return usage();
    } else {
      files.push_back(arg);
    }
  }
  if (files.size() != 2) return usage();
  try {
    std::optional<OwnedDir> out;
    if (!out_path.empty()) out.emplace(claim_output(out_path));
    const nlohmann::json comparison =
        compare_reports(load_json_file(files[0]), files[0], load_json_file(files[1]), files[1]);
    // Written to a temporary file and renamed: a failure leaves no partial or temporary file.
    if (out) out->write(fs::path(out_path).filename().string(), comparison.dump(2) + "\n");
    std::cout << format_comparison(comparison);
  } catch (const Error& e) {
    std::cerr << "egsim compare: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace eg::compare
