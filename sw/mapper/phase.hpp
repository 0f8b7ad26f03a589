#pragma once
// The compute phases of a conv/FC layer on the array (docs/DESIGN.md §4).
#include <string>

namespace eg::mapper {

enum class Phase { Forward, Backward, WeightGradient };
inline constexpr Phase kAllPhases[] = {Phase::Forward, Phase::Backward, Phase::WeightGradient};

inline const char* to_string(Phase p) {
  switch (p) {
    case Phase::Forward:
      return "forward";
    case Phase::Backward:
      return "backward";
    case Phase::WeightGradient:
      return "weight_gradient";
  }
  return "?";
}

// Throws eg::Error "<context>: unknown phase 'x' ..." for anything else.
Phase phase_from_string(const std::string& text, const std::string& context);

}  // namespace eg::mapper
