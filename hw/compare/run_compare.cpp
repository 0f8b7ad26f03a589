#include "hw/compare/run_compare.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "hw/compare/report_compare.hpp"
#include "base/error.hpp"

namespace eg::compare {

namespace {

nlohmann::json load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": /: cannot open file");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(path + ": /: not valid JSON (" + e.what() + ")");
  }
}

void write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << text;
    if (!out) throw Error(path + ": cannot write");
  }
  std::filesystem::rename(tmp, path);
}

int usage() {
  std::cerr << "usage: egsim compare A/report.json B/report.json [--out comparison.json]\n";
  return 2;
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
    const nlohmann::json comparison =
        compare_reports(load(files[0]), files[0], load(files[1]), files[1]);
    if (!out_path.empty()) write_atomically(out_path, comparison.dump(2) + "\n");
    std::cout << format_comparison(comparison);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace eg::compare
