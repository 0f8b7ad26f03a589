#include "models/dram/dram_config.hpp"

#include <set>

#include "base/quote.hpp"
#include "models/json_fields.hpp"

namespace eg::dram {

namespace {

bool is_power_of_two(uint64_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

uint64_t positive(JsonFields& f, const std::string& key, uint64_t max) {
  return static_cast<uint64_t>(f.integer(key, 1, static_cast<int64_t>(max)));
}

uint64_t power_of_two(JsonFields& f, const std::string& key, uint64_t max) {
  const uint64_t v = positive(f, key, max);
  if (!is_power_of_two(v)) f.fail(key, "must be a power of two");
  return v;
}

DramTimingsNs parse_timings(JsonFields f) {
  DramTimingsNs t;
  t.tRCD = f.positive_number("tRCD", kMaxTimingNs);
  t.tRP = f.positive_number("tRP", kMaxTimingNs);
  t.tRAS = f.positive_number("tRAS", kMaxTimingNs);
  t.tCL = f.positive_number("tCL", kMaxTimingNs);
  t.tWL = f.positive_number("tWL", kMaxTimingNs);
  t.tWR = f.positive_number("tWR", kMaxTimingNs);
  t.tRTP = f.positive_number("tRTP", kMaxTimingNs);
  t.tCCD = f.positive_number("tCCD", kMaxTimingNs);
  t.tRPab = f.positive_number("tRPab", kMaxTimingNs);
  t.tRRD = f.positive_number("tRRD", kMaxTimingNs);
  t.tFAW = f.positive_number("tFAW", kMaxTimingNs);
  t.tWTR = f.positive_number("tWTR", kMaxTimingNs);
  t.tRTW = f.positive_number("tRTW", kMaxTimingNs);
  t.tRFCab = f.positive_number("tRFCab", kMaxTimingNs);
  t.tREFI = f.positive_number("tREFI", kMaxTimingNs);
  // A refresh must finish before the next is due, or the channel would only refresh.
  if (t.tREFI <= t.tRPab + t.tRFCab) f.fail("tREFI", "must be greater than tRPab + tRFCab");
  f.finish();
  return t;
}

CompressionFormat parse_compression(JsonFields f) {
  CompressionFormat c;
  c.rle_run_bits = static_cast<uint64_t>(f.integer("rle_run_bits", 1, 32));
  c.csc_count_bits = static_cast<uint64_t>(f.integer("csc_count_bits", 1, 32));
  c.csc_pointer_bits = positive(f, "csc_pointer_bits", kMaxCscPointerBits);
  c.csc_column_length = positive(f, "csc_column_length", kMaxCscColumnLength);
  f.finish();
  return c;
}

std::array<AddressField, 3> parse_mapping(JsonFields& f, const std::string& key) {
  const std::string problem =
      "must list \"row\", \"bank\" and \"column\" once each, most significant first";
  const nlohmann::json& j = f.raw(key);
  if (!j.is_array() || j.size() != 3) f.fail(key, problem);
  std::array<AddressField, 3> order{};
  std::set<std::string> seen;
  for (size_t i = 0; i < 3; ++i) {
    const std::string s = j[i].is_string() ? j[i].get<std::string>() : "";
    if (s == "row")
      order[i] = AddressField::Row;
    else if (s == "bank")
      order[i] = AddressField::Bank;
    else if (s == "column")
      order[i] = AddressField::Column;
    else
      f.fail_element(key, i,
                     problem + " (got " + (j[i].is_string() ? quoted(s) : j[i].type_name()) + ")");
    if (!seen.insert(s).second) f.fail(key, problem);
  }
  return order;
}

}  // namespace

DramConfig parse_dram_config(const nlohmann::json& j, const std::string& file,
                             const std::string& pointer) {
  JsonFields f(j, file, pointer);
  DramConfig c;
  c.standard = f.string("standard");
  c.source = f.string("source");
  c.data_rate_mtps = positive(f, "data_rate_mtps", kMaxDataRateMtps);
  // The model's time base is 1 ps: tCK = 1e6 / (rate / 2) ps must be whole.
  if (2000000 % c.data_rate_mtps != 0)
    f.fail("data_rate_mtps", "clock period 2e6/" + std::to_string(c.data_rate_mtps) +
                                 " ps is not a whole number of picoseconds");
  c.bus_width_bits = positive(f, "bus_width_bits", kMaxBusWidthBits);
  if (c.bus_width_bits % 8 != 0) f.fail("bus_width_bits", "must be a multiple of 8");
  c.burst_length = positive(f, "burst_length", kMaxBurstLength);
  c.banks = power_of_two(f, "banks", kMaxBanks);
  c.row_bytes = power_of_two(f, "row_bytes", kMaxRowBytes);
  c.rows_per_bank = power_of_two(f, "rows_per_bank", kMaxRowsPerBank);
  if (!is_power_of_two(c.burst_bytes()))
    f.fail("burst_length", "bus_width_bits/8 x burst_length must be a power of two");
  if (c.row_bytes < c.burst_bytes()) f.fail("row_bytes", "must hold at least one burst");
  c.page_policy =
      f.choice("page_policy", {"open", "closed"}) == "open" ? PagePolicy::Open : PagePolicy::Closed;
  c.address_mapping = parse_mapping(f, "address_mapping");
  c.request_queue_depth = positive(f, "request_queue_depth", kMaxQueueEntries);
  c.dma_max_outstanding = positive(f, "dma_max_outstanding", kMaxQueueEntries);
  c.timing_ns = parse_timings(f.object("timing_ns"));
  c.compression = parse_compression(f.object("compression"));
  f.finish();
  return c;
}

DramConfig load_dram_config(const std::string& path) {
  return parse_dram_config(load_json_file(path), path);
}

}  // namespace eg::dram
