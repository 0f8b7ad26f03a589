// libFuzzer harness: see fuzz_entries.hpp.
#include "tests/fuzz/fuzz_entries.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  eg::fuzz::trace_map_one(data, size);
  return 0;
}
