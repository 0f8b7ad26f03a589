// Strict hardware-config parsing: both shipped configs load; every kind of mistake is one line
// naming the file and the JSON pointer.
#include <catch2/catch.hpp>

#include <fstream>

#include "base/error.hpp"
#include "models/arch/arch_config.hpp"

using namespace eg;
using nlohmann::json;

namespace {
json shipped(const char* name) {
  std::ifstream in(std::string(EGSIM_SOURCE_DIR) + "/configs/hw/" + name);
  return json::parse(in);
}
}  // namespace

TEST_CASE("shipped configs parse and differ only in the BP baseline switches", "[array][config]") {
  const arch::ArchConfig eg = arch::arch_config_from_json(shipped("efficientgrad.json"), "eg");
  const arch::ArchConfig bp = arch::arch_config_from_json(shipped("eyeriss_v2_bp.json"), "bp");
  CHECK(eg.array.pe_count() == 72);
  CHECK(eg.clock_mhz == 500);
  CHECK(eg.pe.spad_weight_entries == 96);
  CHECK(eg.features.feedback_source == arch::FeedbackSource::PeSpad);
  CHECK(eg.features.sparse_operands.backward_input);
  CHECK(bp.features.feedback_source == arch::FeedbackSource::TransposedDram);
  CHECK(!bp.features.sparse_operands.backward_input);
  CHECK(bp.array.pe_count() == eg.array.pe_count());
  CHECK(eg.mapping.psum_stationary_folds);
  CHECK(eg.mapping.double_buffer_filter_spad);
}

TEST_CASE("on-chip compression holds activations compressed in both configs, δ̂ only in "
          "EfficientGrad, and both switches are required",
          "[array][config]") {
  const arch::ArchConfig eg = arch::arch_config_from_json(shipped("efficientgrad.json"), "eg");
  const arch::ArchConfig bp = arch::arch_config_from_json(shipped("eyeriss_v2_bp.json"), "bp");
  CHECK(eg.features.onchip_compression.activations);
  CHECK(eg.features.onchip_compression.gradients);
  CHECK(bp.features.onchip_compression.activations);
  CHECK_FALSE(bp.features.onchip_compression.gradients);
  json j = shipped("efficientgrad.json");
  j["features"]["onchip_compression"].erase("gradients");
  CHECK_THROWS_WITH(arch::arch_config_from_json(j, "cfg.json"),
                    "cfg.json: /features/onchip_compression/gradients: missing");
  j["features"]["onchip_compression"]["gradients"] = 1;
  CHECK_THROWS_WITH(arch::arch_config_from_json(j, "cfg.json"),
                    Catch::StartsWith("cfg.json: /features/onchip_compression/gradients: "));
  j["features"]["onchip_compression"]["gradients"] = true;
  j["features"]["onchip_compression"]["weights"] = true;
  CHECK_THROWS_WITH(arch::arch_config_from_json(j, "cfg.json"),
                    Catch::StartsWith("cfg.json: /features/onchip_compression/weights: "));
  j["features"].erase("onchip_compression");
  CHECK_THROWS_WITH(arch::arch_config_from_json(j, "cfg.json"),
                    Catch::StartsWith("cfg.json: /features/onchip_compression: "));
}

TEST_CASE("the fused weight update is on for EfficientGrad, off for the baseline, and required",
          "[array][config]") {
  CHECK(arch::arch_config_from_json(shipped("efficientgrad.json"), "eg")
            .features.fused_weight_update);
  CHECK_FALSE(arch::arch_config_from_json(shipped("eyeriss_v2_bp.json"), "bp")
                  .features.fused_weight_update);
  json j = shipped("efficientgrad.json");
  j["features"].erase("fused_weight_update");  // every feature is stated, as cross_layer_prefetch
  CHECK_THROWS_WITH(arch::arch_config_from_json(j, "cfg.json"),
                    Catch::StartsWith("cfg.json: /features/fused_weight_update: "));
  j["features"]["fused_weight_update"] = "yes";
  CHECK_THROWS_WITH(arch::arch_config_from_json(j, "cfg.json"),
                    Catch::StartsWith("cfg.json: /features/fused_weight_update: "));
}

TEST_CASE(
    "the first layer's input gradient is off in both configs and required, and "
    "transposed_read parses",
    "[array][config]") {
  for (const char* name : {"efficientgrad.json", "eyeriss_v2_bp.json"})
    CHECK_FALSE(
        arch::arch_config_from_json(shipped(name), name).features.first_layer_input_gradient);
  json j = shipped("eyeriss_v2_bp.json");
  j["features"]["first_layer_input_gradient"] = true;
  j["features"]["feedback_source"] = "transposed_read";
  const arch::ArchConfig c = arch::arch_config_from_json(j, "cfg.json");
  CHECK(c.features.first_layer_input_gradient);
  CHECK(c.features.feedback_source == arch::FeedbackSource::TransposedRead);
  CHECK(std::string(arch::to_string(c.features.feedback_source)) == "transposed_read");
  j["features"].erase("first_layer_input_gradient");
  CHECK_THROWS_WITH(arch::arch_config_from_json(j, "cfg.json"),
                    Catch::StartsWith("cfg.json: /features/first_layer_input_gradient: "));
}

TEST_CASE("the mapping section is required and strict", "[array][config]") {
  json j = shipped("efficientgrad.json");
  j["mapping"]["double_buffer_filter_spad"] = false;
  CHECK_FALSE(arch::arch_config_from_json(j, "cfg.json").mapping.double_buffer_filter_spad);
  j["mapping"]["psum_stationary_folds"] = 1;
  CHECK_THROWS_WITH(arch::arch_config_from_json(j, "cfg.json"),
                    Catch::Contains("cfg.json: /mapping/psum_stationary_folds"));
  j.erase("mapping");
  CHECK_THROWS_WITH(arch::arch_config_from_json(j, "cfg.json"), Catch::Contains("/mapping"));
}

TEST_CASE("config errors name the file and JSON pointer", "[array][config]") {
  const json base = shipped("efficientgrad.json");
  auto error_of = [&](const std::function<void(json&)>& edit) {
    json j = base;
    edit(j);
    try {
      arch::arch_config_from_json(j, "cfg.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of([](json& j) { j["pe"]["spad_psum_entries"] = 0; }) ==
        "cfg.json: /pe/spad_psum_entries: must be >= 1");
  CHECK(error_of([](json& j) { j["array"]["pe_cols"] = 0; }) ==
        "cfg.json: /array/pe_cols: must be >= 1");
  CHECK(error_of([](json& j) { j["extra"] = 1; }) == "cfg.json: /extra: unknown key");
  CHECK(error_of([](json& j) { j["glb"]["iact_banks"] = 1.5; }) ==
        "cfg.json: /glb/iact_banks: must be an integer");
  CHECK(error_of([](json& j) { j["features"]["feedback_source"] = "magic"; }) ==
        "cfg.json: /features/feedback_source: is \"magic\", expected one of \"pe_spad\", "
        "\"transposed_dram\", \"transposed_read\"");
  CHECK(error_of([](json& j) { j.erase("ppu"); }) == "cfg.json: /ppu: missing");
  CHECK(error_of([](json& j) { j["noc"]["psum_link_bits"] = 8; }).find("psum_link_bits") !=
        std::string::npos);
  CHECK(error_of([](json& j) { j["offchip"]["bytes_per_cycle"] = -1; }) ==
        "cfg.json: /offchip/bytes_per_cycle: must be >= 0.001");
}

TEST_CASE("the GLB buffer counts default to double buffering and are bounded", "[array][config]") {
  json j = shipped("efficientgrad.json");
  CHECK(arch::arch_config_from_json(j, "cfg.json").glb.iact_buffers == 2);
  j["glb"]["iact_buffers"] = 3;
  j["glb"]["psum_buffers"] = 1;
  const arch::ArchConfig c = arch::arch_config_from_json(j, "cfg.json");
  CHECK(c.glb.iact_buffers == 3);
  CHECK(c.glb.psum_buffers == 1);
  // Optional: a config written before the fields existed gets 2 of each.
  j["glb"].erase("iact_buffers");
  j["glb"].erase("psum_buffers");
  const arch::ArchConfig old = arch::arch_config_from_json(j, "cfg.json");
  CHECK(old.glb.iact_buffers == 2);
  CHECK(old.glb.psum_buffers == 2);
  j["glb"]["iact_buffers"] = 0;
  CHECK_THROWS_WITH(arch::arch_config_from_json(j, "cfg.json"),
                    "cfg.json: /glb/iact_buffers: must be >= 1");
  j["glb"]["iact_buffers"] = 2;
  j["glb"]["psum_buffers"] = 17;
  CHECK_THROWS_WITH(arch::arch_config_from_json(j, "cfg.json"),
                    "cfg.json: /glb/psum_buffers: must be <= 16");
}
