// What the trace-record tests (SMD, SLU, PSG, gradient filtering) share: a manifest with only the
// top-level fields every trace needs, and the error a JSON manifest is refused with.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "workloads/trace.hpp"

namespace eg::testing {

// network, dataset, mode, seed, iteration and batch set; no layers yet.
inline trace::Manifest bare_manifest(int64_t batch, int64_t iteration) {
  trace::Manifest m;
  m.network = "resnet20";
  m.dataset = "synthetic";
  m.mode = "bp";
  m.seed = 3;
  m.iteration = iteration;
  m.batch = batch;
  return m;
}

// The message manifest_from_json refuses `j` with (checked to be one line), or "accepted".
inline std::string manifest_error(const nlohmann::json& j) {
  try {
    (void)trace::manifest_from_json(j, "manifest.json");
  } catch (const eg::Error& e) {
    const std::string what = e.what();
    CHECK(what.find('\n') == std::string::npos);
    return what;
  }
  return "accepted";
}

}  // namespace eg::testing
