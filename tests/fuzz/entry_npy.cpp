// The .npy reader takes a path: the input is written to a file and read whole.
#include "base/error.hpp"
#include "tests/fuzz/fuzz_entries.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "workloads/npy.hpp"

namespace eg::fuzz {

bool npy_one(const uint8_t* data, std::size_t size) {
  const std::filesystem::path file = scratch_dir() / "input.npy";
  write_bytes(file, as_text(data, size));
  try {
    read_npy(file);
    return true;
  } catch (const eg::Error&) {
    return false;
  }
}

}  // namespace eg::fuzz
