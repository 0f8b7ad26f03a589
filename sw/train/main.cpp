// egtrain: the reference trainer's command line. Exit 0 on success, 1 on a user error (printed as
// one line), 2 on an internal failure.
#include <exception>
#include <iostream>

#include "base/error.hpp"
#include "sw/train/config.hpp"
#include "sw/train/trainer.hpp"

int main(int argc, char* argv[]) {
  try {
    const eg::train::ParsedCommandLine cl = eg::train::parse_command_line(argc, argv);
    if (cl.help) {
      std::cout << "usage: egtrain [--config FILE] [--key value ...]\n" << cl.help_text;
      return 0;
    }
    eg::train::run_training(cl.config, std::cout);
    return 0;
  } catch (const eg::Error& e) {
    std::cerr << "egtrain: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "egtrain: internal error: " << e.what() << "\n";
    return 2;
  }
}
