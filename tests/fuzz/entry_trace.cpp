// A trace is a directory: the first part of the input is manifest.json, the following parts are
// tensor files t1.npy, t2.npy, ... (so a manifest can name them). Trace::open validates the
// manifest and every tensor's header; then every tensor the manifest lists is loaded.
#include <string>

#include "base/error.hpp"
#include "tests/fuzz/fuzz_entries.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "workloads/trace.hpp"

namespace eg::fuzz {

namespace {
// A trace of a few layers needs a manifest and a handful of tensors; more parts add nothing the
// fuzzer cannot reach with these.
constexpr std::size_t kMaxParts = 9;
}  // namespace

bool trace_one(const uint8_t* data, std::size_t size) {
  const auto parts = split_parts(as_text(data, size), kMaxParts);
  const std::filesystem::path dir = fresh_subdir("trace");
  write_bytes(dir / "manifest.json", parts[0]);
  for (std::size_t i = 1; i < parts.size(); ++i)
    write_bytes(dir / ("t" + std::to_string(i) + ".npy"), parts[i]);
  try {
    const trace::Trace t = trace::Trace::open(dir);
    for (const trace::Layer& layer : t.manifest().layers)
      for (const auto* roles : {&trace::all_roles(), &trace::update_roles()})
        for (const std::string& role : *roles)
          if (t.has(layer, role)) t.load(layer, role);
    return true;
  } catch (const eg::Error&) {
    return false;
  }
}

}  // namespace eg::fuzz
