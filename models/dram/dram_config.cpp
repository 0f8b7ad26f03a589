#include "models/dram/dram_config.hpp"

#include <set>

#include "models/dram/strict_json.hpp"

namespace eg::dram {

namespace sj = eg::strict_json;

namespace {

bool is_power_of_two(uint64_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

void require_power_of_two(uint64_t v, const std::string& file, const std::string& pointer,
                          const std::string& key) {
  if (!is_power_of_two(v)) sj::fail(file, sj::join(pointer, key), "must be a power of two");
}

DramTimingsNs parse_timings(const nlohmann::json& j, const std::string& file,
                            const std::string& pointer) {
  sj::require_object(j, file, pointer);
  sj::reject_unknown_keys(j, file, pointer,
                          {"tRCD", "tRP", "tRAS", "tCL", "tWL", "tWR", "tRTP", "tCCD"});
  DramTimingsNs t;
  t.tRCD = sj::positive_number(j, file, pointer, "tRCD");
  t.tRP = sj::positive_number(j, file, pointer, "tRP");
  t.tRAS = sj::positive_number(j, file, pointer, "tRAS");
  t.tCL = sj::positive_number(j, file, pointer, "tCL");
  t.tWL = sj::positive_number(j, file, pointer, "tWL");
  t.tWR = sj::positive_number(j, file, pointer, "tWR");
  t.tRTP = sj::positive_number(j, file, pointer, "tRTP");
  t.tCCD = sj::positive_number(j, file, pointer, "tCCD");
  return t;
}

CompressionFormat parse_compression(const nlohmann::json& j, const std::string& file,
                                    const std::string& pointer) {
  sj::require_object(j, file, pointer);
  sj::reject_unknown_keys(
      j, file, pointer,
      {"rle_run_bits", "csc_count_bits", "csc_pointer_bits", "csc_column_length"});
  CompressionFormat c;
  c.rle_run_bits = sj::positive_integer(j, file, pointer, "rle_run_bits");
  c.csc_count_bits = sj::positive_integer(j, file, pointer, "csc_count_bits");
  c.csc_pointer_bits = sj::positive_integer(j, file, pointer, "csc_pointer_bits");
  c.csc_column_length = sj::positive_integer(j, file, pointer, "csc_column_length");
  if (c.rle_run_bits > 32) sj::fail(file, pointer + "/rle_run_bits", "must be <= 32");
  if (c.csc_count_bits > 32) sj::fail(file, pointer + "/csc_count_bits", "must be <= 32");
  return c;
}

std::array<AddressField, 3> parse_mapping(const nlohmann::json& j, const std::string& file,
                                          const std::string& pointer) {
  const std::string problem =
      "must list \"row\", \"bank\" and \"column\" once each, most significant first";
  if (!j.is_array() || j.size() != 3) sj::fail(file, pointer, problem);
  std::array<AddressField, 3> order{};
  std::set<std::string> seen;
  for (size_t i = 0; i < 3; ++i) {
    if (!j[i].is_string()) sj::fail(file, pointer, problem);
    std::string s = j[i].get<std::string>();
    if (s == "row")
      order[i] = AddressField::Row;
    else if (s == "bank")
      order[i] = AddressField::Bank;
    else if (s == "column")
      order[i] = AddressField::Column;
    else
      sj::fail(file, pointer + "/" + std::to_string(i), problem + " (got \"" + s + "\")");
    if (!seen.insert(s).second) sj::fail(file, pointer, problem);
  }
  return order;
}

}  // namespace

DramConfig parse_dram_config(const nlohmann::json& j, const std::string& file,
                             const std::string& pointer) {
  sj::require_object(j, file, pointer);
  sj::reject_unknown_keys(
      j, file, pointer,
      {"standard", "data_rate_mtps", "bus_width_bits", "burst_length", "banks", "row_bytes",
       "rows_per_bank", "page_policy", "address_mapping", "request_queue_depth",
       "dma_max_outstanding", "timing_ns", "compression", "source"});
  DramConfig c;
  c.standard = sj::string_value(j, file, pointer, "standard");
  c.source = sj::string_value(j, file, pointer, "source");
  c.data_rate_mtps = sj::positive_integer(j, file, pointer, "data_rate_mtps");
  c.bus_width_bits = sj::positive_integer(j, file, pointer, "bus_width_bits");
  if (c.bus_width_bits % 8 != 0)
    sj::fail(file, sj::join(pointer, "bus_width_bits"), "must be a multiple of 8");
  c.burst_length = sj::positive_integer(j, file, pointer, "burst_length");
  c.banks = sj::positive_integer(j, file, pointer, "banks");
  require_power_of_two(c.banks, file, pointer, "banks");
  c.row_bytes = sj::positive_integer(j, file, pointer, "row_bytes");
  require_power_of_two(c.row_bytes, file, pointer, "row_bytes");
  c.rows_per_bank = sj::positive_integer(j, file, pointer, "rows_per_bank");
  require_power_of_two(c.rows_per_bank, file, pointer, "rows_per_bank");
  if (!is_power_of_two(c.burst_bytes()))
    sj::fail(file, sj::join(pointer, "burst_length"),
             "bus_width_bits/8 x burst_length must be a power of two");
  if (c.row_bytes < c.burst_bytes())
    sj::fail(file, sj::join(pointer, "row_bytes"), "must hold at least one burst");
  c.page_policy = sj::one_of(j, file, pointer, "page_policy", {"open", "closed"}) == "open"
                      ? PagePolicy::Open
                      : PagePolicy::Closed;
  c.address_mapping = parse_mapping(sj::member(j, file, pointer, "address_mapping"), file,
                                    sj::join(pointer, "address_mapping"));
  c.request_queue_depth = sj::positive_integer(j, file, pointer, "request_queue_depth");
  c.dma_max_outstanding = sj::positive_integer(j, file, pointer, "dma_max_outstanding");
  c.timing_ns = parse_timings(sj::member(j, file, pointer, "timing_ns"), file,
                              sj::join(pointer, "timing_ns"));
  c.compression = parse_compression(sj::member(j, file, pointer, "compression"), file,
                                    sj::join(pointer, "compression"));
  return c;
}

DramConfig load_dram_config(const std::string& path) {
  return parse_dram_config(sj::load_file(path), path);
}

}  // namespace eg::dram
