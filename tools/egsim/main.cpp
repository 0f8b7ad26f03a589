// egsim: entry point dispatching to the registered subcommands.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <new>

#include <boost/program_options/errors.hpp>
#include <systemc>

#include "base/error.hpp"
#include "tools/egsim/subcommand.hpp"

namespace eg::app {
std::vector<Subcommand>& subcommands() {
  static std::vector<Subcommand> list;
  return list;
}
}  // namespace eg::app

// libsystemc's own main refers to sc_main; egsim has its own main and never calls it.
int sc_main(int, char*[]) {
  return 0;
}

namespace {
void usage(std::ostream& out) {
  auto list = eg::app::subcommands();
  std::sort(list.begin(), list.end(),
            [](const auto& a, const auto& b) { return std::strcmp(a.name, b.name) < 0; });
  out << "usage: egsim <command> [options]   (egsim <command> --help for its options)\n";
  for (const auto& s : list) out << "  " << s.name << "  " << s.summary << "\n";
}
}  // namespace

int main(int argc, char** argv) {
  setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", 1);
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  for (const auto& s : eg::app::subcommands()) {
    if (std::strcmp(s.name, argv[1]) != 0) continue;
    try {
      return s.run(argc - 1, argv + 1);
    } catch (const eg::Error& e) {
      std::cerr << "egsim " << s.name << ": " << e.what() << "\n";
    } catch (const boost::program_options::error& e) {
      std::cerr << "egsim " << s.name << ": " << e.what() << "\n";
    } catch (const std::filesystem::filesystem_error& e) {
      // A path the user named could not be used: name it and the system's reason.
      std::cerr << "egsim " << s.name << ": " << e.path1().string() << ": " << e.code().message()
                << "\n";
    } catch (const std::bad_alloc&) {
      std::cerr << "egsim " << s.name
                << ": out of memory (the input is too large for this machine)\n";
    } catch (const std::exception& e) {
      // Bad input is reported as eg::Error above; anything else is a bug in egsim.
      std::cerr << "egsim " << s.name << ": internal error: " << e.what() << "\n";
    }
    return 1;
  }
  std::cerr << "egsim: unknown command '" << argv[1] << "'\n";
  usage(std::cerr);
  return 2;
}
