// Test runner: Catch2's main, plus the sc_main that libsystemc.so's own main refers to.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <systemc>

int sc_main(int, char*[]) {
  return 0;
}

int main(int argc, char* argv[]) {
  return Catch::Session().run(argc, argv);
}
